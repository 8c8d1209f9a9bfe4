// bench/drift-failing-loudly: the drift tests of src/monitor/ under the protocol of Rabanser,
// Günnemann & Lipton (2019), "Failing Loudly: An Empirical Study of Methods for Detecting
// Dataset Shift", on the UCI digits (1,797 8×8 images; ../shared/datasets/images/digits).
//
// Protocol (seed printed):
// - "Embedding": no pretrained digits encoder is used here; the representation is PCA of the
//   raw pixels (32 components, the "PCA" dimensionality reduction of the paper), fitted once on
//   a seeded 597-image training part and applied to everything else.
// - Each run r = 0…R−1 (seeded by a hash of seed, r and purpose; R = 300 without shift, where the false-alarm rate is
//   judged — 100 runs put ±0.022 of binomial noise on a 0.05 rate — and 100 per shift) draws a reference and a current sample of n
//   images each (default 200), disjoint, from the other 1,200 images. Shifts are applied to the
//   current sample's pixels on the 0–255 scale (×255/16, clipped), as in the paper: Gaussian
//   noise of σ = 1 (small), 10 (medium), 100 (large) on a fraction δ of the current images;
//   class-prior shifts: knock-out (δ of the digit-0 images removed before drawing) and
//   imbalance (digits 0–4 drawn 3× as often as 5–9).
// - Tests at α = 0.05: MMD (RBF, median heuristic, 100 permutations), KS on PCA components with
//   Bonferroni, classifier two-sample test (logistic regression, held-out AUC). False-alarm rate
//   = share of no-shift runs flagged; power = share of shifted runs flagged.
// - Last: the time of one MMD test on 10,000 × 128 vs 10,000 × 128 (seeded Gaussians) with 100
//   permutations (random Fourier features above 4,000 pooled rows), best of 3.
// - --record writes a record under bench/results/drift/ (then `npm run results`).
// Usage: npx tsx bench/drift-failing-loudly.ts [--runs 100] [--null-runs 300] [--n 200] [--seed 0] [--alpha 0.05] [--record]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { mulberry32, shuffled } from '../src/core/rng.ts';
import { fmix32 } from '../src/audit/minhash.ts';
import { fitPca, project } from '../src/monitor/pca.ts';
import { DRIFT_TESTS, type DriftTestName } from '../src/monitor/tests.ts';
import { mmdTest } from '../src/monitor/mmd.ts';
import type { Sample } from '../src/monitor/types.ts';
import { finishRecord, nonDefaultFlags, startRun, writeRecord, type DriftRecord } from './results/records.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const RUNS = Number(arg('--runs', '100'));
const NULL_RUNS = Number(arg('--null-runs', '300'));
const N = Number(arg('--n', '200'));
const SEED = Number(arg('--seed', '0'));
const ALPHA = Number(arg('--alpha', '0.05'));
const COMPONENTS = 32;
// Provenance is taken before any work: the commit and load the run started with.
const run = process.argv.includes('--record') ? startRun() : null;

const lines = gunzipSync(readFileSync(resolve(import.meta.dirname, '../../shared/datasets/images/digits/digits.csv.gz'))).toString('utf8').trim().split('\n');
const pixels = lines.map((l) => l.split(',').slice(0, 64).map((v) => (Number(v) * 255) / 16));
const labels = lines.map((l) => Number(l.split(',')[64]));
const order = shuffled(
  lines.map((_, i) => i),
  mulberry32(SEED),
);
const train = order.slice(0, 597);
const pool = order.slice(597);
const toSample = (rows: number[][]): Sample => ({ rows: rows.length, dim: 64, data: Float64Array.from(rows.flat()) });
const pca = fitPca(toSample(train.map((i) => pixels[i])), COMPONENTS);
const embed = (rows: number[][]): Sample => {
  const cols = project(toSample(rows), pca);
  const out = new Float64Array(rows.length * COMPONENTS);
  cols.forEach((c, k) => c.forEach((v, i) => (out[i * COMPONENTS + k] = v)));
  return { rows: rows.length, dim: COMPONENTS, data: out };
};

interface Shift {
  name: string;
  /** Chooses the current sample's indices from the candidates (not in the reference). */
  draw?: (cands: number[], rand: () => number) => number[];
  /** Changes pixel rows of the current sample. */
  apply?: (rows: number[][], rand: () => number) => number[][];
}
const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const noise = (sigma: number, frac: number): Shift => ({
  name: `gaussian noise σ=${sigma}, δ=${frac}`,
  apply: (rows, rand) => rows.map((r, i) => (i < Math.round(frac * rows.length) ? r.map((v) => Math.min(255, Math.max(0, v + sigma * gauss(rand)))) : r)),
});
const knockOut = (frac: number): Shift => ({
  name: `class prior: knock-out δ=${frac} of digit 0`,
  draw: (cands, rand) => shuffled(cands.filter((i) => labels[i] !== 0 || rand() >= frac), rand).slice(0, N),
});
const imbalance: Shift = {
  name: 'class prior: 0–4 drawn 3× as often as 5–9',
  draw: (cands, rand) => {
    const out: number[] = [];
    const left = shuffled(cands, rand);
    for (const i of left) {
      if (out.length === N) break;
      if (labels[i] <= 4 || rand() < 1 / 3) out.push(i);
    }
    return out;
  },
};
const SHIFTS: Shift[] = [{ name: 'no shift' }, noise(1, 0.5), noise(1, 1), noise(10, 0.5), noise(10, 1), noise(100, 1), knockOut(0.5), knockOut(1), imbalance];
const TESTS = Object.keys(DRIFT_TESTS) as DriftTestName[];
/** Per-run seeds through a hash of (seed, run, purpose): unrelated streams for the sampling and the tests' own randomness. */
const runSeed = (r: number, purpose: number) => fmix32(fmix32(SEED ^ 0x51ed270b) ^ Math.imul(r + 1, 0x9e3779b1) ^ Math.imul(purpose, 0x85ebca77));

console.log(`bench/drift-failing-loudly  seed ${SEED}  runs ${NULL_RUNS} without shift, ${RUNS} per shift  n ${N} vs ${N}  α ${ALPHA}  node ${process.version}`);
console.log(`representation: PCA(${COMPONENTS}) of raw digits pixels, fitted on 597 held-out training images (no encoder)`);
console.log(`shift                                              | ${TESTS.map((t) => t.padStart(6)).join(' | ')}   (share of runs flagged)`);
const t0 = performance.now();
let falseAlarm: Record<string, number> = {};
const recorded: DriftRecord['results']['shifts'] = [];
for (const shift of SHIFTS) {
  const flagged: Record<string, number> = Object.fromEntries(TESTS.map((t) => [t, 0]));
  const runs = shift.draw || shift.apply ? RUNS : NULL_RUNS;
  for (let r = 0; r < runs; r++) {
    const rand = mulberry32(runSeed(r, 1));
    const mixed = shuffled(pool, rand);
    const ref = mixed.slice(0, N);
    const cands = mixed.slice(N);
    const cur = shift.draw ? shift.draw(cands, rand) : cands.slice(0, N);
    const curRows = shift.apply ? shift.apply(cur.map((i) => pixels[i].slice()), rand) : cur.map((i) => pixels[i]);
    const a = embed(ref.map((i) => pixels[i]));
    const b = embed(curRows);
    for (const t of TESTS) if (DRIFT_TESTS[t](a, b, { alpha: ALPHA, seed: runSeed(r, 2) }).drift) flagged[t]++;
  }
  const rates = Object.fromEntries(TESTS.map((t) => [t, flagged[t] / runs]));
  if (shift.name === 'no shift') falseAlarm = rates;
  recorded.push({ name: shift.name, runs, flagged: Object.fromEntries(TESTS.map((t) => [t, [flagged[t]]])) });
  console.log(`${`${shift.name} (${runs} runs)`.padEnd(50)} | ${TESTS.map((t) => rates[t].toFixed(3).padStart(6)).join(' | ')}`);
}
const bound = ALPHA + 0.03;
console.log(`false-alarm rate ≤ α + 0.03 = ${bound.toFixed(2)}: ${TESTS.map((t) => `${t} ${falseAlarm[t] <= bound ? 'yes' : 'NO'} (${falseAlarm[t].toFixed(3)})`).join(', ')}   [${((performance.now() - t0) / 1000).toFixed(1)} s]`);

// MMD speed: 10,000 × 128 vs 10,000 × 128, 100 permutations.
const big = (rows: number, dim: number, seed: number, shift = 0): Sample => {
  const rand = mulberry32(seed);
  return { rows, dim, data: Float32Array.from({ length: rows * dim }, (_, i) => gauss(rand) + (i % dim === 0 ? shift : 0)) };
};
const A = big(10_000, 128, 1);
const B = big(10_000, 128, 2, 0.1);
const times: number[] = [];
let last;
for (let i = 0; i < 3; i++) {
  const s = performance.now();
  last = mmdTest(A, B, { permutations: 100, seed: 1 });
  times.push((performance.now() - s) / 1000);
}
times.sort((x, y) => x - y);
console.log(`MMD 10,000 × 128 vs 10,000 × 128, 100 permutations (${last!.method}, 512 features): best ${times[0].toFixed(2)} s, median ${times[1].toFixed(2)} s (goal < 10 s); p = ${last!.pValue.toFixed(3)} for a 0.1σ mean shift in one of 128 dims`);

if (run) {
  const path = writeRecord(
    finishRecord<DriftRecord>(run, {
      kind: 'drift',
      dataset: 'digits',
      seeds: [SEED],
      flags: nonDefaultFlags(process.argv.slice(2), { omit: ['--seed', '--record'], defaults: { '--runs': '100', '--null-runs': '300', '--n': '200', '--alpha': '0.05' } }),
      results: {
        representation: `PCA(${COMPONENTS}) of raw pixels, fitted on 597 held-out training images (no encoder)`,
        n: N,
        alpha: ALPHA,
        tests: TESTS,
        shifts: recorded,
        mmdSpeed: { rows: A.rows, dim: A.dim, permutations: 100, method: last!.method, seconds: times.map((t) => Math.round(t * 1000) / 1000), pValue: last!.pValue },
      },
    }),
  );
  console.log(`record: ${path} (then: npm run results)`);
}
