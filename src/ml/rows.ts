/**
 * Row operations on row-major matrices (rows × C) of class scores: probabilities or logits.
 * Argmax keeps the first of equal scores and never picks a NaN, so predictions do not depend on
 * which copy of a loop computed them.
 */

/** The column of row `i`'s largest score (the first of equals). */
export function rowArgmax(m: ArrayLike<number>, i: number, C: number): number {
  const o = i * C;
  let best = 0;
  for (let c = 1; c < C; c++) if (m[o + c] > m[o + best]) best = c;
  return best;
}

/** Every row's argmax (`rowArgmax`). */
export function argmaxRows(m: ArrayLike<number>, C: number): Int32Array {
  const out = new Int32Array(Math.floor(m.length / C));
  for (let i = 0; i < out.length; i++) out[i] = rowArgmax(m, i, C);
  return out;
}

/**
 * Cross-entropy of row `i` of probabilities against class `label`: −log p, with p floored at
 * `floor` so that a confident mistake costs a large finite loss rather than Infinity.
 */
export function crossEntropy(p: ArrayLike<number>, i: number, C: number, label: number, floor = 1e-300): number {
  return -Math.log(Math.max(p[i * C + label], floor));
}

/** Mean `crossEntropy` over the rows of `p` against `labels` (0 for no rows). */
export function meanCrossEntropy(p: ArrayLike<number>, C: number, labels: ArrayLike<number>, floor = 1e-300): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += crossEntropy(p, i, C, labels[i], floor);
  return s / Math.max(1, labels.length);
}

/** Cross-entropy of row `i` of logits against class `label`: log Σ exp(logits) − logit(label), computed stably. */
export function logitsCrossEntropy(logits: ArrayLike<number>, i: number, C: number, label: number): number {
  const o = i * C;
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, logits[o + c]);
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(logits[o + c] - max);
  return Math.log(s) + max - logits[o + label];
}
