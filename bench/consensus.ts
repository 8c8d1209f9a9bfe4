// bench/consensus: accuracy of every consensus method on the shared crowd sets, scored against
// their truth, and the speed of Dawid-Skene on 100,000 synthetic answers beside majority vote
// measured in the same run.
//
// Protocol
// - Data: bluebirds (Welinder et al. 2010; answer.csv + truth.csv), RTE and TEMP (Snow et al.
//   2008; `response` = answer, `gold` = truth), read with the same parser as `tessera consensus`.
// - Methods (src/consensus, default options): majority vote with each tie rule — unresolved
//   (a tie is no label and counts as wrong), random (seeded), first (label order) —,
//   Dawid-Skene, one-coin Dawid-Skene, GLAD. Accuracy = share of truth items whose consensus
//   label equals the truth.
// - Check: Dawid-Skene ≥ majority vote (every tie rule) on every set; exit 1 otherwise.
// - Speed: N synthetic answers (default 100,000: 10,000 items × 10 answers, 4 classes, 200
//   annotators with class-specific confusion); best of R runs (default 3) of each method,
//   one process, same data. Goal: Dawid-Skene < 5 s.
// Usage: npx tsx bench/consensus.ts [--answers 100000] [--seed 1] [--runs 3]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { dawidSkene, glad, majority, mulberry32, oneCoin, type Answer, type ConsensusResult } from '../src/consensus/index.ts';
import { parseRatings } from '../src/label/crowd-file.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const N = Number(arg('--answers', '100000'));
const SEED = Number(arg('--seed', '1'));
const RUNS = Number(arg('--runs', '3'));
const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/crowd');

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

const METHODS: Array<[string, (a: Answer[]) => ConsensusResult]> = [
  ['MV (tie → unresolved)', (a) => majority(a)],
  [`MV (tie → random, seed ${SEED})`, (a) => majority(a, { ties: 'random', seed: SEED })],
  ['MV (tie → first)', (a) => majority(a, { ties: 'first' })],
  ['Dawid-Skene', (a) => dawidSkene(a)],
  ['one-coin DS', (a) => oneCoin(a)],
  ['GLAD', (a) => glad(a)],
];

const accuracy = (r: ConsensusResult, truth: Map<string, string>) => {
  let ok = 0;
  for (const [item, t] of truth) if (r.labels.get(item) === t) ok++;
  return ok / truth.size;
};

console.log(`bench/consensus — seed ${SEED}; accuracy vs truth (unresolved ties count as wrong)\n`);
const width = Math.max(...METHODS.map(([m]) => m.length));
console.log(`${'method'.padEnd(width)}  ${sets.map((s) => `${s.name} (${s.truth.size} items, ${s.answers.length} answers)`.padStart(34)).join('')}`);
const acc = new Map<string, number[]>();
for (const [name, run] of METHODS) {
  const row = sets.map((s) => accuracy(run(s.answers), s.truth));
  acc.set(name, row);
  console.log(`${name.padEnd(width)}  ${row.map((a) => a.toFixed(4).padStart(34)).join('')}`);
}
const ds = acc.get('Dawid-Skene')!;
let ok = true;
for (const [name, row] of acc) {
  if (!name.startsWith('MV')) continue;
  sets.forEach((s, i) => {
    const holds = ds[i] >= row[i];
    ok &&= holds;
    if (!holds) console.log(`  ✗ Dawid-Skene (${ds[i].toFixed(4)}) < ${name} (${row[i].toFixed(4)}) on ${s.name}`);
  });
}
console.log(`\nDS ≥ MV (every tie rule) on every set: ${ok ? 'yes' : 'NO'}`);

// ---- speed on synthetic answers -------------------------------------------------------------
const K = 4;
const PER_ITEM = 10;
const ANNOTATORS = 200;
const items = Math.ceil(N / PER_ITEM);
const rand = mulberry32(SEED);
const prior = [0.4, 0.3, 0.2, 0.1];
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
const synthetic: Answer[] = [];
for (let i = 0; i < items && synthetic.length < N; i++) {
  const z = draw(prior);
  truth.set(`i${i}`, `c${z}`);
  const chosen = new Set<number>();
  while (chosen.size < PER_ITEM) chosen.add(Math.floor(rand() * ANNOTATORS));
  for (const w of chosen) {
    if (synthetic.length >= N) break;
    synthetic.push({ item: `i${i}`, annotator: `w${w}`, label: `c${draw(confusion[w][z])}` });
  }
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
const mv = best(() => majority(synthetic));
const dsRun = best(() => dawidSkene(synthetic));
console.log(`\nsynthetic: ${synthetic.length.toLocaleString('en')} answers (${truth.size.toLocaleString('en')} items × ${PER_ITEM}, ${K} classes, ${ANNOTATORS} annotators with class-specific confusion), best of ${RUNS} runs`);
console.log(`  MV           ${mv.ms.toFixed(0).padStart(6)} ms   accuracy ${accuracy(mv.result, truth).toFixed(4)}`);
console.log(`  Dawid-Skene  ${dsRun.ms.toFixed(0).padStart(6)} ms   accuracy ${accuracy(dsRun.result, truth).toFixed(4)}   ${dsRun.result.iterations} iterations, converged ${dsRun.result.converged}`);
console.log(`  DS / MV time ratio: ${(dsRun.ms / mv.ms).toFixed(1)}×   goal DS < 5 s: ${dsRun.ms < 5000 ? 'met' : 'MISSED'}`);
process.exitCode = ok && dsRun.ms < 5000 ? 0 : 1;
