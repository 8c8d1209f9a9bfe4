/**
 * The small image CNN used for CPU pretraining (and by bench/engine.ts, whose PyTorch twin is
 * bench/pytorch_step.py — keep both definitions identical).
 *
 * Default: 28×28×1 input, six 3×3 convs with channels 32-32-64-64-128-128 (no bias), each
 * followed by BatchNorm + ReLU; stride 2 at convs 3 and 5 ('same' padding); global average
 * pool → 128-d embedding. 287k trainable encoder parameters (286,272 conv + 896 BN).
 * Optional projection head (SimCLR): Dense(hidden, ReLU) → Dense(out), used for the pretext
 * loss only; downstream tasks use the encoder output.
 *
 * Built with tf.layers (so `model.save`/`tf.loadLayersModel` work; the BatchNorm layers are
 * FastBatchNormalization by default, registered when this module is imported); weights
 * initialised from `seed` (He-normal convs, Glorot dense), deterministic.
 */
import type * as tfType from '@tensorflow/tfjs';
import { FastBatchNormalization } from '../layers/batch-norm.ts';

export interface SmallCnnOptions {
  /** [height, width, channels] of the input images; default [28, 28, 1]. */
  inputShape?: [number, number, number];
  /** Output channels of each conv; default [32, 32, 64, 64, 128, 128]. */
  channels?: number[];
  /** Stride of each conv (same length as `channels`); default [1, 1, 2, 1, 2, 1]. */
  strides?: number[];
  /** Square kernel size; default 3. */
  kernelSize?: number;
  /** Projection head widths, or `false` for none; default { hidden: 128, out: 128 }. */
  projection?: { hidden: number; out: number } | false;
  /** BatchNorm momentum (Keras convention: moving = m·moving + (1−m)·batch); default 0.9. */
  bnMomentum?: number;
  /** Seed of the weight initialisers; default 0. */
  seed?: number;
  /**
   * 'fast' (default): FastBatchNormalization (src/ml/layers/batch-norm.ts; same maths and weights,
   * ~3× cheaper to train on wasm; import that module before loading a saved model).
   * 'keras': the stock tf.layers.batchNormalization.
   */
  batchNorm?: 'fast' | 'keras';
}

export interface SmallCnn {
  /** images [N,H,W,C] → embeddings [N, channels.at(-1)]. */
  encoder: tfType.LayersModel;
  /** embeddings → projections, or null when `projection` is false. */
  head: tfType.LayersModel | null;
  /** encoder followed by head (the pretext model); equals `encoder` when there is no head. */
  model: tfType.LayersModel;
  /** Embedding width. */
  dim: number;
}

export const SMALL_CNN_DEFAULTS = {
  inputShape: [28, 28, 1] as [number, number, number],
  channels: [32, 32, 64, 64, 128, 128],
  strides: [1, 1, 2, 1, 2, 1],
  kernelSize: 3,
  projection: { hidden: 128, out: 128 },
  bnMomentum: 0.9,
  seed: 0,
  batchNorm: 'fast' as 'fast' | 'keras',
};

/** Builds the encoder (+ head). Call `initEngine()` first so the weights live on wasm. */
export function buildSmallCnn(tf: typeof tfType, opts: SmallCnnOptions = {}): SmallCnn {
  const o = { ...SMALL_CNN_DEFAULTS, ...opts };
  if (o.strides.length !== o.channels.length) throw new Error(`small-cnn: ${o.strides.length} strides for ${o.channels.length} convs`);
  let seed = o.seed * 1000;
  const input = tf.input({ shape: o.inputShape, name: 'image' });
  let h: tfType.SymbolicTensor = input;
  o.channels.forEach((c, i) => {
    h = tf.layers.conv2d({
      filters: c, kernelSize: o.kernelSize, strides: o.strides[i], padding: 'same', useBias: false,
      kernelInitializer: tf.initializers.heNormal({ seed: seed++ }), name: `conv${i + 1}`,
    }).apply(h) as tfType.SymbolicTensor;
    const bn = { momentum: o.bnMomentum, epsilon: 1e-5, name: `bn${i + 1}` };
    h = (o.batchNorm === 'fast' ? new FastBatchNormalization(bn) : tf.layers.batchNormalization({ axis: -1, ...bn })).apply(h) as tfType.SymbolicTensor;
    h = tf.layers.reLU({ name: `relu${i + 1}` }).apply(h) as tfType.SymbolicTensor;
  });
  const emb = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tfType.SymbolicTensor;
  const encoder = tf.model({ inputs: input, outputs: emb, name: 'small_cnn_encoder' });
  const dim = o.channels[o.channels.length - 1]!;
  if (!o.projection) return { encoder, head: null, model: encoder, dim };

  const hin = tf.input({ shape: [dim], name: 'embedding' });
  const hh = tf.layers.dense({ units: o.projection.hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'proj1' }).apply(hin) as tfType.SymbolicTensor;
  const hout = tf.layers.dense({ units: o.projection.out, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name: 'proj2' }).apply(hh) as tfType.SymbolicTensor;
  const head = tf.model({ inputs: hin, outputs: hout, name: 'small_cnn_head' });
  const model = tf.model({ inputs: input, outputs: head.apply(emb) as tfType.SymbolicTensor, name: 'small_cnn_simclr' });
  return { encoder, head, model, dim };
}
