import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitGbdt, gbdtPredictProba, quantileCuts } from '../../src/train/gbdt.ts';
import { mulberry32 } from '../../src/core/rng.ts';

test('quantile cuts: distinct, ascending, the maximum never a cut', () => {
  const cuts = quantileCuts({ rows: 8, dim: 1, data: Float32Array.from([5, 1, 1, 1, 2, 3, 4, 5]) }, 4);
  // sorted 1 1 1 2 3 4 5 5: the 25/50/75% quantiles are 1, 3 and 5; 5 is the maximum
  assert.deepEqual([...cuts[0]], [1, 3]);
});

test('GBDT learns XOR, which no linear head can, and its probabilities are distributions', () => {
  const rand = mulberry32(4);
  const n = 200;
  const data = new Float32Array(n * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rand() * 2 - 1;
    const b = rand() * 2 - 1;
    data.set([a, b, rand()], i * 3); // a third, irrelevant column
    y[i] = (a > 0) !== (b > 0) ? 1 : 0;
  }
  const m = fitGbdt({ rows: n, dim: 3, data }, y, 2, { rounds: 60, maxDepth: 2 });
  const p = gbdtPredictProba(m, { rows: n, dim: 3, data });
  let ok = 0;
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(p[i * 2] + p[i * 2 + 1] - 1) < 1e-9);
    if ((p[i * 2 + 1] > 0.5 ? 1 : 0) === y[i]) ok++;
  }
  assert.ok(ok / n > 0.95, `training accuracy ${ok / n}`);
  // Three classes: weighted rows pull the prior.
  const m3 = fitGbdt({ rows: 3, dim: 1, data: Float32Array.from([0, 1, 2]) }, Int32Array.from([0, 1, 2]), 3, { rounds: 0, weights: Float32Array.from([8, 1, 1]) });
  const p3 = gbdtPredictProba(m3, { rows: 1, dim: 1, data: Float32Array.from([1]) });
  assert.ok(p3[0] > 0.75 && p3[0] < 0.85);
});
