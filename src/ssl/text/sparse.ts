import type { Features } from '../../probe/features.ts';

/**
 * A sparse row-major matrix (CSR): row r's entries are `indices[indptr[r] … indptr[r+1])` with
 * their `values`. TF-IDF over word and character n-grams has ~10⁵ columns and ~10² entries a row,
 * so everything that touches it (the linear head, random projection) walks the entries only.
 */
export interface Csr {
  rows: number;
  dim: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** A dense matrix as CSR (zeros dropped). */
export function csrFromDense(f: Features): Csr {
  const indptr = new Int32Array(f.rows + 1);
  let nnz = 0;
  for (let i = 0; i < f.data.length; i++) if (f.data[i] !== 0) nnz++;
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < f.rows; r++) {
    for (let j = 0; j < f.dim; j++) {
      const v = f.data[r * f.dim + j];
      if (v !== 0) {
        indices[k] = j;
        values[k++] = v;
      }
    }
    indptr[r + 1] = k;
  }
  return { rows: f.rows, dim: f.dim, indptr, indices, values };
}

/** Rows `idx` of `m`, in that order. */
export function csrRows(m: Csr, idx: ArrayLike<number>): Csr {
  let nnz = 0;
  for (let i = 0; i < idx.length; i++) nnz += m.indptr[idx[i] + 1] - m.indptr[idx[i]];
  const indptr = new Int32Array(idx.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let i = 0; i < idx.length; i++) {
    const a = m.indptr[idx[i]];
    const b = m.indptr[idx[i] + 1];
    indices.set(m.indices.subarray(a, b), k);
    values.set(m.values.subarray(a, b), k);
    k += b - a;
    indptr[i + 1] = k;
  }
  return { rows: idx.length, dim: m.dim, indptr, indices, values };
}

/**
 * Side-by-side concatenation [w₁·A₁ | w₂·A₂ | …] of matrices with the same rows. The weights put
 * blocks of different nature (unit-norm TF-IDF, unit-norm sentence vectors, standardised columns)
 * on one scale before one linear head sees them.
 */
export function hstack(blocks: Array<{ m: Csr; weight?: number }>): Csr {
  const rows = blocks[0].m.rows;
  for (const b of blocks) if (b.m.rows !== rows) throw new Error(`hstack: blocks have ${rows} and ${b.m.rows} rows`);
  const nnz = blocks.reduce((s, b) => s + b.m.indptr[rows], 0);
  const dim = blocks.reduce((s, b) => s + b.m.dim, 0);
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    let offset = 0;
    for (const { m, weight = 1 } of blocks) {
      for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
        indices[k] = m.indices[p] + offset;
        values[k++] = m.values[p] * weight;
      }
      offset += m.dim;
    }
    indptr[r + 1] = k;
  }
  return { rows, dim, indptr, indices, values };
}

/** Rows scaled to unit L2 norm (zero rows stay zero). */
export function csrL2Normalize(m: Csr): Csr {
  const values = new Float32Array(m.values.length);
  for (let r = 0; r < m.rows; r++) {
    let n = 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) n += m.values[p] * m.values[p];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) values[p] = m.values[p] * inv;
  }
  return { ...m, values };
}

/**
 * Sparse random projection to `k` dense columns (Achlioptas 2003): column j of the input goes to
 * ±1/√k in a hashed handful of output columns, so inner products survive in expectation. A cheap
 * dense stand-in for TF-IDF where a dense matrix is needed (k-means, kNN graphs).
 */
export function randomProject(m: Csr, k: number, seed: number, perColumn = 4): Features {
  const out = new Float32Array(m.rows * k);
  const scale = 1 / Math.sqrt(perColumn);
  for (let r = 0; r < m.rows; r++) {
    for (let p = m.indptr[r]; p < m.indptr[r + 1]; p++) {
      const j = m.indices[p];
      for (let t = 0; t < perColumn; t++) {
        const h = hash32(j * perColumn + t, seed);
        out[r * k + (h % k)] += (h & 0x80000000 ? -scale : scale) * m.values[p];
      }
    }
  }
  return { rows: m.rows, dim: k, data: out };
}

/** A 32-bit integer hash (murmur3 finaliser) of (x, seed), unsigned. */
export function hash32(x: number, seed: number): number {
  let h = (Math.imul(x | 0, 0x9e3779b1) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
