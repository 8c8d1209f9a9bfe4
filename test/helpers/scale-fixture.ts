// Large labelling fixtures written in bulk (test/store/scale-*.test.ts, test/label/export-stream,
// bench/scale-1m.ts): a synthetic text file imported through the real import path, then
// annotations and consensus-decided label_items inserted a batch at a time with plain SQL (the
// real submit path costs a transaction per answer: too slow for 150,000 answers in a test).
import { createWriteStream } from 'node:fs';
import type { Store } from '../../src/store/db.ts';
import { mulberry32 } from '../../src/core/rng.ts';

const WORDS = 'the a data label model review queue text image audio row drift annotate consensus agree batch select train probe embed cluster'.split(' ');

/** Writes `n` JSONL text records {id, text, label}; label = LABELS[i % labels.length] unless `label` says otherwise. */
export async function writeTextJsonl(file: string, n: number, opts: { seed?: number; labels?: readonly string[]; idPrefix?: string } = {}): Promise<void> {
  const rand = mulberry32(opts.seed ?? 1);
  const labels = opts.labels ?? ['spam', 'ham', 'other'];
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const len = 5 + Math.floor(rand() * 20);
    let text = '';
    for (let w = 0; w < len; w++) text += (w ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)];
    const line = JSON.stringify({ id: `${opts.idPrefix ?? 'r'}${i}`, text, label: labels[i % labels.length] }) + '\n';
    if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

export interface SeedOptions {
  /** Annotate every `step`-th item (by id order) until `items` items are annotated. */
  items: number;
  step?: number;
  annotators: readonly string[];
  /** Label names (single-label). */
  labels: readonly string[];
  /** Per annotator: probability of answering the item's true label (else a uniformly random other one). */
  accuracy?: readonly number[];
  seed?: number;
  taxonomyVersion?: number;
  /** Rows per INSERT. */
  batch?: number;
}

/**
 * Annotates `items` items of a project (each by every annotator, round 0) and marks them decided
 * by majority consensus with provenance, as settle.ts would. True label: the item's source label
 * when it is in `labels`, else labels[id % K]. Users are created without tokens. Returns the
 * annotated item ids.
 */
export async function seedAnnotations(store: Store, projectId: number, o: SeedOptions): Promise<number[]> {
  const rand = mulberry32(o.seed ?? 7);
  const step = o.step ?? 1;
  const batch = o.batch ?? 500;
  const K = o.labels.length;
  const version = o.taxonomyVersion ?? 1;
  const now = new Date().toISOString();
  const userIds: number[] = [];
  for (const name of o.annotators) {
    const u = await store.db.insertInto('users').values({ name, display_name: name, token_hash: null, created_at: now }).returning('id').executeTakeFirstOrThrow();
    await store.db.insertInto('memberships').values({ project_id: projectId, user_id: u.id, role: 'annotator' }).execute();
    userIds.push(u.id);
  }
  const done: number[] = [];
  let seen = 0;
  for (let after = 0; done.length < o.items; ) {
    const page = await store.db.selectFrom('items').select(['id', 'source_label']).where('project_id', '=', projectId).where('id', '>', after).orderBy('id').limit(5000).execute();
    if (page.length === 0) break;
    after = page[page.length - 1].id;
    const chosen = page.filter(() => seen++ % step === 0).slice(0, o.items - done.length);
    for (let i = 0; i < chosen.length; i += batch) {
      const part = chosen.slice(i, i + batch);
      await store.db.transaction().execute(async (trx) => {
        const answers: Array<{ item: number; user: number; label: string }> = [];
        for (const it of part) {
          const t = it.source_label !== null && o.labels.includes(it.source_label) ? o.labels.indexOf(it.source_label) : it.id % K;
          userIds.forEach((u, w) => {
            const right = rand() < (o.accuracy?.[w] ?? 0.8);
            const k = right ? t : (t + 1 + Math.floor(rand() * (K - 1))) % K;
            answers.push({ item: it.id, user: u, label: o.labels[k] });
          });
        }
        const ids = await trx
          .insertInto('annotations')
          .values(answers.map((a) => ({ project_id: projectId, item_id: a.item, user_id: a.user, taxonomy_version: version, labels: JSON.stringify([a.label]), time_ms: 1000, suggestion: null, suggestion_accepted: null, skipped: 0, skip_reason: null, question: 0, created_at: now, round: 0, assignment_id: null, comment: null })))
          .returning('id')
          .execute();
        const rows = part.map((it, j) => {
          const mine = answers.slice(j * userIds.length, (j + 1) * userIds.length);
          const votes = new Map<string, number>();
          for (const a of mine) votes.set(a.label, (votes.get(a.label) ?? 0) + 1);
          const [top, n] = [...votes].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0];
          const confidence = n / mine.length;
          const prov = {
            source: 'consensus',
            round: 0,
            taxonomyVersion: version,
            consensus: { method: 'majority', tie: 'unresolved', labels: [top], confidence, posterior: Object.fromEntries(o.labels.map((l) => [l, (votes.get(l) ?? 0) / mine.length])) },
            annotations: mine.map((a, w) => ({ id: ids[j * userIds.length + w].id, annotator: o.annotators[w], labels: [a.label], at: now, timeMs: 1000, taxonomyVersion: version, suggestion: null, suggestionAccepted: null })),
          };
          return { item_id: it.id, project_id: projectId, status: 'done' as const, priority: null, final_labels: JSON.stringify([top]), final_source: 'consensus' as const, final_confidence: confidence, final_taxonomy_version: version, final_provenance: JSON.stringify(prov), decided_at: now, updated_at: now };
        });
        await trx.insertInto('label_items').values(rows).execute();
      });
      done.push(...part.map((p) => p.id));
    }
  }
  return done;
}
