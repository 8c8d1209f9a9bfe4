// Scale (issue #8): the consensus recompute reads answers in keyset batches into typed arrays
// (src/label/recompute.ts). It must give exactly — bit for bit — what the all-at-once path gives
// (currentAnswers + consensusFor, settle.ts / consensus.ts), for every method, single- and
// multi-label, and Dawid-Skene must keep its published accuracy on the bluebirds data.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { cliActor } from '../../src/store/context.ts';
import { consensusFor, METHOD_NAMES, type ConsensusSettings, type ItemConsensus } from '../../src/label/consensus.ts';
import { byDecimalString, projectConsensus, readAnswerColumns } from '../../src/label/recompute.ts';
import { currentAnswers, rerunConsensus } from '../../src/label/settle.ts';
import { getLabelSettings, mergeSettings, putLabelSettings } from '../../src/label/settings.ts';
import { createTaxonomy, currentTaxonomy } from '../../src/label/taxonomies.ts';
import { labelNames } from '../../src/label/taxonomy.ts';
import { parseJson } from '../../src/core/json.ts';
import type { Store } from '../../src/store/db.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { seedAnnotations, writeTextJsonl } from '../helpers/scale-fixture.ts';
import { bluebirds } from '../consensus/crowd-data.ts';
import { crowdProject } from '../helpers/crowd-project.ts';

const OP = cliActor('cli:test');

test('byDecimalString orders numbers as their decimal strings compare', () => {
  const xs = [0, 1, 2, 9, 10, 11, 19, 99, 100, 101, 109, 110, 999, 1000, 1001, 12, 120, 1200, 123, 2_000_000_000, 2_147_483_647, 5, 50, 500, 499, 4999, 20000];
  const expected = [...xs].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  assert.deepEqual([...xs].sort(byDecimalString), expected);
  for (const a of xs) for (const b of xs) assert.equal(Math.sign(byDecimalString(a, b)), String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0, `${a} vs ${b}`);
});

/** Every item's consensus from the all-at-once path and from the batched one, compared exactly. */
async function assertSameConsensus(store: Store, project: Project, s: ConsensusSettings, answerBatch: number): Promise<Map<string, ItemConsensus>> {
  const taxonomy = await currentTaxonomy(store.db, project.id);
  const tax = { kind: taxonomy.kind!, labels: labelNames(taxonomy) };
  const old = consensusFor(await currentAnswers(store.db, project.id, taxonomy), tax, s);
  const cols = await readAnswerColumns(store.db, project.id, taxonomy, answerBatch);
  const now = projectConsensus(cols, tax, s);
  assert.equal(now.items, old.size, `${s.method}: items`);
  let differ = 0;
  for (const [item, c] of old) {
    const n = now.get(Number(item));
    // deepEqual on numbers is Object.is: bit-identical posteriors and confidences.
    if (!n || JSON.stringify(n) !== JSON.stringify(c) || !Object.is(n.confidence, c.confidence)) differ++;
    else assert.deepEqual(n, c);
  }
  assert.equal(differ, 0, `${s.method}: ${differ} items differ`);
  return old;
}

for (const kind of STORE_KINDS) {
  describe(`scale: consensus recompute in batches (${kind})`, () => {
    let t: TestStore;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-consensus-'));
    before(async () => (t = await freshStore(kind)));
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('bluebirds (Welinder et al. 2010): identical to the all-at-once path for every method; Dawid-Skene accuracy 0.8981 as published in README', async () => {
      const { answers, truth } = bluebirds();
      const items = [...new Set(answers.map((a) => a.item))];
      const { project, itemId } = await crowdProject(t.store, dir, 'birds', items, ['0', '1'], answers);

      const ds = await assertSameConsensus(t.store, project, { method: 'dawid-skene', tie: 'unresolved', seed: 0 }, 97);
      const byKey = new Map([...itemId].map(([k, id]) => [String(id), k]));
      let right = 0;
      for (const [id, c] of ds) if (c.labels?.[0] === truth.get(byKey.get(id)!)) right++;
      assert.equal(right, 97, 'DS on bluebirds: 97/108 = 0.8981');
      for (const method of METHOD_NAMES) {
        for (const tie of ['unresolved', 'random', 'first'] as const) {
          if (method !== 'majority' && tie !== 'unresolved') continue;
          await assertSameConsensus(t.store, project, { method, tie, seed: 3 }, 250);
        }
      }
    });

    test('multi-label: identical per-label decisions, posteriors and confidences', async () => {
      const file = join(dir, 'multi.jsonl');
      await writeTextJsonl(file, 1200, { idPrefix: 'm' });
      await runImport(t.store, { project: 'multi', path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'test' });
      const project = await getProject(t.store.db, 'multi');
      await createTaxonomy(t.store, project, OP, { kind: 'multi', labels: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] });
      // Single labels from the fixture, then some answers rewritten to label sets (and one empty).
      await seedAnnotations(t.store, project.id, { items: 400, step: 3, annotators: ['m1', 'm2', 'm3', 'm4'], labels: ['x', 'y', 'z'], seed: 11 });
      const rows = await t.store.db.selectFrom('annotations').select('id').where('project_id', '=', project.id).orderBy('id').execute();
      const sets = [['x', 'y'], ['y', 'z'], [], ['x', 'y', 'z'], ['z']];
      for (const [i, r] of rows.entries()) if (i % 3 === 0) await t.store.db.updateTable('annotations').set({ labels: JSON.stringify(sets[i % sets.length]) }).where('id', '=', r.id).execute();
      for (const method of METHOD_NAMES) await assertSameConsensus(t.store, project, { method, tie: 'unresolved', seed: 0 }, 333);
    });

    test('rerunConsensus over 12,000 items (1,500 answered, ids across 1–5 digits): the same re-decisions as the all-at-once results', async () => {
      const file = join(dir, 'big.jsonl');
      await writeTextJsonl(file, 12_000, { idPrefix: 'b' });
      await runImport(t.store, { project: 'big', path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'test' });
      const project = await getProject(t.store.db, 'big');
      await createTaxonomy(t.store, project, OP, { kind: 'single', labels: [{ name: 'spam' }, { name: 'ham' }, { name: 'other' }] });
      await seedAnnotations(t.store, project.id, { items: 1500, step: 8, annotators: ['b1', 'b2', 'b3'], labels: ['spam', 'ham', 'other'], accuracy: [0.9, 0.7, 0.55], seed: 5 });
      await t.store.db.transaction().execute(async (trx) => putLabelSettings(trx, project.id, mergeSettings(await getLabelSettings(trx, project.id), { consensus: { method: 'dawid-skene' } })));
      const s = (await getLabelSettings(t.store.db, project.id)).consensus;
      const expected = await assertSameConsensus(t.store, project, s, 1000);
      const beforeRows = await t.store.db.selectFrom('label_items').select(['item_id', 'final_labels', 'final_confidence']).where('project_id', '=', project.id).where('status', '=', 'done').execute();
      const willChange = beforeRows.filter((r) => {
        const c = expected.get(String(r.item_id))!;
        const b = parseJson<string[]>(r.final_labels, []);
        return !(c.labels !== null && c.labels.length === b.length && c.labels.every((l) => b.includes(l)) && Math.abs(c.confidence - (r.final_confidence ?? 0)) < 1e-9);
      });
      assert.ok(willChange.length > 50, `DS changes many majority decisions (${willChange.length})`);

      const r = await rerunConsensus(t.store, project, OP, { pageSize: 137, answerBatch: 700 });
      assert.deepEqual({ items: r.items, changed: r.changed }, { items: 1500, changed: willChange.length });
      const after = await t.store.db.selectFrom('label_items').select(['item_id', 'status', 'final_labels', 'final_confidence', 'final_provenance']).where('project_id', '=', project.id).execute();
      let finals = 0;
      const changedIds = new Set(willChange.map((w) => w.item_id));
      for (const a of after.filter((x) => changedIds.has(x.item_id))) {
        const c = expected.get(String(a.item_id))!;
        if (a.status === 'done') {
          finals++;
          assert.deepEqual(parseJson(a.final_labels, null), c.labels);
          assert.equal(a.final_confidence, c.confidence);
          assert.deepEqual((parseJson(a.final_provenance, {}) as { consensus: { posterior: unknown } }).consensus.posterior, { ...c.posterior }, 'as stored (a posterior in memory has no prototype)');
        } else assert.equal(a.status, 'review');
      }
      assert.equal(finals + r.toReview, willChange.length);
      const event = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'consensus.run').where('project_id', '=', project.id).executeTakeFirstOrThrow();
      const payload = JSON.parse(event.payload) as { items: number; changed: number; changes: unknown[] };
      assert.equal(payload.items, 1500);
      assert.equal(payload.changes.length, Math.min(1000, willChange.length));
    });
  });
}
