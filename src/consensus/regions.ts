import { byCodeUnit } from './encode.ts';
import { maxMatching, type Match } from './hungarian.ts';

/**
 * What spans, boxes and segments share: labelled regions of an item, matched one-to-one between
 * two annotators, and clustered across annotators for consensus. The kinds differ only in how
 * two regions score (spans.ts, boxes.ts, segments.ts).
 */
export interface Labelled {
  label: string;
}

/** One annotator's regions on one item (an empty list: they marked nothing). */
export interface RegionAnswer<R> {
  item: string;
  annotator: string;
  regions: readonly R[];
}

/** How well two regions match: a weight ≥ 0, or null when they may not be matched at all. */
export type PairScore<R> = (a: R, b: R) => number | null;

/** The best one-to-one matching of a's regions to b's: most pairs, then the largest total score. */
export function matchRegions<R>(a: readonly R[], b: readonly R[], score: PairScore<R>): Match[] {
  if (a.length === 0 || b.length === 0) return [];
  return maxMatching(a.map((x) => b.map((y) => score(x, y))));
}

export interface PairF1 {
  a: string;
  b: string;
  /** Items both annotated. */
  items: number;
  matches: number;
  aRegions: number;
  bRegions: number;
  /** 2·matches / (aRegions + bRegions); null when neither marked anything on their common items. */
  f1: number | null;
}

export interface PairwiseF1 {
  /** Annotator pairs with at least one region between them on the items both annotated. */
  pairs: number;
  /** Mean of the pairs' F1; null when no pair has a region. */
  f1: number | null;
  perPair: PairF1[];
  /** The score of every matched pair, pooled over annotator pairs (e.g. IoU of matched boxes). */
  matched: number[];
}

/** item → annotator → regions (an annotator's several answers on one item are joined). */
export function byItem<R>(answers: readonly RegionAnswer<R>[]): Map<string, Map<string, R[]>> {
  const out = new Map<string, Map<string, R[]>>();
  for (const a of answers) {
    let m = out.get(a.item);
    if (!m) out.set(a.item, (m = new Map()));
    const list = m.get(a.annotator) ?? [];
    list.push(...a.regions);
    m.set(a.annotator, list);
  }
  return out;
}

/**
 * Pairwise F1 between annotators (Hripcsak & Rothschild 2005, "Agreement, the F-measure, and
 * reliability in information retrieval", JAMIA 12(3)): with one annotator as the reference and
 * the other as the system, F1 = 2·TP / (2·TP + FP + FN) = 2·matches / (A's regions + B's regions),
 * symmetric in A and B, and needing no count of true negatives (which regions have no natural
 * number of). For each pair of annotators the counts are summed over the items both annotated;
 * the result is the mean over the pairs that have at least one region between them.
 */
export function pairwiseF1<R>(answers: readonly RegionAnswer<R>[], score: PairScore<R>): PairwiseF1 {
  const items = byItem(answers);
  const annotators = [...new Set(answers.map((a) => a.annotator))].sort(byCodeUnit);
  const perPair: PairF1[] = [];
  const matched: number[] = [];
  for (let x = 0; x < annotators.length; x++) {
    for (let y = x + 1; y < annotators.length; y++) {
      const p: PairF1 = { a: annotators[x], b: annotators[y], items: 0, matches: 0, aRegions: 0, bRegions: 0, f1: null };
      for (const byAnn of items.values()) {
        const ra = byAnn.get(p.a);
        const rb = byAnn.get(p.b);
        if (!ra || !rb) continue;
        p.items++;
        p.aRegions += ra.length;
        p.bRegions += rb.length;
        const m = matchRegions(ra, rb, score);
        p.matches += m.length;
        for (const e of m) matched.push(e.w);
      }
      if (p.aRegions + p.bRegions > 0) p.f1 = (2 * p.matches) / (p.aRegions + p.bRegions);
      perPair.push(p);
    }
  }
  const counted = perPair.filter((p) => p.f1 !== null);
  return { pairs: counted.length, f1: counted.length ? counted.reduce((s, p) => s + p.f1!, 0) / counted.length : null, perPair, matched };
}

export interface Member<R> {
  annotator: string;
  region: R;
}

export interface Cluster<R> {
  members: Member<R>[];
  /** The members fused into one region. */
  fused: R;
}

/**
 * Clusters one item's regions across annotators, at most one region per annotator in a cluster.
 * Annotators are taken in code-unit order of their names (so the result does not depend on the
 * order answers arrive in); each one's regions are matched one-to-one to the clusters so far
 * (matchRegions against each cluster's fused region: most pairs, then the best total score), a
 * matched region joins its cluster (which is fused again), an unmatched one starts a cluster.
 */
export function clusterRegions<R>(answers: ReadonlyArray<{ annotator: string; regions: readonly R[] }>, score: PairScore<R>, fuse: (members: readonly R[]) => R): Cluster<R>[] {
  const clusters: Cluster<R>[] = [];
  for (const a of [...answers].sort((x, y) => byCodeUnit(x.annotator, y.annotator))) {
    const m = matchRegions(a.regions, clusters.map((c) => c.fused), score);
    const taken = new Set<number>();
    for (const e of m) {
      const c = clusters[e.j];
      c.members.push({ annotator: a.annotator, region: a.regions[e.i] });
      c.fused = fuse(c.members.map((x) => x.region));
      taken.add(e.i);
    }
    a.regions.forEach((r, i) => {
      if (!taken.has(i)) clusters.push({ members: [{ annotator: a.annotator, region: r }], fused: r });
    });
  }
  return clusters;
}

/** Weighted mean of numbers (weights > 0). */
export const weightedMean = (xs: readonly number[], ws: readonly number[]): number => {
  let s = 0;
  let t = 0;
  xs.forEach((x, i) => {
    s += x * ws[i];
    t += ws[i];
  });
  return s / t;
};

export interface ClusterSummary<R> {
  fused: R;
  annotators: string[];
  /** Mean IoU of the members with the fused region. */
  meanIoU: number;
  kept: boolean;
}

export interface RegionConsensus<R> {
  /** The kept clusters' fused regions, in cluster order. */
  regions: R[];
  /**
   * The least confident decision: a kept cluster's share of annotators × its members' mean IoU
   * with the fused region; a dropped cluster's share of annotators who did not draw it.
   * 1 when nobody drew anything.
   */
  confidence: number;
  /** Every cluster has a region from every annotator (nothing unmatched). */
  unanimous: boolean;
  clusters: ClusterSummary<R>[];
}

/**
 * Consensus of regions by clustering (clusterRegions): a cluster is kept when at least half of
 * the annotators who answered drew a region in it, and its members are fused into one region.
 */
export function regionConsensus<R extends Labelled>(
  answers: ReadonlyArray<{ annotator: string; regions: readonly R[] }>,
  score: PairScore<R>,
  fuse: (members: readonly R[]) => R,
  iou: (a: R, b: R) => number,
): RegionConsensus<R> {
  const n = new Set(answers.map((a) => a.annotator)).size;
  const clusters = clusterRegions(answers, score, fuse);
  let confidence = 1;
  const summary = clusters.map((c): ClusterSummary<R> => {
    const share = c.members.length / n;
    const kept = c.members.length * 2 >= n;
    const meanIoU = c.members.reduce((s, m) => s + iou(m.region, c.fused), 0) / c.members.length;
    confidence = Math.min(confidence, kept ? share * meanIoU : 1 - share);
    return { fused: c.fused, annotators: c.members.map((m) => m.annotator), meanIoU, kept };
  });
  return { regions: summary.filter((c) => c.kept).map((c) => c.fused), confidence, unanimous: clusters.every((c) => c.members.length === n), clusters: summary };
}
