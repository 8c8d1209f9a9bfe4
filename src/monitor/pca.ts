import type { Sample } from './types.ts';

/** Principal axes of a sample: mean and the top-k eigenvectors of its covariance (Jacobi). */
export function fitPca(x: Sample, k: number): { mean: Float64Array; components: Float64Array[]; variances: number[] } {
  const d = x.dim;
  const mean = new Float64Array(d);
  for (let i = 0; i < x.rows; i++) for (let t = 0; t < d; t++) mean[t] += x.data[i * d + t] / x.rows;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (let i = 0; i < x.rows; i++) {
    for (let a = 0; a < d; a++) {
      const va = x.data[i * d + a] - mean[a];
      for (let b = a; b < d; b++) cov[a][b] += va * (x.data[i * d + b] - mean[b]);
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b][a] = cov[a][b] /= Math.max(1, x.rows - 1);
  const { values, vectors } = jacobiEigen(cov);
  const order = values.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]).slice(0, Math.min(k, d));
  return { mean, components: order.map(([, i]) => Float64Array.from({ length: d }, (_, r) => vectors[r][i])), variances: order.map(([v]) => v) };
}

export function project(x: Sample, pca: { mean: Float64Array; components: Float64Array[] }): Float64Array[] {
  return pca.components.map((c) => {
    const out = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) {
      let s = 0;
      for (let t = 0; t < x.dim; t++) s += (x.data[i * x.dim + t] - pca.mean[t]) * c[t];
      out[i] = s;
    }
    return out;
  });
}

/**
 * Cyclic Jacobi eigenvalue algorithm for a small symmetric matrix (columns of `vectors` are
 * eigenvectors); stops when the off-diagonal mass is negligible relative to the diagonal.
 */
export function jacobiEigen(m: Float64Array[]): { values: number[]; vectors: Float64Array[] } {
  const n = m.length;
  const a = m.map((r) => Float64Array.from(r));
  const v = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let scale = 0;
    for (let p = 0; p < n; p++) {
      scale += a[p][p] ** 2;
      for (let q = p + 1; q < n; q++) off += a[p][q] ** 2;
    }
    if (off <= 1e-24 * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  return { values: a.map((r, i) => r[i]), vectors: v };
}
