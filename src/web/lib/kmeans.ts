import { mulberry32 } from '../../core/rng.ts';

/** k-means++ seeding then Lloyd iterations (seeded): the map's "cluster" colouring. */
export function kmeans(data: Float32Array, rows: number, dim: number, k: number, seed = 1, iters = 30): Int32Array {
  const K = Math.max(1, Math.min(k, rows));
  const rand = mulberry32(seed);
  const C = new Float64Array(K * dim);
  const d2 = new Float64Array(rows).fill(Infinity);
  const dist = (r: number, c: number) => {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const t = data[r * dim + j] - C[c * dim + j];
      s += t * t;
    }
    return s;
  };
  const first = Math.floor(rand() * rows);
  for (let j = 0; j < dim; j++) C[j] = data[first * dim + j];
  for (let c = 1; c < K; c++) {
    let total = 0;
    for (let r = 0; r < rows; r++) {
      d2[r] = Math.min(d2[r], dist(r, c - 1));
      total += d2[r];
    }
    let x = rand() * total;
    let pick = rows - 1;
    for (let r = 0; r < rows; r++) {
      x -= d2[r];
      if (x <= 0) {
        pick = r;
        break;
      }
    }
    for (let j = 0; j < dim; j++) C[c * dim + j] = data[pick * dim + j];
  }
  const assign = new Int32Array(rows);
  for (let it = 0; it < iters; it++) {
    let moved = 0;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      let bd = Infinity;
      for (let c = 0; c < K; c++) {
        const d = dist(r, c);
        if (d < bd) {
          bd = d;
          best = c;
        }
      }
      if (assign[r] !== best || it === 0) moved++;
      assign[r] = best;
    }
    const sum = new Float64Array(K * dim);
    const cnt = new Int32Array(K);
    for (let r = 0; r < rows; r++) {
      cnt[assign[r]]++;
      for (let j = 0; j < dim; j++) sum[assign[r] * dim + j] += data[r * dim + j];
    }
    for (let c = 0; c < K; c++) if (cnt[c] > 0) for (let j = 0; j < dim; j++) C[c * dim + j] = sum[c * dim + j] / cnt[c];
    if (moved === 0) break;
  }
  return assign;
}
