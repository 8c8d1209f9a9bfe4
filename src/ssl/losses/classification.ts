/** Classification losses: softmax cross-entropy over classes, and sigmoid binary cross-entropy. */
import { tf } from '../../ml/engine.ts';
import type { Tensor } from '../nn.ts';

/** Mean softmax cross-entropy of `logits` (n×K) against integer `labels` (n). */
export function softmaxCrossEntropy(logits: Tensor, labels: Int32Array | number[]): tf.Scalar {
  const [n, K] = logits.shape;
  const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), K);
  return tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(logits), onehot)), n)) as tf.Scalar;
}

/**
 * Mean binary cross-entropy with logits, in the stable form
 * max(x, 0) − x·t + log(1 + exp(−|x|)).
 */
export function sigmoidCrossEntropy(logits: Tensor, targets: Tensor): tf.Scalar {
  const loss = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
  return tf.mean(loss) as tf.Scalar;
}

/** Fraction of rows whose arg-max equals the label (for logging; not differentiable). */
export function accuracy(logits: Tensor, labels: Int32Array | number[]): number {
  const pred = tf.tidy(() => tf.argMax(logits, -1).dataSync());
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return ok / Math.max(1, labels.length);
}
