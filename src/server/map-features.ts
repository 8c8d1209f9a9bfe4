import { jacobiEigen } from '../monitor/pca.ts';
import { mulberry32 } from '../core/rng.ts';

/**
 * Features for the embedding map when a project has no embedding model yet: latent semantic
 * analysis of the TF-IDF matrix — a truncated SVD by the randomized range finder (Halko,
 * Martinsson & Tropp, "Finding structure with randomness", SIAM Review 2011, alg. 4.4 with
 * power iterations) — so UMAP sees topics rather than nearly orthogonal sparse rows. Rows of
 * the result are L2-normalised. Sparse-aware: TF-IDF rows have a few dozen non-zeros.
 */
export function lsa(data: Float32Array, rows: number, dim: number, k: number, seed: number, powerIters = 2): { data: Float32Array; dim: number } {
  const l = Math.min(k + 10, dim, rows);
  const kk = Math.min(k, l);
  // CSR of X.
  const ptr = new Int32Array(rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dim; j++) {
      const v = data[r * dim + j];
      if (v !== 0) {
        idx.push(j);
        val.push(v);
      }
    }
    ptr[r + 1] = idx.length;
  }
  /** X (rows×dim) · M (dim×l) → rows×l. */
  const xTimes = (M: Float64Array) => {
    const out = new Float64Array(rows * l);
    for (let r = 0; r < rows; r++)
      for (let p = ptr[r]; p < ptr[r + 1]; p++) {
        const v = val[p];
        const o = idx[p] * l;
        for (let c = 0; c < l; c++) out[r * l + c] += v * M[o + c];
      }
    return out;
  };
  /** Xᵀ (dim×rows) · M (rows×l) → dim×l. */
  const xtTimes = (M: Float64Array) => {
    const out = new Float64Array(dim * l);
    for (let r = 0; r < rows; r++)
      for (let p = ptr[r]; p < ptr[r + 1]; p++) {
        const v = val[p];
        const o = idx[p] * l;
        for (let c = 0; c < l; c++) out[o + c] += v * M[r * l + c];
      }
    return out;
  };
  const rand = mulberry32(seed);
  const omega = new Float64Array(dim * l);
  for (let i = 0; i < omega.length; i++) omega[i] = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  let Y = xTimes(omega);
  orthonormalize(Y, rows, l);
  for (let q = 0; q < powerIters; q++) {
    const Z = xtTimes(Y);
    orthonormalize(Z, dim, l);
    Y = xTimes(Z);
    orthonormalize(Y, rows, l);
  }
  // B = Qᵀ X (l×dim), via (Xᵀ Q)ᵀ; then B Bᵀ = U Σ² Uᵀ and X ≈ Q U Σ Vᵀ: row coordinates Q U Σ.
  const Bt = xtTimes(Y);
  const BBt = Array.from({ length: l }, () => new Float64Array(l));
  for (let a = 0; a < l; a++)
    for (let b = a; b < l; b++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += Bt[j * l + a] * Bt[j * l + b];
      BBt[a][b] = BBt[b][a] = s;
    }
  const { values, vectors } = jacobiEigen(BBt);
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]).slice(0, kk);
  const out = new Float32Array(rows * kk);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let c = 0; c < kk; c++) {
      const [, e] = order[c];
      let s = 0;
      for (let t = 0; t < l; t++) s += Y[r * l + t] * vectors[t][e];
      // Q U gives unit-variance directions; × σ weighs them by importance.
      s *= Math.sqrt(Math.max(0, order[c][0]));
      out[r * kk + c] = s;
      norm += s * s;
    }
    if (norm > 0) for (let c = 0; c < kk; c++) out[r * kk + c] /= Math.sqrt(norm);
  }
  return { data: out, dim: kk };
}

/** Modified Gram–Schmidt on the columns of a row-major n×m matrix (in place). */
function orthonormalize(A: Float64Array, n: number, m: number): void {
  for (let c = 0; c < m; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += A[r * m + c] * A[r * m + p];
      for (let r = 0; r < n; r++) A[r * m + c] -= dot * A[r * m + p];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += A[r * m + c] ** 2;
    norm = Math.sqrt(norm);
    for (let r = 0; r < n; r++) A[r * m + c] = norm > 1e-12 ? A[r * m + c] / norm : 0;
  }
}
