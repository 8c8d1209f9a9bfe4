import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argmaxRows, chooseSparseLambda, fitSparseLogistic, objective, sparsePredictProba } from '../../src/train/sparse-logreg.ts';
import { csrFromDense } from '../../src/ssl/text/sparse.ts';
import { mulberry32 } from '../../src/core/rng.ts';

test('sparse logistic objective: the analytic gradient matches central differences (with row weights)', () => {
  const rand = mulberry32(1);
  const x = csrFromDense({ rows: 6, dim: 4, data: Float32Array.from({ length: 24 }, () => (rand() < 0.5 ? 0 : rand() * 2 - 1)) });
  const y = Int32Array.from([0, 1, 2, 0, 1, 2]);
  const w = Float32Array.from([1, 2, 0.5, 1, 1, 3]);
  const n = 4 * 3 + 3;
  const theta = Float64Array.from({ length: n }, () => rand() - 0.5);
  const g = new Float64Array(n);
  objective(theta, x, y, 3, 0.1, w, g);
  const scratch = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = theta.slice();
    t[k] += 1e-5;
    const up = objective(t, x, y, 3, 0.1, w, scratch);
    t[k] -= 2e-5;
    const down = objective(t, x, y, 3, 0.1, w, scratch);
    assert.ok(Math.abs((up - down) / 2e-5 - g[k]) < 1e-6, `coordinate ${k}`);
  }
});

test('fits separable sparse data, ignores columns never seen in training, and CV picks a λ from the grid', () => {
  // Class c is marked by column c; column 9 appears only at prediction time.
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 30; i++) {
    const c = i % 3;
    const r = new Array(10).fill(0);
    r[c] = 1;
    r[3 + (i % 5)] = 0.5;
    rows.push(r);
    y.push(c);
  }
  const x = csrFromDense({ rows: 30, dim: 10, data: Float32Array.from(rows.flat()) });
  const m = fitSparseLogistic(x, Int32Array.from(y), 3, { seed: 0 });
  assert.ok([1e-6, 1e-5, 1e-4, 1e-3, 1e-2].includes(m.lambda));
  const test = csrFromDense({ rows: 3, dim: 10, data: Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5]) });
  assert.deepEqual([...argmaxRows(sparsePredictProba(m, test), 3)], [0, 1, 2]);
  // A class with fewer than 3 rows: no CV, the grid's middle.
  assert.equal(chooseSparseLambda(x, Int32Array.from(y.map((c, i) => (i === 0 ? 2 : c === 2 ? 1 : c))), 3), 1e-4);
});
