/**
 * Replica module for bench/engine.ts: one SimCLR-style pretraining step of the small image CNN
 * (src/ml/models/small-cnn.ts) — encoder + projection head, NT-Xent (τ = 0.5) over the whole
 * batch of pairs, Adam(1e-3). Batch: { a, b }, two augmented views, each [B, 28, 28, 1].
 *
 * Shows how a batch-coupled loss plugs into src/ml/parallel.ts: each worker embeds its shard,
 * `ctx.allGather` fetches the other shards' embeddings (constants), the loss is the full-batch
 * NT-Xent with only this shard's rows differentiable, and reduction 'sum' adds the workers'
 * gradients (= the full-batch gradient). BatchNorm moving statistics are `stateVariables`.
 */
import { initEngine, type tf as tfNs } from '../src/ml/engine.ts';
import { buildSmallCnn } from '../src/ml/models/small-cnn.ts';
import type { Batch, LossAndGrads, Replica, StepContext } from '../src/ml/parallel.ts';

type Tf = typeof tfNs;
type View = { data: Float32Array; shape: [number, number, number, number] };

/** NT-Xent (SimCLR) of paired rows z1[i] ↔ z2[i]; mean over the 2B anchors. */
export function ntXent(tf: Tf, z1: tfNs.Tensor2D, z2: tfNs.Tensor2D, tau: number): tfNs.Scalar {
  return tf.tidy(() => {
    const z = tf.concat([z1, z2]);
    const n = z.shape[0];
    const zn = tf.div(z, tf.add(tf.norm(z, 'euclidean', 1, true), 1e-12));
    const sim = tf.sub(tf.div(tf.matMul(zn, zn, false, true), tau), tf.mul(tf.eye(n), 1e9)); // no self-pairs
    const pos = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i + n / 2) % n), 'int32'), n);
    return tf.div(tf.neg(tf.sum(tf.mul(tf.logSoftmax(sim), pos))), n) as tfNs.Scalar;
  });
}

export async function createReplica(config: { seed?: number; tau?: number; lr?: number; batchNorm?: 'fast' | 'keras' } = {}) {
  const tf = await initEngine();
  const { model } = buildSmallCnn(tf, { seed: config.seed ?? 0, batchNorm: config.batchNorm ?? 'fast' });
  const tau = config.tau ?? 0.5;
  const trainable = model.trainableWeights.map((w) => w.read() as tfNs.Variable);
  const state = model.nonTrainableWeights.map((w) => w.read() as tfNs.Variable);
  const replica: Replica = {
    trainableVariables: trainable,
    stateVariables: state,
    optimizer: tf.train.adam(config.lr ?? 1e-3),
    lossAndGrads(batch: Batch, ctx: StepContext): LossAndGrads {
      const a = batch.a as View, b = batch.b as View;
      const { value, grads } = tf.variableGrads(() => {
        const views = tf.concat([tf.tensor4d(a.data, a.shape), tf.tensor4d(b.data, b.shape)]);
        const z = model.apply(views, { training: true }) as tfNs.Tensor2D; // one pass: BN sees both views
        const [z1, z2] = tf.split(z, 2) as [tfNs.Tensor2D, tfNs.Tensor2D];
        if (ctx.worldSize === 1) return ntXent(tf, z1, z2, tau);
        const d = z.shape[1];
        const parts = ctx.allGather(z.dataSync() as Float32Array); // each: [2·b_k, d] = [z1_k; z2_k]
        const side = (live: tfNs.Tensor2D, half: 0 | 1) => tf.concat(parts.map((p, r) => {
          if (r === ctx.rank) return live;
          const rows = p.length / (2 * d);
          return tf.tensor2d(p.subarray(half * rows * d, (half + 1) * rows * d), [rows, d]);
        }));
        return ntXent(tf, side(z1, 0), side(z2, 1), tau);
      }, trainable);
      return { loss: value, grads: trainable.map((v) => grads[v.name]!), reduction: 'sum' };
    },
  };
  return replica;
}
