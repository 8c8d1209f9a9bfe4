import { krippendorffAlpha } from './agreement/krippendorff.ts';
import { pairwiseKappa } from './agreement/pairwise.ts';
import { answersToMatrix } from './agreement/ratings.ts';

/**
 * Ratings on an ordinal scale min..max (e.g. 1..5).
 *
 * Agreement
 * - Krippendorff's α, ordinal metric (Krippendorff 2011, "Computing Krippendorff's
 *   Alpha-Reliability"; agreement/krippendorff.ts): any number of raters, missing ratings, and
 *   the distance between two values grows with how many values lie between them.
 * - Weighted κ (Cohen 1968), linear and quadratic weights over the scale's positions: Cohen's κ_w
 *   for two raters; with more, the mean of κ_w over the pairs of raters who rated an item in common.
 *
 * Consensus
 * - Majority vote: the median rating (the lower median when the count is even: the scale's
 *   values only), confidence = the share of raters who gave it.
 * - Model-based methods (Dawid-Skene, …) give a posterior over the scale's values; the decision
 *   is its median — the least value whose cumulative posterior reaches ½ — so an ordinal
 *   posterior such as (0.4, 0.2, 0.4) over 1..3 gives 2, not a tie; confidence = the posterior
 *   mass on the chosen value.
 */
export interface RatingAnswer {
  item: string;
  annotator: string;
  value: number;
}

export const scaleValues = (scale: { min: number; max: number }): number[] => Array.from({ length: scale.max - scale.min + 1 }, (_, k) => scale.min + k);

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

export interface RatingAgreement {
  alphaOrdinal: number | null;
  weightedKappa: { linear: number | null; quadratic: number | null; pairs: number };
}

export function ratingAgreement(answers: readonly RatingAnswer[], scale: { min: number; max: number }): RatingAgreement {
  const categories = scaleValues(scale);
  if (answers.length === 0) return { alphaOrdinal: null, weightedKappa: { linear: null, quadratic: null, pairs: 0 } };
  const { coders, matrix: raw } = answersToMatrix(answers.map((a) => ({ item: a.item, annotator: a.annotator, label: String(a.value) })));
  const matrix = raw.map((r) => r.map((v) => (v === null ? null : Number(v))));
  const alpha = krippendorffAlpha(matrix, { metric: 'ordinal', categories }).value;
  const kappa = (weights: 'linear' | 'quadratic') => {
    const pw = pairwiseKappa(matrix, { coders, categories, weights });
    const vals: number[] = [];
    for (let i = 0; i < coders.length; i++) for (let j = i + 1; j < coders.length; j++) if (pw.n[i][j] > 0 && Number.isFinite(pw.kappa[i][j])) vals.push(pw.kappa[i][j]);
    return { mean: vals.length ? vals.reduce((s, x) => s + x, 0) / vals.length : NaN, pairs: vals.length };
  };
  const lin = kappa('linear');
  const quad = kappa('quadratic');
  return { alphaOrdinal: finiteOrNull(alpha), weightedKappa: { linear: finiteOrNull(lin.mean), quadratic: finiteOrNull(quad.mean), pairs: lin.pairs } };
}

/** The lower median of the ratings and the share of ratings equal to it; null for none. */
export function medianRating(values: readonly number[]): { value: number; confidence: number } | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const value = s[Math.floor((s.length - 1) / 2)];
  return { value, confidence: s.filter((v) => v === value).length / s.length };
}

/** The median of a posterior over the scale's values (in order): the least value with cumulative ≥ ½. */
export function posteriorMedian(values: readonly number[], posterior: readonly number[]): { value: number; confidence: number } {
  let cum = 0;
  for (let k = 0; k < values.length; k++) {
    cum += posterior[k];
    if (cum >= 0.5 - 1e-12) return { value: values[k], confidence: posterior[k] };
  }
  return { value: values[values.length - 1], confidence: posterior[values.length - 1] };
}
