/**
 * Correcting a classifier for the class prior of its labels (Saerens, Latinne & Decaestecker 2002,
 * "Adjusting the outputs of a classifier to new a priori probabilities: a simple procedure").
 *
 * A classifier's probabilities carry the class frequencies of the labels it was trained on. Active
 * selection picks those labels on purpose (TypiClust's one item per cluster labels rare classes as
 * often as common ones), so a model trained on them over-predicts the rare classes on the pool it
 * is meant for. EM on the classifier's probabilities over unlabelled pool items estimates the pool's
 * prior; Bayes' rule then moves every probability from the labels' prior to the pool's:
 *   p'(c | x) ∝ p(c | x) · prior(c) / labelPrior(c).
 * Pure functions over rows × classes probability arrays.
 */
import { crossEntropy } from '../ml/rows.ts';

export const PRIOR_SHIFT_DEFAULTS = { maxIterations: 200, tolerance: 1e-6 } as const;

/** Unlabelled items the EM estimate reads at most (a seeded sample, callers' choice): a prior of ≤ 100 classes needs no more. */
export const PRIOR_SHIFT_POOL = 10_000;

/**
 * The class prior of a label set, with half a count added to every class (Jeffreys): a classifier
 * still gives unlabelled classes some probability, and a zero would make the ratio undefined.
 */
export function labelPrior(y: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0.5);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  const total = y.length + 0.5 * classes;
  return counts.map((c) => c / total);
}

/** Bayes' rule: every row of `proba` moved from prior `from` to prior `to`, renormalised. */
export function adjustToPrior(proba: Float64Array, classes: number, from: readonly number[], to: readonly number[]): Float64Array {
  if (from.length !== classes || to.length !== classes) throw new Error(`adjustToPrior: priors need ${classes} classes, got ${from.length} and ${to.length}`);
  const w = from.map((f, c) => (f > 0 ? to[c] / f : 0));
  const out = new Float64Array(proba.length);
  for (let i = 0; i < proba.length; i += classes) {
    let s = 0;
    for (let c = 0; c < classes; c++) s += out[i + c] = proba[i + c] * w[c];
    // A row whose every class the new prior rules out keeps its old probabilities.
    if (s > 0) for (let c = 0; c < classes; c++) out[i + c] /= s;
    else for (let c = 0; c < classes; c++) out[i + c] = proba[i + c];
  }
  return out;
}

export interface EmPriorResult {
  /** The estimated class prior of the rows' population. */
  prior: number[];
  iterations: number;
  /** Whether the largest change of a class's prior fell under the tolerance. */
  converged: boolean;
}

/**
 * Classes the labels hold (≥ 1 label) that the maximum-likelihood prior of the pool (`proba`'s
 * rows) leaves out. Such an estimate is not a finding: the labels were bought from the same
 * corpus, so the class is there; a classifier that cannot yet tell it apart (few labels, poor
 * calibration) lets EM drain its share towards 0, and then predicts every item as the others.
 * Callers keep the labels' prior then.
 *
 * EM reaches that boundary only in the limit, often slowly, so the check is exact rather than a
 * threshold on `em.prior`: the log-likelihood Σᵢ log Σⱼ πⱼ·pᵢⱼ/tⱼ is concave in π, so its maximum
 * has π_c = 0 exactly when, at the best prior without c (EM started with π_c = 0 stays there),
 * the derivative towards c is not above the others': mean over rows of (pᵢc/t_c) / Σⱼ πⱼ·pᵢⱼ/tⱼ ≤ 1.
 * Checked for the classes EM left under a quarter of their labels' share (the others are far from
 * the boundary); fewer than one expected item counts as left out outright.
 */
export function collapsedClasses(proba: Float64Array, classes: number, trainPrior: readonly number[], em: EmPriorResult, labels: ArrayLike<number>): number[] {
  const rows = proba.length / classes;
  const seen = new Set(Array.from(labels));
  const out: number[] = [];
  for (let c = 0; c < classes; c++) {
    if (!seen.has(c) || rows === 0 || em.prior[c] >= trainPrior[c] / 4) continue;
    if (em.prior[c] * rows < 1) {
      out.push(c);
      continue;
    }
    const start = em.prior.map((p, j) => (j === c ? 0 : p / (1 - em.prior[c])));
    const face = emPrior(proba, classes, trainPrior, { start }).prior;
    let g = 0;
    for (let i = 0; i < proba.length; i += classes) {
      let mix = 0;
      for (let j = 0; j < classes; j++) mix += (face[j] * proba[i + j]) / trainPrior[j];
      g += proba[i + c] / trainPrior[c] / mix;
    }
    if (g / rows <= 1) out.push(c);
  }
  return out;
}

/**
 * The class prior of the population `proba`'s rows were drawn from (Saerens et al. 2002, EM):
 * start at the classifier's training prior; E-step: adjust every row to the current estimate;
 * M-step: the new estimate is the mean adjusted row. Each step cannot lower the likelihood.
 */
export function emPrior(
  proba: Float64Array,
  classes: number,
  trainPrior: readonly number[],
  opts: { maxIterations?: number; tolerance?: number; start?: readonly number[] } = {},
): EmPriorResult {
  const rows = proba.length / classes;
  if (!Number.isInteger(rows)) throw new Error(`emPrior: ${proba.length} probabilities are not rows of ${classes} classes`);
  if (rows === 0) return { prior: trainPrior.slice(), iterations: 0, converged: true };
  const maxIterations = opts.maxIterations ?? PRIOR_SHIFT_DEFAULTS.maxIterations;
  const tolerance = opts.tolerance ?? PRIOR_SHIFT_DEFAULTS.tolerance;
  if (opts.start && opts.start.length !== classes) throw new Error(`emPrior: start needs ${classes} classes, got ${opts.start.length}`);
  // From the training prior unless told: a class started at 0 stays at 0 (the multiplicative update).
  let prior = opts.start ? opts.start.slice() : trainPrior.slice();
  for (let it = 1; it <= maxIterations; it++) {
    const next = new Array<number>(classes).fill(0);
    const adjusted = adjustToPrior(proba, classes, trainPrior, prior);
    for (let i = 0; i < adjusted.length; i += classes) for (let c = 0; c < classes; c++) next[c] += adjusted[i + c];
    for (let c = 0; c < classes; c++) next[c] /= rows;
    const change = Math.max(...next.map((v, c) => Math.abs(v - prior[c])));
    prior = next;
    if (change < tolerance) return { prior, iterations: it, converged: true };
  }
  return { prior, iterations: maxIterations, converged: false };
}

/** The mean row of `proba` (rows × classes). */
export function meanRow(proba: Float64Array, classes: number): number[] {
  const rows = proba.length / classes;
  const out = new Array<number>(classes).fill(0);
  if (rows === 0) return out;
  for (let i = 0; i < proba.length; i += classes) for (let c = 0; c < classes; c++) out[c] += proba[i + c] / rows;
  return out;
}

/** Fewest validation items of every class for the label-shift fit to be tried (fewer: its test could not reject anything). */
export const LABEL_SHIFT_MIN_PER_CLASS = 5;

/** A Kolmogorov–Smirnov comparison of the pool's predictions with the mixture label shift predicts (labelShiftFit). */
export interface LabelShiftFit {
  /** Largest distance between the two CDFs, over the class columns tested. */
  statistic: number;
  /** The distance beyond which label shift is rejected at `alpha` (Bonferroni over the columns). */
  critical: number;
  alpha: number;
  passed: boolean;
}

/**
 * Whether the pool looks like the labelled items with only the class mix changed — the
 * assumption under which EM's prior means anything. Under label shift each class's predicted
 * probabilities are distributed on the pool as on validation, so every column j of the pool's
 * predictions has the CDF Σ_c prior_c·F_cj, F_cj the CDF of column j over the validation items
 * of class c. The largest gap between that mixture and the pool's CDF is compared with the
 * two-sample Kolmogorov–Smirnov bound c(α)·√(Σ_c prior_c²/n_c + 1/m) (the mixture's variance
 * comes from the n_c validation items of each class, the pool's from its m rows). Pool items
 * unlike anything labelled — a class's look-alikes the classifier half-believes — break it.
 * Null when a class has fewer than LABEL_SHIFT_MIN_PER_CLASS validation items.
 */
export function labelShiftFit(valProba: Float64Array, valY: ArrayLike<number>, poolProba: Float64Array, classes: number, prior: readonly number[], alpha = 0.05): LabelShiftFit | null {
  const m = poolProba.length / classes;
  const n = new Array<number>(classes).fill(0);
  for (let i = 0; i < valY.length; i++) n[valY[i]]++;
  if (m === 0 || n.some((k) => k < LABEL_SHIFT_MIN_PER_CLASS)) return null;
  // Two classes: the columns mirror each other, one test says it all.
  const columns = classes === 2 ? 1 : classes;
  const a = alpha / columns;
  const critical = Math.sqrt(-Math.log(a / 2) / 2) * Math.sqrt(prior.reduce((s, p, c) => s + (p * p) / n[c], 0) + 1 / m);
  let statistic = 0;
  for (let j = 0; j < columns; j++) {
    const pool = Float64Array.from({ length: m }, (_, i) => poolProba[i * classes + j]).sort();
    const byClass = Array.from({ length: classes }, (_, c) => Float64Array.from(Array.from(valY).flatMap((y, i) => (y === c ? [valProba[i * classes + j]] : []))).sort());
    const count = (xs: Float64Array, t: number) => {
      let lo = 0;
      let hi = xs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (xs[mid] <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    // Both CDFs are steps: the gap is largest just at, or just below, one of the sample points.
    const points = [...pool, ...byClass.flatMap((xs) => [...xs])];
    for (const t of points) {
      for (const u of [t, t - 1e-12]) {
        const mix = byClass.reduce((s, xs, c) => s + (prior[c] * count(xs, u)) / xs.length, 0);
        statistic = Math.max(statistic, Math.abs(count(pool, u) / m - mix));
      }
    }
  }
  return { statistic, critical, alpha, passed: statistic <= critical };
}

/** How a prior shift fared on held-out validation items (see validateShift). */
export interface ShiftValidation {
  items: number;
  /** Whether the pool passed as the validation classes re-mixed (labelShiftFit; null: too few validation items to tell). */
  fit: LabelShiftFit | null;
  /** The class mix the validation log-loss was weighted to: the shift's target prior when label shift fits, else validation's own. */
  weightedTo: 'shifted prior' | 'validation';
  prior: number[];
  /** Mean log-loss of the held-out probabilities as they are, and moved to the pool prior. */
  logLossKept: number;
  logLossMoved: number;
}

/**
 * Whether moving held-out validation probabilities from prior `from` to prior `to` (EM's on the
 * pool) keeps their log-loss from getting worse. Validation items are labelled items, whose
 * class mix active selection skewed on purpose — the mix the shift corrects away from — so
 * plain validation log-loss refuses even a right shift. When the pool fits label shift with
 * prior `to` (labelShiftFit, on the same held-out model's predictions of the pool), each class's
 * mean log-loss is weighted by `to`: the pool's expected log-loss. Otherwise the pool holds items
 * unlike the labelled ones, `to` is not a class mix of anything validation can vouch for, and the
 * shift must not make the plain validation log-loss (the labels' mix) worse — the case of EM
 * moving 88/12 labels to 23/77 on a pool the classifier half-mistook for spam.
 */
export function validateShift(valProba: Float64Array, valY: ArrayLike<number>, classes: number, from: readonly number[], to: readonly number[], poolProba: Float64Array): ShiftValidation {
  const moved = adjustToPrior(valProba, classes, from, to);
  const fit = labelShiftFit(valProba, valY, poolProba, classes, to);
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < valY.length; i++) counts[valY[i]]++;
  const prior = fit?.passed ? to.slice() : counts.map((k) => k / Math.max(1, valY.length));
  const loss = (p: Float64Array) => {
    const perClass = new Array<number>(classes).fill(0);
    for (let i = 0; i < valY.length; i++) perClass[valY[i]] += crossEntropy(p, i, classes, valY[i], 1e-12);
    let s = 0;
    let w = 0;
    for (let c = 0; c < classes; c++) {
      if (counts[c] === 0) continue;
      s += (prior[c] * perClass[c]) / counts[c];
      w += prior[c];
    }
    return w > 0 ? s / w : 0;
  };
  return { items: valY.length, fit, weightedTo: fit?.passed ? 'shifted prior' : 'validation', prior, logLossKept: loss(valProba), logLossMoved: loss(moved) };
}
