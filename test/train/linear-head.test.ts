/**
 * The linear head's λ choice on large labelled sets (src/probe/logreg.ts cvLambda): every row
 * up to CV_MAX_ROWS, a stratified seeded subsample above — deterministic, one of the grid's values;
 * and the head on several test-time views of the same rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/ssl/rng.ts';
import { CV_MAX_ROWS, LAMBDA_GRID, cvLambda, predictProba } from '../../src/probe/logreg.ts';
import { fitHead, headProba } from '../../src/train/linear-head.ts';

function data(n: number, seed: number) {
  const r = new Rng(seed);
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = r.normal();
    x[i * 2] = a + 0.5 * r.normal();
    x[i * 2 + 1] = r.normal();
    y[i] = a > 0 ? 1 : 0;
  }
  return { x: { rows: n, dim: 2, data: x }, y };
}

test('cvLambda: undefined (CV on every row) up to CV_MAX_ROWS; a seeded subsample’s grid value above', () => {
  const small = data(CV_MAX_ROWS, 1);
  assert.equal(cvLambda(small.x, small.y, 2, 0), undefined);
  const big = data(CV_MAX_ROWS * 2 + 17, 2);
  const l = cvLambda(big.x, big.y, 2, 0);
  assert.ok(l !== undefined && LAMBDA_GRID.includes(l), `λ ${l}`);
  assert.equal(cvLambda(big.x, big.y, 2, 0), l, 'deterministic');
  // The head on the big set uses it and still fits the rule.
  const head = fitHead(big.x, Array.from(big.y, (c) => String(c)), ['0', '1'], 0);
  assert.equal(head.model.lambda, l);
});

// Test-time views (fitHead / headProba with several views of the same rows).
const names = (y: Int32Array) => Array.from(y, (c) => String(c));
/** `x` moved by a seeded noise: another "view" of the same items. */
function jitter(x: { rows: number; dim: number; data: Float32Array }, seed: number, scale: number) {
  const r = new Rng(seed);
  return { rows: x.rows, dim: x.dim, data: x.data.map((v) => v + scale * r.normal()) };
}

test('fitHead with one view is fitHead on the features; a duplicated view changes nothing (labels stacked in step with their rows)', () => {
  const { x, y } = data(300, 3);
  const plain = fitHead(x, names(y), ['0', '1'], 0);
  const one = fitHead([x], names(y), ['0', '1'], 0);
  assert.deepEqual(one.model.W, plain.model.W);
  assert.equal(one.temperature, plain.temperature);
  assert.deepEqual(headProba(one, [x]), headProba(plain, x));
  // Every row twice with its own label is the same mean loss: the same optimum, λ and temperature.
  const twice = fitHead([x, x], names(y), ['0', '1'], 0);
  assert.equal(twice.model.lambda, plain.model.lambda);
  for (let k = 0; k < plain.model.W.length; k++) assert.ok(Math.abs(twice.model.W[k] - plain.model.W[k]) < 1e-4, `W[${k}] ${twice.model.W[k]} vs ${plain.model.W[k]}`);
  assert.ok(Math.abs(twice.temperature - plain.temperature) < 1e-3, `T ${twice.temperature} vs ${plain.temperature}`);
});

test('headProba over views is the normalised geometric mean of the per-view probabilities, tempered', () => {
  const { x, y } = data(300, 4);
  const a = x;
  const b = jitter(x, 5, 0.3);
  const h = fitHead([a, b], names(y), ['0', '1'], 0);
  assert.notEqual(h.temperature, 1);
  const p = headProba(h, [a, b]);
  const pa = predictProba(h.model, a);
  const pb = predictProba(h.model, b);
  for (let i = 0; i < a.rows; i++) {
    const g = [0, 1].map((c) => Math.pow(pa[i * 2 + c] * pb[i * 2 + c], 1 / (2 * h.temperature)));
    const z = g[0] + g[1];
    for (const c of [0, 1]) assert.ok(Math.abs(p[i * 2 + c] - g[c] / z) < 1e-9, `row ${i} class ${c}: ${p[i * 2 + c]} vs ${g[c] / z}`);
  }
  // Trained on both views: not the head of view 0 alone.
  const only = fitHead(a, names(y), ['0', '1'], 0);
  assert.ok(h.model.W.some((w, k) => Math.abs(w - only.model.W[k]) > 1e-6));
  assert.throws(() => fitHead([a, { rows: 10, dim: 2, data: new Float32Array(20) }], names(y), ['0', '1'], 0), /views of unequal shape/);
});
