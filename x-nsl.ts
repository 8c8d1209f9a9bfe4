import { loadBenchData, selectActiveBatch } from './src/train/label-efficiency.ts';
import { subsetData } from './src/ssl/data.ts';
import { pretrain } from './src/ssl/index.ts';
import { fitHead, headProba, metricsFromProba } from './src/train/linear-head.ts';
import { mulberry32, shuffled } from './src/core/rng.ts';
import { selectRows } from './src/probe/features.ts';
import { existsSync } from 'node:fs';
import { loadEncoder } from './src/ssl/index.ts';

const bd = await loadBenchData({ dataset: 'nsl-kdd', datasetsDir: '/work/shared/datasets', fashionDir: '/usr/share/games/fashion-mnist' } as any);
const dir = '/tmp/x/nsl-enc';
let enc;
if (existsSync(dir + '/encoder.json')) enc = await loadEncoder(dir);
else { const r = await pretrain(subsetData(bd.data, bd.train), { pretext: 'vime', epochs: 10, batch: 256, seed: 0 } as any); await r.encoder.save(dir); enc = r.encoder; }
const d32 = await enc.embed(bd.data);
const emb = { rows: d32.length / enc.dim, dim: enc.dim, data: d32 };
const { y, classes, test } = bd;
const pool = bd.train.filter((i) => y[i] >= 0);
const testNames = test.map((p) => classes[y[p]]);
const hist = (ps: number[]) => { const m: Record<string, number> = {}; for (const p of ps) m[classes[y[p]]] = (m[classes[y[p]]] ?? 0) + 1; return JSON.stringify(m); };
// Saerens EM prior correction toward the pool's class prior
function em(pPool: Float64Array, k: number, trainPrior: number[]) {
  let prior = trainPrior.slice();
  const n = pPool.length / k;
  for (let it = 0; it < 100; it++) {
    const acc = new Array(k).fill(0);
    for (let i = 0; i < n; i++) {
      let s = 0; const row = [];
      for (let c = 0; c < k; c++) { const v = pPool[i * k + c] * prior[c] / Math.max(trainPrior[c], 1e-12); row.push(v); s += v; }
      for (let c = 0; c < k; c++) acc[c] += row[c] / s;
    }
    prior = acc.map((a) => a / n);
  }
  return prior;
}
function adjust(p: Float64Array, k: number, from: number[], to: number[]) {
  const out = new Float64Array(p.length);
  for (let i = 0; i < p.length / k; i++) { let s = 0; for (let c = 0; c < k; c++) { out[i*k+c] = p[i*k+c] * to[c] / Math.max(from[c], 1e-12); s += out[i*k+c]; } for (let c = 0; c < k; c++) out[i*k+c] /= s; }
  return out;
}
const K = classes.length;
for (const n of [25, 50]) {
  const sets: Record<string, number[]> = {
    random: shuffled(pool, mulberry32(0 + 7919)).slice(0, n),
    typiclust: selectActiveBatch({ strategy: 'typiclust', pool, active: [], k: n, embeddings: emb, labelNames: [], classes, seed: 0, round: 0, selectWith: 'head', previous: null }).picked,
  };
  for (const [name, ps] of Object.entries(sets)) {
    const h = fitHead(selectRows(emb, ps), ps.map((p) => classes[y[p]]), classes, 0);
    const pt = headProba(h, selectRows(emb, test));
    const base = metricsFromProba(pt, classes, testNames).accuracy;
    const trainPrior = classes.map((_, c) => (ps.filter((p) => y[p] === c).length + 0.5) / (ps.length + 0.5 * K));
    const pp = headProba(h, selectRows(emb, pool));
    const pr = em(pp, K, trainPrior);
    const adj = metricsFromProba(adjust(pt, K, trainPrior, pr), classes, testNames).accuracy;
    console.log(n, name, hist(ps), 'acc', (base*100).toFixed(1), 'em', (adj*100).toFixed(1), 'prior normal', pr[classes.indexOf('normal')].toFixed(2), 'neptune', pr[classes.indexOf('neptune')].toFixed(2));
  }
}
