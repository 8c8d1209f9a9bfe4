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

/** A data-parallel worker's view of the batch (src/ml/parallel.ts): its rank and the all-gather. */
export interface BatchShard {
  rank: number;
  /** Every worker's `x` in rank order (the caller's own part included). */
  allGather(x: Float32Array): Float32Array[];
}

/**
 * NT-Xent of the WHOLE batch when each worker holds only its shard's views: the other shards'
 * projections arrive through `allGather` as constants, so the loss equals the full-batch loss
 * and its gradient flows through this shard's rows only — summed over workers ('sum'
 * reduction) that is exactly the full-batch gradient, negatives from every shard included.
 */
export function ntXentSharded(z1: Tensor, z2: Tensor, temperature: number, shard?: BatchShard): tf.Scalar {
  if (!shard) return ntXent(z1, z2, temperature);
  const [b, d] = z1.shape as [number, number];
  const local = new Float32Array(2 * b * d);
  local.set(z1.dataSync() as Float32Array, 0);
  local.set(z2.dataSync() as Float32Array, b * d);
  const parts = shard.allGather(local);
  const a: Tensor[] = [];
  const c: Tensor[] = [];
  parts.forEach((p, k) => {
    if (k === shard.rank) {
      a.push(z1);
      c.push(z2);
      return;
    }
    const bk = p.length / (2 * d);
    a.push(tf.tensor2d(p.subarray(0, bk * d), [bk, d]));
    c.push(tf.tensor2d(p.subarray(bk * d), [bk, d]));
  });
  return ntXent(tf.concat(a, 0), tf.concat(c, 0), temperature);
}
