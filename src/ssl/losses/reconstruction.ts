/** Reconstruction losses: mean squared error, optionally only where `mask` is 1 (masked modelling). */
import { tf } from '../../ml/engine.ts';
import type { Tensor } from '../nn.ts';

export function mse(pred: Tensor, target: Tensor): tf.Scalar {
  return tf.mean(tf.squaredDifference(pred, target)) as tf.Scalar;
}

/** Σ mask·(pred − target)² / Σ mask (0 when the mask is empty). */
export function maskedMse(pred: Tensor, target: Tensor, mask: Tensor): tf.Scalar {
  const num = tf.sum(tf.mul(tf.squaredDifference(pred, target), mask));
  return tf.div(num, tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}
