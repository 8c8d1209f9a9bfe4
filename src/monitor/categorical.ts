import { chi2Sf } from './special.ts';
import type { DriftResult } from './types.ts';

/** Counts of each class, reference vs current (e.g. predicted classes). */
export interface ClassCounts {
  reference: number[];
  current: number[];
}

/**
 * Population Stability Index: Σ (c_i − r_i)·ln(c_i / r_i) over class shares, with ε = 1e-4 for
 * empty classes. No p-value; the industry rule of thumb reads > 0.1 as moderate and > 0.25 as
 * major shift — drift is flagged at `threshold` (default 0.1).
 */
export function psi(c: ClassCounts, threshold = 0.1): DriftResult {
  const R = c.reference.reduce((a, b) => a + b, 0);
  const C = c.current.reduce((a, b) => a + b, 0);
  let s = 0;
  c.reference.forEach((r, i) => {
    const rp = Math.max(r / R, 1e-4);
    const cp = Math.max(c.current[i] / C, 1e-4);
    s += (cp - rp) * Math.log(cp / rp);
  });
  return { statistic: s, pValue: NaN, drift: s > threshold };
}

/** Pearson chi-square test of homogeneity on the 2 × K table (no continuity correction). */
export function chiSquare(c: ClassCounts, alpha = 0.05): DriftResult & { dof: number } {
  const cols = c.reference.map((r, i) => r + c.current[i]);
  const keep = cols.map((v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
  const rows = [c.reference, c.current];
  const rowSum = rows.map((r) => keep.reduce((a, i) => a + r[i], 0));
  const total = rowSum[0] + rowSum[1];
  let stat = 0;
  for (const r of [0, 1]) for (const i of keep) {
    const e = (rowSum[r] * cols[i]) / total;
    stat += (rows[r][i] - e) ** 2 / e;
  }
  const dof = Math.max(1, keep.length - 1);
  const pValue = chi2Sf(stat, dof);
  return { statistic: stat, pValue, drift: pValue < alpha, dof };
}
