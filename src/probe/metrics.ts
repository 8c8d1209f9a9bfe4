/** Classification metrics over integer class ids 0..C-1. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][pred[i]]++;
  return m;
}

export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) ok++;
  return truth.length === 0 ? 0 : ok / truth.length;
}

/** Per-class F1 (0 for a class that is neither predicted nor present). */
export function perClassF1(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number[] {
  const m = confusionMatrix(truth, pred, classes);
  return m.map((row, c) => {
    const tp = row[c];
    const fn = row.reduce((a, b) => a + b, 0) - tp;
    const fp = m.reduce((a, r) => a + r[c], 0) - tp;
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  });
}

/** Macro-F1 over the classes present in the truth (sklearn's `labels=unique(y_true)` convention). */
export function macroF1(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number {
  const f1 = perClassF1(truth, pred, classes);
  const present = new Set(Array.from(truth));
  let s = 0;
  for (const c of present) s += f1[c];
  return present.size === 0 ? 0 : s / present.size;
}
