// The hand-written GBDT (src/train/gbdt.ts) against XGBoost compiled to wasm (npm ml-xgboost
// 1.1.2, not a project dependency: install it anywhere and point XGB_DIR at the package folder)
// on NSL-KDD's dev protocol: random labels, 10 per class, seeds 0–2, the same settings (depth 3,
// η 0.1, 100 rounds, λ 1), raw standardised + one-hot features.
// Usage: XGB_DIR=/tmp/npmx/node_modules/ml-xgboost npx tsx bench/experiments/text-tabular/gbdt-vs-xgboost.ts
import { createRequire } from 'node:module';
import { mulberry32, shuffled } from '../../../src/core/rng.ts';
import { selectRows } from '../../../src/probe/features.ts';
import { accuracy, macroF1 } from '../../../src/probe/metrics.ts';
import { tabularFeatures } from '../../../src/probe/raw.ts';
import { fitGbdt, gbdtPredictProba } from '../../../src/train/gbdt.ts';
import { argmaxRows } from '../../../src/train/sparse-logreg.ts';
import { loadDev } from './data.ts';

const d = await loadDev('nsl-kdd');
if (d.kind !== 'tabular') throw new Error('tabular');
const x = tabularFeatures(d.rows, d.columns);
const C = d.classes.length;
const truth = Int32Array.from(d.devTest, (i) => d.y[i]);
const test = selectRows(x, d.devTest);
const dir = process.env.XGB_DIR;
const XGBoost = dir ? await (createRequire(import.meta.url)(dir) as Promise<any>) : null;
for (const seed of [0, 1, 2]) {
  const lab = shuffled(d.pool, mulberry32(seed + 7919)).slice(0, 10 * C);
  const y = Int32Array.from(lab, (i) => d.y[i]);
  const train = selectRows(x, lab);
  let t = performance.now();
  const m = fitGbdt(train, y, C, { rounds: 100, maxDepth: 3, learningRate: 0.1, lambda: 1 });
  const pred = argmaxRows(gbdtPredictProba(m, test), C);
  const ours = `ours acc ${(accuracy(truth, pred) * 100).toFixed(1)} F1 ${(macroF1(truth, pred, C) * 100).toFixed(1)} ${((performance.now() - t) / 1000).toFixed(1)} s`;
  let theirs = 'xgboost: XGB_DIR not set';
  if (XGBoost) {
    t = performance.now();
    // XGBoost needs the class ids dense 0..K-1 over the classes present in training.
    const present = [...new Set(y)].sort((a, b) => a - b);
    const b = new XGBoost({ booster: 'gbtree', objective: 'multi:softmax', max_depth: 3, eta: 0.1, lambda: 1, min_child_weight: 1e-3, subsample: 1, colsample_bytree: 1, silent: 1, iterations: 100, num_class: present.length });
    const rows = (f: typeof train) => Array.from({ length: f.rows }, (_, i) => Array.from(f.data.subarray(i * f.dim, (i + 1) * f.dim)));
    b.train(rows(train), Array.from(y, (c) => present.indexOf(c)));
    const p = Int32Array.from(b.predict(rows(test)) as number[], (k) => present[k]);
    b.free();
    theirs = `xgboost acc ${(accuracy(truth, p) * 100).toFixed(1)} F1 ${(macroF1(truth, p, C) * 100).toFixed(1)} ${((performance.now() - t) / 1000).toFixed(1)} s`;
  }
  console.log(`seed ${seed}: ${ours} | ${theirs}`);
}
