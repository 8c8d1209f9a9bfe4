// A realistic labelling session on real data (TREC questions), through the library calls the
// API and CLI use: roles granted, changed and removed; suggestions and priorities; gold items;
// leases submitted, skipped and released; consensus; review accept / fix / reject (a new round,
// labelled again); a taxonomy migration sending decided items back to review; a consensus
// re-run. Every labelling table ends up with rows made by every kind of writer.
import { runImport } from '../../src/ingest/import.ts';
import { cliActor, userActor, type Actor } from '../../src/store/context.ts';
import { nextTask, releaseTask, skipTask, submitTask } from '../../src/label/assignment.ts';
import { setGold } from '../../src/label/gold.ts';
import { setPriorities, setSuggestions, updateSettings } from '../../src/label/results.ts';
import { decideReview, listReviews } from '../../src/label/review.ts';
import { rerunConsensus } from '../../src/label/settle.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createUser, getUser, removeRole, setRole, type User } from '../../src/label/users.ts';
import type { Store } from '../../src/store/db.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import { dataset } from './datasets.ts';

export const OPERATOR: Actor = cliActor('cli:test');
const COARSE = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];

export interface Session {
  project: Project;
  users: Record<string, User>;
  tokens: Record<string, string>;
  /** Item id → its TREC coarse class. */
  truth: Map<number, string>;
}

/** Imports TREC.test into `name` (500 questions) and runs the session on its first items. */
export async function labellingSession(store: Store, name: string, opts: { tasks?: number } = {}): Promise<Session> {
  await runImport(store, { project: name, path: dataset('text', 'trec', 'TREC.test'), options: {}, actor: OPERATOR.name });
  const project = await getProject(store.db, name);
  const items = await store.db.selectFrom('items').select(['id', 'source_label']).where('project_id', '=', project.id).orderBy('id').limit(60).execute();
  const truth = new Map(items.map((i) => [i.id, i.source_label!]));

  await createTaxonomy(store, project, OPERATOR, { kind: 'single', labels: COARSE.map((c) => ({ name: c })), guidelines: 'The coarse TREC class of the question.' });
  await updateSettings(store, project, OPERATOR, { overlap: 2, leaseSeconds: 600 });

  const users: Record<string, User> = {};
  const tokens: Record<string, string> = {};
  const roles = { [`${name}-a`]: 'annotator', [`${name}-b`]: 'annotator', [`${name}-c`]: 'annotator', [`${name}-d`]: 'annotator', [`${name}-rev`]: 'reviewer', [`${name}-mgr`]: 'manager' } as const;
  for (const [u, role] of Object.entries(roles)) {
    const made = await createUser(store, OPERATOR, u);
    users[u] = made.user;
    tokens[u] = made.token.token;
    await setRole(store, project, OPERATOR, u, role);
  }
  // Role changes: one annotator made a viewer and back (an annotator who does not label: having
  // read labels, it is never served these items blind again), the manager removed.
  await setRole(store, project, OPERATOR, `${name}-d`, 'viewer');
  await setRole(store, project, OPERATOR, `${name}-d`, 'annotator');
  await removeRole(store, project, OPERATOR, `${name}-mgr`);

  const ids = items.map((i) => i.id);
  await setSuggestions(store, project, OPERATOR, ids.slice(0, 6).map((itemId) => ({ itemId, labels: [truth.get(itemId)!], source: 'model-7', confidence: 0.8 })));
  await setPriorities(store, project, OPERATOR, ids.slice(10, 14).map((itemId, i) => ({ itemId, priority: 10 - i })));
  await setGold(store, project, OPERATOR, ids.slice(50, 52).map((itemId) => ({ itemId, labels: [truth.get(itemId)!] })));
  await updateSettings(store, project, OPERATOR, { gold: { rate: 0.15, minAnswers: 2, threshold: 0.7 } });

  const annotators = [`${name}-a`, `${name}-b`, `${name}-c`].map((u) => users[u]);
  let served = 0;
  const work = async (count: number) => {
    for (let n = 0; n < count; n++) {
      const user = annotators[n % annotators.length];
      const task = await nextTask(store, project, user);
      if (!task) continue;
      served++;
      const coarse = truth.get(task.item.id) ?? 'DESC';
      const right = task.taxonomy.version > 1 ? mapped(coarse) : coarse;
      if (user === annotators[2] && served % 11 === 5) {
        await releaseTask(store, project, user, task.id);
        continue;
      }
      if (user === annotators[0] && served % 13 === 7) {
        await skipTask(store, project, user, task.id, 'the question is ambiguous');
        continue;
      }
      // Annotator b disagrees now and then (and errs on gold): those items go to review.
      const answer = user === annotators[1] && served % 4 === 1 ? (right === 'ENTY' ? 'DESC' : 'ENTY') : right;
      await submitTask(store, project, user, task.id, { labels: [answer], taxonomyVersion: task.taxonomy.version, timeMs: 1500 + served, comment: served % 9 === 0 ? 'is NUM:dist a number?' : undefined, question: served % 9 === 0 });
    }
  };
  await work(opts.tasks ?? 45);

  const reviewer = userActor(users[`${name}-rev`]);
  let k = 0;
  let rejected: number | undefined;
  for (const r of await listReviews(store.db, project.id, { limit: 100 })) {
    const right = truth.get(r.itemId)!;
    if (k++ === 1 && !rejected) {
      rejected = r.itemId;
      await decideReview(store, project, reviewer, r.id, { decision: 'reject', note: 'relabel this one' });
    } else if (r.proposal && r.proposal[0] === right) await decideReview(store, project, reviewer, r.id, { decision: 'accept' });
    else await decideReview(store, project, reviewer, r.id, { decision: 'fix', labels: [right], note: 'fixed by the reviewer' });
  }
  // The rejected item is served again in its new round.
  await work(12);

  // Taxonomy migration: HUM renamed; decided HUM items go back to review with the mapped label.
  await createTaxonomy(store, project, OPERATOR, {
    kind: 'single',
    labels: COARSE.map((c) => ({ name: c === 'HUM' ? 'PERSON' : c })),
    guidelines: 'The coarse TREC class of the question; HUM is now PERSON.',
    mapping: [{ op: 'rename', from: 'HUM', to: 'PERSON' }],
  });
  for (const r of await listReviews(store.db, project.id, { limit: 100 })) {
    if (r.proposal) await decideReview(store, project, reviewer, r.id, { decision: 'accept' });
    else await decideReview(store, project, reviewer, r.id, { decision: 'fix', labels: [mapped(truth.get(r.itemId)!)] });
  }
  await work(6);
  await rerunConsensus(store, project, OPERATOR);
  return { project: await getProject(store.db, name), users, tokens, truth };
}

export const mapped = (coarse: string) => (coarse === 'HUM' ? 'PERSON' : coarse);

/** A user by name (after the session). */
export const userNamed = (store: Store, name: string) => getUser(store.db, name);
