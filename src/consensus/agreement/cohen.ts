import { UserError } from '../../core/errors.ts';
import { categoriesOf, isRated, type Coefficient, type Rating } from './ratings.ts';

/**
 * 'none': exact matches only. For ordered categories, partial credit by distance between
 * category positions i, j (0…K−1 in category order, not the numeric values):
 * 'linear' w = 1 − |i−j|/(K−1), 'quadratic' w = 1 − (i−j)²/(K−1)² (Cohen 1968).
 */
export type KappaWeights = 'none' | 'linear' | 'quadratic';

export function agreementWeights(K: number, weights: KappaWeights): number[][] {
  if (!['none', 'linear', 'quadratic'].includes(weights)) {
    throw new UserError(`unknown weights "${weights}": expected 'none', 'linear' or 'quadratic'`);
  }
  return Array.from({ length: K }, (_, i) =>
    Array.from({ length: K }, (_, j) => {
      if (weights === 'none' || K === 1) return i === j ? 1 : 0;
      const d = Math.abs(i - j) / (K - 1);
      return weights === 'linear' ? 1 - d : 1 - d * d;
    }),
  );
}

/**
 * Cohen's kappa from a K×K contingency table (rows: coder A's category, columns: coder B's).
 * Cohen (1960) κ = (p_o − p_e)/(1 − p_e), p_o = Σ_ij w_ij p_ij, p_e = Σ_ij w_ij p_i· p_·j;
 * weighted κ_w (Cohen 1968) uses the agreement weights above. NaN when p_e = 1
 * (both coders used a single category: agreement beyond chance is undefined).
 */
export function cohenKappaTable(table: readonly (readonly number[])[], opts: { weights?: KappaWeights } = {}): Coefficient {
  const K = table.length;
  if (table.some((r) => r.length !== K)) {
    throw new UserError(`contingency table must be square, got ${K} rows of lengths ${table.map((r) => r.length).join(',')}`);
  }
  const w = agreementWeights(K, opts.weights ?? 'none');
  const n = table.flat().reduce((a, b) => a + b, 0);
  const row = table.map((r) => r.reduce((a, b) => a + b, 0) / n);
  const col = table[0]?.map((_, j) => table.reduce((a, r) => a + r[j], 0) / n) ?? [];
  let po = 0;
  let pe = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      po += (w[i][j] * table[i][j]) / n;
      pe += w[i][j] * row[i] * col[j];
    }
  }
  return { value: pe < 1 ? (po - pe) / (1 - pe) : NaN, observed: po, expected: pe, n };
}

/** Contingency table of two coders' ratings over the units both rated. */
export function contingencyTable(
  a: readonly (Rating | null | undefined)[],
  b: readonly (Rating | null | undefined)[],
  categories: readonly Rating[],
): number[][] {
  if (a.length !== b.length) {
    throw new UserError(
      `the two coders' rating lists differ in length (${a.length} vs ${b.length}): one entry per unit, null if not rated`,
    );
  }
  const index = new Map(categories.map((c, k) => [c, k]));
  const table = categories.map(() => new Array<number>(categories.length).fill(0));
  for (let u = 0; u < a.length; u++) {
    const x = a[u];
    const y = b[u];
    if (isRated(x) && isRated(y)) table[index.get(x)!][index.get(y)!]++;
  }
  return table;
}

/**
 * Cohen's kappa of two coders over the units both rated (null = not rated). Category order
 * (matters for weights) is `categories`, else the sorted values seen.
 */
export function cohenKappa(
  a: readonly (Rating | null | undefined)[],
  b: readonly (Rating | null | undefined)[],
  opts: { weights?: KappaWeights; categories?: readonly Rating[] } = {},
): Coefficient & { table: number[][]; categories: Rating[] } {
  const categories = categoriesOf([...a, ...b], opts.categories);
  const table = contingencyTable(a, b, categories);
  return { ...cohenKappaTable(table, opts), table, categories };
}
