import { pairwiseF1, regionConsensus, weightedMean, type PairScore, type RegionAnswer, type RegionConsensus } from './regions.ts';

/**
 * Bounding boxes: agreement by IoU matching and consensus by IoU clustering.
 *
 * IoU (intersection over union, the Jaccard index of the two rectangles) as in the PASCAL VOC
 * challenge (Everingham et al. 2010, IJCV 88): two boxes of the same label match when
 * IoU ≥ 0.5. Between two annotators the matching is one-to-one and optimal (hungarian.ts: the
 * most matched pairs, then the largest total IoU), F1 = 2·matches / (A's boxes + B's boxes) per
 * annotator pair (Hripcsak & Rothschild 2005, regions.ts), and `meanIoU` is the mean IoU of every
 * matched pair, pooled over annotator pairs.
 *
 * Consensus: boxes are clustered across annotators (regions.ts clusterRegions, IoU ≥ 0.5, same
 * label), a cluster is kept when at least half the annotators drew it, and its boxes are fused by
 * the confidence-weighted mean of their coordinates — weighted boxes fusion (Solovyev, Wang &
 * Gabruseva 2021, "Weighted boxes fusion", Image and Vision Computing 107): x = Σ sᵢxᵢ / Σ sᵢ
 * (likewise y, w, h), with sᵢ a box's `score` (a model's confidence) or 1 for a person's box.
 */
export interface Box {
  /** Left, top, width, height in source pixels. */
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
  /** A prediction's confidence in (0, 1]; a person's box has none (weight 1). */
  score?: number;
}

export const MATCH_IOU = 0.5;

export function boxIoU(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/** Same label and IoU ≥ 0.5: the IoU; else no match. */
export const boxMatch: PairScore<Box> = (a, b) => {
  if (a.label !== b.label) return null;
  const v = boxIoU(a, b);
  return v >= MATCH_IOU ? v : null;
};

export interface BoxAgreement {
  pairs: number;
  f1At50: number | null;
  meanIoU: number | null;
}

export function boxAgreement(answers: readonly RegionAnswer<Box>[]): BoxAgreement {
  const r = pairwiseF1(answers, boxMatch);
  return { pairs: r.pairs, f1At50: r.f1, meanIoU: r.matched.length ? r.matched.reduce((s, x) => s + x, 0) / r.matched.length : null };
}

/** Weighted boxes fusion of one cluster (members share a label). */
export function fuseBoxes(members: readonly Box[]): Box {
  const ws = members.map((b) => b.score ?? 1);
  return {
    x: weightedMean(members.map((b) => b.x), ws),
    y: weightedMean(members.map((b) => b.y), ws),
    w: weightedMean(members.map((b) => b.w), ws),
    h: weightedMean(members.map((b) => b.h), ws),
    label: members[0].label,
  };
}

export function boxConsensus(answers: ReadonlyArray<{ annotator: string; regions: readonly Box[] }>): RegionConsensus<Box> {
  return regionConsensus(answers, boxMatch, fuseBoxes, boxIoU);
}
