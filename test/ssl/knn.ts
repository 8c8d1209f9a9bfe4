import { Rng } from '../../src/ssl/rng.ts';

/**
 * A tiny cosine kNN for the SSL tests (the product's probe lives in src/probe/). Votes are
 * counted per class among the k most similar labelled rows; ties go to the class of the most
 * similar neighbour.
 */
export function l2rows(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length / dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2;
    const inv = 1 / Math.sqrt(s || 1);
    for (let j = 0; j < dim; j++) out[i * dim + j] = x[i * dim + j] * inv;
  }
  return out;
}

export function knnPredict(emb: Float32Array, dim: number, labels: number[], train: number[], test: number[], k = 5): number[] {
  const z = l2rows(emb, dim);
  return test.map((q) => {
    const sims = train.map((t) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += z[q * dim + j] * z[t * dim + j];
      return { s, y: labels[t] };
    });
    sims.sort((a, b) => b.s - a.s);
    const top = sims.slice(0, k);
    const votes = new Map<number, number>();
    for (const { y } of top) votes.set(y, (votes.get(y) ?? 0) + 1);
    let best = top[0].y;
    for (const [y, v] of votes) if (v > votes.get(best)!) best = y;
    return best;
  });
}

/** Mean per-class recall (balanced accuracy). */
export function balancedAccuracy(pred: number[], truth: number[]): number {
  const classes = [...new Set(truth)];
  let s = 0;
  for (const c of classes) {
    let n = 0;
    let ok = 0;
    truth.forEach((t, i) => {
      if (t === c) {
        n++;
        if (pred[i] === c) ok++;
      }
    });
    s += ok / n;
  }
  return s / classes.length;
}

/** `perClass` random items of each class (seeded) as the labelled set, the rest as test. */
export function fewShotSplit(labels: number[], perClass: number, seed = 0): { train: number[]; test: number[] } {
  const order = new Rng(seed).permutation(labels.length);
  const seen = new Map<number, number>();
  const train: number[] = [];
  const test: number[] = [];
  for (const i of order) {
    const c = seen.get(labels[i]) ?? 0;
    if (c < perClass) {
      train.push(i);
      seen.set(labels[i], c + 1);
    } else test.push(i);
  }
  return { train, test: test.sort((a, b) => a - b) };
}

/** kNN balanced accuracy and accuracy averaged over `draws` different labelled sets. */
export function fewShotKnn(emb: Float32Array, dim: number, labels: number[], perClass = 10, draws = 5, k = 5): { balanced: number; accuracy: number } {
  let bal = 0;
  let acc = 0;
  for (let d = 0; d < draws; d++) {
    const { train, test } = fewShotSplit(labels, perClass, d + 1);
    const pred = knnPredict(emb, dim, labels, train, test, k);
    const truth = test.map((i) => labels[i]);
    bal += balancedAccuracy(pred, truth);
    acc += pred.filter((p, i) => p === truth[i]).length / truth.length;
  }
  return { balanced: bal / draws, accuracy: acc / draws };
}
