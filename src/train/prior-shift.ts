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
