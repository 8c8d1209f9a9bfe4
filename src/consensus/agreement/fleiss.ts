import { categoriesOf, cells, unitCounts, type Coefficient, type Rating, type RatingMatrix } from './ratings.ts';

/**
 * The per-unit parts shared by Fleiss' kappa and Gwet's AC1, from counts n_uk (units × K):
 *   P_u = Σ_k n_uk(n_uk − 1) / (r_u(r_u − 1)),  p_a = mean P_u over units with r_u ≥ 2,
 *   π_k = mean over units with r_u ≥ 1 of n_uk / r_u.
 */
export function pairAgreement(counts: readonly (readonly number[])[]): { pa: number; pi: number[]; pairable: number } {
  const K = counts[0]?.length ?? 0;
  const pi = new Array<number>(K).fill(0);
  let rated = 0;
  let paSum = 0;
  let pairable = 0;
  for (const row of counts) {
    const r = row.reduce((a, b) => a + b, 0);
    if (r < 1) continue;
    rated++;
    for (let k = 0; k < K; k++) pi[k] += row[k] / r;
    if (r < 2) continue;
    pairable++;
    paSum += row.reduce((a, x) => a + x * (x - 1), 0) / (r * (r - 1));
  }
  return { pa: paSum / pairable, pi: pi.map((p) => p / rated), pairable };
}

/**
 * Fleiss' kappa (Fleiss 1971, "Measuring nominal scale agreement among many raters",
 * Psychological Bulletin 76(5):378–382) from per-unit category counts (units × K):
 *   p_e = Σ_k π_k²,  κ = (p_a − p_e) / (1 − p_e)   (p_a, π_k: see pairAgreement).
 * With the same number of raters on every unit this is exactly Fleiss' 1971 statistic; with
 * missing ratings it is the generalisation in Gwet (2014, Handbook of Inter-Rater
 * Reliability), as computed by the irrCAC package. A unit's raters need not be another's.
 */
export function fleissKappaCounts(counts: readonly (readonly number[])[]): Coefficient {
  const { pa, pi, pairable } = pairAgreement(counts);
  const pe = pi.reduce((a, p) => a + p * p, 0);
  return { value: pe < 1 ? (pa - pe) / (1 - pe) : NaN, observed: pa, expected: pe, n: pairable };
}

/** Fleiss' kappa of a units × coders matrix (null = not rated). */
export function fleissKappa(matrix: RatingMatrix, opts: { categories?: readonly Rating[] } = {}): Coefficient {
  return fleissKappaCounts(unitCounts(matrix, categoriesOf(cells(matrix), opts.categories)));
}
