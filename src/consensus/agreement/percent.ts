import { categoriesOf, cells, unitCounts, type RatingMatrix } from './ratings.ts';

/**
 * Percent agreement: over units rated by ≥ 2 coders, the mean share of agreeing coder pairs,
 *   P_u = Σ_k n_uk (n_uk − 1) / (m_u (m_u − 1)).
 * With two coders this is simply the share of units they labelled the same. No chance
 * correction: use it beside a kappa/alpha, never instead. NaN if no unit has 2 ratings.
 */
export function percentAgreement(matrix: RatingMatrix): number {
  const counts = unitCounts(matrix, categoriesOf(cells(matrix)));
  let sum = 0;
  let units = 0;
  for (const row of counts) {
    const m = row.reduce((a, b) => a + b, 0);
    if (m < 2) continue;
    sum += row.reduce((a, x) => a + x * (x - 1), 0) / (m * (m - 1));
    units++;
  }
  return units > 0 ? sum / units : NaN;
}
