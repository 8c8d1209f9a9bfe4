/** A learning curve: accuracy after each round, by labels bought so far (ascending). */
export interface CurvePoint {
  labels: number;
  accuracy: number;
}

/**
 * Labels needed to first reach `target` accuracy, interpolating linearly between the two rounds
 * that straddle it; null when the curve never gets there (no extrapolation: that would be a guess).
 */
export function labelsToReach(curve: CurvePoint[], target: number): number | null {
  for (let i = 0; i < curve.length; i++) {
    if (curve[i].accuracy >= target) {
      if (i === 0) return curve[0].labels;
      const a = curve[i - 1];
      const b = curve[i];
      return Math.ceil(a.labels + ((target - a.accuracy) / (b.accuracy - a.accuracy)) * (b.labels - a.labels));
    }
  }
  return null;
}

export interface Economics {
  /** The accuracy both runs are compared at: what this run reached. */
  targetAccuracy: number;
  labelsUsed: number;
  /** Labels the baseline (random selection, no SSL) needed for the same accuracy; null = never reached it. */
  baselineLabels: number | null;
  labelsSaved: number | null;
  moneySaved: number | null;
  /** Plain words for the report. */
  summary: string;
}

/**
 * Label economics: how many labels (and how much money) this run saved compared with the
 * baseline — random selection without SSL — to reach the same accuracy.
 */
export function labelEconomics(run: CurvePoint[], baseline: CurvePoint[], pricePerLabel: number, reviewCostSoFar = 0): Economics {
  const last = run[run.length - 1];
  const target = last.accuracy;
  const used = labelsToReach(run, target)!;
  const base = labelsToReach(baseline, target);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  if (base === null) {
    const bestBase = Math.max(...baseline.map((p) => p.accuracy));
    return {
      targetAccuracy: target,
      labelsUsed: used,
      baselineLabels: null,
      labelsSaved: null,
      moneySaved: null,
      summary: `reached ${pct(target)} with ${used} labels; random selection without SSL never reached it within ${baseline[baseline.length - 1].labels} labels (best ${pct(bestBase)})`,
    };
  }
  const saved = base - used;
  const money = saved * pricePerLabel;
  return {
    targetAccuracy: target,
    labelsUsed: used,
    baselineLabels: base,
    labelsSaved: saved,
    moneySaved: money,
    summary:
      saved > 0
        ? `reached ${pct(target)} with ${used} labels; random selection without SSL needed ${base} — ${saved} labels (${money.toFixed(2)} at ${pricePerLabel.toFixed(2)} per labelled item) saved${reviewCostSoFar ? `, review cost so far ${reviewCostSoFar.toFixed(2)}` : ''}`
        : `reached ${pct(target)} with ${used} labels; random selection without SSL needed only ${base} — no saving here (${-saved} labels more)`,
  };
}

export interface ActiveVerdict {
  /** active / random labels to the target; null when either curve did not reach it. */
  ratio: number | null;
  /** The issue's bar: active needs at most 0.6 × random's labels. */
  meetsBar: boolean;
  verdict: 'helped' | 'helped a little' | 'did not help' | 'active only reached it' | 'neither reached it' | 'random only reached it';
  summary: string;
}

/**
 * Whether active learning paid on one learning-curve pair, in plain words, from the labels each
 * curve needed to reach the target (labelsToReach; null = not within the budget). "Helped"
 * means ≤ `bar` × random's labels. When random never reached the target within the budget but
 * active did, the saving is at least budget − active labels; it counts as meeting the bar only
 * when active got there with ≤ bar × budget (random would need more than the budget).
 */
export function activeLearningVerdict(active: number | null, random: number | null, budget: number, bar = 0.6): ActiveVerdict {
  if (active === null && random === null) {
    return { ratio: null, meetsBar: false, verdict: 'neither reached it', summary: `neither curve reached the target within ${budget} labels: no verdict at this budget` };
  }
  if (active === null) {
    return { ratio: null, meetsBar: false, verdict: 'random only reached it', summary: `active learning did not help: random selection reached the target with ${random} labels, active selection not within ${budget}` };
  }
  if (random === null) {
    const meets = active <= bar * budget;
    return {
      ratio: null,
      meetsBar: meets,
      verdict: 'active only reached it',
      summary: `active selection reached the target with ${active} labels, random selection not within ${budget} (ratio < ${(active / budget).toFixed(2)})`,
    };
  }
  const ratio = active / random;
  const verdict = ratio <= bar ? 'helped' : ratio < 1 ? 'helped a little' : 'did not help';
  const words = { helped: `active learning helped: ${active} labels vs ${random} at random (${ratio.toFixed(2)}×)`, 'helped a little': `active learning helped a little: ${active} labels vs ${random} at random (${ratio.toFixed(2)}×, above the ${bar}× bar)`, 'did not help': `active learning did not help: ${active} labels vs ${random} at random (${ratio.toFixed(2)}×)` } as const;
  return { ratio, meetsBar: ratio <= bar, verdict, summary: words[verdict] };
}
