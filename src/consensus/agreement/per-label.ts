import { fleissKappaCounts, pairAgreement } from './fleiss.ts';
import { categoriesOf, cells, unitCounts, type Rating, type RatingMatrix } from './ratings.ts';

/**
 * Agreement per label, one-vs-rest: for each category c the ratings are recoded to
 * "c" / "not c" and Fleiss' kappa is computed on that binary table. With a constant number
 * of raters this is Fleiss' (1971) category-wise kappa κ_c, and the overall kappa is their
 * weighted mean Σ_c π_c(1−π_c) κ_c / Σ_c π_c(1−π_c). Shows which labels coders confuse.
 * prevalence = π_c, the mean share of a unit's ratings that are c.
 */
export function perLabelKappa(
  matrix: RatingMatrix,
  opts: { categories?: readonly Rating[] } = {},
): Map<Rating, { kappa: number; prevalence: number }> {
  const categories = categoriesOf(cells(matrix), opts.categories);
  const counts = unitCounts(matrix, categories);
  const { pi } = pairAgreement(counts);
  const out = new Map<Rating, { kappa: number; prevalence: number }>();
  categories.forEach((c, k) => {
    const binary = counts.map((row) => [row[k], row.reduce((a, b) => a + b, 0) - row[k]]);
    out.set(c, { kappa: fleissKappaCounts(binary).value, prevalence: pi[k] });
  });
  return out;
}
