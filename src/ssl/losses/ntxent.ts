/**
 * NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, eq. 1):
 * for 2B views z (two per item), ℓ(i, j) = −log exp(sim(zᵢ, zⱼ)/τ) / Σ_{k≠i} exp(sim(zᵢ, z_k)/τ)
 * with sim the cosine similarity; the loss is the mean over all 2B anchors of their positive.
 * Also the loss of SimCSE (Gao et al. 2021) and SCARF (Bahri et al. 2022).
 */
import { tf } from '../../ml/engine.ts';
import { mm, type Tensor } from '../nn.ts';

export function l2normalize(z: Tensor, eps = 1e-8): Tensor {
  return tf.mul(z, tf.rsqrt(tf.add(tf.sum(tf.square(z), -1, true), eps)));
}

/** `z1[i]` and `z2[i]` are the two views of item i (B×d each). */
export function ntXent(z1: Tensor, z2: Tensor, temperature: number): tf.Scalar {
  const B = z1.shape[0];
  const n = 2 * B;
  const z = l2normalize(tf.concat([z1, z2], 0));
  const sim = tf.div(mm(z, z, true), temperature);
  const diag = new Float32Array(n * n);
  const pos = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    diag[i * n + i] = -1e9;
    pos[i * n + ((i + B) % n)] = 1;
  }
  const logits = tf.add(sim, tf.tensor2d(diag, [n, n]));
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.div(tf.sum(tf.mul(logp, tf.tensor2d(pos, [n, n]))), n)) as tf.Scalar;
}
