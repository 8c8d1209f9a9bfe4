import { UserError } from '../../core/errors.ts';
import { cohenKappa, type KappaWeights } from './cohen.ts';
import { categoriesOf, cells, isRated, type Rating, type RatingMatrix } from './ratings.ts';

export interface PairwiseMatrix {
  coders: string[];
  /** kappa[i][j]: Cohen's κ of coders i and j over the units both rated; NaN if undefined or n < minOverlap. */
  kappa: number[][];
  /** n[i][j]: units both rated (n[i][i] = units coder i rated). */
  n: number[][];
}

/**
 * Cohen's kappa for every pair of coders (columns of the matrix), each over the units that
 * pair co-rated — the usual way to spot one annotator who disagrees with everyone. All pairs
 * share one category order (so weighted kappas are comparable). Symmetric; the diagonal is a
 * coder against itself (1, or NaN if they used one category only).
 */
export function pairwiseKappa(
  matrix: RatingMatrix,
  opts: { coders?: readonly string[]; categories?: readonly Rating[]; weights?: KappaWeights; minOverlap?: number } = {},
): PairwiseMatrix {
  const width = matrix.reduce((w, r) => Math.max(w, r.length), 0);
  const coders = opts.coders ? [...opts.coders] : Array.from({ length: width }, (_, j) => String(j));
  if (coders.length < width) throw new UserError(`${coders.length} coder names for a matrix with ${width} columns`);
  const categories = categoriesOf(cells(matrix), opts.categories);
  const minOverlap = opts.minOverlap ?? 1;
  const columns = coders.map((_, j) => matrix.map((row) => row[j] ?? null));
  const m = coders.length;
  const kappa = Array.from({ length: m }, () => new Array<number>(m).fill(NaN));
  const n = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let overlap = 0;
      for (let u = 0; u < matrix.length; u++) if (isRated(columns[i][u]) && isRated(columns[j][u])) overlap++;
      n[i][j] = n[j][i] = overlap;
      if (overlap === 0 || overlap < minOverlap) continue;
      kappa[i][j] = kappa[j][i] = cohenKappa(columns[i], columns[j], { categories, weights: opts.weights }).value;
    }
  }
  return { coders, kappa, n };
}
