import type { Pool, Strategy } from './types.ts';

/** Scores every candidate (higher = more informative) and returns the top k ids, ties by pool order. */
function topByScore(pool: Pool, k: number, score: (p: Float64Array) => number): number[] {
  if (!pool.probs) throw new Error('this strategy needs model probabilities for the pool');
  const { rows, classes, data } = pool.probs;
  const scored = Array.from({ length: rows }, (_, i) => ({ i, s: score(data.subarray(i * classes, (i + 1) * classes)) }));
  scored.sort((a, b) => b.s - a.s || a.i - b.i);
  return scored.slice(0, k).map((x) => pool.ids[x.i]);
}

function topTwo(p: Float64Array): [number, number] {
  let a = -Infinity;
  let b = -Infinity;
  for (const v of p) {
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) b = v;
  }
  return [a, b === -Infinity ? 0 : b];
}

/** Least confidence (Lewis & Gale 1994): 1 − max_c p(c|x). */
export const leastConfidence: Strategy = (pool, k) => topByScore(pool, k, (p) => 1 - topTwo(p)[0]);

/** Margin (Scheffer et al. 2001): smallest gap between the two most probable classes. */
export const margin: Strategy = (pool, k) =>
  topByScore(pool, k, (p) => {
    const [a, b] = topTwo(p);
    return -(a - b);
  });

/** Entropy (Shannon): −Σ p log p. */
export const entropy: Strategy = (pool, k) => topByScore(pool, k, (p) => -p.reduce((s, v) => (v > 0 ? s + v * Math.log(v) : s), 0));
