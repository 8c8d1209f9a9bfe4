import { mulberry32 } from '../core/rng.ts';
import type { Features } from '../probe/features.ts';
import { sqDist } from './distance.ts';

export interface KMeansResult {
  centroids: Features;
  assignment: Int32Array;
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  iterations: number;
}

/** Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), seeded. */
export function kmeans(x: Features, k: number, opts: { seed: number; maxIter?: number }): KMeansResult {
  const rand = mulberry32(opts.seed);
  const n = x.rows;
  const d = x.dim;
  k = Math.max(1, Math.min(k, n));
  const centroids: Features = { rows: k, dim: d, data: new Float32Array(k * d) };
  // k-means++: each next seed drawn with probability ∝ squared distance to the nearest seed.
  const minD = new Float64Array(n).fill(Infinity);
  let c = Math.floor(rand() * n);
  for (let j = 0; j < k; j++) {
    centroids.data.set(x.data.subarray(c * d, (c + 1) * d), j * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      minD[i] = Math.min(minD[i], sqDist(x, i, centroids, j));
      total += minD[i];
    }
    if (total === 0) break;
    let r = rand() * total;
    for (c = 0; c < n - 1 && (r -= minD[c]) > 0; c++);
  }
  const assignment = new Int32Array(n);
  let inertia = 0;
  let it = 0;
  for (; it < (opts.maxIter ?? 50); it++) {
    let changed = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bd = Infinity;
      for (let j = 0; j < k; j++) {
        const dd = sqDist(x, i, centroids, j);
        if (dd < bd) {
          bd = dd;
          best = j;
        }
      }
      if (assignment[i] !== best || it === 0) changed++;
      assignment[i] = best;
      inertia += bd;
    }
    if (changed === 0 && it > 0) break;
    const sums = new Float64Array(k * d);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      counts[assignment[i]]++;
      for (let t = 0; t < d; t++) sums[assignment[i] * d + t] += x.data[i * d + t];
    }
    for (let j = 0; j < k; j++) if (counts[j] > 0) for (let t = 0; t < d; t++) centroids.data[j * d + t] = sums[j * d + t] / counts[j];
  }
  return { centroids, assignment, inertia, iterations: it + 1 };
}
