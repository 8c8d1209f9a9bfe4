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
  /** Labelled items (not answers: an item takes `overlap` answers) this run needed to reach it. */
  labelsUsed: number;
  /** Labelled items the baseline (random selection, a linear head on raw features) needed for the same accuracy; null = never reached it. */
  baselineLabels: number | null;
  /** baselineLabels − labelsUsed, in labelled items. */
  labelsSaved: number | null;
  /** labelsSaved × the price of one labelled item, in `unit`. */
  moneySaved: number | null;
  /** What money is counted in: the currency given, else "cost units". */
  unit: string;
  /** Plain words for the report. */
  summary: string;
}

/** How the economics line names the two sides and the money. */
export interface EconomicsWords {
  /** This run, e.g. "active selection with a linear head on raw features". */
  run: string;
  /** The baseline, e.g. "random selection with the same head". */
  baseline: string;
  /** Currency of the prices ("cost units" when none was given). */
  unit: string;
  /** How one labelled item's price is made up, e.g. "3 answers × 0.10". */
  itemPrice?: string;
}

const DEFAULT_WORDS: EconomicsWords = { run: 'this run', baseline: 'random selection without SSL', unit: 'cost units' };

/**
 * Label economics: how many labelled items (and how much money) this run saved compared with the
 * baseline — random selection, a linear head on raw features — to reach the same accuracy.
 * `pricePerItem` is what one labelled item costs (its answers), in `words.unit`.
 */
export function labelEconomics(run: CurvePoint[], baseline: CurvePoint[], pricePerItem: number, words: Partial<EconomicsWords> = {}): Economics {
  const w = { ...DEFAULT_WORDS, ...words };
  const last = run[run.length - 1];
  const target = last.accuracy;
  const used = labelsToReach(run, target)!;
  const base = labelsToReach(baseline, target);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const reached = `${w.run} reached ${pct(target)} test accuracy with ${used} labelled items`;
  if (base === null) {
    const bestBase = Math.max(...baseline.map((p) => p.accuracy));
    return {
      targetAccuracy: target,
      labelsUsed: used,
      baselineLabels: null,
      labelsSaved: null,
      moneySaved: null,
      unit: w.unit,
      summary: `${reached}; ${w.baseline} never reached it within ${baseline[baseline.length - 1].labels} labelled items (best ${pct(bestBase)})`,
    };
  }
  const saved = base - used;
  const money = saved * pricePerItem;
  const price = `${pricePerItem.toFixed(2)} ${w.unit} per labelled item${w.itemPrice ? ` (${w.itemPrice})` : ''}`;
  return {
    targetAccuracy: target,
    labelsUsed: used,
    baselineLabels: base,
    labelsSaved: saved,
    moneySaved: money,
    unit: w.unit,
    summary:
      saved > 0
        ? `${reached}; ${w.baseline} needed ${base} — ${saved} labelled items fewer, ${money.toFixed(2)} ${w.unit} saved at ${price}`
        : `${reached}; ${w.baseline} needed only ${base} — no saving here (${-saved} labelled items more)`,
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
