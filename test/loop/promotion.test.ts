/**
 * Promotion (src/loop/promotion.ts): a round's classifier replaces the model in use only when it
 * is not clearly below it on validation items the model in use never trained on. The decision on
 * hand-counted cases, then a loop round whose model is clearly worse than the model in use: it is
 * registered with promoted: false and the reason, and the suggestions stay the old model's.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promotionDecision, rightOn, PROMOTION_ALPHA } from '../../src/loop/promotion.ts';
import { loopSettingsPatch, restorePatch } from '../../src/loop/serving.ts';
import { DEFAULT_LABEL_SETTINGS } from '../../src/label/settings.ts';
import { runImport } from '../../src/ingest/import.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { runLoop, type LoopReport } from '../../src/loop/loop.ts';
import { getModel, listModels, registerModel } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import { loadModalityData, projectModality } from '../../src/ssl/data.ts';
import { rawFeatures } from '../../src/probe/raw.ts';
import { fitHead, headProba } from '../../src/train/linear-head.ts';
import { setSuggestions } from '../../src/label/results.ts';
import { cliActor } from '../../src/store/context.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';

test('promotionDecision: not promoted only when the model in use is right on significantly more shared items (one-sided exact McNemar)', () => {
  // Five items only the model in use gets right, none the other way: p = 0.5⁵ = 1/32 ≤ 0.05.
  const worse = promotionDecision([false, false, false, false, false, true, true], [true, true, true, true, true, true, true], 7);
  assert.equal(worse.promoted, false);
  assert.equal(worse.incumbentOnly, 5);
  assert.equal(worse.newOnly, 0);
  assert.equal(worse.pWorse, 1 / 32);
  assert.match(worse.reason, /clearly below model 7 on 7 validation items/);
  assert.match(worse.reason, /model 7 keeps serving suggestions/);
  // Four: p = 1/16 > 0.05 — a few items either way are noise.
  const four = promotionDecision([false, false, false, false, true], [true, true, true, true, true], 7);
  assert.equal(four.promoted, true);
  assert.equal(four.pWorse, 1 / 16);
  // Six against one: P(X ≥ 6 | n = 7) = 8/128 = 0.0625 > 0.05.
  const sixOne = promotionDecision([...Array(6).fill(false), true], [...Array(6).fill(true), false], 7);
  assert.equal(sixOne.promoted, true);
  assert.ok(Math.abs(sixOne.pWorse! - 8 / 128) < 1e-12);
  // Better or equal: promoted.
  assert.equal(promotionDecision([true, true, true, true, true], [false, false, false, false, false], 7).promoted, true);
  // Nothing shared to compare on: promoted, and the reason says so.
  const none = promotionDecision([], [], 7);
  assert.equal(none.promoted, true);
  assert.match(none.reason, /nothing to compare on/);
  assert.equal(PROMOTION_ALPHA, 0.05);
  assert.throws(() => promotionDecision([true], [], 1), /1 vs 0 items/);
  assert.deepEqual(rightOn(Float64Array.from([0.9, 0.1, 0.3, 0.7, 0.6, 0.4]), [0, 0, 1], 2), [true, false, false]);
});

test('restorePatch: the keys the loop changed go back to their values before it, unless someone changed them meanwhile', () => {
  const before = { ...DEFAULT_LABEL_SETTINGS, overlap: 2, servePrioritisedOnly: false };
  const applied = loopSettingsPatch(3);
  assert.deepEqual(applied, { overlap: 3, servePrioritisedOnly: true });
  assert.deepEqual(restorePatch(before, applied, { ...before, ...applied }), { overlap: 2, servePrioritisedOnly: false });
  // A manager set overlap 5 while the loop ran: theirs stays.
  assert.deepEqual(restorePatch(before, applied, { ...before, ...applied, overlap: 5 }), { servePrioritisedOnly: false });
  // The project served prioritised items only already: nothing to put back there.
  assert.deepEqual(restorePatch({ ...before, servePrioritisedOnly: true }, applied, { ...before, ...applied }), { overlap: 2 });
});

// The model in use is a linear head on raw features fitted on every item's source label, with no
// snapshot recorded (so every validation item counts as one it may be compared on). The round's
// model is a linear probe (fine-tuning for 0 epochs) on a deliberately crippled SSL encoder — four
// numbers per message from its first two tokens of a 16-token vocabulary — trained on items a
// margin strategy picked as hard. It must be registered, not promoted.
describe('a round whose model is clearly below the model in use (SQLite, 700 SMS messages)', () => {
  let t: TestStore;
  let report: LoopReport;
  let projectId: number;
  let inUse: number;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-promotion-'));
  const crippled = {
    annotators: { count: 3, noise: 0.1 },
    priceLabel: 0.1,
    priceReview: 1,
    seed: 0,
    testSize: 140,
    pretrain: { epochs: 1, batch: 64, config: { encoder: { dim: 4, maxLen: 2, vocabSize: 16 } } },
    train: { method: 'fine-tune' as const, epochs: 0 },
    actor: 'test',
  };
  before(async () => {
    t = await freshStore('sqlite');
    process.env.TESSERA_HOME = t.env.TESSERA_HOME;
    const lines = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n').slice(0, 700).join('\n');
    writeFileSync(join(dir, 'SMSSpamCollection'), lines + '\n');
    await runImport(t.store, { project: 'sms', path: join(dir, 'SMSSpamCollection'), options: {}, actor: 'test' });
    const runner = new InProcessRunner(t.store, jobHandlers(t.store));
    // A first small round: the encoder, the test split, and labels of both classes (so the next
    // round selects by margin rather than the cold start).
    await runLoop(t.store, runner, { ...crippled, project: 'sms', rounds: 1, batch: 20, strategy: 'margin' });
    const project = await getProject(t.store.db, 'sms');
    projectId = project.id;
    const decided = await t.store.db.selectFrom('label_items').select('final_labels').where('project_id', '=', projectId).where('status', '=', 'done').execute();
    assert.equal(new Set(decided.map((d) => d.final_labels)).size, 2, 'both classes labelled in the first round');
    const loaded = await loadModalityData(t.store, project.id, await projectModality(t.store, project.id), {});
    const raw = await rawFeatures(loaded.data);
    const classes = ['ham', 'spam'];
    const head = fitHead(raw, loaded.labels.map((l) => l!), classes, 0);
    inUse = await registerModel(t.store.db, {
      projectId: project.id,
      kind: 'classifier',
      pretext: null,
      parentId: null,
      datasetId: null,
      taxonomyVersion: null,
      checkpointPath: null,
      params: { method: 'linear', classes, features: 'raw', lambda: head.model.lambda, temperature: head.temperature, W: Array.from(head.model.W), b: Array.from(head.model.b), mean: Array.from(head.model.mean), std: Array.from(head.model.std) },
      metrics: {},
    });
    // Its suggestions are what annotators see now.
    const p = headProba(head, raw);
    await setSuggestions(t.store, project, cliActor('test'), loaded.itemIds.map((itemId, i) => ({ itemId, labels: [p[2 * i] >= p[2 * i + 1] ? 'ham' : 'spam'], source: `model:${inUse}`, confidence: Math.max(p[2 * i], p[2 * i + 1]) })));
    report = await runLoop(t.store, runner, { ...crippled, project: 'sms', rounds: 1, batch: 150, strategy: 'margin' });
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the round’s model is registered with promoted: false and the reason, in the report and the registry', async (tc) => {
    const r = report.rounds[0];
    tc.diagnostic(r.promotion.reason);
    assert.equal(r.promoted, false, r.promotion.reason);
    assert.equal(r.promotion.incumbent, inUse);
    assert.ok(r.promotion.items >= 20, `compared on ${r.promotion.items} validation items`);
    assert.ok(r.promotion.pWorse! <= 0.05);
    assert.match(r.promotion.reason, new RegExp(`clearly below model ${inUse}`));
    const m = await getModel(t.store.db, projectId, r.model, 'classifier');
    assert.deepEqual((m.params as { promotion: unknown }).promotion, r.promotion);
    assert.equal((m.metrics as { promoted: boolean }).promoted, false);
    assert.equal((await listModels(t.store.db, projectId, 'classifier')).length, 3);
    const ev = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'model.fine-tune').where('subject', '=', `model:${r.model}`).executeTakeFirstOrThrow();
    assert.equal(JSON.parse(ev.payload).promoted, false);
  });

  test('suggestions stay from the model in use: none from the round’s model', async () => {
    const r = report.rounds[0];
    const bySource = await t.store.db.selectFrom('suggestions').select(['source']).select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId).groupBy('source').execute();
    assert.deepEqual(bySource.map((x) => x.source), [`model:${inUse}`]);
    assert.ok(Number(bySource[0].n) >= 700 - 140 - r.labelledItems, 'every unlabelled item keeps its suggestion');
  });
});
