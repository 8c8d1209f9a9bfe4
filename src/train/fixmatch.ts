/**
 * FixMatch (Sohn et al. 2020, "FixMatch: Simplifying Semi-Supervised Learning with Consistency
 * and Confidence", §2.2 eq. 4): for each unlabelled item u of a batch μ× the labelled one, the
 * model's prediction on a weakly augmented view gives a hard pseudo-label q̂ = argmax p(y|α(u)),
 * kept only when max p ≥ τ; the strongly augmented view A(u) is trained towards it:
 *
 *   ℓ_u = 1/(μB) Σ_b 1[max q_b ≥ τ] · H(q̂_b, p(y | A(u_b)))      total loss ℓ_s + λ_u ℓ_u
 *
 * (the mean is over the whole unlabelled batch, masked items count as zero, as in the paper).
 * Paper defaults: τ = 0.95, μ = 7, λ_u = 1. The pseudo-labels are computed outside the
 * gradient tape (stop-gradient), with batch-norm in inference mode. fine-tune.ts runs the loop;
 * this file holds the two pieces with the arithmetic.
 */
import { tf } from '../ml/engine.ts';
import { UserError } from '../core/errors.ts';
import { rowArgmax } from '../ml/rows.ts';

export interface FixMatchOptions {
  /** Confidence threshold τ (default 0.95). */
  tau?: number;
  /** Unlabelled batch = μ × the labelled batch (default 7). */
  mu?: number;
  /** Weight λ_u of the unlabelled loss (default 1). */
  lambdaU?: number;
}

export const FIXMATCH_DEFAULTS = { tau: 0.95, mu: 7, lambdaU: 1 };

/**
 * The settings with the paper's defaults filled in, checked: 0 ≤ τ ≤ 1 (0 keeps every
 * pseudo-label), 0 < μ ≤ 64 (a smaller μ makes a step cheaper where the unlabelled forward passes
 * dominate, e.g. audio), 0 ≤ λu ≤ 100.
 * `name` turns a field into what the caller calls it (a CLI flag) for the error message.
 */
export function resolveFixMatch(o: FixMatchOptions = {}, name: (field: keyof FixMatchOptions) => string = (f) => `fixmatch.${f}`): Required<FixMatchOptions> {
  const r = { ...FIXMATCH_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  const ok = (v: unknown, lo: number, hi: number, loOpen: boolean) => typeof v === 'number' && Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && v <= hi;
  if (!ok(r.tau, 0, 1, false)) throw new UserError(`${name('tau')} expects a confidence threshold in [0, 1], got ${String(r.tau)}`);
  if (!ok(r.mu, 0, 64, true)) throw new UserError(`${name('mu')} expects an unlabelled-to-labelled batch ratio in (0, 64], got ${String(r.mu)}`);
  if (!ok(r.lambdaU, 0, 100, false)) throw new UserError(`${name('lambdaU')} expects a weight in [0, 100], got ${String(r.lambdaU)}`);
  return r;
}

/**
 * Hard pseudo-labels from class probabilities (rows × K): the arg-max of each row, and a mask
 * that is 1 only where the row's largest probability is ≥ τ.
 */
export function pseudoLabels(probs: ArrayLike<number>, K: number, tau: number): { labels: Int32Array; mask: Float32Array; count: number } {
  const n = Math.floor(probs.length / K);
  const labels = new Int32Array(n);
  const mask = new Float32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const best = rowArgmax(probs, i, K);
    labels[i] = best;
    if (probs[i * K + best] >= tau) {
      mask[i] = 1;
      count++;
    }
  }
  return { labels, mask, count };
}

/** ℓ_u: masked cross-entropy of the strong view's logits against the pseudo-labels, averaged over all rows. */
export function fixmatchUnlabelledLoss(strongLogits: tf.Tensor, labels: Int32Array, mask: Float32Array): tf.Scalar {
  const [n, K] = strongLogits.shape as [number, number];
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), K).toFloat();
    const ce = tf.neg(tf.sum(tf.mul(tf.logSoftmax(strongLogits), onehot), 1));
    return tf.div(tf.sum(tf.mul(ce, tf.tensor1d(mask))), n) as tf.Scalar;
  });
}
