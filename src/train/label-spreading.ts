import type { Features } from '../probe/features.ts';

/**
 * Label spreading over a kNN graph (Zhou et al. 2004, "Learning with local and global
 * consistency"), in the form Iscen et al. 2019 use for semi-supervised deep learning:
 * affinities w_ij = max(0, cos(x_i, x_j))^γ to each row's k nearest neighbours, W ← W + Wᵀ,
 * S = D^{-1/2} W D^{-1/2}, and F ← αSF + (1 − α)Y iterated from F = Y, where Y holds one-hot rows
 * for the labelled items and zeros elsewhere. Row i of F normalised is the spread class
 * distribution; its certainty 1 − H(F_i)/ln C weighs i as a pseudo-label.
 */
export interface KnnGraph {
  rows: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

/** Symmetric kNN graph over L2-normalised rows (cosine = dot product); brute force, O(n²d). */
export function knnGraph(x: Features, k: number, gamma = 3): KnnGraph {
  const n = x.rows;
  const d = x.dim;
  const edges: Array<Map<number, number>> = new Array(n);
  for (let i = 0; i < n; i++) edges[i] = new Map();
  const sims = new Float32Array(n);
  const kk = Math.min(k, n - 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j === i) {
        sims[j] = -Infinity;
        continue;
      }
      let s = 0;
      for (let t = 0; t < d; t++) s += x.data[i * d + t] * x.data[j * d + t];
      sims[j] = s;
    }
    for (const j of topK(sims, kk)) {
      const w = Math.pow(Math.max(0, sims[j]), gamma);
      if (w <= 0) continue;
      edges[i].set(j, Math.max(edges[i].get(j) ?? 0, w));
      edges[j].set(i, Math.max(edges[j].get(i) ?? 0, w));
    }
  }
  const indptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) indptr[i + 1] = indptr[i] + edges[i].size;
  const indices = new Int32Array(indptr[n]);
  const weights = new Float32Array(indptr[n]);
  for (let i = 0; i < n; i++) {
    let p = indptr[i];
    for (const [j, w] of [...edges[i].entries()].sort((a, b) => a[0] - b[0])) {
      indices[p] = j;
      weights[p++] = w;
    }
  }
  return { rows: n, indptr, indices, weights };
}

/** Indices of the k largest values (unordered). */
function topK(v: Float32Array, k: number): number[] {
  const heap: number[] = [];
  for (let j = 0; j < v.length; j++) {
    if (heap.length < k) {
      heap.push(j);
      if (heap.length === k) heap.sort((a, b) => v[a] - v[b]);
    } else if (v[j] > v[heap[0]]) {
      heap[0] = j;
      // Keep ascending order by one insertion pass.
      for (let t = 0; t + 1 < heap.length && v[heap[t]] > v[heap[t + 1]]; t++) [heap[t], heap[t + 1]] = [heap[t + 1], heap[t]];
    }
  }
  return heap;
}

export interface SpreadResult {
  /** rows × classes, each row a distribution (uniform where nothing reached it). */
  probs: Float64Array;
  /** 1 − H(F_i)/ln C, in [0, 1] (0 where nothing reached it). */
  certainty: Float64Array;
}

export function labelSpreading(g: KnnGraph, labelled: ArrayLike<number>, y: ArrayLike<number>, classes: number, opts: { alpha?: number; iterations?: number } = {}): SpreadResult {
  const alpha = opts.alpha ?? 0.99;
  const n = g.rows;
  const C = classes;
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) deg[i] += g.weights[p];
  const inv = Float64Array.from(deg, (v) => (v > 0 ? 1 / Math.sqrt(v) : 0));
  const Y = new Float64Array(n * C);
  for (let t = 0; t < labelled.length; t++) Y[labelled[t] * C + y[t]] = 1;
  let F = Y.slice();
  let next = new Float64Array(n * C);
  for (let it = 0; it < (opts.iterations ?? 20); it++) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < C; c++) next[i * C + c] = (1 - alpha) * Y[i * C + c];
      for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) {
        const j = g.indices[p];
        const s = alpha * g.weights[p] * inv[i] * inv[j];
        for (let c = 0; c < C; c++) next[i * C + c] += s * F[j * C + c];
      }
    }
    [F, next] = [next, F];
  }
  const probs = new Float64Array(n * C);
  const certainty = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.max(0, F[i * C + c]);
    if (s <= 0) {
      for (let c = 0; c < C; c++) probs[i * C + c] = 1 / C;
      continue;
    }
    let h = 0;
    for (let c = 0; c < C; c++) {
      const p = Math.max(0, F[i * C + c]) / s;
      probs[i * C + c] = p;
      if (p > 0) h -= p * Math.log(p);
    }
    certainty[i] = C > 1 ? 1 - h / Math.log(C) : 1;
  }
  return { probs, certainty };
}
