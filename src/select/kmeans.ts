import { mulberry32, sampleIndices } from '../core/rng.ts';
import { selectRows, type Features } from '../probe/features.ts';
import { sqDist } from './distance.ts';

export interface KMeansResult {
  centroids: Features;
  assignment: Int32Array;
  /** Sum of squared distances to the assigned centroid. */
  inertia: number;
  iterations: number;
}

export interface KMeansOptions {
  seed: number;
  maxIter?: number;
  /**
   * Fit on at most this many rows drawn without replacement (seeded), then assign every row to
   * the nearest fitted centroid in one pass. Lloyd's costs n·k·d per iteration: 60,000 × 300 × 512
   * took ~45 minutes on one core; fitting on 10,000 rows costs a sixth per iteration.
   */
  sample?: number;
}

/** Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), seeded; optionally fitted on a sample. */
export function kmeans(x: Features, k: number, opts: KMeansOptions): KMeansResult {
  if (opts.sample !== undefined && opts.sample < x.rows) {
    const m = Math.max(Math.min(k, x.rows), Math.floor(opts.sample));
    const fit = lloyd(selectRows(x, sampleIndices(x.rows, m, mulberry32(opts.seed ^ 0x5eed))), k, opts);
    const { assignment, inertia } = nearestCentroids(x, fit.centroids);
    return { centroids: fit.centroids, assignment, inertia, iterations: fit.iterations };
  }
  return lloyd(x, k, opts);
}

/** Each row's nearest centroid (the first on ties), its squared distance to it, and their sum. */
export function nearestCentroids(x: Features, centroids: Features): { assignment: Int32Array; dist: Float64Array; inertia: number } {
  const assignment = new Int32Array(x.rows);
  const dist = new Float64Array(x.rows);
  let inertia = 0;
  for (let i = 0; i < x.rows; i++) {
    let best = 0;
    let bd = Infinity;
    for (let j = 0; j < centroids.rows; j++) {
      const dd = sqDist(x, i, centroids, j);
      if (dd < bd) {
        bd = dd;
        best = j;
      }
    }
    assignment[i] = best;
    dist[i] = bd;
    inertia += bd;
  }
  return { assignment, dist, inertia };
}

function lloyd(x: Features, k: number, opts: KMeansOptions): KMeansResult {
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
  let assignment: Int32Array = new Int32Array(n);
  let inertia = 0;
  let it = 0;
  for (; it < (opts.maxIter ?? 50); it++) {
    const next = nearestCentroids(x, centroids);
    let changed = 0;
    for (let i = 0; i < n; i++) if (next.assignment[i] !== assignment[i]) changed++;
    assignment = next.assignment;
    inertia = next.inertia;
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
