import { mulberry32 } from '../core/rng.ts';
import type { Strategy } from './types.ts';
import { rowArgmax } from '../ml/rows.ts';

/**
 * BADGE (Ash et al. 2020): uncertainty + diversity. Each candidate's hypothetical last-layer
 * gradient is g = (p − onehot(argmax p)) ⊗ x; k-means++ seeding over the g's picks points that
 * are both uncertain (large ‖g‖) and different from each other. ‖g_i − g_j‖² is computed from
 * ⟨g_i, g_j⟩ = ⟨a_i, a_j⟩·⟨x_i, x_j⟩, so the C·d-wide gradients are never materialised.
 */
export const badge: Strategy = (pool, k, ctx) => {
  const x = pool.embeddings;
  const P = pool.probs;
  if (!x || !P) throw new Error('BADGE needs embeddings and model probabilities for the pool');
  const n = x.rows;
  const C = P.classes;
  const d = x.dim;
  const a = new Float64Array(n * C);
  const aa = new Float64Array(n);
  const xx = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const arg = rowArgmax(P.data, i, C);
    for (let c = 0; c < C; c++) {
      const v = P.data[i * C + c] - (c === arg ? 1 : 0);
      a[i * C + c] = v;
      aa[i] += v * v;
    }
    for (let t = 0; t < d; t++) xx[i] += x.data[i * d + t] ** 2;
  }
  const gDist = (i: number, j: number) => {
    let ad = 0;
    for (let c = 0; c < C; c++) ad += a[i * C + c] * a[j * C + c];
    let xd = 0;
    for (let t = 0; t < d; t++) xd += x.data[i * d + t] * x.data[j * d + t];
    return Math.max(0, aa[i] * xx[i] + aa[j] * xx[j] - 2 * ad * xd);
  };
  // First center: the largest gradient norm (BADGE's choice), then D² sampling.
  let first = 0;
  for (let i = 1; i < n; i++) if (aa[i] * xx[i] > aa[first] * xx[first]) first = i;
  const chosen = [first];
  const minD = Float64Array.from({ length: n }, (_, i) => gDist(i, first));
  const rand = mulberry32(ctx.seed);
  while (chosen.length < Math.min(k, n)) {
    let total = 0;
    for (let i = 0; i < n; i++) total += minD[i];
    let next: number;
    if (total <= 0) next = [...Array(n).keys()].find((i) => !chosen.includes(i))!;
    else {
      let r = rand() * total;
      next = 0;
      while (next < n - 1 && (r -= minD[next]) > 0) next++;
    }
    chosen.push(next);
    for (let i = 0; i < n; i++) minD[i] = Math.min(minD[i], gDist(i, next));
  }
  return chosen.map((i) => pool.ids[i]);
};
