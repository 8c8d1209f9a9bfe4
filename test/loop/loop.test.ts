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
import { verifyAuditLog } from '../../src/label/audit-verify.ts';
import { getLabelSettings } from '../../src/label/settings.ts';
import { updateSettings } from '../../src/label/results.ts';
import { nextTask } from '../../src/label/assignment.ts';
import { createUser, findUser, setRole } from '../../src/label/users.ts';
import { cliActor } from '../../src/store/context.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';

// A short loop on the first 700 SMS messages: every step runs for real (pretraining, probe,
// simulated annotators through the labelling path, review, head, registry, suggestions).
describe('the loop, end to end (SQLite)', () => {
  let t: TestStore;
  let report: LoopReport;
  let runner: InProcessRunner;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-loop-'));
  before(async () => {
    t = await freshStore('sqlite');
    process.env.TESSERA_HOME = t.env.TESSERA_HOME; // checkpoints go under the test's home
    const lines = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n').slice(0, 700).join('\n');
    writeFileSync(join(dir, 'SMSSpamCollection'), lines + '\n');
    await runImport(t.store, { project: 'sms', path: join(dir, 'SMSSpamCollection'), options: {}, actor: 'test' });
    runner = new InProcessRunner(t.store, jobHandlers(t.store));
    report = await runLoop(t.store, runner, {
      project: 'sms',
      rounds: 2,
      batch: 20,
      annotators: { count: 3, noise: 0.2 },
      priceLabel: 0.5,
      priceReview: 2,
      seed: 0,
      strategy: 'margin',
      testSize: 200,
      pretrain: { epochs: 1, batch: 64 },
      // auto with a short fine-tuning budget: text fine-tuning runs in the loop, whichever wins.
      train: { method: 'auto', epochs: 2 },
      actor: 'test',
    });
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each round buys overlap × batch labels, reviews disagreements, and costs what it bought', () => {
    assert.equal(report.rounds.length, 2);
    assert.deepEqual(report.rounds.map((r) => r.strategy), ['typiclust', 'margin']);
    for (const r of report.rounds) {
      assert.equal(r.selected, 20);
      assert.equal(r.labelsBought, 60, '3 annotators per item');
      assert.equal(r.cost, r.labelsBought * 0.5 + r.reviews * 2);
      assert.ok(r.reviews > 0, 'noisy annotators disagree somewhere');
      assert.ok(r.test.accuracy > 0.5 && r.test.accuracy <= 1);
      assert.ok(r.test.ece >= 0 && r.test.ece <= 1);
    }
    assert.deepEqual(report.rounds.map((r) => r.labelledItems), [20, 40]);
    assert.equal(report.testItems, 140);
    assert.ok(report.probe, 'the probe ran');
    assert.match(report.summary, /label economics after 2 round\(s\)/);
  });

  test('lineage: each classifier’s snapshot is exactly the labelled set it was trained on', async () => {
    const project = await getProject(t.store.db, 'sms');
    const classifiers = await listModels(t.store.db, project.id, 'classifier');
    assert.equal(classifiers.length, 2);
    const encoder = (await listModels(t.store.db, project.id, 'encoder'))[0];
    for (const m of classifiers) {
      assert.equal(m.parentId, encoder.id);
      const snap = await t.store.db.selectFrom('dataset_items').select(['item_id', 'label', 'decided_by']).where('dataset_id', '=', m.datasetId!).orderBy('item_id').execute();
      const final = await t.store.db.selectFrom('label_items').select(['item_id', 'final_labels']).where('project_id', '=', project.id).where('status', '=', 'done').where('decided_at', '<=', m.createdAt).orderBy('item_id').execute();
      assert.deepEqual(snap.map((r) => [r.item_id, r.label]), final.map((r) => [r.item_id, JSON.parse(r.final_labels!)[0]]));
      assert.ok(snap.every((r) => ['consensus', 'review'].includes(JSON.parse(r.decided_by!).source)));
      assert.equal((m.metrics as { labelledItems: number }).labelledItems, snap.length);
    }
  });

  test('test items are never served; unlabelled items carry calibrated suggestions; the audit chain verifies', async () => {
    const project = await getProject(t.store.db, 'sms');
    const split = await t.store.db.selectFrom('datasets').select('id').where('project_id', '=', project.id).where('name', '=', 'loop-test').executeTakeFirstOrThrow();
    const testIds = (await t.store.db.selectFrom('dataset_items').select('item_id').where('dataset_id', '=', split.id).execute()).map((r) => r.item_id);
    const served = await t.store.db.selectFrom('assignments').select('item_id').where('item_id', 'in', testIds).execute();
    assert.equal(served.length, 0);
    // The last model suggests a label for every item still unlabelled (700 − 140 test − 40 labelled).
    const last = report.rounds[report.rounds.length - 1].model;
    const sugg = await t.store.db.selectFrom('suggestions').select(['confidence']).where('project_id', '=', project.id).where('source', '=', `model:${last}`).execute();
    assert.equal(sugg.length, 700 - 140 - 40);
    assert.ok(sugg.every((s) => Number(s.confidence) >= 0.5 && Number(s.confidence) <= 1));
    const v = await verifyAuditLog(t.store.db);
    assert.equal(v.ok, true);
  });

  test('the loop leaves the project’s label settings as it found them: an annotator added afterwards is served', async () => {
    const project = await getProject(t.store.db, 'sms');
    const s = await getLabelSettings(t.store.db, project.id);
    assert.equal(s.servePrioritisedOnly, false);
    assert.equal(s.overlap, 2);
    // Set for the rounds, put back after them: two audited changes.
    const changes = await t.store.db.selectFrom('audit_events').select('payload').where('project_id', '=', project.id).where('action', '=', 'settings.update').orderBy('seq').execute();
    const after = changes.map((c) => JSON.parse(c.payload).after as { servePrioritisedOnly: boolean; overlap: number });
    assert.deepEqual(after.map((a) => [a.servePrioritisedOnly, a.overlap]), [[true, 3], [false, 2]]);
    await createUser(t.store, cliActor('test'), 'alice');
    await setRole(t.store, project, cliActor('test'), 'alice', 'annotator');
    const task = await nextTask(t.store, project, (await findUser(t.store.db, 'alice'))!);
    assert.ok(task, 'a person added after the loop gets a task');
  });

  test('a loop that fails mid-round still restores the label settings', async () => {
    const project = await getProject(t.store.db, 'sms');
    // The project's own settings, set here so that this test stands on its own.
    await updateSettings(t.store, project, cliActor('test'), { servePrioritisedOnly: false, overlap: 2 });
    const before = await getLabelSettings(t.store.db, project.id);
    assert.deepEqual([before.servePrioritisedOnly, before.overlap], [false, 2]);
    const failing = runLoop(
      t.store,
      runner,
      { project: 'sms', rounds: 2, batch: 10, annotators: { count: 3, noise: 0.2 }, priceLabel: 0.5, priceReview: 2, seed: 1, strategy: 'margin', testSize: 200, pretrain: { epochs: 1, batch: 64 }, train: { method: 'linear' }, actor: 'test' },
      {
        onRound() {
          throw new Error('disk full (simulated)');
        },
      },
    );
    await assert.rejects(failing, /disk full \(simulated\)/);
    assert.deepEqual(await getLabelSettings(t.store.db, project.id), before);
  });
});
