/**
 * The loop with `--train fine-tune` and `--train auto` on a small tabular fixture (a tiny VIME
 * encoder, a few fine-tuning epochs): the round's model is registered as fine-tuned, its
 * checkpoint loads and reproduces the reported test metrics exactly, its snapshot reproduces its
 * training set (and, retrained from the snapshot alone, the same model), suggestions come from it,
 * and auto records the validation scores that made its choice; with `priorShift`, the round's
 * classifier, its suggestions and the registry's record carry the EM prior correction.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { runLoop, type LoopOptions, type LoopReport } from '../../src/loop/loop.ts';
import { getModel, listModels, type ModelRecord } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import { loadModalityData, subsetData } from '../../src/ssl/data.ts';
import { loadItemClassifier } from '../../src/jobs/suggest-shard.ts';
import { adjustToPrior } from '../../src/train/prior-shift.ts';
import { metricsFromProba } from '../../src/train/linear-head.ts';
import { loadEncoder } from '../../src/ssl/index.ts';
import { fineTune, loadFineTuned, stratifiedSplit } from '../../src/train/fine-tune.ts';
import type { Metrics } from '../../src/train/linear-head.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';

/** 360 seeded rows, 3 numeric columns; the class follows the signs of a·b and c (not linear: fine-tuning has something to learn). */
function fixture(dir: string): string {
  let s = 7;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const lines = ['a,b,c,label'];
  for (let i = 0; i < 360; i++) {
    const [a, b, c] = [normal(), normal(), normal()];
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)},${a * b > 0 ? (c > 0 ? 'p' : 'q') : 'r'}`);
  }
  const file = join(dir, 'rows.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const base = (over: Partial<LoopOptions>): LoopOptions => ({
  project: 'tab',
  rounds: 2,
  batch: 40,
  annotators: { count: 3, noise: 0.1 },
  priceLabel: 0.1,
  priceReview: 1,
  seed: 0,
  strategy: 'margin',
  testSize: 80,
  pretrain: { epochs: 1, batch: 64, pretext: 'vime', config: { encoder: { widths: [16] } } },
  actor: 'test',
  ...over,
});

/**
 * 360 seeded rows in three blobs (classes p, q, r at 70/15/15) far enough apart for a small
 * network to be calibrated on them: 140 labelled items leave a pool whose class mix differs from
 * the labels' (the cold start labels the rare blobs above their share), the pool is the labelled
 * classes re-mixed, and the prior shift passes its validation check (src/train/prior-shift.ts
 * validateShift). On `fixture`'s rows EM's estimate goes astray and the check keeps the prior.
 */
function blobs(dir: string): string {
  let s = 11;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centre: Record<string, number[]> = { p: [0, 0, 0], q: [4, 0, 0], r: [0, 4, 0] };
  const lines = ['a,b,c,label'];
  for (let i = 0; i < 360; i++) {
    const label = i % 20 < 14 ? 'p' : i % 20 < 17 ? 'q' : 'r';
    lines.push(`${centre[label].map((m) => (m + normal()).toFixed(4)).join(',')},${label}`);
  }
  const file = join(dir, 'blobs.csv');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function setupProject(t: TestStore, dir: string, rows: (dir: string) => string = fixture) {
  process.env.TESSERA_HOME = t.env.TESSERA_HOME; // checkpoints go under the test's home
  await runImport(t.store, { project: 'tab', path: rows(dir), format: 'tabular', options: { columns: 'a:num,b:num,c:num,label:label' }, actor: 'test' });
  return new InProcessRunner(t.store, jobHandlers(t.store));
}

/** The store's items in loadModalityData order, the test split and its source labels. */
async function testSet(t: TestStore, projectId: number) {
  const loaded = await loadModalityData(t.store, projectId, 'tabular');
  const row = new Map(loaded.itemIds.map((id, i) => [id, i]));
  const split = await t.store.db.selectFrom('datasets').select('id').where('project_id', '=', projectId).where('name', '=', 'loop-test').executeTakeFirstOrThrow();
  const testIds = (await t.store.db.selectFrom('dataset_items').select('item_id').where('dataset_id', '=', split.id).orderBy('item_id').execute()).map((r) => r.item_id);
  return { loaded, row, testIds, testRows: testIds.map((id) => row.get(id)!), truth: testIds.map((id) => loaded.labels[row.get(id)!]!) };
}

const sameMetrics = (a: Metrics, b: Metrics) => {
  assert.equal(a.accuracy, b.accuracy);
  assert.equal(a.macroF1, b.macroF1);
  assert.equal(a.ece, b.ece);
  assert.deepEqual(a.confusion, b.confusion);
  assert.deepEqual(a.perClassF1, b.perClassF1);
};

describe('loop --train fine-tune (SQLite, tabular fixture)', () => {
  let t: TestStore;
  let report: LoopReport;
  let projectId: number;
  let models: ModelRecord[];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-loop-ft-'));
  before(async () => {
    t = await freshStore('sqlite');
    const runner = await setupProject(t, dir);
    report = await runLoop(t.store, runner, base({ train: { method: 'fine-tune', epochs: 8 } }));
    projectId = (await getProject(t.store.db, 'tab')).id;
    models = (await listModels(t.store.db, projectId, 'classifier')).reverse();
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each round registers a fine-tuned model: method, epochs, best epoch, validation scores, full metrics', () => {
    assert.equal(report.rounds.length, 2);
    assert.equal(models.length, 2);
    for (const [i, m] of models.entries()) {
      const r = report.rounds[i];
      assert.equal(r.model, m.id);
      assert.equal(r.training.method, 'fine-tune');
      assert.equal(m.params.method, 'fine-tune');
      assert.equal(m.metrics.method, 'fine-tune');
      const ft = m.params.fineTune as { maxEpochs: number; epochsRun: number; bestEpoch: number; history: unknown[] };
      assert.equal(ft.maxEpochs, 8);
      assert.ok(ft.epochsRun >= 1 && ft.epochsRun <= 8);
      assert.ok(ft.bestEpoch >= 0 && ft.bestEpoch <= ft.epochsRun);
      assert.equal(ft.history.length, ft.epochsRun + 1);
      const val = m.metrics.validation as { items: number; linear: number; fineTune: number };
      assert.ok(val.items > 0);
      assert.ok(val.fineTune >= 0 && val.fineTune <= 1 && val.linear >= 0 && val.linear <= 1);
      const test = m.metrics.test as Metrics;
      assert.deepEqual(test, r.test);
      assert.deepEqual(Object.keys(test.perClassF1), ['p', 'q', 'r']);
      assert.equal(test.confusion.flat().reduce((a, b) => a + b, 0), report.testItems);
      assert.ok(test.ece >= 0 && test.ece <= 1);
    }
    // The fixture is built so that fine-tuning moves off its linear-probe start: the checkpoint is not the pretrained encoder.
    assert.ok(models.some((m) => (m.params.fineTune as { bestEpoch: number }).bestEpoch > 0));
  });

  test('the checkpoint loads (loadFineTuned) and reproduces the reported test metrics exactly', async () => {
    const { loaded, testRows, truth } = await testSet(t, projectId);
    for (const m of models) {
      const shown = await getModel(t.store.db, projectId, m.id);
      assert.ok(shown.checkpointPath && existsSync(join(shown.checkpointPath, 'classifier.json')), 'a loadable artifact, not the encoder’s folder');
      assert.notEqual(shown.checkpointPath, (await getModel(t.store.db, projectId, m.parentId!)).checkpointPath);
      const model = await loadFineTuned(shown.checkpointPath);
      try {
        assert.deepEqual(model.classes, ['p', 'q', 'r']);
        sameMetrics(await model.evaluate(loaded.data, testRows, truth), m.metrics.test as Metrics);
      } finally {
        model.dispose();
        model.encoder.dispose();
      }
    }
  });

  test('lineage: the snapshot reproduces the training set, and retraining from it alone gives the same model', async () => {
    const m = models[models.length - 1];
    const snap = await t.store.db.selectFrom('dataset_items').select(['item_id', 'label', 'decided_by']).where('dataset_id', '=', m.datasetId!).orderBy('item_id').execute();
    const final = await t.store.db.selectFrom('label_items').select(['item_id', 'final_labels']).where('project_id', '=', projectId).where('status', '=', 'done').where('decided_at', '<=', m.createdAt).orderBy('item_id').execute();
    assert.deepEqual(snap.map((r) => [r.item_id, r.label]), final.map((r) => [r.item_id, JSON.parse(r.final_labels!)[0]]));
    assert.ok(snap.every((r) => ['consensus', 'review'].includes(JSON.parse(r.decided_by!).source)));
    assert.equal(m.metrics.labelledItems, snap.length);
    // The recorded validation items are the stratified split of the snapshot (ascending item id, the recorded seed).
    const classes = m.params.classes as string[];
    const y = snap.map((r) => classes.indexOf(r.label!));
    const split = stratifiedSplit(y, (m.params.validation as { fraction: number }).fraction, m.params.seed as number);
    assert.deepEqual(split.val.map((i) => snap[i].item_id), (m.params.validation as { items: number[] }).items);
    // Retrain from the snapshot and the parent encoder only: the same test metrics.
    const { loaded, row, testRows, truth } = await testSet(t, projectId);
    const parent = await getModel(t.store.db, projectId, m.parentId!);
    const enc = await loadEncoder(parent.checkpointPath!);
    const pos = (idx: number[]) => idx.map((i) => row.get(snap[i].item_id)!);
    const ft = await fineTune(enc, loaded.data, { idx: pos(split.train), y: split.train.map((i) => y[i]) }, classes, {
      seed: m.params.seed as number,
      epochs: (m.params.fineTune as { maxEpochs: number }).maxEpochs,
      validation: { idx: pos(split.val), y: split.val.map((i) => y[i]) },
    });
    try {
      assert.equal(ft.bestEpoch, (m.params.fineTune as { bestEpoch: number }).bestEpoch);
      sameMetrics(await ft.model.evaluate(loaded.data, testRows, truth), m.metrics.test as Metrics);
    } finally {
      ft.model.dispose();
      enc.dispose();
    }
  });

  test('suggestions come from the fine-tuned model: its predicted label and calibrated confidence', async () => {
    const m = models[models.length - 1];
    const { loaded, row } = await testSet(t, projectId);
    const sugg = await t.store.db.selectFrom('suggestions').select(['item_id', 'labels', 'confidence']).where('project_id', '=', projectId).where('source', '=', `model:${m.id}`).orderBy('item_id').execute();
    assert.equal(sugg.length, 360 - report.testItems - (m.metrics.labelledItems as number));
    const model = await loadFineTuned(m.checkpointPath!);
    try {
      const p = await model.proba(loaded.data, sugg.map((s) => row.get(s.item_id)!));
      sugg.forEach((s, i) => {
        const rowP = Array.from(p.subarray(i * 3, i * 3 + 3));
        const best = rowP.indexOf(Math.max(...rowP));
        assert.deepEqual(JSON.parse(s.labels), [model.classes[best]]);
        assert.equal(Number(s.confidence), rowP[best]);
      });
    } finally {
      model.dispose();
      model.encoder.dispose();
    }
  });
});

describe('loop --train auto (SQLite, tabular fixture)', () => {
  let t: TestStore;
  let report: LoopReport;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-loop-auto-'));
  before(async () => {
    t = await freshStore('sqlite');
    const runner = await setupProject(t, dir);
    // Round 1 fine-tunes for 0 epochs (it cannot move off its linear-probe start: the linear head
    // must win); the second loop run fine-tunes for real and follows the validation scores.
    const first = await runLoop(t.store, runner, base({ rounds: 1, train: { method: 'auto', epochs: 0 } }));
    const second = await runLoop(t.store, runner, base({ rounds: 1, train: { method: 'auto', epochs: 8 } }));
    report = { ...second, rounds: [...first.rounds, ...second.rounds] };
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('auto chooses by validation, and the registry records what it chose and why', async () => {
    const projectId = (await getProject(t.store.db, 'tab')).id;
    const [forced, free] = report.rounds;
    assert.equal(report.features, 'ssl', 'the linear head reads the encoder’s embeddings here');
    assert.equal(forced.training.fineTuneBestEpoch, 0);
    assert.equal(forced.training.method, 'linear');
    for (const r of [forced, free]) {
      const tr = r.training;
      assert.equal(tr.requested, 'auto');
      assert.ok(tr.validationItems > 0 && tr.valLinear !== null && tr.valFineTune !== null);
      assert.equal(tr.challenge, null, 'the head reads SSL embeddings: fine-tuning is not put to the significance test');
      const fineTuneWins = tr.fineTuneBestEpoch! > 0 && tr.valFineTune! >= tr.valLinear!;
      assert.equal(tr.method, fineTuneWins ? 'fine-tune' : 'linear');
      const m = await getModel(t.store.db, projectId, r.model);
      assert.equal(m.params.method, tr.method);
      assert.deepEqual(m.metrics.validation, { items: tr.validationItems, linear: tr.valLinear, fineTune: tr.valFineTune });
      const encoder = await getModel(t.store.db, projectId, m.parentId!);
      if (tr.method === 'linear') assert.equal(m.checkpointPath, encoder.checkpointPath, 'a linear model points at the encoder + its head in params');
      else assert.ok(existsSync(join(m.checkpointPath!, 'classifier.json')));
    }
  });
});

describe('tessera loop --train / models show --json (CLI)', () => {
  let t: TestStore;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-loop-cli-'));
  before(async () => {
    t = await freshStore('sqlite');
    await runImport(t.store, { project: 'tab', path: fixture(dir), format: 'tabular', options: { columns: 'a:num,b:num,c:num,label:label' }, actor: 'test' });
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--train fine-tune: the round reports its method; models show --json points at a loadable fine-tuned checkpoint', async () => {
    const bad = tessera(['loop', '--project', 'tab', '--train', 'deep', '--json'], t.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--train expects linear\|fine-tune\|auto, got "deep"/);

    const run = tessera(['loop', '--project', 'tab', '--rounds', '1', '--batch', '40', '--pretext', 'vime', '--pretrain-epochs', '1', '--train', 'fine-tune', '--fine-tune-epochs', '3', '--json'], t.env);
    assert.equal(run.code, 0, run.stderr);
    const [round] = run.json.rounds;
    assert.equal(round.training.method, 'fine-tune');
    assert.equal(round.training.requested, 'fine-tune');
    const list = tessera(['models', 'list', '--project', 'tab', '--json'], t.env).json as Array<{ id: number; kind: string }>;
    assert.deepEqual(list.map((m) => m.kind).sort(), ['classifier', 'encoder']);
    const shown = tessera(['models', 'show', String(round.model), '--project', 'tab', '--json'], t.env).json;
    assert.equal(shown.kind, 'classifier');
    assert.equal(shown.params.method, 'fine-tune');
    assert.equal(shown.params.fineTune.maxEpochs, 3);
    assert.deepEqual(shown.metrics.test, round.test);
    const model = await loadFineTuned(shown.checkpointPath);
    try {
      const projectId = (await getProject(t.store.db, 'tab')).id;
      const { loaded, testRows, truth } = await testSet(t, projectId);
      sameMetrics(await model.evaluate(loaded.data, testRows, truth), shown.metrics.test);
    } finally {
      model.dispose();
      model.encoder.dispose();
    }
  });

  test('--prior-shift: the round reports the prior correction and models show --json records it', () => {
    const run = tessera(['loop', '--project', 'tab', '--rounds', '1', '--batch', '20', '--train', 'linear', '--prior-shift', '--json'], t.env);
    assert.equal(run.code, 0, run.stderr);
    const [round] = run.json.rounds;
    assert.equal(round.training.priorShift.labelPrior.length, 3);
    assert.ok(round.training.priorShift.items > 0);
    const shown = tessera(['models', 'show', String(round.model), '--project', 'tab', '--json'], t.env).json;
    assert.deepEqual(shown.params.priorShift, round.training.priorShift);
  });
});

describe('loop --prior-shift (SQLite, tabular fixture)', () => {
  let t: TestStore;
  let report: LoopReport;
  let projectId: number;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-loop-prior-'));
  before(async () => {
    t = await freshStore('sqlite');
    const runner = await setupProject(t, dir, blobs);
    report = await runLoop(t.store, runner, base({ rounds: 1, batch: 140, train: { method: 'fine-tune', epochs: 8, priorShift: true } }));
    projectId = (await getProject(t.store.db, 'tab')).id;
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the round's classifier moves to the prior EM estimates on the unlabelled items; the registry records it; suggestions, test metrics and jobs suggest's classifier all use the moved probabilities", async () => {
    const [round] = report.rounds;
    const shift = round.training.priorShift!;
    assert.ok(shift, 'the round reports its prior shift');
    const m = await getModel(t.store.db, projectId, round.model);
    assert.deepEqual(m.params.priorShift, shift);
    // EM read every item with no label that is not a test item.
    const labelled = m.metrics.labelledItems as number;
    assert.equal(shift.items, 360 - report.testItems - labelled);
    // The labels' prior: the class counts of the snapshot's items the network trained on (all but
    // its validation items), half a count added to each (Jeffreys).
    const val = new Set((m.params.validation as { items: number[] }).items);
    const snap = (await t.store.db.selectFrom('dataset_items').select(['item_id', 'label']).where('dataset_id', '=', m.datasetId!).execute()).filter((r) => !val.has(r.item_id));
    const classes = m.params.classes as string[];
    assert.ok(val.size > 0 && snap.length > 0);
    assert.deepEqual(shift.labelPrior, classes.map((c) => (snap.filter((r) => r.label === c).length + 0.5) / (snap.length + 0.5 * classes.length)));
    assert.ok(Math.abs(shift.poolPrior.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(shift.poolPrior.some((p, c) => Math.abs(p - shift.labelPrior[c]) > 1e-3), 'the pool prior differs from the labels’: the correction does something');
    assert.equal(shift.applied, true, `EM left every labelled class more than one expected item, and validation bore the shift out: ${JSON.stringify(shift)}`);
    assert.deepEqual(shift.collapsed, []);

    const { loaded, row, testRows, truth } = await testSet(t, projectId);
    const item = await loadItemClassifier(t.store, m);
    const unshifted = (model: ModelRecord) => loadItemClassifier(t.store, { ...model, params: { ...model.params, priorShift: undefined } });
    const plain = await unshifted(m);
    try {
      // The test metrics the loop reported are those of the moved probabilities.
      const testData = subsetData(loaded.data, testRows);
      assert.deepEqual(metricsFromProba(await item.proba(testData), classes, truth), m.metrics.test);
      assert.deepEqual(metricsFromProba(adjustToPrior(await plain.proba(testData), classes.length, shift.labelPrior, shift.poolPrior), classes, truth), m.metrics.test);
      // Suggestions: the moved probabilities' top class and confidence.
      const sugg = await t.store.db.selectFrom('suggestions').select(['item_id', 'labels', 'confidence']).where('project_id', '=', projectId).where('source', '=', `model:${m.id}`).orderBy('item_id').execute();
      assert.equal(sugg.length, shift.items);
      const p = await item.proba(subsetData(loaded.data, sugg.map((s) => row.get(s.item_id)!)));
      const q = await plain.proba(subsetData(loaded.data, sugg.map((s) => row.get(s.item_id)!)));
      let moved = 0;
      sugg.forEach((s, i) => {
        const rowP = Array.from(p.subarray(i * 3, i * 3 + 3));
        const best = rowP.indexOf(Math.max(...rowP));
        assert.deepEqual(JSON.parse(s.labels), [classes[best]]);
        assert.ok(Math.abs(Number(s.confidence) - rowP[best]) < 1e-9);
        if (Math.abs(q[i * 3 + best] - rowP[best]) > 1e-6) moved++;
      });
      assert.ok(moved > 0, 'the stored confidences are not the unmoved ones');
    } finally {
      item.dispose();
      plain.dispose();
    }
    // A record whose EM estimate collapsed (applied: false) predicts with the labels' prior, as the loop did.
    const notApplied = await loadItemClassifier(t.store, { ...m, params: { ...m.params, priorShift: { ...shift, applied: false } } });
    const plainAgain = await unshifted(m);
    try {
      const testData = subsetData(loaded.data, testRows);
      assert.deepEqual(await notApplied.proba(testData), await plainAgain.proba(testData));
    } finally {
      notApplied.dispose();
      plainAgain.dispose();
    }
    // A malformed record is refused by name.
    await assert.rejects(loadItemClassifier(t.store, { ...m, params: { ...m.params, priorShift: { labelPrior: [1], poolPrior: [1] } } }), new RegExp(`classifier ${m.id}: params.priorShift needs labelPrior and poolPrior of 3 classes each`));
  });
});
