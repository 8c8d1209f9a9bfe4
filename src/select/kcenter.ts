import { mulberry32 } from '../core/rng.ts';
import type { Features } from '../probe/features.ts';
import { sqDist } from './distance.ts';
import type { Strategy } from './types.ts';

/**
 * Greedy k-center (core-set, Sener & Savarese 2018): repeatedly take the candidate farthest from
 * everything chosen or already labelled. A 2-approximation of the optimal covering radius
 * (Gonzalez 1985). With nothing labelled, the first center is a seeded random candidate.
 */
export const kCenterGreedy: Strategy = (pool, k, ctx) => {
  const x = pool.embeddings;
  if (!x) throw new Error('k-center greedy needs embeddings for the pool');
  const n = x.rows;
  const minD = new Float64Array(n).fill(Infinity);
  if (ctx.labelled && ctx.labelled.rows > 0) updateFrom(minD, x, ctx.labelled);
  const chosen: number[] = [];
  if (!ctx.labelled || ctx.labelled.rows === 0) {
    const first = Math.floor(mulberry32(ctx.seed)() * n);
    chosen.push(first);
    updateOne(minD, x, first);
  }
  while (chosen.length < Math.min(k, n)) {
    let best = -1;
    for (let i = 0; i < n; i++) if (best < 0 || minD[i] > minD[best]) best = i;
    if (minD[best] === 0 && chosen.includes(best)) break;
    chosen.push(best);
    updateOne(minD, x, best);
  }
  return chosen.map((i) => pool.ids[i]);
};

function updateOne(minD: Float64Array, x: Features, c: number) {
  for (let i = 0; i < x.rows; i++) minD[i] = Math.min(minD[i], sqDist(x, i, x, c));
}

function updateFrom(minD: Float64Array, x: Features, centers: Features) {
  for (let c = 0; c < centers.rows; c++) for (let i = 0; i < x.rows; i++) minD[i] = Math.min(minD[i], sqDist(x, i, centers, c));
}

/** The covering radius of `centers` over `x` (max over points of the distance to the nearest center). */
export function coveringRadius(x: Features, centers: number[]): number {
  let r = 0;
  for (let i = 0; i < x.rows; i++) {
    let m = Infinity;
    for (const c of centers) m = Math.min(m, sqDist(x, i, x, c));
    r = Math.max(r, m);
  }
  return Math.sqrt(r);
}
