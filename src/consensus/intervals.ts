import { pairwiseF1, regionConsensus, type PairScore, type RegionAnswer, type RegionConsensus } from './regions.ts';

/**
 * Labelled intervals `[start, end)` on one axis: text spans (code-point offsets, spans.ts) and
 * audio segments (seconds, segments.ts) are agreed on and fused the same way.
 *
 * Agreement is pairwise F1 (Hripcsak & Rothschild 2005; regions.ts) under two match rules:
 * - exact: same start, end and label;
 * - overlap: same label and a non-empty intersection; the one-to-one matching has the most pairs
 *   and then the largest total overlap (hungarian.ts).
 */
export interface Interval {
  start: number;
  end: number;
  label: string;
}

export const exactMatch: PairScore<Interval> = (a, b) => (a.start === b.start && a.end === b.end && a.label === b.label ? 1 : null);

export const overlapLength = (a: Interval, b: Interval): number => Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));

export const overlapMatch: PairScore<Interval> = (a, b) => {
  if (a.label !== b.label) return null;
  const o = overlapLength(a, b);
  return o > 0 ? o : null;
};

export function intervalIoU(a: Interval, b: Interval): number {
  const inter = overlapLength(a, b);
  const union = a.end - a.start + (b.end - b.start) - inter;
  return union > 0 ? inter / union : 0;
}

export interface IntervalAgreement {
  pairs: number;
  f1: { exact: number | null; overlap: number | null };
}

/**
 * `pairs` counts the annotator pairs with at least one interval between them; it is the same for
 * both rules (it depends on the counts, not on the matching).
 */
export function intervalAgreement<I extends Interval>(answers: readonly RegionAnswer<I>[]): IntervalAgreement {
  const exact = pairwiseF1(answers, exactMatch);
  const overlap = pairwiseF1(answers, overlapMatch);
  return { pairs: exact.pairs, f1: { exact: exact.f1, overlap: overlap.f1 } };
}

/** Clustering rule for consensus: same label and IoU ≥ 0.5 (as for boxes). */
export const clusterMatch: PairScore<Interval> = (a, b) => {
  if (a.label !== b.label) return null;
  const v = intervalIoU(a, b);
  return v >= 0.5 ? v : null;
};

/** The mean start and end of a cluster's intervals (they share a label). */
export function fuseIntervals(members: readonly Interval[]): Interval {
  return {
    start: members.reduce((s, m) => s + m.start, 0) / members.length,
    end: members.reduce((s, m) => s + m.end, 0) / members.length,
    label: members[0].label,
  };
}

export function intervalConsensus(answers: ReadonlyArray<{ annotator: string; regions: readonly Interval[] }>): RegionConsensus<Interval> {
  return regionConsensus(answers, clusterMatch, fuseIntervals, intervalIoU);
}
