/** A feature matrix: `rows` × `dim`, row-major. */
export interface Features {
  rows: number;
  dim: number;
  data: Float32Array;
}

export function selectRows(f: Features, idx: ArrayLike<number>): Features {
  const out = new Float32Array(idx.length * f.dim);
  for (let i = 0; i < idx.length; i++) out.set(f.data.subarray(idx[i] * f.dim, (idx[i] + 1) * f.dim), i * f.dim);
  return { rows: idx.length, dim: f.dim, data: out };
}

/** Column means and standard deviations (std 1 for constant columns, so they stay 0 after scaling). */
export function fitStandardizer(f: Features): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(f.dim);
  const sq = new Float64Array(f.dim);
  for (let r = 0; r < f.rows; r++) {
    for (let j = 0; j < f.dim; j++) {
      const v = f.data[r * f.dim + j];
      mean[j] += v;
      sq[j] += v * v;
    }
  }
  const std = new Float64Array(f.dim);
  for (let j = 0; j < f.dim; j++) {
    mean[j] /= Math.max(1, f.rows);
    const v = sq[j] / Math.max(1, f.rows) - mean[j] * mean[j];
    std[j] = v > 1e-12 ? Math.sqrt(v) : 1;
  }
  return { mean, std };
}

export function standardize(f: Features, s: { mean: Float64Array; std: Float64Array }): Features {
  const out = new Float32Array(f.data.length);
  for (let r = 0; r < f.rows; r++) for (let j = 0; j < f.dim; j++) out[r * f.dim + j] = (f.data[r * f.dim + j] - s.mean[j]) / s.std[j];
  return { rows: f.rows, dim: f.dim, data: out };
}

/** Rows scaled to unit L2 norm (zero rows stay zero): cosine similarity becomes a dot product. */
export function l2Normalize(f: Features): Features {
  const out = new Float32Array(f.data.length);
  for (let r = 0; r < f.rows; r++) {
    let n = 0;
    for (let j = 0; j < f.dim; j++) n += f.data[r * f.dim + j] ** 2;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let j = 0; j < f.dim; j++) out[r * f.dim + j] = f.data[r * f.dim + j] * inv;
  }
  return { rows: f.rows, dim: f.dim, data: out };
}
