/**
 * The linear head's λ choice on large labelled sets (src/train/linear-head.ts cvLambda): every row
 * up to CV_MAX_ROWS, a stratified seeded subsample above — deterministic, one of the grid's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/ssl/rng.ts';
import { LAMBDA_GRID } from '../../src/probe/logreg.ts';
import { CV_MAX_ROWS, cvLambda, fitHead } from '../../src/train/linear-head.ts';

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
