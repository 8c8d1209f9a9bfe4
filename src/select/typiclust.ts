import type { Features } from '../probe/features.ts';
import { sqDist } from './distance.ts';
import { kmeans } from './kmeans.ts';
import type { Strategy } from './types.ts';

/** Pools above this many items (and 20 per cluster) fit k-means on a seeded sample of that size. */
export const FIT_SAMPLE = 10_000;

/**
 * Cold start without a model — TypiClust (Hacohen et al. 2022): cluster the pool into
 * (labelled + k) clusters, and from each of the largest clusters not yet covered by a labelled
 * item take its most *typical* point: typicality = 1 / mean distance to its 20 nearest
 * neighbours inside the cluster. Picks representative, diverse items for round 0.
 */
export const typiclust: Strategy = (pool, k, ctx) => {
  const x = pool.embeddings;
  if (!x) throw new Error('TypiClust needs embeddings for the pool');
  const labelled = ctx.labelled?.rows ?? 0;
  const clusters = Math.min(x.rows, labelled + k);
  // Large pools: centroids fitted on a sample, every item assigned (kmeans.ts `sample`).
  const { assignment, centroids } = kmeans(x, clusters, { seed: ctx.seed, sample: Math.max(FIT_SAMPLE, 20 * clusters) });
  const members: number[][] = Array.from({ length: centroids.rows }, () => []);
  assignment.forEach((c, i) => members[c].push(i));
  const covered = new Set<number>();
  if (ctx.labelled) {
    for (let l = 0; l < ctx.labelled.rows; l++) {
      let best = 0;
      for (let j = 1; j < centroids.rows; j++) if (sqDist(ctx.labelled, l, centroids, j) < sqDist(ctx.labelled, l, centroids, best)) best = j;
      covered.add(best);
    }
  }
  const order = members.map((m, c) => ({ c, size: m.length })).filter((o) => o.size > 0 && !covered.has(o.c)).sort((a, b) => b.size - a.size || a.c - b.c);
  const chosen: number[] = [];
  for (const { c } of order) {
    if (chosen.length >= k) break;
    chosen.push(mostTypical(x, members[c]));
  }
  // Fewer uncovered clusters than k: fill with the next most typical points of the largest clusters.
  for (const { c } of order) {
    if (chosen.length >= k) break;
    const rest = members[c].filter((i) => !chosen.includes(i));
    if (rest.length) chosen.push(mostTypical(x, rest));
  }
  return chosen.map((i) => pool.ids[i]);
};

export function mostTypical(x: Features, idx: number[], knn = 20): number {
  let best = idx[0];
  let bestT = -Infinity;
  for (const i of idx) {
    const ds = idx.filter((j) => j !== i).map((j) => Math.sqrt(sqDist(x, i, x, j)));
    ds.sort((a, b) => a - b);
    const near = ds.slice(0, Math.min(knn, ds.length));
    const t = near.length ? 1 / (near.reduce((a, b) => a + b, 0) / near.length + 1e-12) : 0;
    if (t > bestT) {
      bestT = t;
      best = i;
    }
  }
  return best;
}
