// A public crowd dataset (test/consensus/crowd-data.ts) as a labelling project: one text item per
// question, one user per worker, the answers as round-0 annotations, every item open.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { cliActor } from '../../src/store/context.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import type { Answer } from '../../src/consensus/types.ts';
import type { Store } from '../../src/store/db.ts';
import { getProject, type Project } from '../../src/store/projects.ts';

export interface CrowdProject {
  project: Project;
  /** Dataset item name → item id. */
  itemId: Map<string, number>;
  /** Inserts these answers as annotations (users are created as needed). */
  addAnswers(answers: readonly Answer[]): Promise<void>;
}

/** Imports the items of `answers` (only the items; `initial` answers are inserted), single-label taxonomy `labels`. */
export async function crowdProject(store: Store, dir: string, name: string, items: readonly string[], labels: readonly string[], initial: readonly Answer[]): Promise<CrowdProject> {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, items.map((id) => JSON.stringify({ id, text: `item ${id}` })).join('\n') + '\n');
  await runImport(store, { project: name, path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'test' });
  const project = await getProject(store.db, name);
  await createTaxonomy(store, project, cliActor('cli:test'), { kind: 'single', labels: labels.map((l) => ({ name: l })) });
  const itemId = new Map((await store.db.selectFrom('items').select(['id', 'source_key']).where('project_id', '=', project.id).execute()).map((r) => [r.source_key.replace(/^id:/, ''), r.id]));
  const now = new Date().toISOString();
  await store.db.insertInto('label_items').values([...itemId.values()].map((id) => ({ item_id: id, project_id: project.id, status: 'open' as const, priority: null, final_labels: null, final_source: null, final_confidence: null, final_taxonomy_version: null, final_provenance: null, decided_at: null, updated_at: now }))).execute();
  const userId = new Map<string, number>();
  const addAnswers = async (answers: readonly Answer[]) => {
    for (const w of new Set(answers.map((a) => a.annotator))) {
      if (userId.has(w)) continue;
      const u = await store.db.selectFrom('users').select('id').where('name', '=', `w${w}`).executeTakeFirst();
      userId.set(w, u?.id ?? (await store.db.insertInto('users').values({ name: `w${w}`, display_name: w, token_hash: null, created_at: now }).returning('id').executeTakeFirstOrThrow()).id);
    }
    for (let i = 0; i < answers.length; i += 500) {
      await store.db
        .insertInto('annotations')
        .values(answers.slice(i, i + 500).map((a) => ({ project_id: project.id, item_id: itemId.get(a.item)!, user_id: userId.get(a.annotator)!, taxonomy_version: 1, labels: JSON.stringify([a.label]), time_ms: 1, suggestion: null, suggestion_accepted: null, skipped: 0, skip_reason: null, question: 0, created_at: now, round: 0, assignment_id: null, comment: null })))
        .execute();
    }
  };
  await addAnswers(initial);
  return { project, itemId, addAnswers };
}
