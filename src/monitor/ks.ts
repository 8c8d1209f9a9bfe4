import { kolmogorovQ } from './special.ts';

/**
 * Two-sample Kolmogorov–Smirnov test: D = sup |F_a − F_b|; p from the asymptotic Kolmogorov
 * distribution with Stephens' small-sample correction, λ = (√nₑ + 0.12 + 0.11/√nₑ)·D,
 * nₑ = nm/(n+m) (Numerical Recipes §14.3.3).
 */
export function ks2(a: ArrayLike<number>, b: ArrayLike<number>): { statistic: number; pValue: number } {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  const n = x.length;
  const m = y.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] <= v) i++;
    while (j < m && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const ne = Math.sqrt((n * m) / (n + m));
  return { statistic: d, pValue: kolmogorovQ((ne + 0.12 + 0.11 / ne) * d) };
}
