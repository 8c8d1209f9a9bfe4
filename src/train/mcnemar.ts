/**
 * McNemar's exact (conditional) test for two classifiers scored on the same items: only the
 * discordant items count — b where the challenger is right and the incumbent wrong, c the other
 * way round — and under "equally good" b ~ Binomial(b + c, ½). trainClassifier's `significance`
 * uses the one-sided p (is the challenger better?) so that a few lucky validation items cannot
 * swap a simpler model for a more complex one.
 *
 * Reference: Fagerland, Lydersen, Laake (2013), "The McNemar test for binary matched-pairs data:
 * mid-p and asymptotic are better than exact conditional", BMC Med Res Methodol 13:91 — its
 * worked example (b = 1, c = 7) has exact conditional two-sided p 0.070 and mid-p 0.039.
 */

export interface McNemarResult {
  /** Items the challenger got right and the incumbent wrong. */
  b: number;
  /** Items the incumbent got right and the challenger wrong. */
  c: number;
  /** One-sided exact p: P(X ≥ b), X ~ Binomial(b + c, ½); 1 when there are no discordant items. */
  pOneSided: number;
  /** Two-sided exact p: min(1, 2 · P(X ≥ max(b, c))). */
  pTwoSided: number;
  /** Two-sided mid-p: twice the tail less the observed split's probability (Fagerland et al.'s recommendation). */
  midP: number;
}

/** P(X ≥ k) for X ~ Binomial(n, ½), summed in log space so that large n stays exact to rounding. */
export function binomialUpperTail(n: number, k: number): number {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k)) throw new Error(`binomialUpperTail: whole numbers expected, got n ${n}, k ${k}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  let sum = 0;
  for (let i = k; i <= n; i++) sum += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, sum);
}

/** The test from the discordant counts. */
export function mcnemarExact(b: number, c: number): McNemarResult {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) throw new Error(`mcnemarExact: discordant counts must be whole numbers ≥ 0, got b ${b}, c ${c}`);
  const n = b + c;
  if (n === 0) return { b, c, pOneSided: 1, pTwoSided: 1, midP: 1 };
  const tail = binomialUpperTail(n, Math.max(b, c));
  // Mid-p counts the observed split's probability once instead of twice (b = c gives 1).
  const midP = Math.min(1, 2 * tail - Math.exp(logChoose(n, b) - n * Math.LN2));
  return { b, c, pOneSided: binomialUpperTail(n, b), pTwoSided: Math.min(1, 2 * tail), midP };
}

/** The test from each item's correctness under the challenger and the incumbent (same items, same order). */
export function mcnemarPaired(challengerRight: ArrayLike<boolean>, incumbentRight: ArrayLike<boolean>): McNemarResult {
  if (challengerRight.length !== incumbentRight.length) throw new Error(`mcnemarPaired: ${challengerRight.length} vs ${incumbentRight.length} items`);
  let b = 0;
  let c = 0;
  for (let i = 0; i < challengerRight.length; i++) {
    if (challengerRight[i] && !incumbentRight[i]) b++;
    else if (!challengerRight[i] && incumbentRight[i]) c++;
  }
  return mcnemarExact(b, c);
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}
