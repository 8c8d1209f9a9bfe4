import { dict } from '../core/dict.ts';
import type { AnnotatorStats, ConsensusResult } from './types.ts';
import type { Encoded } from './encode.ts';

/** Two probabilities closer than this are a tie (exact ties only, up to float noise). */
const TIE_EPS = 1e-12;

/** Index of the single largest entry of row i, or -1 if the top is shared (a tie). */
export function argmaxOrTie(P: Float64Array, i: number, K: number): number {
  let best = -1;
  let top = -Infinity;
  let tied = false;
  for (let k = 0; k < K; k++) {
    const p = P[i * K + k];
    if (p > top + TIE_EPS) {
      top = p;
      best = k;
      tied = false;
    } else if (Math.abs(p - top) <= TIE_EPS) tied = true;
  }
  return tied ? -1 : best;
}

/**
 * Mean over each annotator's answers of the posterior probability of the label they gave:
 * the expected fraction of their answers that are correct under the model.
 */
export function posteriorAgreement(e: Encoded, T: Float64Array): Float64Array {
  const K = e.labels.length;
  const sum = new Float64Array(e.annotators.length);
  const cnt = new Float64Array(e.annotators.length);
  for (let n = 0; n < e.item.length; n++) {
    sum[e.annotator[n]] += T[e.item[n] * K + e.label[n]];
    cnt[e.annotator[n]]++;
  }
  return sum.map((s, w) => (cnt[w] > 0 ? s / cnt[w] : NaN));
}

export function answeredCounts(e: Encoded): Int32Array {
  const cnt = new Int32Array(e.annotators.length);
  for (let n = 0; n < e.annotator.length; n++) cnt[e.annotator[n]]++;
  return cnt;
}

/** The argmax label index of every item, -1 for an exact tie (the item goes to review). */
export function argmaxChoices(T: Float64Array, nItems: number, K: number): Int32Array {
  const choice = new Int32Array(nItems);
  for (let i = 0; i < nItems; i++) choice[i] = argmaxOrTie(T, i, K);
  return choice;
}

/**
 * Builds the Map-based result from dense posteriors T (n×K) and the chosen label index per
 * item (-1 = unresolved → null). Confidence is the top posterior (the tied value for a tie).
 */
export function buildResult(
  e: Encoded,
  T: Float64Array,
  choice: Int32Array,
  stats: (w: number) => AnnotatorStats,
  extra: Partial<ConsensusResult> = {},
): ConsensusResult {
  const K = e.labels.length;
  const labels = new Map<string, string | null>();
  const confidence = new Map<string, number>();
  const posteriors = new Map<string, Record<string, number>>();
  e.items.forEach((id, i) => {
    const k = choice[i];
    let top = 0;
    // No prototype: a label may be named __proto__ or constructor (src/core/dict.ts).
    const post = dict<number>();
    for (let c = 0; c < K; c++) {
      post[e.labels[c]] = T[i * K + c];
      top = Math.max(top, T[i * K + c]);
    }
    labels.set(id, k < 0 ? null : e.labels[k]);
    confidence.set(id, top);
    posteriors.set(id, post);
  });
  const annotatorStats = new Map<string, AnnotatorStats>();
  e.annotators.forEach((id, w) => annotatorStats.set(id, stats(w)));
  return { labels, confidence, posteriors, annotatorStats, labelSet: [...e.labels], ...extra };
}

/** A K×K block of a flat Float64Array as nested arrays (for confusion matrices). */
export function matrixRows(M: Float64Array, offset: number, K: number): number[][] {
  const rows: number[][] = [];
  for (let k = 0; k < K; k++) rows.push(Array.from(M.subarray(offset + k * K, offset + (k + 1) * K)));
  return rows;
}
