import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, macroF1, perClassF1 } from '../../src/probe/metrics.ts';
import { knnPredict } from '../../src/probe/knn.ts';
import { fitLinearProbe, logisticObjective, predictLinear } from '../../src/probe/logreg.ts';
import { selectRows, standardize, type Features } from '../../src/probe/features.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import { loadDigits } from '../helpers/digits.ts';

test('metrics match scikit-learn documentation examples', () => {
  // sklearn.metrics.accuracy_score docs: accuracy_score([0, 2, 1, 3], [0, 1, 2, 3]) == 0.5
  assert.equal(accuracy([0, 2, 1, 3], [0, 1, 2, 3]), 0.5);
  // sklearn.metrics.f1_score docs: y_true=[0,1,2,0,1,2], y_pred=[0,2,1,0,0,1] → macro 0.267, per class [0.8, 0, 0]
  assert.ok(Math.abs(macroF1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3) - 0.26666666666666666) < 1e-12);
  assert.deepEqual(perClassF1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3).map((v) => Math.round(v * 1e6) / 1e6), [0.8, 0, 0]);
});

test('kNN: cosine neighbours, weighted votes', () => {
  const train: Features = { rows: 4, dim: 2, data: Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]) };
  const test_: Features = { rows: 2, dim: 2, data: Float32Array.from([5, 1, 1, 4]) };
  assert.deepEqual([...knnPredict(train, Int32Array.from([0, 0, 1, 1]), test_, 2, 3)], [0, 1]);
});

test('logistic objective: analytic gradient matches central differences', () => {
  const rand = mulberry32(3);
  const x: Features = { rows: 7, dim: 4, data: Float32Array.from({ length: 28 }, () => rand() * 2 - 1) };
  const y = Int32Array.from([0, 1, 2, 0, 1, 2, 1]);
  const theta = Float64Array.from({ length: 4 * 3 + 3 }, () => rand() - 0.5);
  const g = new Float64Array(theta.length);
  logisticObjective(theta, x, y, 3, 0.1, g);
  const scratch = new Float64Array(theta.length);
  for (let k = 0; k < theta.length; k++) {
    const h = 1e-5;
    const p = theta.slice();
    const m = theta.slice();
    p[k] += h;
    m[k] -= h;
    const num = (logisticObjective(p, x, y, 3, 0.1, scratch) - logisticObjective(m, x, y, 3, 0.1, scratch)) / (2 * h);
    assert.ok(Math.abs(num - g[k]) < 1e-6, `dθ${k}: analytic ${g[k]} vs numeric ${num}`);
  }
});

test('linear probe on digit pixels: converges to the optimum and generalises', () => {
  const d = loadDigits();
  const all: Features = { rows: d.rows, dim: 64, data: d.x };
  const trainIdx = Array.from({ length: 1000 }, (_, i) => i);
  const testIdx = Array.from({ length: d.rows - 1000 }, (_, i) => 1000 + i);
  const train = selectRows(all, trainIdx);
  const trainY = Int32Array.from(trainIdx, (i) => d.y[i]);
  const m = fitLinearProbe(train, trainY, 10, { lambda: 1e-2 });
  // First-order optimality: the gradient of the (convex) objective vanishes at the solution.
  const theta = new Float64Array([...m.W, ...m.b]);
  const g = new Float64Array(theta.length);
  logisticObjective(theta, standardize(train, m), trainY, 10, 1e-2, g);
  const gnorm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
  assert.ok(gnorm < 1e-3, `gradient norm at the solution ${gnorm}`);
  const acc = accuracy(Int32Array.from(testIdx, (i) => d.y[i]), predictLinear(m, selectRows(all, testIdx)));
  assert.ok(acc > 0.9, `held-out accuracy ${acc}`);
});
