// bench/consensus: accuracy of every consensus method on the shared crowd sets, scored against
// their truth, beside the published figures, and the speed of Dawid-Skene on 100,000 synthetic
// answers beside majority vote measured in the same run.
//
// Protocol
// - Data: bluebirds (Welinder et al. 2010; answer.csv + truth.csv), RTE and TEMP (Snow et al.
//   2008; `response` = answer, `gold` = truth), read with the same parser as `tessera consensus`.
// - Methods (src/consensus, default options): majority vote with each tie rule — unresolved
//   (a tie is no label and counts as wrong), random (seeded), first (label order) —,
//   Dawid-Skene, one-coin Dawid-Skene, GLAD. Accuracy = share of truth items whose consensus
//   label equals the truth. Published: 1 − the published error rate (bench/results/kinds/consensus.ts).
// - Check: Dawid-Skene ≥ majority vote (every tie rule) on every set and seed; exit 1 otherwise.
// - Speed: N synthetic answers (default 100,000: 10,000 items × 10 answers, 4 classes, 200
//   annotators with class-specific confusion), drawn per seed; best of R runs (default 3) of each
//   method, one process, same data. Goal: Dawid-Skene < 5 s.
// - Seeds: --seed S (one) or --seeds 1,2,3 (means over them). --record writes a record under
//   bench/results/consensus/ (then `npm run results`).
// Usage: npx tsx bench/consensus.ts [--answers 100000] [--seed 1 | --seeds 1,2,3] [--runs 3] [--record]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { dawidSkene, glad, majority, mulberry32, oneCoin, type Answer, type ConsensusResult } from '../src/consensus/index.ts';
import { parseRatings } from '../src/label/crowd-file.ts';
import { CONSENSUS_PUBLISHED } from './results/kinds/consensus.ts';
import { finishRecord, nonDefaultFlags, startRun, writeRecord, type ConsensusRecord } from './results/records.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const N = Number(arg('--answers', '100000'));
const SEEDS = process.argv.includes('--seeds') ? arg('--seeds', '').split(',').map(Number) : [Number(arg('--seed', '1'))];
const RUNS = Number(arg('--runs', '3'));
const RECORD = process.argv.includes('--record');
const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/crowd');
if (SEEDS.some((s) => !Number.isInteger(s)) || new Set(SEEDS).size !== SEEDS.length) throw new Error(`--seeds expects distinct whole numbers, e.g. 1,2,3; got ${arg('--seeds', '')}`);
// Provenance is taken before any work: the commit and load the run started with.
const run = RECORD ? startRun() : null;

interface CrowdSet {
  name: string;
  answers: Answer[];
  truth: Map<string, string>;
}

function load(name: string, path: string, truthOf: (text: string) => Map<string, string>): CrowdSet {
  const text = readFileSync(resolve(DATA, path), 'utf8');
  const answers = parseRatings(text, { name: path }).ratings.map(({ item, annotator, label }) => ({ item, annotator, label }));
  return { name, answers, truth: truthOf(text) };
}

const bluebirdsTruth = () =>
  new Map(
    readFileSync(resolve(DATA, 'bluebirds/truth.csv'), 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((l) => l.split(',') as [string, string]),
  );
const snowTruth = (text: string) => {
  const truth = new Map<string, string>();
  for (const l of text.trim().split(/\r?\n/).slice(1)) {
    const f = l.split('\t');
    truth.set(f[2], f[4]);
  }
  return truth;
};

const sets = [
  load('bluebirds', 'bluebirds/answer.csv', bluebirdsTruth),
  load('RTE', 'rte/rte.standardized.tsv', snowTruth),
  load('TEMP', 'temp/temp.standardized.tsv', snowTruth),
];

/** [record id, printed name, method]; the record's ids are bench/results/kinds/consensus.ts's. */
const METHODS: Array<[string, string, (a: Answer[], seed: number) => ConsensusResult]> = [
  ['mv_unresolved', 'MV (tie → unresolved)', (a) => majority(a)],
  ['mv_random', `MV (tie → random, seed${SEEDS.length > 1 ? 's' : ''} ${SEEDS.join(',')})`, (a, seed) => majority(a, { ties: 'random', seed })],
  ['mv_first', 'MV (tie → first)', (a) => majority(a, { ties: 'first' })],
  ['dawid_skene', 'Dawid-Skene', (a) => dawidSkene(a)],
  ['one_coin', 'one-coin DS', (a) => oneCoin(a)],
  ['glad', 'GLAD', (a) => glad(a)],
];

const accuracy = (r: ConsensusResult, truth: Map<string, string>) => {
  let ok = 0;
  for (const [item, t] of truth) if (r.labels.get(item) === t) ok++;
  return ok / truth.size;
};
const mean = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

console.log(`bench/consensus — seed${SEEDS.length > 1 ? 's' : ''} ${SEEDS.join(',')}; accuracy vs truth (unresolved ties count as wrong)${SEEDS.length > 1 ? ', mean over seeds' : ''}; published in brackets\n`);
const width = Math.max(...METHODS.map(([, m]) => m.length));
console.log(`${'method'.padEnd(width)}  ${sets.map((s) => `${s.name} (${s.truth.size} items, ${s.answers.length} answers)`.padStart(44)).join('')}`);
/** acc[method id][set name]: one accuracy per seed. */
const acc: Record<string, Record<string, number[]>> = {};
for (const [id, name, method] of METHODS) {
  acc[id] = Object.fromEntries(sets.map((s) => [s.name, SEEDS.map((seed) => accuracy(method(s.answers, seed), s.truth))]));
  const cell = (set: string) => `${mean(acc[id][set]).toFixed(4)}${CONSENSUS_PUBLISHED[id]?.[set] ? ` [${CONSENSUS_PUBLISHED[id][set]}]` : ''}`;
  console.log(`${name.padEnd(width)}  ${sets.map((s) => cell(s.name).padStart(44)).join('')}`);
}
let ok = true;
for (const [id, name] of METHODS) {
  if (!id.startsWith('mv_')) continue;
  for (const s of sets) {
    SEEDS.forEach((seed, k) => {
      const [d, m] = [acc.dawid_skene[s.name][k], acc[id][s.name][k]];
      ok &&= d >= m;
      if (d < m) console.log(`  ✗ Dawid-Skene (${d.toFixed(4)}) < ${name} (${m.toFixed(4)}) on ${s.name}, seed ${seed}`);
    });
  }
}
console.log(`\nDS ≥ MV (every tie rule) on every set${SEEDS.length > 1 ? ' and seed' : ''}: ${ok ? 'yes' : 'NO'}`);

// ---- speed on synthetic answers -------------------------------------------------------------
const K = 4;
const PER_ITEM = 10;
const ANNOTATORS = 200;
const items = Math.ceil(N / PER_ITEM);
const prior = [0.4, 0.3, 0.2, 0.1];

function syntheticAnswers(seed: number): { truth: Map<string, string>; answers: Answer[] } {
  const rand = mulberry32(seed);
  const draw = (p: readonly number[]) => {
    let u = rand();
    for (let k = 0; k < p.length; k++) if ((u -= p[k]) < 0) return k;
    return p.length - 1;
  };
  // Each annotator: right with probability 0.5–0.95 whatever the class; when wrong, 60% of the
  // error goes to their "favourite" wrong class (class-specific bias MV cannot see), the rest
  // is spread evenly (all of it evenly when the true class is the favourite).
  const confusion = Array.from({ length: ANNOTATORS }, () => {
    const acc = 0.5 + 0.45 * rand();
    const favourite = Math.floor(rand() * K);
    return Array.from({ length: K }, (_, z) => {
      const row = new Array<number>(K).fill(0);
      const wrong = [...Array(K).keys()].filter((k) => k !== z);
      for (const k of wrong) {
        if (favourite === z) row[k] = (1 - acc) / wrong.length;
        else row[k] = (1 - acc) * (k === favourite ? 0.6 : 0.4 / (wrong.length - 1));
      }
      row[z] = acc;
      return row;
    });
  });
  const truth = new Map<string, string>();
  const answers: Answer[] = [];
  for (let i = 0; i < items && answers.length < N; i++) {
    const z = draw(prior);
    truth.set(`i${i}`, `c${z}`);
    const chosen = new Set<number>();
    while (chosen.size < PER_ITEM) chosen.add(Math.floor(rand() * ANNOTATORS));
    for (const w of chosen) {
      if (answers.length >= N) break;
      answers.push({ item: `i${i}`, annotator: `w${w}`, label: `c${draw(confusion[w][z])}` });
    }
  }
  return { truth, answers };
}

function best(fn: () => ConsensusResult): { ms: number; result: ConsensusResult } {
  let ms = Infinity;
  let result!: ConsensusResult;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    result = fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, result };
}
const perSeed: ConsensusRecord['results']['speed']['perSeed'] = [];
let answersPerSeed = 0;
let itemsPerSeed = 0;
for (const seed of SEEDS) {
  const { truth, answers: synthetic } = syntheticAnswers(seed);
  [answersPerSeed, itemsPerSeed] = [synthetic.length, truth.size];
  const mv = best(() => majority(synthetic));
  const dsRun = best(() => dawidSkene(synthetic));
  console.log(`\nsynthetic, seed ${seed}: ${synthetic.length.toLocaleString('en')} answers (${truth.size.toLocaleString('en')} items × ${PER_ITEM}, ${K} classes, ${ANNOTATORS} annotators with class-specific confusion), best of ${RUNS} runs`);
  console.log(`  MV           ${mv.ms.toFixed(0).padStart(6)} ms   accuracy ${accuracy(mv.result, truth).toFixed(4)}`);
  console.log(`  Dawid-Skene  ${dsRun.ms.toFixed(0).padStart(6)} ms   accuracy ${accuracy(dsRun.result, truth).toFixed(4)}   ${dsRun.result.iterations} iterations, converged ${dsRun.result.converged}`);
  console.log(`  DS / MV time ratio: ${(dsRun.ms / mv.ms).toFixed(1)}×   goal DS < 5 s: ${dsRun.ms < 5000 ? 'met' : 'MISSED'}`);
  perSeed.push({ seed, mvMs: Math.round(mv.ms * 10) / 10, dsMs: Math.round(dsRun.ms * 10) / 10, mvAccuracy: accuracy(mv.result, truth), dsAccuracy: accuracy(dsRun.result, truth), dsIterations: dsRun.result.iterations ?? 0, dsConverged: dsRun.result.converged ?? false });
}
process.exitCode = ok && perSeed.every((p) => p.dsMs < 5000) ? 0 : 1;

if (run) {
  const path = writeRecord(
    finishRecord<ConsensusRecord>(run, {
      kind: 'consensus',
      seeds: SEEDS,
      flags: nonDefaultFlags(process.argv.slice(2), { omit: ['--seed', '--seeds', '--record'], defaults: { '--answers': '100000', '--runs': '3' } }),
      results: {
        sets: sets.map((s) => ({ name: s.name, items: s.truth.size, answers: s.answers.length })),
        accuracy: acc,
        dsAtLeastMv: ok,
        speed: { answers: answersPerSeed, items: itemsPerSeed, classes: K, annotators: ANNOTATORS, runs: RUNS, perSeed },
      },
    }),
  );
  console.log(`\nrecord: ${path} (then: npm run results)`);
}
