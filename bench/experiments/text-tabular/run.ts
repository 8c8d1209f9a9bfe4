// Dev-split harness: representation × head × selection on the text and tabular datasets,
// seeds 0,1,2, against raw_random (TF-IDF word 1–2 + char 2–5 n-grams, sublinear tf, L2 logistic
// regression with λ by 3-fold CV on the labelled items, random labels) in the same run.
// Usage: nice -n 10 npx tsx bench/experiments/text-tabular/run.ts --dataset trec-coarse \
//          --arms tfidf:lr:random,tfidf+sg:lr:typi [--seeds 0,1,2] [--per-class 10] [--json out.json]
// An arm is REP:HEAD:SELECT (see the tables REPS, HEADS, SELECTS below). Only dev-test is scored.
import { writeFileSync } from 'node:fs';
import { mulberry32, shuffled } from '../../../src/core/rng.ts';
import { l2Normalize, selectRows, type Features } from '../../../src/probe/features.ts';
import { accuracy, macroF1 } from '../../../src/probe/metrics.ts';
import { tabularFeatures, tokenize } from '../../../src/probe/raw.ts';
import { csrFromDense, csrRows, hstack, randomProject, type Csr } from '../../../src/ssl/text/sparse.ts';
import { fitNgramTfidf, transformNgramTfidf, wordCharTfidf } from '../../../src/ssl/text/tfidf-ngrams.ts';
import { trainSkipgram } from '../../../src/ssl/text/subword-skipgram.ts';
import { fitSif, sifTransform } from '../../../src/ssl/text/sif.ts';
import { argmaxRows, chooseSparseLambda, fitSparseLogistic, sparsePredictProba } from '../../../src/train/sparse-logreg.ts';
import { knnGraph, labelSpreading, type KnnGraph } from '../../../src/train/label-spreading.ts';
import { typiclust } from '../../../src/select/typiclust.ts';
import { margin } from '../../../src/select/uncertainty.ts';
import { badge } from '../../../src/select/badge.ts';
import { kmeans } from '../../../src/select/kmeans.ts';
import { fitGbdt, gbdtPredictProba } from '../../../src/train/gbdt.ts';
import { DATASETS, loadDev, type DatasetName, type DevData } from './data.ts';
import { classBalancedMargin } from '../../../src/select/class-balanced.ts';
import { extraHeads, extraReps } from './extras.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const dataset = arg('--dataset', 'trec-coarse') as DatasetName;
if (!DATASETS.includes(dataset)) throw new Error(`--dataset: one of ${DATASETS.join(', ')}`);
const SEEDS = arg('--seeds', '0,1,2').split(',').map(Number);
const PER_CLASS = Number(arg('--per-class', '10'));
const ROUNDS = Number(arg('--rounds', '4'));
const GEO_DIM = Number(arg('--geo-dim', '128'));

const log = (s: string) => process.stderr.write(s + '\n');
const data = await loadDev(dataset);
const C = data.classes.length;
const budget = PER_CLASS * C;
const arms = [...(data.kind === 'tabular' ? ['raw_random', 'std:gbdt:random'] : ['raw_random']), ...arg('--arms', '').split(',').filter(Boolean)];
log(`dataset ${dataset}: ${data.y.length} training-file rows → pool ${data.pool.length}, dev-test ${data.devTest.length}; ${C} classes; budget ${budget} (${PER_CLASS}/class) ; seeds ${SEEDS.join(',')}; metric ${data.metric}`);

// ---------- representations (fitted on the pool's inputs only, never on labels) ----------
export interface Rep {
  /** Every row of the dataset (pool and dev-test), for the head. */
  x: Csr;
  /** Dense rows (pool and dev-test) for geometry: clustering, kNN graph, BADGE. */
  dense: Features;
  seconds: number;
}
const repCache = new Map<string, Rep>();
const timed = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  return [r, (performance.now() - t) / 1000];
};
const poolTexts = () => (data.kind === 'text' ? data.pool.map((i) => data.texts[i]) : []);
const sentences = () => (data.kind === 'text' ? data.texts.map(tokenize) : []);

function denseUnit(f: Features): Csr {
  return csrFromDense(l2Normalize(f));
}

export const REPS: Record<string, () => Rep> = {
  /** The raw baseline proposed here: word 1–2 + char_wb 2–5 TF-IDF. */
  tfidf: () => {
    if (data.kind !== 'text') throw new Error('tfidf is for text');
    const [x, s] = timed(() => transformNgramTfidf(fitNgramTfidf(poolTexts()), data.texts));
    return { x, dense: l2Normalize(randomProject(x, GEO_DIM, 1)), seconds: s };
  },
  word: () => {
    if (data.kind !== 'text') throw new Error('word is for text');
    const [x, s] = timed(() => transformNgramTfidf(fitNgramTfidf(poolTexts(), { char: null }), data.texts));
    return { x, dense: l2Normalize(randomProject(x, GEO_DIM, 1)), seconds: s };
  },
  /** Word 1–2 and char_wb 2–5 TF-IDF as two unit-norm blocks, the char block weighted by --char-weight. */
  wc: () => {
    if (data.kind !== 'text') throw new Error('wc is for text');
    const [x, s] = timed(() => wordCharTfidf(poolTexts(), data.texts, Number(arg('--char-weight', '0.5'))));
    return { x, dense: l2Normalize(randomProject(x, GEO_DIM, 1)), seconds: s };
  },
  sg: () => {
    if (data.kind !== 'text') throw new Error('sg is for text');
    const sents = sentences();
    const [f, s] = timed(() => {
      const poolSents = data.pool.map((i) => sents[i]);
      const emb = trainSkipgram(poolSents, { seed: 0, dim: Number(arg('--sg-dim', '100')), epochs: Number(arg('--sg-epochs', '10')) });
      return sifTransform(emb, fitSif(emb, poolSents), sents);
    });
    log(`  sg: skip-gram + SIF on ${data.pool.length} pool texts in ${s.toFixed(1)} s`);
    return { x: denseUnit(f), dense: l2Normalize(f), seconds: s };
  },
  'tfidf+sg': () => {
    const a = rep('tfidf');
    const b = rep('sg');
    const w = Number(arg('--sg-weight', '1'));
    return { x: hstack([{ m: a.x }, { m: b.x, weight: w }]), dense: concatDense(a.dense, b.dense), seconds: a.seconds + b.seconds };
  },
  'word+sg': () => {
    const a = rep('word');
    const b = rep('sg');
    const w = Number(arg('--sg-weight', '1'));
    return { x: hstack([{ m: a.x }, { m: b.x, weight: w }]), dense: concatDense(a.dense, b.dense), seconds: a.seconds + b.seconds };
  },
  std: () => {
    if (data.kind !== 'tabular') throw new Error('std is for tabular');
    // Statistics from the pool only, applied to every row.
    const [f, s] = timed(() => tabularStandardised(data));
    return { x: csrFromDense(f), dense: f, seconds: s };
  },
  ...extraReps(data),
};

function tabularStandardised(d: Extract<DevData, { kind: 'tabular' }>): Features {
  // raw.ts's tabular baseline: column statistics and category lists from every row of the training
  // file, without labels (the product fits them on all items the same way).
  const order = [...d.pool, ...d.devTest];
  const f = tabularFeatures(order.map((i) => d.rows[i]), d.columns);
  const out = new Float32Array(d.rows.length * f.dim);
  order.forEach((r, k) => out.set(f.data.subarray(k * f.dim, (k + 1) * f.dim), r * f.dim));
  const x = { rows: d.rows.length, dim: f.dim, data: out };
  return x;
}

function concatDense(a: Features, b: Features): Features {
  const out = new Float32Array(a.rows * (a.dim + b.dim));
  for (let i = 0; i < a.rows; i++) {
    out.set(a.data.subarray(i * a.dim, (i + 1) * a.dim), i * (a.dim + b.dim));
    out.set(b.data.subarray(i * b.dim, (i + 1) * b.dim), i * (a.dim + b.dim) + a.dim);
  }
  return l2Normalize({ rows: a.rows, dim: a.dim + b.dim, data: out });
}

export function rep(name: string): Rep {
  let r = repCache.get(name);
  if (!r) {
    if (!REPS[name]) throw new Error(`unknown representation ${name} (known: ${Object.keys(REPS).join(', ')})`);
    r = REPS[name]();
    repCache.set(name, r);
  }
  return r;
}

// ---------- heads: labelled pool rows → probabilities for `rows` ----------
export interface HeadInput {
  r: Rep;
  labelled: number[];
  seed: number;
  /** λ fixed from an earlier fit (rounds reuse it); undefined → CV. */
  lambda?: number;
}
export type Head = (h: HeadInput, rows: number[]) => { probs: Float64Array; lambda?: number };

const graphCache = new Map<Rep, { g: KnnGraph; nodes: number[] }>();
function poolGraph(r: Rep): { g: KnnGraph; nodes: number[] } {
  let gc = graphCache.get(r);
  if (!gc) {
    // The graph covers the pool (≤ 8,000 rows, a seeded sample beyond; the labelled rows are always added in the head).
    const nodes = data.pool.length > 8000 ? shuffled(data.pool, mulberry32(99)).slice(0, 8000).sort((a, b) => a - b) : data.pool.slice();
    const [g, s] = timed(() => knnGraph(selectRows(r.dense, nodes), Number(arg('--knn', '10'))));
    log(`  kNN graph over ${nodes.length} pool rows in ${s.toFixed(1)} s`);
    gc = { g, nodes };
    graphCache.set(r, gc);
  }
  return gc;
}

const BALANCED = process.argv.includes('--balanced');
/** With --balanced, every labelled row weighs n / (C_present · n_c) (scikit-learn's class_weight='balanced'), in every arm. */
function classWeights(y: Int32Array): Float32Array | undefined {
  if (!BALANCED) return undefined;
  const counts = new Map<number, number>();
  for (const c of y) counts.set(c, (counts.get(c) ?? 0) + 1);
  return Float32Array.from(y, (c) => y.length / (counts.size * counts.get(c)!));
}

const lr: Head = (h, rows) => {
  const y = Int32Array.from(h.labelled, (i) => data.y[i]);
  const m = fitSparseLogistic(csrRows(h.r.x, h.labelled), y, C, { lambda: h.lambda, seed: h.seed, weights: classWeights(y) });
  return { probs: sparsePredictProba(m, csrRows(h.r.x, rows)), lambda: m.lambda };
};

/** LR on labelled + every graph node pseudo-labelled by label spreading (weight = certainty × β). */
const lrSpread: Head = (h, rows) => {
  const { g, nodes } = poolGraph(h.r);
  const pos = new Map(nodes.map((n, i) => [n, i]));
  const seeds = h.labelled.filter((i) => pos.has(i));
  const sp = labelSpreading(g, seeds.map((i) => pos.get(i)!), seeds.map((i) => data.y[i]), C, { alpha: Number(arg('--alpha', '0.99')) });
  const beta = Number(arg('--beta', '1'));
  const lab = new Set(h.labelled);
  const y = Int32Array.from(h.labelled, (i) => data.y[i]);
  const lambda = h.lambda ?? chooseSparseLambda(csrRows(h.r.x, h.labelled), y, C, { seed: h.seed });
  const extra = nodes.filter((n) => !lab.has(n));
  const py = Int32Array.from(extra, (n) => argmaxRows(sp.probs.subarray(pos.get(n)! * C, (pos.get(n)! + 1) * C), C)[0]);
  const pw = Float32Array.from(extra, (n) => sp.certainty[pos.get(n)!] * beta);
  const all = [...h.labelled, ...extra];
  const yy = new Int32Array(all.length);
  yy.set(y);
  yy.set(py, y.length);
  const ww = new Float32Array(all.length).fill(1);
  ww.set(pw, y.length);
  const m = fitSparseLogistic(csrRows(h.r.x, all), yy, C, { lambda, weights: ww });
  return { probs: sparsePredictProba(m, csrRows(h.r.x, rows)), lambda };
};

/** Self-training: LR, then the most confident pool predictions per class (≤ 5× labels of the class, p ≥ τ) join with weight p; twice. */
const lrSelf: Head = (h, rows) => {
  const y = Int32Array.from(h.labelled, (i) => data.y[i]);
  const lambda = h.lambda ?? chooseSparseLambda(csrRows(h.r.x, h.labelled), y, C, { seed: h.seed });
  const tau = Number(arg('--tau', '0.5'));
  const lab = new Set(h.labelled);
  const unl = data.pool.filter((i) => !lab.has(i));
  let extra: number[] = [];
  let ey = new Int32Array(0);
  let ew = new Float32Array(0);
  for (let it = 0; it < 3; it++) {
    const all = [...h.labelled, ...extra];
    const yy = new Int32Array(all.length);
    yy.set(y);
    yy.set(ey, y.length);
    const ww = new Float32Array(all.length).fill(1);
    ww.set(ew, y.length);
    const m = fitSparseLogistic(csrRows(h.r.x, all), yy, C, { lambda, weights: ww });
    if (it === 2) return { probs: sparsePredictProba(m, csrRows(h.r.x, rows)), lambda };
    const p = sparsePredictProba(m, csrRows(h.r.x, unl));
    const pred = argmaxRows(p, C);
    const perClass = new Array<number>(C).fill(0);
    for (const c of y) perClass[c]++;
    const byClass: Array<Array<{ i: number; p: number }>> = Array.from({ length: C }, () => []);
    unl.forEach((i, k) => byClass[pred[k]].push({ i, p: p[k * C + pred[k]] }));
    extra = [];
    const eyl: number[] = [];
    const ewl: number[] = [];
    byClass.forEach((list, c) => {
      list.sort((a, b) => b.p - a.p);
      for (const { i, p: pi } of list.slice(0, 5 * Math.max(1, perClass[c]))) {
        if (pi < tau) break;
        extra.push(i);
        eyl.push(c);
        ewl.push(pi);
      }
    });
    ey = Int32Array.from(eyl);
    ew = Float32Array.from(ewl);
  }
  throw new Error('unreachable');
};

const binSample = () => shuffled(data.pool, mulberry32(5)).slice(0, 5000);
const gbdt: Head = (h, rows) => {
  const y = Int32Array.from(h.labelled, (i) => data.y[i]);
  const m = fitGbdt(selectRows(h.r.dense, h.labelled), y, C, { binFrom: selectRows(h.r.dense, binSample()), rounds: Number(arg('--gbdt-rounds', '100')), maxDepth: Number(arg('--gbdt-depth', '3')) });
  return { probs: gbdtPredictProba(m, selectRows(h.r.dense, rows)) };
};

export const HEADS: Record<string, Head> = { lr, ls: lrSpread, st: lrSelf, gbdt, ...extraHeads(data) };

// ---------- selection ----------
type Select = (r: Rep, seed: number, head: Head) => number[];
const randomSel: Select = (_r, seed) => shuffled(data.pool, mulberry32(seed + 7919)).slice(0, budget);

function coldStart(r: Rep, seed: number, k: number): number[] {
  const pool = { ids: data.pool, embeddings: selectRows(r.dense, data.pool) };
  return typiclust(pool, k, { seed });
}

/** Round 0: TypiClust for `first` of the budget; then rounds of `strategy` on the head's pool probabilities. */
function rounds(strategy: 'margin' | 'cbm' | 'badge', first = 0.5, start: 'typi' | 'random' = 'typi'): Select {
  return (r, seed, head) => {
    const sizes = Array.from({ length: ROUNDS }, (_, k) => (k === 0 ? Math.round(budget * first) : Math.round(budget * first + ((budget - Math.round(budget * first)) * k) / (ROUNDS - 1))));
    let labelled = start === 'typi' ? coldStart(r, seed, sizes[0]) : shuffled(data.pool, mulberry32(seed + 7919)).slice(0, sizes[0]);
    for (let k = 1; k < ROUNDS; k++) {
      const lab = new Set(labelled);
      const cand = data.pool.filter((i) => !lab.has(i));
      const { probs } = head({ r, labelled, seed }, cand);
      const pool = { ids: cand, embeddings: selectRows(r.dense, cand), probs: { rows: cand.length, classes: C, data: probs } };
      const need = sizes[k] - labelled.length;
      const ctx = { seed: seed + k, labelled: selectRows(r.dense, labelled) };
      const counts = new Array<number>(C).fill(0);
      for (const i of labelled) counts[data.y[i]]++;
      const chosen = strategy === 'margin' ? margin(pool, need, ctx) : strategy === 'badge' ? badge(pool, need, ctx) : classBalancedMargin(pool, need, ctx, counts);
      labelled = [...labelled, ...chosen];
    }
    return labelled;
  };
}

/** k-means++ seeding alone (no Lloyd): the pool item nearest each seed. */
const kmppSel: Select = (r, seed) => {
  const x = selectRows(r.dense, data.pool);
  const { centroids } = kmeans(x, budget, { seed, maxIter: 0 });
  const chosen = new Set<number>();
  for (let j = 0; j < centroids.rows; j++) {
    let best = -1;
    let bd = Infinity;
    for (let i = 0; i < x.rows; i++) {
      if (chosen.has(i)) continue;
      let d = 0;
      for (let t = 0; t < x.dim; t++) d += (x.data[i * x.dim + t] - centroids.data[j * x.dim + t]) ** 2;
      if (d < bd) {
        bd = d;
        best = i;
      }
    }
    chosen.add(best);
  }
  return [...chosen].map((i) => data.pool[i]);
};

export const SELECTS: Record<string, Select> = {
  random: randomSel,
  typi: (r, seed) => coldStart(r, seed, budget),
  kmpp: kmppSel,
  'typi+margin': rounds('margin'),
  'typi+cbm': rounds('cbm'),
  'typi+badge': rounds('badge'),
  'rand+cbm': rounds('cbm', 0.5, 'random'),
  'rand+margin': rounds('margin', 0.5, 'random'),
};

// ---------- run ----------
interface Row {
  arm: string;
  acc: number[];
  f1: number[];
  seconds: number[];
  repSeconds: number;
}
const results: Row[] = [];
const selectionCache = new Map<string, number[]>();
const T = [12.706, 4.303, 3.182, 2.776, 2.571];
const ci = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { m, h: NaN };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return { m, h: (T[xs.length - 2] ?? 2) * (sd / Math.sqrt(xs.length)) };
};

for (const arm of arms) {
  const [repName, headName, selName] = arm === 'raw_random' ? [data.kind === 'text' ? 'tfidf' : 'std', 'lr', 'random'] : arm.split(':');
  const head = HEADS[headName];
  const sel = SELECTS[selName];
  if (!head || !sel) throw new Error(`arm ${arm}: head one of ${Object.keys(HEADS).join(', ')}; select one of ${Object.keys(SELECTS).join(', ')}`);
  const r = rep(repName);
  const row: Row = { arm, acc: [], f1: [], seconds: [], repSeconds: r.seconds };
  for (const seed of SEEDS) {
    const t0 = performance.now();
    // Selection uses the plain LR head for its rounds (cheap); the arm's head trains the final model.
    // Selection depends on representation, strategy and seed only (rounds use the --select-head), so
    // arms that differ in the final head share one selection.
    const key = `${repName}:${selName}:${seed}`;
    const labelled = selectionCache.get(key) ?? sel(r, seed, selName.includes('+') ? HEADS[arg('--select-head', 'lr')] : head);
    selectionCache.set(key, labelled);
    const { probs } = head({ r, labelled, seed }, data.devTest);
    const pred = argmaxRows(probs, C);
    const truth = Int32Array.from(data.devTest, (i) => data.y[i]);
    row.acc.push(accuracy(truth, pred));
    row.f1.push(macroF1(truth, pred, C));
    row.seconds.push((performance.now() - t0) / 1000);
    log(`  ${arm} seed ${seed}: acc ${(row.acc.at(-1)! * 100).toFixed(1)} macro-F1 ${(row.f1.at(-1)! * 100).toFixed(1)} (${row.seconds.at(-1)!.toFixed(1)} s; ${new Set(labelled.map((i) => data.y[i])).size}/${C} classes labelled)`);
  }
  results.push(row);
}

const base = results[0];
const metricOf = (r: Row) => (data.metric === 'accuracy' ? r.acc : r.f1);
const pct = (v: number) => (v * 100).toFixed(1);
console.log(`\n${dataset} — dev-test ${data.devTest.length} rows, budget ${budget} (${PER_CLASS}/class), seeds ${SEEDS.join(',')}; mean ± 95% t-interval; Δ = paired difference vs raw_random in ${data.metric}`);
console.log(`${'arm'.padEnd(34)} ${'accuracy'.padEnd(13)} ${'macro-F1'.padEnd(13)} ${'Δ ' + data.metric}`.padEnd(14) + '   rep s   arm s/seed');
for (const r of results) {
  const a = ci(r.acc);
  const f = ci(r.f1);
  const d = ci(metricOf(r).map((v, i) => v - metricOf(base)[i]));
  console.log(`${r.arm.padEnd(34)} ${pct(a.m).padStart(5)} ± ${pct(a.h).padEnd(5)} ${pct(f.m).padStart(5)} ± ${pct(f.h).padEnd(5)} ${(d.m >= 0 ? '+' : '') + pct(d.m)} ± ${pct(d.h)}`.padEnd(80) + `${r.repSeconds.toFixed(1).padStart(6)} ${ci(r.seconds).m.toFixed(1).padStart(8)}`);
}
const out = arg('--json', '');
if (out) writeFileSync(out, JSON.stringify({ dataset, perClass: PER_CLASS, budget, seeds: SEEDS, devTest: data.devTest.length, pool: data.pool.length, results }, null, 2));
