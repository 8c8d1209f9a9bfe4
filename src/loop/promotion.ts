/**
 * Promotion: whether a round's classifier replaces the model in use — the one whose suggestions
 * annotators are shown — or is only registered.
 *
 * "Clearly below" is decided on validation data available at train time, never on the loop's
 * test split: the round's validation items that the model in use never trained on (those it
 * trained on it would flatter itself on — a linear head refitted on every label often gets them
 * all right). The new classifier's predictions there come from its held-out twin (trained without
 * the validation items; TrainedClassifier.valProba, prior correction included), the model in use
 * predicts as it serves. A one-sided exact McNemar test on those paired items (only the items
 * exactly one of them gets right count) asks "is the new one worse?": it is not promoted when
 * p ≤ PROMOTION_ALPHA. A one-sided test rather than "any drop": a round adds a batch of items, so
 * its validation share of unseen items is small (8 at the demo's batch of 40), and one or two
 * items either way are noise; a model that loses on five of five discordant items (p = 1/32) is
 * not. With no model in use, or nothing to compare on, the new model is promoted and the reason
 * says why.
 */
import { mcnemarPaired } from '../train/mcnemar.ts';
import { rowArgmax } from '../ml/rows.ts';

export const PROMOTION_ALPHA = 0.05;

export interface Promotion {
  promoted: boolean;
  reason: string;
  /** The model in use it was compared with (null: there was none). */
  incumbent: number | null;
  /** Validation items the model in use never trained on: what the comparison read. */
  items: number;
  newRight: number | null;
  incumbentRight: number | null;
  /** Items only the model in use got right, and only the new one. */
  incumbentOnly: number | null;
  newOnly: number | null;
  /** McNemar's one-sided exact p that the new model is worse (null when not tested). */
  pWorse: number | null;
  alpha: number;
}

/** Promoted without a test, for `reason`. */
export function promotedWithoutTest(reason: string, incumbent: number | null = null): Promotion {
  return { promoted: true, reason, incumbent, items: 0, newRight: null, incumbentRight: null, incumbentOnly: null, newOnly: null, pWorse: null, alpha: PROMOTION_ALPHA };
}

/** The decision from each shared validation item's correctness under the new model and the model in use (same items, same order). */
export function promotionDecision(newRight: readonly boolean[], incumbentRight: readonly boolean[], incumbent: number, alpha = PROMOTION_ALPHA): Promotion {
  if (newRight.length !== incumbentRight.length) throw new Error(`promotionDecision: ${newRight.length} vs ${incumbentRight.length} items`);
  const pct = (k: number) => `${k}/${newRight.length}`;
  const fmtP = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
  const nNew = newRight.filter(Boolean).length;
  const nOld = incumbentRight.filter(Boolean).length;
  if (newRight.length === 0) {
    return { ...promotedWithoutTest(`no validation item that model ${incumbent} did not train on: nothing to compare on`, incumbent), items: 0 };
  }
  // The model in use as the "challenger": the test asks whether it is better than the new one.
  const t = mcnemarPaired(incumbentRight, newRight);
  const worse = t.pOneSided <= alpha;
  const reason = worse
    ? `clearly below model ${incumbent} on ${newRight.length} validation items neither trained on: right on ${pct(nNew)} vs ${pct(nOld)}; model ${incumbent} alone right on ${t.b}, this one alone on ${t.c} (one-sided McNemar p ${fmtP(t.pOneSided)} ≤ ${alpha}); model ${incumbent} keeps serving suggestions`
    : `not clearly below model ${incumbent} on ${newRight.length} validation items neither trained on: right on ${pct(nNew)} vs ${pct(nOld)} (one-sided McNemar p ${fmtP(t.pOneSided)} > ${alpha})`;
  return { promoted: !worse, reason, incumbent, items: newRight.length, newRight: nNew, incumbentRight: nOld, incumbentOnly: t.b, newOnly: t.c, pWorse: t.pOneSided, alpha };
}

/** Whether each row's most probable class (rows × k probabilities) is its label `y`. */
export function rightOn(proba: ArrayLike<number>, y: readonly number[], k: number): boolean[] {
  if (proba.length !== y.length * k) throw new Error(`rightOn: ${proba.length} probabilities for ${y.length} rows of ${k}`);
  return y.map((label, i) => {
    return rowArgmax(proba, i, k) === label;
  });
}
