// The loop and held-out items, on real SMS messages: the loop's own selection never picks an item
// held out from training (its test split, an evaluation set), its simulated annotators are never
// served a test item, and a round never trains on a held-out item — not even one that got a final
// label before held-out items were refused (the 67 of the report).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { runLoop, type LoopReport } from '../../src/loop/loop.ts';
import { listModels } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import type { HeldOut } from '../../src/store/schema.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';

describe('the loop keeps held-out items out of selection, serving and training (SQLite)', () => {
  let t: TestStore;
  let report: LoopReport;
  let split: number[] = [];
  let evaluation: number[] = [];
  let labelledBefore: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-held-loop-'));

  before(async () => {
    t = await freshStore('sqlite');
    process.env.TESSERA_HOME = t.env.TESSERA_HOME;
    const lines = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n').slice(0, 300).join('\n');
    writeFileSync(join(dir, 'SMSSpamCollection'), lines + '\n');
    await runImport(t.store, { project: 'sms', path: join(dir, 'SMSSpamCollection'), options: {}, actor: 'test' });
    const project = await getProject(t.store.db, 'sms');
    const items = await t.store.db.selectFrom('items').select(['id', 'source_label']).where('project_id', '=', project.id).orderBy('id').execute();
    // A test split the loop will reuse, and an evaluation set: every third item, then every seventh.
    split = items.filter((_, i) => i % 3 === 0).slice(0, 50).map((r) => r.id);
    evaluation = items.filter((r, i) => i % 7 === 1 && !split.includes(r.id)).slice(0, 30).map((r) => r.id);
    const mark = async (name: string, heldOut: HeldOut, ids: number[]) => {
      const { id } = await t.store.db
        .insertInto('datasets')
        .values({ project_id: project.id, name, kind: 'split', held_out: heldOut, spec: '{}', item_count: ids.length, created_at: new Date().toISOString() })
        .returning('id')
        .executeTakeFirstOrThrow();
      await t.store.db.insertInto('dataset_items').values(ids.map((item_id) => ({ dataset_id: id, item_id, label: null, decided_by: null }))).execute();
    };
    await mark('loop-test', 'test', split);
    await mark('eval', 'evaluation', evaluation);
    // Held-out items that got a final label before they were refused.
    labelledBefore = [...split.slice(0, 10), ...evaluation.slice(0, 10)];
    const label = new Map(items.map((r) => [r.id, r.source_label]));
    const at = new Date().toISOString();
    await t.store.db
      .insertInto('label_items')
      .values(labelledBefore.map((item_id) => ({ item_id, project_id: project.id, round: 0, status: 'done' as const, priority: null, final_labels: JSON.stringify([label.get(item_id)]), final_source: 'review' as const, final_confidence: null, final_taxonomy_version: 1, final_provenance: '{}', decided_at: at, updated_at: at })))
      .execute();
    const runner = new InProcessRunner(t.store, jobHandlers(t.store));
    report = await runLoop(t.store, runner, {
      project: 'sms',
      rounds: 2,
      batch: 15,
      annotators: { count: 2, noise: 0.1 },
      priceLabel: 0.5,
      priceReview: 2,
      seed: 0,
      strategy: 'margin',
      testSize: 50,
      pretrain: { epochs: 1, batch: 64 },
      train: { method: 'linear' },
      actor: 'test',
    });
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the loop reuses the held-out split and its selection never picks a held-out item', async () => {
    assert.equal(report.testItems, split.length);
    assert.equal(report.rounds.length, 2);
    const queued = (await t.store.db.selectFrom('label_items').select('item_id').where('priority', 'is not', null).execute()).map((r) => r.item_id);
    assert.equal(queued.length, 30, 'two rounds of 15');
    const heldOut = new Set([...split, ...evaluation]);
    assert.deepEqual(queued.filter((id) => heldOut.has(id)), []);
  });

  test('no simulated annotator is ever served a test item', async () => {
    const leased = await t.store.db.selectFrom('assignments').select('item_id').where('item_id', 'in', split).execute();
    assert.deepEqual(leased, []);
  });

  test('each round trains on its labelled items minus every held-out one, even those with a final label', async () => {
    const project = await getProject(t.store.db, 'sms');
    const classifiers = await listModels(t.store.db, project.id, 'classifier');
    assert.equal(classifiers.length, 2);
    for (const m of classifiers) {
      const snap = (await t.store.db.selectFrom('dataset_items').select('item_id').where('dataset_id', '=', m.datasetId!).execute()).map((r) => r.item_id);
      assert.ok(snap.length >= 15, `round snapshot of ${snap.length} items`);
      assert.deepEqual(snap.filter((id) => labelledBefore.includes(id) || split.includes(id) || evaluation.includes(id)), [], `model ${m.id} trained on held-out items`);
    }
    assert.deepEqual(report.rounds.map((r) => r.labelledItems), [15, 30], 'the labelled count leaves the held-out finals out');
  });
});
