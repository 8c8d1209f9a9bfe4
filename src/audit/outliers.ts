/**
 * Univariate outliers that survive heavy tails and the outliers themselves:
 *
 * - robust z-score (Iglewicz & Hoaglin 1993): zᵢ = 0.6745 (xᵢ − median) / MAD, where MAD is the
 *   median absolute deviation; |z| > 3.5 is an outlier. 0.6745 = Φ⁻¹(0.75) makes z comparable
 *   to a standard score under normality.
 * - when MAD = 0 (more than half the values are equal, e.g. 8×8 images all 64 pixels), Tukey's
 *   far-out fences on the interquartile range: x < Q1 − 3·IQR or x > Q3 + 3·IQR; with IQR = 0
 *   too, any value different from the median.
 */

export interface OutlierOptions {
  /** |robust z| above this is an outlier (default 3.5). */
  zThreshold?: number;
  /** Tukey fence multiplier used when MAD = 0 (default 3). */
  iqrK?: number;
  /** Which side counts (default both). */
  side?: 'both' | 'high' | 'low';
}

export interface OutlierResult {
  method: 'robust_z' | 'iqr';
  median: number;
  mad: number;
  q1: number;
  q3: number;
  /** Indices of outliers, ascending, with their score (robust z, or distance past the fence in IQRs). */
  outliers: Array<{ index: number; value: number; score: number }>;
}

/** The q-quantile of sorted values (linear interpolation, as numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function robustOutliers(values: ArrayLike<number>, opts: OutlierOptions = {}): OutlierResult {
  const zT = opts.zThreshold ?? 3.5;
  const k = opts.iqrK ?? 3;
  const side = opts.side ?? 'both';
  const sorted = Float64Array.from(values).sort();
  const median = quantileSorted(sorted, 0.5);
  const dev = Float64Array.from(values, (v) => Math.abs(v - median)).sort();
  const mad = quantileSorted(dev, 0.5);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  const outliers: OutlierResult['outliers'] = [];
  const keep = (signed: number) => (side === 'both' ? signed !== 0 : side === 'high' ? signed > 0 : signed < 0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (mad > 0) {
      const z = (0.6745 * (v - median)) / mad;
      if (Math.abs(z) > zT && keep(Math.sign(z))) outliers.push({ index: i, value: v, score: z });
    } else if (iqr > 0) {
      const past = v > q3 + k * iqr ? (v - q3) / iqr : v < q1 - k * iqr ? (v - q1) / iqr : 0;
      if (past !== 0 && keep(Math.sign(past))) outliers.push({ index: i, value: v, score: past });
    } else if (v !== median && keep(Math.sign(v - median))) {
      outliers.push({ index: i, value: v, score: v > median ? Infinity : -Infinity });
    }
  }
  return { method: mad > 0 ? 'robust_z' : 'iqr', median, mad, q1, q3, outliers };
}
