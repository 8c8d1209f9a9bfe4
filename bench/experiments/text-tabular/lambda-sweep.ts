// Diagnostic: dev accuracy of the LR head at fixed λ (random labels, seeds 0–2), to see whether
// the CV-chosen λ is near the best one. Usage: npx tsx …/lambda-sweep.ts DATASET [perClass]
import { mulberry32, shuffled } from '../../../src/core/rng.ts';
import { accuracy, macroF1 } from '../../../src/probe/metrics.ts';
import { csrRows } from '../../../src/ssl/text/sparse.ts';
import { fitNgramTfidf, transformNgramTfidf } from '../../../src/ssl/text/tfidf-ngrams.ts';
import { argmaxRows, chooseSparseLambda, fitSparseLogistic, sparsePredictProba } from '../../../src/train/sparse-logreg.ts';
import { loadDev, type DatasetName } from './data.ts';

const d = await loadDev((process.argv[2] ?? 'trec-coarse') as DatasetName);
if (d.kind !== 'text') throw new Error('text only');
const per = Number(process.argv[3] ?? 10);
const C = d.classes.length;
for (const [name, opts] of [['word', { char: null }], ['word+char', {}]] as const) {
  const x = transformNgramTfidf(fitNgramTfidf(d.pool.map((i) => d.texts[i]), opts), d.texts);
  const truth = Int32Array.from(d.devTest, (i) => d.y[i]);
  const line: string[] = [];
  for (const lambda of [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, undefined]) {
    const accs: number[] = [];
    const chosen: number[] = [];
    for (const seed of [0, 1, 2]) {
      const lab = shuffled(d.pool, mulberry32(seed + 7919)).slice(0, per * C);
      const y = Int32Array.from(lab, (i) => d.y[i]);
      const l = lambda ?? chooseSparseLambda(csrRows(x, lab), y, C, { seed });
      chosen.push(l);
      const m = fitSparseLogistic(csrRows(x, lab), y, C, { lambda: l });
      const pred = argmaxRows(sparsePredictProba(m, csrRows(x, d.devTest)), C);
      accs.push(d.metric === 'accuracy' ? accuracy(truth, pred) : macroF1(truth, pred, C));
    }
    line.push(`${lambda ?? 'cv(' + chosen.join('/') + ')'}: ${(accs.reduce((a, b) => a + b) / 3 * 100).toFixed(1)}`);
  }
  console.log(`${name} dim ${x.dim}: ${line.join('  ')}`);
}
