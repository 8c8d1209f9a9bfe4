/**
 * Tabular views by replacing features with draws from their empirical marginal distribution
 * (the value of the same feature in a uniformly drawn row of the whole table):
 *  - SCARF (Bahri et al. 2022): exactly round(rate·M) of the M features of each row, chosen
 *    uniformly, are replaced;
 *  - VIME (Yoon et al. 2020): each feature is replaced independently with probability `rate`,
 *    and the 0/1 mask is returned as the mask-estimation target.
 * Features are the numeric columns (standardised, plus missing indicators) then the categorical
 * ids; the same replacement rule applies to both.
 */
import type { Rng } from '../rng.ts';
import type { TabularMatrix } from '../encoders/tabular.ts';

export interface TabularRows {
  num: Float32Array;
  cat: Int32Array;
}

export interface Corrupted extends TabularRows {
  /** B × (F + C), 1 where the feature was replaced. */
  mask: Float32Array;
}

export function corruptFromMarginals(
  x: TabularRows,
  B: number,
  table: TabularMatrix,
  F: number,
  C: number,
  rate: number,
  rng: Rng,
  mode: 'exact' | 'bernoulli',
): Corrupted {
  const M = F + C;
  const num = x.num.slice();
  const cat = x.cat.slice();
  const mask = new Float32Array(B * M);
  const k = Math.round(rate * M);
  const order = new Int32Array(M);
  for (let b = 0; b < B; b++) {
    if (mode === 'exact') {
      for (let j = 0; j < M; j++) order[j] = j;
      // Partial Fisher–Yates: the first k entries are a uniform k-subset.
      for (let j = 0; j < k; j++) {
        const r = j + rng.int(M - j);
        const t = order[j];
        order[j] = order[r];
        order[r] = t;
        mask[b * M + order[j]] = 1;
      }
    } else {
      for (let j = 0; j < M; j++) if (rng.next() < rate) mask[b * M + j] = 1;
    }
    for (let j = 0; j < M; j++) {
      if (!mask[b * M + j]) continue;
      const src = rng.int(table.n);
      if (j < F) num[b * F + j] = table.num[src * F + j];
      else cat[b * C + (j - F)] = table.cat[src * C + (j - F)];
    }
  }
  return { num, cat, mask };
}
