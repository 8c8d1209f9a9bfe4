/**
 * Prior correction (src/train/prior-shift.ts, Saerens et al. 2002): Bayes' rule on hand-worked
 * rows, and EM recovering a known mixing proportion from exact posteriors; then trainClassifier's
 * `priorShift` on a linear head trained on labels whose class mix was skewed on purpose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/ssl/rng.ts';
import { adjustToPrior, collapsedClasses, emPrior, labelPrior, labelShiftFit, validateShift } from '../../src/train/prior-shift.ts';
import { metricsFromProba } from '../../src/train/linear-head.ts';
import { trainClassifier } from '../../src/train/train-classifier.ts';
import type { Features } from '../../src/probe/features.ts';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]} (±${tol})`);
};

test('labelPrior adds half a count to every class', () => {
  close(labelPrior([0, 0, 0, 1], 3), [3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5], 1e-12);
});

test("adjustToPrior is Bayes' rule: p·to/from, renormalised", () => {
  // Uniform row under a uniform prior becomes the new prior.
  close(adjustToPrior(Float64Array.from([0.5, 0.5]), 2, [0.5, 0.5], [0.8, 0.2]), [0.8, 0.2], 1e-12);
  // 0.9·(0.2/0.5) = 0.36, 0.1·(0.8/0.5) = 0.16 → 0.36/0.52, 0.16/0.52; 0.2·0.4 = 0.08, 0.8·1.6 = 1.28.
  close(adjustToPrior(Float64Array.from([0.9, 0.1, 0.2, 0.8]), 2, [0.5, 0.5], [0.2, 0.8]), [0.36 / 0.52, 0.16 / 0.52, 0.08 / 1.36, 1.28 / 1.36], 1e-12);
  // The same prior on both sides changes nothing.
  const p = Float64Array.from([0.7, 0.2, 0.1]);
  close(adjustToPrior(p, 3, [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]), p, 1e-12);
  assert.throws(() => adjustToPrior(p, 3, [0.5, 0.5], [0.2, 0.3, 0.5]), /3 classes/);
});

/** Two unit-variance Gaussians at ∓1: under equal priors p(1 | x) = σ(2x) exactly. */
function gaussianPool(n: number, share1: number, seed: number): { proba: Float64Array; y: number[] } {
  const r = new Rng(seed);
  const proba = new Float64Array(2 * n);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i < Math.round(n * share1) ? 1 : 0;
    const x = (c === 1 ? 1 : -1) + r.normal();
    const p1 = 1 / (1 + Math.exp(-2 * x));
    proba[2 * i] = 1 - p1;
    proba[2 * i + 1] = p1;
    y.push(c);
  }
  return { proba, y };
}

test('emPrior recovers the mixing proportion from exact posteriors (20% / 80%, 50% / 50%)', () => {
  for (const share1 of [0.2, 0.5, 0.8]) {
    const { proba } = gaussianPool(20_000, share1, 3);
    const r = emPrior(proba, 2, [0.5, 0.5]);
    assert.ok(r.converged, `converged for ${share1}`);
    // Sampling error of 20,000 draws: well under 0.02.
    close(r.prior, [1 - share1, share1], 0.02);
  }
  // The posteriors' plain mean is biased toward the training prior; EM is not.
  const { proba } = gaussianPool(20_000, 0.2, 3);
  let mean1 = 0;
  for (let i = 1; i < proba.length; i += 2) mean1 += proba[i];
  mean1 /= 20_000;
  assert.ok(mean1 > 0.25, `plain mean ${mean1} stays nearer 0.5`);
  assert.ok(Math.abs(emPrior(proba, 2, [0.5, 0.5]).prior[1] - 0.2) < Math.abs(mean1 - 0.2));
});

test('emPrior: no rows keep the training prior; rows must match the class count', () => {
  assert.deepEqual(emPrior(new Float64Array(0), 2, [0.3, 0.7]), { prior: [0.3, 0.7], iterations: 0, converged: true });
  assert.throws(() => emPrior(new Float64Array(5), 2, [0.5, 0.5]), /not rows of 2 classes/);
  const capped = emPrior(gaussianPool(2_000, 0.1, 4).proba, 2, [0.5, 0.5], { maxIterations: 2 });
  assert.equal(capped.iterations, 2);
  assert.equal(capped.converged, false);
});

test('trainClassifier priorShift: a head trained on skewed labels is moved to the pool prior, and gains accuracy there', async () => {
  // One feature, classes at ∓1; the pool is 85% class 0, the labels are 50/50 (as a balanced
  // active selection would buy them).
  const r = new Rng(5);
  const n = 6_000;
  const y = Array.from({ length: n }, (_, i) => (i % 20 < 17 ? 0 : 1));
  const features: Features = { rows: n, dim: 1, data: Float32Array.from(y, (c) => (c ? 1 : -1) + 1.2 * r.normal()) };
  const zeros = y.map((c, i) => (c === 0 ? i : -1)).filter((i) => i >= 0);
  const ones = y.map((c, i) => (c === 1 ? i : -1)).filter((i) => i >= 0);
  const labelled = [...zeros.slice(0, 100), ...ones.slice(0, 100)];
  const taken = new Set(labelled);
  const unlabelled = y.map((_, i) => i).filter((i) => !taken.has(i));
  const input = { features, labelled, y: labelled.map((i) => y[i]), classes: ['a', 'b'] };
  const plain = await trainClassifier(input, { method: 'linear', seed: 0 });
  const shifted = await trainClassifier(input, { method: 'linear', seed: 0, priorShift: { unlabelled } });
  assert.equal(plain.priorShift, null);
  const ps = shifted.priorShift!;
  close(ps.labelPrior, [100.5 / 201, 100.5 / 201], 1e-12);
  assert.equal(ps.items, unlabelled.length);
  assert.ok(ps.converged);
  assert.ok(Math.abs(ps.poolPrior[0] - 0.85) < 0.04, `pool prior ${ps.poolPrior}`);
  // Checked before it was applied: the pool is the labelled classes re-mixed (label shift fits), so
  // validation is weighted to the shifted prior — and there the shift lowers the log-loss. Plain
  // validation log-loss (the labels' 50/50) would have refused this right shift.
  const v = ps.validation!;
  assert.equal(ps.applied, true);
  assert.equal(v.items, 40);
  assert.equal(v.fit?.passed, true, JSON.stringify(v.fit));
  assert.equal(v.weightedTo, 'shifted prior');
  assert.ok(v.logLossMoved < v.logLossKept, JSON.stringify(v));
  const truth = unlabelled.map((i) => y[i]);
  const before = (await plain.evaluate(unlabelled, truth)).accuracy;
  const after = (await shifted.evaluate(unlabelled, truth)).accuracy;
  // Bayes-optimal under the pool prior beats the balanced-prior boundary by several points here.
  assert.ok(after > before + 0.02, `accuracy ${before} → ${after}`);
  const [p0] = await plain.proba([unlabelled[0]]);
  const [q0] = await shifted.proba([unlabelled[0]]);
  close([q0], adjustToPrior(Float64Array.from([p0, 1 - p0]), 2, ps.labelPrior, ps.poolPrior).subarray(0, 1), 1e-9);
});

test('collapse: a classifier that cannot tell class 1 apart lets EM drain it to the boundary; collapsedClasses names it, and trainClassifier keeps the labels’ prior', async () => {
  // The SMS demo's round 1 in miniature: labels 70/30, and on the pool the classifier gives every
  // item less than the labels' 0.3 — 0.20 to class-0 items, 0.25 to the 13% of class 1.
  const n = 4_000;
  const proba = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const p1 = i % 100 < 13 ? 0.25 : 0.2;
    proba[2 * i] = 1 - p1;
    proba[2 * i + 1] = p1;
  }
  const t = [0.7, 0.3];
  const em = emPrior(proba, 2, t);
  assert.ok(em.prior[1] * n < 1, `EM drains class 1: ${em.prior[1]}`);
  assert.deepEqual(collapsedClasses(proba, 2, t, em, [0, 0, 1]), [1]);
  assert.deepEqual(collapsedClasses(proba, 2, t, em, [0, 0]), [], 'a class without labels may be absent');
  // Stopped early, EM is still far from 0 — the likelihood's maximum leaves class 1 out all the same:
  // the mean likelihood ratio (0.87·(0.2/0.3)/(0.8/0.7) + 0.13·(0.25/0.3)/(0.75/0.7)) ≈ 0.61 is ≤ 1.
  const early = emPrior(proba, 2, t, { maxIterations: 6 });
  assert.ok(!early.converged && early.prior[1] * n > 1 && early.prior[1] < t[1] / 4, `six iterations: ${early.prior[1]}`);
  assert.deepEqual(collapsedClasses(proba, 2, t, early, [0, 1]), [1]);
  // A real rare class is not a collapse: exact posteriors of a 3% class (the Gaussian pool above),
  // labels 50/50 — EM moves class 1 far below a quarter of its labels' share and the check keeps it.
  const rare = gaussianPool(20_000, 0.03, 4).proba;
  const emRare = emPrior(rare, 2, [0.5, 0.5]);
  assert.ok(emRare.prior[1] < 0.5 / 4 && Math.abs(emRare.prior[1] - 0.03) < 0.01, `rare class: ${emRare.prior[1]}`);
  assert.deepEqual(collapsedClasses(rare, 2, [0.5, 0.5], emRare, [0, 1]), []);
  assert.deepEqual(emPrior(proba, 2, t, { start: [1, 0] }).prior, [1, 0], 'a class started at 0 stays at 0');
  assert.throws(() => emPrior(proba, 2, t, { start: [1] }), /start needs 2 classes, got 1/);

  // Through trainClassifier: the pool holds class-0 look-alikes only, so EM finds no class 1 — the
  // shift is recorded, not applied, and the probabilities are the unshifted ones.
  const r = new Rng(3);
  const y = Array.from({ length: 43 }, (_, i) => (i < 30 ? 0 : 1));
  const m = 2_000;
  const features: Features = { rows: y.length + m, dim: 1, data: Float32Array.from({ length: y.length + m }, (_, i) => (i < y.length && y[i] === 1 ? 2 : -2) + 0.3 * r.normal()) };
  const labelled = y.map((_, i) => i);
  const unlabelled = Array.from({ length: m }, (_, i) => y.length + i);
  const input = { features, labelled, y, classes: ['a', 'b'] };
  const plain = await trainClassifier(input, { method: 'linear', seed: 0 });
  const kept = await trainClassifier(input, { method: 'linear', seed: 0, priorShift: { unlabelled } });
  const ps = kept.priorShift!;
  assert.equal(ps.applied, false);
  assert.deepEqual(ps.collapsed, ['b']);
  assert.ok(ps.poolPrior[1] * m < 1);
  assert.deepEqual(await kept.proba(labelled), await plain.proba(labelled), 'the labels’ prior kept');
});

test('a bad prior shift is refused on held-out validation: EM moves 88/12 labels to 13/87 on a pool of look-alikes, and the labels’ prior is kept', async () => {
  // One feature. Labelled items: 88% class 0 around −1, 12% class 1 around +1.2. The pool holds
  // the same two groups plus many class-0 items just left of the boundary — items unlike anything
  // labelled, which the head gives a fair chance of class 1. EM reads those chances as a pool
  // full of class 1 (not a collapse: no class is drained).
  const r = new Rng(11);
  const xs: number[] = [];
  const ys: number[] = [];
  const add = (n: number, mu: number, sd: number, y: number) => {
    for (let i = 0; i < n; i++) {
      xs.push(mu + sd * r.normal());
      ys.push(y);
    }
  };
  add(352, -1, 0.6, 0);
  add(48, 1.2, 0.6, 1);
  const L = xs.length;
  add(2400, 0.25, 0.3, 0);
  add(360, 1.2, 0.6, 1);
  add(240, -1, 0.6, 0);
  const features: Features = { rows: xs.length, dim: 1, data: Float32Array.from(xs) };
  const labelled = Array.from({ length: L }, (_, i) => i);
  const unlabelled = Array.from({ length: xs.length - L }, (_, i) => L + i);
  const input = { features, labelled, y: labelled.map((i) => ys[i]), classes: ['a', 'b'] };
  const trained = await trainClassifier(input, { method: 'linear', seed: 0, priorShift: { unlabelled } });
  const ps = trained.priorShift!;
  assert.ok(ps.labelPrior[1] < 0.13 && ps.poolPrior[1] > 0.8, `EM moves ${ps.labelPrior} to ${ps.poolPrior}`);
  assert.deepEqual(ps.collapsed, []);
  const v = ps.validation!;
  // The pool is not the labelled classes re-mixed: validation keeps its own mix, and there the shift is far worse.
  assert.equal(v.fit?.passed, false, JSON.stringify(v.fit));
  assert.equal(v.weightedTo, 'validation');
  assert.ok(v.logLossMoved > v.logLossKept * 2, JSON.stringify(v));
  assert.equal(ps.applied, false);
  // What was at stake: applied, the shift would call most of the pool class 1.
  const truth = unlabelled.map((i) => ys[i]);
  const kept = (await trained.evaluate(unlabelled, truth)).accuracy;
  const moved = metricsFromProba(adjustToPrior(await trained.proba(unlabelled), 2, ps.labelPrior, ps.poolPrior), ['a', 'b'], truth).accuracy;
  assert.ok(kept > 0.8 && moved < 0.3, `pool accuracy kept ${kept}, moved ${moved}`);
  // The validation probabilities the loop compares models on are the unshifted held-out ones.
  assert.equal(trained.valProba!.length, v.items * 2);
});

test('labelShiftFit and validateShift on hand-made rows: a pool that is the validation classes re-mixed fits; one that is not does not', () => {
  // Validation: five rows of each class, class 0 at p1 = 0.1, class 1 at p1 = 0.9.
  const val = Float64Array.from([...Array(5).fill([0.9, 0.1]).flat(), ...Array(5).fill([0.1, 0.9]).flat()]);
  const y = [...Array(5).fill(0), ...Array(5).fill(1)];
  // Pool 80/20 of the same rows: the mixture's CDF matches the pool's exactly.
  const pool = Float64Array.from([...Array(80).fill([0.9, 0.1]).flat(), ...Array(20).fill([0.1, 0.9]).flat()]);
  const fit = labelShiftFit(val, y, pool, 2, [0.8, 0.2])!;
  assert.ok(fit.statistic < 1e-9 && fit.passed);
  // Critical value: c(0.05) = √(−ln(0.025)/2) = 1.3581, × √(0.8²/5 + 0.2²/5 + 1/100).
  assert.ok(Math.abs(fit.critical - 1.3581 * Math.sqrt(0.64 / 5 + 0.04 / 5 + 0.01)) < 1e-3, `${fit.critical}`);
  // A pool of rows at p1 = 0.5, which no validation item looks like: the gap is the whole class-0 share.
  const odd = Float64Array.from(Array(100).fill([0.5, 0.5]).flat());
  const bad = labelShiftFit(val, y, odd, 2, [0.5, 0.5])!;
  assert.equal(bad.passed, false);
  assert.ok(Math.abs(bad.statistic - 0.5) < 1e-9);
  // Too few validation items of a class: no test.
  assert.equal(labelShiftFit(val.subarray(0, 12), y.slice(0, 6), pool, 2, [0.8, 0.2]), null);
  // validateShift weights by the shifted prior only when the fit passes.
  const ok = validateShift(val, y, 2, [0.5, 0.5], [0.8, 0.2], pool);
  assert.equal(ok.weightedTo, 'shifted prior');
  assert.deepEqual(ok.prior, [0.8, 0.2]);
  const no = validateShift(val, y, 2, [0.5, 0.5], [0.8, 0.2], odd);
  assert.equal(no.weightedTo, 'validation');
  assert.deepEqual(no.prior, [0.5, 0.5]);
  // Moving 50/50 rows to 80/20: class-0 rows gain, class-1 rows lose; weighted 0.8/0.2 the loss falls, weighted 0.5/0.5 it rises.
  assert.ok(ok.logLossMoved < ok.logLossKept);
  assert.ok(no.logLossMoved > no.logLossKept);
});
