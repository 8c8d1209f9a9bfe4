import type { Pool, SelectContext, Strategy } from './types.ts';

/**
 * Class-balanced margin selection for many classes: candidates are grouped by their predicted
 * class, and the batch is filled round-robin over the classes with the fewest labels so far
 * (`labelled[c]`, the labels each class already has), taking from each group its smallest-margin
 * candidate (top-2 probability gap). Plain margin sampling piles the batch onto the few
 * confusable classes; with 50–150 classes and ten labels each, covering rare classes is what buys
 * accuracy (cf. Aggarwal et al. 2021, "Minority class oriented active learning"; Bengar et al.
 * 2022, class-balanced active learning).
 */
export function classBalancedMargin(pool: Pool, k: number, ctx: SelectContext, labelled?: number[]): number[] {
  const P = pool.probs;
  if (!P) throw new Error('class-balanced margin needs model probabilities for the pool');
  const C = P.classes;
  const counts = labelled ? labelled.slice() : new Array<number>(C).fill(0);
  const groups: Array<Array<{ i: number; m: number }>> = Array.from({ length: C }, () => []);
  for (let i = 0; i < P.rows; i++) {
    let a = 0;
    let b = -1;
    for (let c = 1; c < C; c++) {
      const v = P.data[i * C + c];
      if (v > P.data[i * C + a]) {
        b = a;
        a = c;
      } else if (b < 0 || v > P.data[i * C + b]) b = c;
    }
    groups[a].push({ i, m: P.data[i * C + a] - (b >= 0 ? P.data[i * C + b] : 0) });
  }
  for (const g of groups) g.sort((x, y) => x.m - y.m || x.i - y.i);
  const next = new Array<number>(C).fill(0);
  const chosen: number[] = [];
  void ctx;
  while (chosen.length < Math.min(k, P.rows)) {
    // The class with the fewest labels (counting this batch) that still has candidates; ties by id.
    let best = -1;
    for (let c = 0; c < C; c++) if (next[c] < groups[c].length && (best < 0 || counts[c] < counts[best])) best = c;
    if (best < 0) break;
    chosen.push(groups[best][next[best]++].i);
    counts[best]++;
  }
  return chosen.map((i) => pool.ids[i]);
}

/** The same as a registry Strategy (no per-class label counts: every class starts at zero). */
export const classBalanced: Strategy = (pool, k, ctx) => classBalancedMargin(pool, k, ctx);
