import type { Features } from '../probe/features.ts';

/** Squared Euclidean distance between row i of a and row j of b. */
export function sqDist(a: Features, i: number, b: Features, j: number): number {
  let s = 0;
  const d = a.dim;
  const oa = i * d;
  const ob = j * d;
  for (let t = 0; t < d; t++) {
    const v = a.data[oa + t] - b.data[ob + t];
    s += v * v;
  }
  return s;
}
