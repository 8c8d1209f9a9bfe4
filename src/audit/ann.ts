import { createRequire } from 'node:module';

/**
 * Approximate nearest neighbours under cosine distance (1 − cos θ), behind one small interface,
 * with two HNSW implementations (Malkov & Yashunin 2018) and an exact one for reference:
 *
 * - `usearch` (Unum, 2.21): batch add and search, multi-threaded in native code;
 * - `hnswlib-node` (3.0, the original hnswlib): one point per call, from plain JS arrays;
 * - `exact`: brute force, O(n²) — for small sets and to measure the others' recall.
 *
 * bench/audit-ann.ts measures build time, query time and recall@k of both on the same vectors;
 * the default (DEFAULT_ANN) is the one the numbers favour.
 */
export interface AnnIndex {
  readonly backend: AnnBackend;
  /** k nearest neighbours of every row of `queries` (row-major, dim wide): n×k indices (−1 when fewer) and cosine distances. */
  search(queries: Float32Array, k: number): { indices: Int32Array; distances: Float32Array };
  dispose(): void;
}

export const ANN_BACKENDS = ['usearch', 'hnswlib', 'exact'] as const;
export type AnnBackend = (typeof ANN_BACKENDS)[number];
/**
 * usearch: the same recall as hnswlib-node in bench/audit-ann.ts, but it builds and searches in
 * batches on every core (about twice as fast on 2 cores). Its threaded build is not bit-for-bit
 * reproducible; `hnswlib` is, when that matters.
 */
export const DEFAULT_ANN: AnnBackend = 'usearch';

export interface AnnOptions {
  /** HNSW graph degree M (default 16). */
  connectivity?: number;
  /** Candidate list size while building (default 128) and searching (default 64, raised to ≥ 2k). */
  efConstruction?: number;
  efSearch?: number;
  seed?: number;
  /** usearch threads (0 = all cores). */
  threads?: number;
}

const require = createRequire(import.meta.url);

/** Builds an index over the rows of `vectors` (keys 0…n−1). */
export function buildAnnIndex(backend: AnnBackend, vectors: Float32Array, dim: number, opts: AnnOptions = {}): AnnIndex {
  if (dim <= 0 || vectors.length % dim !== 0) throw new Error(`ann: ${vectors.length} values is not a whole number of ${dim}-wide vectors`);
  switch (backend) {
    case 'usearch':
      return usearchIndex(vectors, dim, opts);
    case 'hnswlib':
      return hnswlibIndex(vectors, dim, opts);
    case 'exact':
      return exactIndex(vectors, dim);
  }
}

function usearchIndex(vectors: Float32Array, dim: number, opts: AnnOptions): AnnIndex {
  const usearch = require('usearch') as typeof import('usearch');
  const n = vectors.length / dim;
  const index = new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind.F32,
    connectivity: opts.connectivity ?? 16,
    expansion_add: opts.efConstruction ?? 128,
    expansion_search: opts.efSearch ?? 64,
    multi: false,
  });
  if (n > 0) index.add(BigUint64Array.from({ length: n }, (_, i) => BigInt(i)), vectors, opts.threads ?? 0);
  return {
    backend: 'usearch',
    search(queries, k) {
      const q = queries.length / dim;
      const indices = new Int32Array(q * k).fill(-1);
      const distances = new Float32Array(q * k).fill(Infinity);
      if (q === 0 || n === 0) return { indices, distances };
      const r = index.search(queries, k, opts.threads ?? 0) as unknown as { keys: BigUint64Array; distances: Float32Array; counts: BigUint64Array };
      for (let i = 0; i < q; i++) {
        const c = Number(r.counts[i]);
        for (let j = 0; j < c; j++) {
          indices[i * k + j] = Number(r.keys[i * k + j]);
          distances[i * k + j] = r.distances[i * k + j];
        }
      }
      return { indices, distances };
    },
    dispose() {},
  };
}

function hnswlibIndex(vectors: Float32Array, dim: number, opts: AnnOptions): AnnIndex {
  const { HierarchicalNSW } = require('hnswlib-node') as typeof import('hnswlib-node');
  const n = vectors.length / dim;
  const index = new HierarchicalNSW('cosine', dim);
  index.initIndex({ maxElements: Math.max(1, n), m: opts.connectivity ?? 16, efConstruction: opts.efConstruction ?? 128, randomSeed: opts.seed ?? 100 });
  const row = new Array<number>(dim);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < dim; t++) row[t] = vectors[i * dim + t];
    index.addPoint(row, i);
  }
  return {
    backend: 'hnswlib',
    search(queries, k) {
      const q = queries.length / dim;
      const indices = new Int32Array(q * k).fill(-1);
      const distances = new Float32Array(q * k).fill(Infinity);
      if (n === 0) return { indices, distances };
      index.setEf(Math.max(opts.efSearch ?? 64, 2 * k));
      const kk = Math.min(k, n);
      for (let i = 0; i < q; i++) {
        for (let t = 0; t < dim; t++) row[t] = queries[i * dim + t];
        const r = index.searchKnn(row, kk);
        // hnswlib returns nearest first.
        for (let j = 0; j < r.neighbors.length; j++) {
          indices[i * k + j] = r.neighbors[j];
          distances[i * k + j] = r.distances[j];
        }
      }
      return { indices, distances };
    },
    dispose() {},
  };
}

function exactIndex(vectors: Float32Array, dim: number): AnnIndex {
  const n = vectors.length / dim;
  const unit = normalizeRows(vectors, dim);
  return {
    backend: 'exact',
    search(queries, k) {
      const q = queries.length / dim;
      const uq = normalizeRows(queries, dim);
      const indices = new Int32Array(q * k).fill(-1);
      const distances = new Float32Array(q * k).fill(Infinity);
      for (let i = 0; i < q; i++) {
        // Keep the k best in a small sorted list (k is small).
        const bestD = distances.subarray(i * k, (i + 1) * k);
        const bestI = indices.subarray(i * k, (i + 1) * k);
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let t = 0; t < dim; t++) dot += uq[i * dim + t] * unit[j * dim + t];
          const d = 1 - dot;
          if (d >= bestD[k - 1]) continue;
          let p = k - 1;
          while (p > 0 && bestD[p - 1] > d) {
            bestD[p] = bestD[p - 1];
            bestI[p] = bestI[p - 1];
            p--;
          }
          bestD[p] = d;
          bestI[p] = j;
        }
      }
      return { indices, distances };
    },
    dispose() {},
  };
}

export function normalizeRows(v: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let o = 0; o < v.length; o += dim) {
    let s = 0;
    for (let t = 0; t < dim; t++) s += v[o + t] * v[o + t];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < dim; t++) out[o + t] = v[o + t] * inv;
  }
  return out;
}

/**
 * Each row's k nearest other rows (self removed): the basis of embedding near-duplicates and
 * kNN-distance outliers. Asks the index for k + 1 and drops the row itself wherever it appears
 * (or the farthest, when an exact duplicate displaced it).
 */
export function selfKnn(index: AnnIndex, vectors: Float32Array, dim: number, k: number): { indices: Int32Array; distances: Float32Array } {
  const n = vectors.length / dim;
  const r = index.search(vectors, k + 1);
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  for (let i = 0; i < n; i++) {
    let w = 0;
    for (let j = 0; j <= k && w < k; j++) {
      const id = r.indices[i * (k + 1) + j];
      if (id === i || id < 0) continue;
      indices[i * k + w] = id;
      distances[i * k + w] = Math.max(0, r.distances[i * (k + 1) + j]);
      w++;
    }
  }
  return { indices, distances };
}
