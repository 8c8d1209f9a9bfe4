import { UserError } from '../core/errors.ts';
import { byCodeUnit } from './encode.ts';
import type { Answer } from './types.ts';

export interface GoldOptions {
  /** Alert when measured accuracy is below this. Default 0.7. */
  threshold?: number;
  /** Never alert on fewer gold answers than this: 2 misses out of 3 is noise, not a verdict. Default 10. */
  minGoldAnswers?: number;
}

export interface GoldAnnotatorStats {
  /** Gold items this annotator answered correctly. */
  correct: number;
  /** Gold items this annotator answered. */
  total: number;
  /** correct / total (NaN if total = 0). */
  accuracy: number;
  /** Wilson score 95% interval for the accuracy: how much to trust it at this sample size. */
  low: number;
  high: number;
}

export interface GoldAlert {
  annotator: string;
  accuracy: number;
  correct: number;
  total: number;
}

export interface GoldReport {
  perAnnotator: Map<string, GoldAnnotatorStats>;
  /** Below threshold with ≥ minGoldAnswers gold answers; worst accuracy first, then by id. */
  alerts: GoldAlert[];
  /** Below threshold but too few gold answers to alert yet (same order). */
  watch: GoldAlert[];
  /** Gold items that received at least one answer. */
  goldItemsAnswered: number;
}

const Z95 = 1.959963984540054;

/** Wilson (1927) score interval: sensible at small n and at 0% / 100%, unlike p ± z·se. */
export function wilsonInterval(correct: number, total: number, z = Z95): [number, number] {
  if (total === 0) return [0, 1];
  const p = correct / total;
  const z2 = z * z;
  const centre = (p + z2 / (2 * total)) / (1 + z2 / total);
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / (1 + z2 / total);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Measured annotator accuracy on gold (honeypot) items: the share of their answers on items
 * with a known true label that match it. Answers on non-gold items are ignored; every answer
 * on a gold item counts (an annotator answering a gold item twice is measured twice).
 * Alert rule: accuracy < threshold AND total ≥ minGoldAnswers; annotators below threshold
 * with fewer gold answers are listed in `watch` so the caller can route them more gold.
 */
export function goldAccuracy(
  answers: readonly Answer[],
  gold: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  opts: GoldOptions = {},
): GoldReport {
  const threshold = opts.threshold ?? 0.7;
  const minGold = opts.minGoldAnswers ?? 10;
  if (!(threshold >= 0 && threshold <= 1)) throw new UserError(`threshold must be in [0, 1], got ${threshold}`);
  if (!Number.isInteger(minGold) || minGold < 0) {
    throw new UserError(`minGoldAnswers must be an integer ≥ 0, got ${minGold}`);
  }
  const truth: ReadonlyMap<string, string> = gold instanceof Map ? gold : new Map(Object.entries(gold));
  const counts = new Map<string, { correct: number; total: number }>();
  const answeredGold = new Set<string>();
  for (const a of answers) {
    const t = truth.get(a.item);
    if (t === undefined) continue;
    answeredGold.add(a.item);
    const c = counts.get(a.annotator) ?? { correct: 0, total: 0 };
    c.total++;
    if (a.label === t) c.correct++;
    counts.set(a.annotator, c);
  }
  const perAnnotator = new Map<string, GoldAnnotatorStats>();
  const alerts: GoldAlert[] = [];
  const watch: GoldAlert[] = [];
  for (const id of [...counts.keys()].sort(byCodeUnit)) {
    const { correct, total } = counts.get(id)!;
    const accuracy = correct / total;
    const [low, high] = wilsonInterval(correct, total);
    perAnnotator.set(id, { correct, total, accuracy, low, high });
    if (accuracy < threshold) (total >= minGold ? alerts : watch).push({ annotator: id, accuracy, correct, total });
  }
  const worstFirst = (x: GoldAlert, y: GoldAlert) => x.accuracy - y.accuracy || byCodeUnit(x.annotator, y.annotator);
  alerts.sort(worstFirst);
  watch.sort(worstFirst);
  return { perAnnotator, alerts, watch, goldItemsAnswered: answeredGold.size };
}
