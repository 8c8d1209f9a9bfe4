/**
 * Fine-tuning (src/train/fine-tune.ts) and FixMatch (src/train/fixmatch.ts): end-to-end
 * training beats frozen random features on real digits; early stopping puts the
 * best-validation weights back; pseudo-labels only above τ; the validation split; test-time
 * views against an independent pixel shift.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/ml/engine.ts';
import { randomEncoder } from '../../src/ssl/index.ts';
import type { ModalityData } from '../../src/ssl/types.ts';
import { Rng } from '../../src/ssl/rng.ts';
import { BestWeights, FineTunedClassifier, fineTune, loadFineTuned, planSchedule, smoothedCrossEntropy, snapshotEncoder, stratifiedSplit, type FineTuneOptions, type FineTuneResult } from '../../src/train/fine-tune.ts';
import { viewsFor } from '../../src/train/views.ts';
import type { SslEncoder } from '../../src/ssl/encoder.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXMATCH_DEFAULTS, fixmatchUnlabelledLoss, pseudoLabels, resolveFixMatch } from '../../src/train/fixmatch.ts';
import { evaluate, fitHead } from '../../src/train/linear-head.ts';
import { selectRows } from '../../src/probe/features.ts';
import { mulberry32, shuffled } from '../../src/core/rng.ts';
import { loadDigits } from '../helpers/digits.ts';
import { shiftedImages } from '../helpers/images.ts';

before(async () => {
  await initEngine();
});

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

test('digits: fine-tuning a random-init CNN end to end beats a linear head on its frozen random features', async (t) => {
  const d = loadDigits();
  const data: ModalityData = { modality: 'image', pixels: d.x, count: d.rows, height: 8, width: 8, channels: 1 };
  const order = shuffled([...Array(d.rows).keys()], mulberry32(3));
  const train = order.slice(0, 300);
  const testIdx = order.slice(300, 700);
  const truth = testIdx.map((i) => String(d.y[i]));
  const small = { encoder: { channels: [8, 8, 16, 16, 16, 16] } };

  // Baseline: the same random architecture, frozen, with a linear head on all 300 labels.
  const frozen = await randomEncoder(data, { pretext: 'simclr', seed: 1, config: small });
  const emb = await frozen.embed(data);
  frozen.dispose();
  const feats = { rows: d.rows, dim: emb.length / d.rows, data: emb };
  const head = fitHead(selectRows(feats, train), train.map((i) => String(d.y[i])), DIGITS, 0);
  const linear = evaluate(head, selectRows(feats, testIdx), truth);

  const enc = await randomEncoder(data, { pretext: 'simclr', seed: 1, config: small });
  const ft = await fineTune(enc, data, { idx: train, y: train.map((i) => d.y[i]) }, DIGITS, { seed: 0, epochs: 12, patience: 12, encoderLr: 3e-3 });
  const m = await ft.model.evaluate(data, testIdx, truth);
  ft.model.dispose();
  enc.dispose();

  t.diagnostic(`test accuracy: fine-tuned ${m.accuracy.toFixed(3)} (best epoch ${ft.bestEpoch}/${ft.epochsRun}), linear head on frozen random features ${linear.accuracy.toFixed(3)}`);
  assert.equal(ft.trainCount + ft.valCount, 300);
  assert.equal(ft.valCount, 60, '20% stratified validation split');
  assert.ok(m.accuracy > linear.accuracy + 0.05, `fine-tuned ${m.accuracy.toFixed(3)} vs linear on random features ${linear.accuracy.toFixed(3)}`);
  assert.ok(m.accuracy > 0.75, `fine-tuned accuracy ${m.accuracy}`);
  // The metrics every classifier reports.
  assert.deepEqual(Object.keys(m.perClassF1), DIGITS);
  assert.equal(m.confusion.length, 10);
  assert.equal(m.confusion.flat().reduce((a, b) => a + b, 0), testIdx.length);
  assert.ok(m.ece >= 0 && m.ece <= 1);
  assert.ok(m.macroF1 > 0 && m.macroF1 <= 1);
});

/** Two Gaussian features; the class is the sign of the first. */
function blobs(n: number, seed: number): { data: ModalityData; y: number[] } {
  const r = new Rng(seed);
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x0 = r.normal();
    rows.push([x0, r.normal()]);
    y.push(x0 > 0 ? 1 : 0);
  }
  return { data: { modality: 'tabular', rows, columns: [{ name: 'a', type: 'num' }, { name: 'b', type: 'num' }] }, y };
}

/**
 * The constructed case: validation labels are the opposite of the rule the training labels follow,
 * so the better the model fits the training set, the worse it does on validation. Returns the run
 * and the validation accuracy of the model it returned.
 */
async function disagreeingValidation(options: Omit<FineTuneOptions, 'seed'>): Promise<{ ft: FineTuneResult; valAcc: number }> {
  const { data, y } = blobs(240, 4);
  const train = [...Array(160).keys()];
  const val = Array.from({ length: 80 }, (_, i) => 160 + i);
  const valY = val.map((i) => 1 - y[i]);
  const enc = await randomEncoder(data, { pretext: 'vime', seed: 2, config: { encoder: { widths: [16, 16] } } });
  const ft = await fineTune(enc, data, { idx: train, y: train.map((i) => y[i]) }, ['neg', 'pos'], {
    seed: 1,
    lr: 1e-2,
    headInit: 'random',
    augment: 'none',
    validation: { idx: val, y: valY },
    ...options,
  });
  const m = await ft.model.evaluate(data, val, valY);
  ft.model.dispose();
  enc.dispose();
  return { ft, valAcc: m.accuracy };
}

test('early stopping: validation labels that disagree with training → stops, and the best-validation weights are restored', async (t) => {
  const { ft, valAcc } = await disagreeingValidation({ epochs: 40, patience: 4 });
  t.diagnostic(`validation accuracy by epoch: ${ft.history.map((h) => h.valAccuracy.toFixed(2)).join(' ')}; best ${ft.bestEpoch}`);
  const last = ft.history.at(-1)!;
  const best = ft.history[ft.bestEpoch];
  assert.ok(ft.stoppedEarly, 'stopped before the epoch limit');
  assert.equal(ft.epochsRun, ft.bestEpoch + 4, 'stopped after `patience` epochs without improvement');
  assert.ok(last.valAccuracy < best.valAccuracy - 0.2, `validation got worse: best ${best.valAccuracy} (epoch ${ft.bestEpoch}), last ${last.valAccuracy}`);
  // The returned model is the best epoch's, not the last one's.
  assert.equal(valAcc, best.valAccuracy);
  assert.equal(ft.valAccuracy, best.valAccuracy);
});

test("keep 'final': the same constructed case runs every planned epoch and ends with the last weights, not the best-validation ones", async (t) => {
  const run = (keep: 'best' | 'final') => disagreeingValidation({ epochs: 12, patience: 4, keep });
  const fin = await run('final');
  const best = await run('best');
  t.diagnostic(`validation accuracy by epoch (final): ${fin.ft.history.map((h) => h.valAccuracy.toFixed(2)).join(' ')}`);
  assert.equal(fin.ft.stoppedEarly, false);
  assert.equal(fin.ft.epochsRun, 12, 'no early stop: the whole plan ran');
  assert.equal(fin.ft.bestEpoch, 12, 'the kept weights are the last epoch’s');
  assert.equal(fin.ft.settings.keep, 'final');
  const last = fin.ft.history.at(-1)!;
  assert.equal(fin.valAcc, last.valAccuracy, 'the model scores what the last epoch scored');
  assert.equal(fin.ft.valAccuracy, last.valAccuracy);
  // The same run with keep 'best' stopped early and kept a better epoch: the two options differ here.
  assert.ok(best.ft.stoppedEarly);
  assert.ok(best.valAcc > fin.valAcc + 0.2, `best ${best.valAcc} vs final ${fin.valAcc}`);
  // Until 'best' stopped, both ran the same steps (the option changes what is kept, not how it trains).
  const shared = best.ft.history.length;
  assert.deepEqual(fin.ft.history.slice(0, shared).map((h) => [h.steps, h.valAccuracy, h.valLoss]), best.ft.history.map((h) => [h.steps, h.valAccuracy, h.valLoss]));
  const { data: d2 } = blobs(10, 1);
  const enc = await randomEncoder(d2, { pretext: 'vime', seed: 2, config: { encoder: { widths: [4] } } });
  await assert.rejects(fineTune(enc, d2, { idx: [0, 1, 2, 3], y: [0, 1, 0, 1] }, ['a', 'b'], { seed: 0, keep: 'last' as 'final' }), /keep must be 'best' or 'final', got "last"/);
  enc.dispose();
});

test('planSchedule: a step floor lengthens short epochs’ plans; large sets keep their epoch plan', () => {
  // Fashion-MNIST at 600 labels: 480 train, batch 32 → 15 steps an epoch. Without a floor, 30 epochs = 450 steps
  // and early stopping may end the run after any epoch (patience 6 → ~90 steps from the start).
  assert.deepEqual(planSchedule(480, { epochs: 30, batch: 32, minStepsPerEpoch: 8, minSteps: 0 }), { batch: 32, stepsPerEpoch: 15, epochs: 30, totalSteps: 450, noStopBefore: 0 });
  assert.deepEqual(planSchedule(480, { epochs: 30, batch: 32, minStepsPerEpoch: 8, minSteps: 1200 }), { batch: 32, stepsPerEpoch: 15, epochs: 80, totalSteps: 1200, noStopBefore: 1200 });
  // Tiny sets: the batch is capped at the set, an epoch is at least minStepsPerEpoch steps.
  assert.deepEqual(planSchedule(12, { epochs: 2, batch: 32, minStepsPerEpoch: 8, minSteps: 80 }), { batch: 12, stepsPerEpoch: 8, epochs: 10, totalSteps: 80, noStopBefore: 80 });
  // Every label of Fashion-MNIST: the epoch plan is already longer than the floor; early stopping works after it.
  assert.deepEqual(planSchedule(48000, { epochs: 2, batch: 32, minStepsPerEpoch: 8, minSteps: 1200 }), { batch: 32, stepsPerEpoch: 1500, epochs: 2, totalSteps: 3000, noStopBefore: 1200 });
  // 0 epochs stays 0 (the loop's "no fine-tuning" case).
  assert.equal(planSchedule(480, { epochs: 0, batch: 32, minStepsPerEpoch: 8, minSteps: 1200 }).totalSteps, 0);
});

test('minSteps: early stopping cannot end a run before the step floor, and the best-validation weights are still restored', async () => {
  const run = (minSteps: number) => disagreeingValidation({ epochs: 3, patience: 2, minSteps });
  // 160 items, batch 32 → 5 steps, raised to minStepsPerEpoch 8 an epoch.
  const short = await run(0);
  assert.ok(short.ft.epochsRun <= 3);
  const long = await run(100);
  {
    assert.deepEqual(long.ft.schedule, { batch: 32, stepsPerEpoch: 8, epochs: 13, totalSteps: 104, noStopBefore: 100 });
    assert.equal(long.ft.epochsRun, 13, 'ran the whole plan: no stop before step 100');
    assert.equal(long.ft.history.at(-1)!.steps, 104);
    assert.equal(long.ft.stoppedEarly, false);
    assert.equal(long.ft.settings.minSteps, 100);
  }
  const best = long.ft.history[long.ft.bestEpoch];
  assert.equal(long.valAcc, best.valAccuracy, 'the kept weights are the best epoch’s');
  assert.ok(best.valAccuracy >= Math.max(...long.ft.history.map((h) => h.valAccuracy)) - 1e-12);
  // Deterministic.
  const again = await run(100);
  assert.deepEqual(again.ft.history.map((h) => [h.steps, h.valAccuracy, h.valLoss]), long.ft.history.map((h) => [h.steps, h.valAccuracy, h.valLoss]));
});

test('snapshotEncoder: fine-tuning changes the encoder in place; restore puts every weight back', async () => {
  const { data, y } = blobs(120, 8);
  const enc = await randomEncoder(data, { pretext: 'vime', seed: 5, config: { encoder: { widths: [16, 16] } } });
  const before = await enc.embed(data);
  const snap = snapshotEncoder(enc);
  const idx = [...Array(120).keys()];
  const ft = await fineTune(enc, data, { idx, y }, ['neg', 'pos'], { seed: 0, epochs: 2, patience: 99, valFraction: 0 });
  ft.model.dispose();
  assert.notDeepEqual(await enc.embed(data), before, 'fine-tuning trained the encoder');
  snap.restore();
  assert.deepEqual(await enc.embed(data), before);
  snap.dispose();
  enc.dispose();
});

test('BestWeights keeps the best-scoring copy (accuracy, then loss) and restores it', () => {
  const v = tf.variable(tf.tensor1d([0, 0]));
  const keeper = new BestWeights([['v', v]]);
  const scores: Array<[number, number[]]> = [
    [1, [0.5, -0.9]],
    [2, [0.8, -0.7]],
    [3, [0.8, -0.8]], // same accuracy, higher loss: not better
    [4, [0.6, -0.1]],
  ];
  for (const [value, score] of scores) {
    v.assign(tf.tensor1d([value, -value]));
    keeper.offer(value, score);
  }
  assert.equal(keeper.bestEpoch, 2);
  keeper.restore();
  assert.deepEqual(Array.from(v.dataSync()), [2, -2]);
  keeper.dispose();
  v.dispose();
});

test('FixMatch pseudo-labels: arg-max kept only where the top probability is ≥ τ', () => {
  const probs = [0.96, 0.04, 0.94, 0.06, 0.5, 0.5, 0.02, 0.98, 0.95, 0.05];
  const pl = pseudoLabels(probs, 2, 0.95);
  assert.deepEqual(Array.from(pl.labels), [0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(pl.mask), [1, 0, 0, 1, 1]);
  assert.equal(pl.count, 3);
  assert.equal(pseudoLabels(probs, 2, 0.99).count, 0);

  // ℓ_u = Σ mask·CE / (μB): the masked-out rows add nothing but still count in the mean.
  const logits = tf.tensor2d([2, 0, 0, 3, 1, 1], [3, 2]);
  const labels = Int32Array.from([0, 1, 0]);
  const lse = (a: number, b: number) => Math.log(Math.exp(a) + Math.exp(b));
  const expected = ((lse(2, 0) - 2) + (lse(0, 3) - 3)) / 3;
  assert.ok(Math.abs(fixmatchUnlabelledLoss(logits, labels, Float32Array.from([1, 1, 0])).dataSync()[0] - expected) < 1e-5);
  assert.equal(fixmatchUnlabelledLoss(logits, labels, new Float32Array(3)).dataSync()[0], 0);
  logits.dispose();
});

test('FixMatch in the loop: pseudo-labels pass only when confident enough (τ = 1 → none here, τ = 0 → all); settings out of range are refused', async () => {
  const { data, y } = blobs(200, 6);
  const labelled = [...Array(40).keys()];
  const unlabelled = Array.from({ length: 160 }, (_, i) => 40 + i);
  const rates: Record<string, number[]> = {};
  for (const tau of [1, 0]) {
    const enc = await randomEncoder(data, { pretext: 'vime', seed: 3, config: { encoder: { widths: [16, 16] } } });
    const ft = await fineTune(enc, data, { idx: labelled, y: labelled.map((i) => y[i]) }, ['neg', 'pos'], { seed: 0, epochs: 2, batch: 8, fixmatch: { unlabelled, tau, mu: 2 } });
    rates[tau] = ft.history.slice(1).map((h) => h.pseudoLabelRate!);
    assert.deepEqual(ft.settings.fixmatch, { tau, mu: 2, lambdaU: 1, unlabelled: 160 });
    ft.model.dispose();
    enc.dispose();
  }
  // A 2-class softmax reaches exactly 1 only past a ~17-nat logit gap, which 2 epochs of this net do not.
  assert.deepEqual(rates['1'], [0, 0]);
  assert.deepEqual(rates['0'], [1, 1]);

  assert.deepEqual(resolveFixMatch({}), FIXMATCH_DEFAULTS);
  assert.deepEqual(resolveFixMatch({ mu: 2, tau: undefined }), { ...FIXMATCH_DEFAULTS, mu: 2 });
  assert.throws(() => resolveFixMatch({ tau: 1.5 }), /fixmatch\.tau expects a confidence threshold in \[0, 1\], got 1\.5/);
  assert.throws(() => resolveFixMatch({ mu: 0 }, (f) => `--fixmatch-${f}`), /--fixmatch-mu expects an unlabelled-to-labelled batch ratio in \(0, 64\], got 0/);
  assert.throws(() => resolveFixMatch({ mu: NaN }), /fixmatch\.mu .* got NaN/);
  assert.throws(() => resolveFixMatch({ lambdaU: -1 }), /fixmatch\.lambdaU expects a weight in \[0, 100\], got -1/);
  const enc = await randomEncoder(data, { pretext: 'vime', seed: 3, config: { encoder: { widths: [16, 16] } } });
  await assert.rejects(fineTune(enc, data, { idx: labelled, y: labelled.map((i) => y[i]) }, ['neg', 'pos'], { seed: 0, epochs: 1, batch: 8, fixmatch: { unlabelled, mu: -2 } }), /fixmatch\.mu .* got -2/);
  enc.dispose();
});

test('label smoothing: ε = 0 is plain cross-entropy; ε > 0 raises the loss of a confident correct prediction', () => {
  const logits = tf.tensor2d([4, 0, 0], [1, 3]);
  const plain = smoothedCrossEntropy(logits, [0], 0).dataSync()[0];
  const lse = Math.log(Math.exp(4) + 2);
  assert.ok(Math.abs(plain - (lse - 4)) < 1e-5);
  const smooth = smoothedCrossEntropy(logits, [0], 0.3).dataSync()[0];
  assert.ok(Math.abs(smooth - (0.8 * (lse - 4) + 0.1 * lse + 0.1 * lse)) < 1e-5);
  logits.dispose();
});

test('stratified validation split: about the fraction per class, at least one item of each class left to train', () => {
  const y = [...Array(50).fill(0), ...Array(10).fill(1), 2];
  const { train, val } = stratifiedSplit(y, 0.2, 0);
  assert.equal(train.length + val.length, y.length);
  assert.deepEqual([...new Set([...train, ...val])].sort((a, b) => a - b), [...y.keys()]);
  assert.equal(val.filter((i) => y[i] === 0).length, 10);
  assert.equal(val.filter((i) => y[i] === 1).length, 2);
  assert.equal(val.filter((i) => y[i] === 2).length, 0, 'a class with one item stays in training');
  assert.deepEqual(stratifiedSplit(y, 0.2, 0), { train, val }, 'seeded');
});

test('test-time views: the image, then shifted one pixel right, left, down, up (zero fill), and mirrored when the augmentation flips; a tta classifier averages their logits, validates with them and saves the setting', async () => {
  const d = loadDigits();
  const n = 120;
  const base = { modality: 'image' as const, count: n, height: 8, width: 8, channels: 1 };
  const data: ModalityData = { ...base, pixels: d.x.slice(0, n * 64) };
  const img = { pixels: d.x.slice(0, n * 64), count: n, height: 8, width: 8 };
  const moves: Array<[number, number]> = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]];
  const movedData = moves.map(([dx, dy]): ModalityData => ({ ...base, pixels: shiftedImages(img, (x, y) => [x - dx, y - dy]) }));
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const small = { encoder: { channels: [8, 8, 16, 16, 16, 16] } };
  const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
    assert.equal(a.length, b.length, what);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 1e-4, `${what}: differs by ${worst}`);
  };

  const enc = await randomEncoder(data, { pretext: 'simclr', seed: 1, config: small });
  const views = viewsFor(enc as SslEncoder);
  assert.equal(views.tta?.count, 5, 'no flip in the augmentation: the image and four shifts');
  const dummy = new Rng(0);
  for (let v = 0; v < 5; v++) {
    const got = tf.tidy(() => views.tta!.forward(data, idx, v).dataSync());
    const want = tf.tidy(() => views.forward(movedData[v], idx, 'none', false, dummy).dataSync());
    close(got, want, `view ${v} = the image moved by ${moves[v]}`);
  }
  assert.throws(() => views.tta!.forward(data, idx, 5), /test-time view 5 of 5/);

  // A classifier trained with tta: its logits are the mean of its plain logits over the moved images.
  const labelled = [...Array(100).keys()];
  const val = Array.from({ length: 20 }, (_, i) => 100 + i);
  const ft = await fineTune(enc, data, { idx: labelled, y: labelled.map((i) => d.y[i]) }, DIGITS, { seed: 0, epochs: 2, tta: true, validation: { idx: val, y: val.map((i) => d.y[i]) } });
  assert.equal(ft.model.tta, true);
  const plain = new FineTunedClassifier(enc as SslEncoder, ft.model.head, DIGITS, views, 1, false);
  const perView = await Promise.all(movedData.map((m) => plain.logits(m, idx)));
  const mean = new Float32Array(perView[0].length).map((_, i) => perView.reduce((a, p) => a + p[i], 0) / perView.length);
  const withTta = await ft.model.logits(data, idx);
  close(withTta, mean, 'tta logits = mean of the five views’ logits');
  assert.ok(perView.slice(1).some((p) => p.some((x, i) => Math.abs(x - perView[0][i]) > 1e-3)), 'the shifted views do change the logits');
  // Validation was scored with the views too (the kept weights are the best epoch's).
  const valTruth = val.map((i) => d.y[i]);
  const valLogits = await ft.model.logits(data, val);
  const valAcc = val.filter((_, r) => {
    const row = valLogits.subarray(r * 10, r * 10 + 10);
    return row.indexOf(Math.max(...row)) === valTruth[r];
  }).length / val.length;
  assert.equal(ft.history[ft.bestEpoch].valAccuracy, valAcc);

  // Saved and loaded: still predicts with the views.
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tta-'));
  try {
    await ft.model.save(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, 'classifier.json'), 'utf8')).tta, true);
    const loaded = await loadFineTuned(dir);
    assert.equal(loaded.tta, true);
    close(await loaded.logits(data, idx), withTta, 'loaded classifier');
    loaded.dispose();
    loaded.encoder.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  ft.model.dispose();
  enc.dispose();

  // An augmentation that flips adds the mirror image as a sixth view.
  const flipping = await randomEncoder(data, { pretext: 'simclr', seed: 1, config: { ...small, augment: { flip: 0.5 } } });
  const fv = viewsFor(flipping as SslEncoder);
  assert.equal(fv.tta?.count, 6);
  const mirrored: ModalityData = { ...base, pixels: shiftedImages(img, (x, y) => [7 - x, y]) };
  close(tf.tidy(() => fv.tta!.forward(data, idx, 5).dataSync()), tf.tidy(() => fv.forward(mirrored, idx, 'none', false, dummy).dataSync()), 'view 5 = the mirror image');
  flipping.dispose();

  // Other modalities have no test-time views: asking for them is refused before any training.
  const { data: tab, y } = blobs(40, 3);
  const tabEnc = await randomEncoder(tab, { pretext: 'vime', seed: 2, config: { encoder: { widths: [8] } } });
  await assert.rejects(fineTune(tabEnc, tab, { idx: [...Array(40).keys()], y }, ['neg', 'pos'], { seed: 0, epochs: 1, tta: true }), /test-time augmentation \(tta\) is defined for image encoders only/);
  tabEnc.dispose();
});
