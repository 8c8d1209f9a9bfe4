import { UserError } from '../../core/errors.ts';
import { pairAgreement } from './fleiss.ts';
import { categoriesOf, cells, unitCounts, type Coefficient, type Rating, type RatingMatrix } from './ratings.ts';

/**
 * Gwet's AC1 (Gwet 2008, "Computing inter-rater reliability and its variance in the presence
 * of high agreement", Brit. J. Math. Stat. Psych. 61:29–48): a chance correction that does not
 * collapse when one category dominates (the "kappa paradox").
 *   p_e = Σ_k π_k (1 − π_k) / (q − 1),   AC1 = (p_a − p_e) / (1 − p_e),
 * q = number of categories (all of `categories` if given, even unused ones).
 *
 * Two coders, from a q×q contingency table: p_a = Σ_k p_kk, π_k = (p_k· + p_·k) / 2.
 */
export function gwetAC1Table(table: readonly (readonly number[])[]): Coefficient {
  const q = table.length;
  if (table.some((r) => r.length !== q)) throw new UserError('contingency table must be square');
  const n = table.flat().reduce((a, b) => a + b, 0);
  let pa = 0;
  let pe = 0;
  for (let k = 0; k < q; k++) {
    pa += table[k][k] / n;
    const pik = (table[k].reduce((a, b) => a + b, 0) + table.reduce((a, r) => a + r[k], 0)) / (2 * n);
    pe += pik * (1 - pik);
  }
  pe = q > 1 ? pe / (q - 1) : 1;
  return { value: pe < 1 ? (pa - pe) / (1 - pe) : NaN, observed: pa, expected: pe, n };
}

/**
 * AC1 for any number of coders with missing ratings (Gwet 2014, Handbook of Inter-Rater
 * Reliability, 4th ed.; as in the irrCAC package): p_a and π_k as in Fleiss' kappa (see
 * pairAgreement in fleiss.ts); with two coders and no missing ratings it equals gwetAC1Table.
 */
export function gwetAC1(matrix: RatingMatrix, opts: { categories?: readonly Rating[] } = {}): Coefficient {
  const categories = categoriesOf(cells(matrix), opts.categories);
  const q = categories.length;
  const { pa, pi, pairable } = pairAgreement(unitCounts(matrix, categories));
  const pe = q > 1 ? pi.reduce((a, p) => a + p * (1 - p), 0) / (q - 1) : 1;
  return { value: pe < 1 ? (pa - pe) / (1 - pe) : NaN, observed: pa, expected: pe, n: pairable };
}
