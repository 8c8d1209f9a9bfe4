/**
 * Class balance of a label distribution: imbalance ratio (largest / smallest class), Shannon
 * entropy normalised by ln k (1 = perfectly balanced), and the minority classes — those below
 * half the share a balanced split would give them (1 / 2k).
 */
export interface ClassBalance {
  total: number;
  classes: number;
  counts: Record<string, number>;
  imbalanceRatio: number | null;
  normalizedEntropy: number | null;
  minority: string[];
}

export function classBalance(counts: Record<string, number>): ClassBalance {
  const entries = Object.entries(counts).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = entries.reduce((s, [, n]) => s + n, 0);
  const k = entries.length;
  if (k === 0) return { total: 0, classes: 0, counts: {}, imbalanceRatio: null, normalizedEntropy: null, minority: [] };
  const h = -entries.reduce((s, [, n]) => s + (n / total) * Math.log(n / total), 0);
  return {
    total,
    classes: k,
    counts: Object.fromEntries(entries),
    imbalanceRatio: entries[0][1] / entries[k - 1][1],
    normalizedEntropy: k > 1 ? h / Math.log(k) : 1,
    minority: k > 1 ? entries.filter(([, n]) => n / total < 1 / (2 * k)).map(([l]) => l) : [],
  };
}
