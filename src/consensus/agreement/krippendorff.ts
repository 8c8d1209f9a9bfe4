import { UserError } from '../../core/errors.ts';
import { categoriesOf, cells, unitCounts, type Rating, type RatingMatrix } from './ratings.ts';

export type AlphaMetric = 'nominal' | 'ordinal' | 'interval' | 'ratio';

export interface AlphaResult {
  value: number;
  /** D_o: observed disagreement. */
  observed: number;
  /** D_e: disagreement expected by chance. */
  expected: number;
  /** n..: number of pairable values (ratings on units with ≥ 2 ratings). */
  pairable: number;
}

/**
 * Krippendorff's alpha, following Krippendorff (2011), "Computing Krippendorff's
 * Alpha-Reliability" (Annenberg School for Communication, Departmental Papers 43):
 * any number of coders, missing ratings allowed, four levels of measurement.
 *
 * Coincidences over units with m_u ≥ 2 ratings (unpairable units are dropped):
 *   o_ck = Σ_u n_uc (n_uk − [c = k]) / (m_u − 1),   n_c = Σ_k o_ck,   n = Σ_c n_c
 *   α = 1 − D_o / D_e,  D_o = Σ_{c,k} o_ck δ²_ck / n,  D_e = Σ_{c,k} n_c n_k δ²_ck / (n(n − 1))
 * Difference functions δ²_ck:
 *   nominal  [c ≠ k]
 *   ordinal  (Σ_{g from c to k} n_g − (n_c + n_k)/2)², over the category order
 *   interval (c − k)²
 *   ratio    ((c − k)/(c + k))²       (interval and ratio need numeric values)
 * NaN when there is nothing to disagree about (D_e = 0) or no pairable unit.
 */
export function krippendorffAlpha(
  matrix: RatingMatrix,
  opts: { metric?: AlphaMetric; categories?: readonly Rating[] } = {},
): AlphaResult {
  const metric = opts.metric ?? 'nominal';
  if (!['nominal', 'ordinal', 'interval', 'ratio'].includes(metric)) {
    throw new UserError(`unknown metric "${metric}": expected nominal, ordinal, interval or ratio`);
  }
  const categories = categoriesOf(cells(matrix), opts.categories);
  const K = categories.length;
  const o = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const row of unitCounts(matrix, categories)) {
    const m = row.reduce((a, b) => a + b, 0);
    if (m < 2) continue;
    for (let c = 0; c < K; c++) {
      if (row[c] === 0) continue;
      for (let k = 0; k < K; k++) o[c][k] += (row[c] * (row[k] - (c === k ? 1 : 0))) / (m - 1);
    }
  }
  const nc = o.map((r) => r.reduce((a, b) => a + b, 0));
  const n = nc.reduce((a, b) => a + b, 0);
  const d2 = differences(metric, categories, nc);
  let Do = 0;
  let De = 0;
  for (let c = 0; c < K; c++) {
    for (let k = 0; k < K; k++) {
      Do += o[c][k] * d2[c][k];
      De += nc[c] * nc[k] * d2[c][k];
    }
  }
  Do /= n;
  De /= n * (n - 1);
  return { value: De > 0 ? 1 - Do / De : NaN, observed: Do, expected: De, pairable: n };
}

function differences(metric: AlphaMetric, categories: readonly Rating[], nc: readonly number[]): number[][] {
  const K = categories.length;
  const numeric = () =>
    categories.map((c) => {
      const v = typeof c === 'number' ? c : Number(c);
      if (typeof c === 'string' && (c.trim() === '' || !Number.isFinite(v))) {
        throw new UserError(`the ${metric} metric needs numeric ratings; "${c}" is not a number`);
      }
      return v;
    });
  const values = metric === 'interval' || metric === 'ratio' ? numeric() : [];
  return Array.from({ length: K }, (_, c) =>
    Array.from({ length: K }, (_, k) => {
      if (c === k) return 0;
      switch (metric) {
        case 'nominal':
          return 1;
        case 'ordinal': {
          const [lo, hi] = c < k ? [c, k] : [k, c];
          let s = 0;
          for (let g = lo; g <= hi; g++) s += nc[g];
          return (s - (nc[c] + nc[k]) / 2) ** 2;
        }
        case 'interval':
          return (values[c] - values[k]) ** 2;
        case 'ratio': {
          const sum = values[c] + values[k];
          return sum === 0 ? 0 : ((values[c] - values[k]) / sum) ** 2;
        }
      }
    }),
  );
}
