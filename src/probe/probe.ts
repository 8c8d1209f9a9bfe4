import { mulberry32, shuffled } from '../core/rng.ts';
import { selectRows, type Features } from './features.ts';
import { knnPredict } from './knn.ts';
import { fitLinearProbe, predictLinear } from './logreg.ts';
import { accuracy, macroF1 } from './metrics.ts';

export const REPRESENTATIONS = ['ssl', 'random_init', 'raw'] as const;
export type Representation = (typeof REPRESENTATIONS)[number];

export interface ProbeScores {
  knn: number;
  linear: number;
  knnMacroF1: number;
  linearMacroF1: number;
}

/** The probe's JSON contract (issue #3): numbers are accuracies in [0, 1]; margin is in points. */
export interface ProbeReport {
  labels: number;
  seed: number;
  representations: Record<Representation, ProbeScores>;
  verdict: { sslHelps: boolean; margin: number; text: string };
  split: { train: number; test: number; classes: string[] };
}

export interface ProbeSplit {
  train: number[];
  test: number[];
}

/**
 * Picks `n` labelled rows for training, as balanced over classes as they allow (seeded), and a
 * held-out test set from the other labelled rows (stratified, at most `testMax`). Optional pools
 * restrict either side, for datasets with an official split.
 */
export function chooseProbeSplit(
  y: Int32Array,
  n: number,
  seed: number,
  opts: { testMax?: number; trainPool?: number[]; testPool?: number[] } = {},
): ProbeSplit {
  const rand = mulberry32(seed);
  const labelled = (pool: number[] | undefined) => (pool ?? Array.from(y.keys())).filter((i) => y[i] >= 0);
  const byClass = new Map<number, number[]>();
  for (const i of shuffled(labelled(opts.trainPool), rand)) byClass.set(y[i], [...(byClass.get(y[i]) ?? []), i]);
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const train: number[] = [];
  // Round-robin over classes: balanced while every class has rows left.
  for (let round = 0; train.length < n; round++) {
    let took = false;
    for (const c of classes) {
      const rows = byClass.get(c)!;
      if (round < rows.length && train.length < n) {
        train.push(rows[round]);
        took = true;
      }
    }
    if (!took) break;
  }
  const inTrain = new Set(train);
  const rest = shuffled(labelled(opts.testPool).filter((i) => !inTrain.has(i)), rand);
  const testMax = opts.testMax ?? 5000;
  // Stratified cap: keep each class's share of the held-out rows.
  let test = rest;
  if (rest.length > testMax) {
    const per = new Map<number, number[]>();
    for (const i of rest) per.set(y[i], [...(per.get(y[i]) ?? []), i]);
    test = [...per.values()].flatMap((rows) => rows.slice(0, Math.round((rows.length * testMax) / rest.length)));
  }
  return { train, test: test.sort((a, b) => a - b) };
}

export function scoreRepresentation(f: Features, y: Int32Array, classes: number, split: ProbeSplit, seed: number): ProbeScores {
  const train = selectRows(f, split.train);
  const test = selectRows(f, split.test);
  const trainY = Int32Array.from(split.train, (i) => y[i]);
  const testY = Int32Array.from(split.test, (i) => y[i]);
  const knn = knnPredict(train, trainY, test, classes, 5);
  const lin = predictLinear(fitLinearProbe(train, trainY, classes, { seed }), test);
  return { knn: accuracy(testY, knn), linear: accuracy(testY, lin), knnMacroF1: macroF1(testY, knn, classes), linearMacroF1: macroF1(testY, lin, classes) };
}

/**
 * "If the pretext task doesn't teach what the downstream task needs, you've just added training
 * cost": SSL helps only when its best probe (kNN or linear) beats the best of both baselines.
 */
export function verdict(r: Record<Representation, ProbeScores>): ProbeReport['verdict'] {
  const best = (s: ProbeScores) => Math.max(s.knn, s.linear);
  const ssl = best(r.ssl);
  const baseName = best(r.raw) >= best(r.random_init) ? 'raw features' : 'the random-init encoder';
  const base = Math.max(best(r.raw), best(r.random_init));
  const margin = Math.round((ssl - base) * 1000) / 10;
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  return margin > 0
    ? { sslHelps: true, margin, text: `SSL helps here (+${margin.toFixed(1)} pts over the best baseline, ${baseName}: ${pct(ssl)} vs ${pct(base)})` }
    : {
        sslHelps: false,
        margin,
        text: `SSL does not help here — use raw features or try another pretext (SSL ${pct(ssl)} vs ${baseName} ${pct(base)}, ${margin.toFixed(1)} pts)`,
      };
}

/** Class ids for labels (sorted label names; -1 = unlabelled). */
export function labelIndex(labels: Array<string | null>): { y: Int32Array; classes: string[] } {
  const classes = [...new Set(labels.filter((l): l is string => l !== null))].sort();
  const index = new Map(classes.map((l, i) => [l, i]));
  return { y: Int32Array.from(labels, (l) => (l === null ? -1 : index.get(l)!)), classes };
}

/**
 * Scores the three representations on one split. Each representation holds only the split's
 * rows — train rows first, then test rows — so encoders embed just what the probe needs.
 */
export function probeReport(reps: Record<Representation, Features>, y: Int32Array, classes: string[], split: ProbeSplit, seed: number): ProbeReport {
  if (split.train.length < 2 || split.test.length < 1) throw new Error(`not enough labelled items to probe: ${split.train.length} for training, ${split.test.length} held out`);
  const rows = [...split.train, ...split.test];
  const ySub = Int32Array.from(rows, (i) => y[i]);
  const local: ProbeSplit = { train: split.train.map((_, i) => i), test: split.test.map((_, i) => split.train.length + i) };
  const representations = Object.fromEntries(REPRESENTATIONS.map((r) => [r, scoreRepresentation(reps[r], ySub, classes.length, local, seed)])) as Record<Representation, ProbeScores>;
  return { labels: split.train.length, seed, representations, verdict: verdict(representations), split: { train: split.train.length, test: split.test.length, classes } };
}
