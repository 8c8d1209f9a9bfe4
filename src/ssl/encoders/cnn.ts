/**
 * The convolutional trunk shared by the image and audio encoders: src/ml/models/small-cnn.ts
 * (3×3 convs, BatchNorm + ReLU, global average pooling), without its projection head — heads
 * belong to the pretext methods here. Its tfjs-layers weights are adopted into a `Params` under
 * stable names (`cnn/<i>/<layer weight name>`), so the shared optimiser, checkpoints and
 * `loadEncoder` treat them like any other parameter.
 */
import { tf } from '../../ml/engine.ts';
import { buildSmallCnn } from '../../ml/models/small-cnn.ts';
import { UserError } from '../../core/errors.ts';
import { num, numList, type Config } from '../config.ts';
import type { Params, Tensor } from '../nn.ts';

export interface CnnSpec {
  /**
   * 'mean': global average pooling (dim = last channels); 'meanstd': mean and standard deviation
   * over the map ("statistics pooling", dim = 2 × last channels); 'grid': the map averaged over
   * a 2×2 grid of cells (dim = 4 × last channels) — keeps where on the image a feature fired,
   * which a linear probe on small images (garment shapes, digits) can use and a global mean loses.
   */
  pooling?: 'mean' | 'meanstd' | 'grid';
  inputShape: [number, number, number];
  channels: number[];
  strides: number[];
  kernelSize: number;
  bnMomentum: number;
  seed: number;
}

/** Reads `channels`, `strides`, `kernelSize`, `bnMomentum` from an encoder config. */
export function cnnSpec(c: Config, inputShape: [number, number, number], strides: number[], seed: number): CnnSpec {
  const w = 'config.encoder';
  const pooling = c.pooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'meanstd' && pooling !== 'grid') throw new UserError(`${w}.pooling must be "mean", "meanstd" or "grid", got ${JSON.stringify(pooling)}`);
  const channels = numList(c, 'channels', w).map((x) => Math.max(1, Math.round(x)));
  if (strides.length !== channels.length) throw new UserError(`${w}.strides has ${strides.length} entries for ${channels.length} channels`);
  return {
    pooling,
    inputShape,
    channels,
    strides,
    kernelSize: num(c, 'kernelSize', { min: 1, max: 7, int: true, where: w }),
    bnMomentum: num(c, 'bnMomentum', { min: 0, max: 1, where: w }),
    seed,
  };
}

export class CnnTrunk {
  readonly dim: number;
  private readonly pooled: tf.LayersModel;
  private readonly featureMap: tf.LayersModel;

  constructor(
    readonly spec: CnnSpec,
    params: Params,
  ) {
    const built = buildSmallCnn(tf, { ...spec, projection: false });
    this.pooled = built.encoder;
    this.dim = spec.pooling === 'meanstd' ? 2 * built.dim : spec.pooling === 'grid' ? 4 * built.dim : built.dim;
    const last = this.pooled.getLayer(`relu${spec.channels.length}`);
    this.featureMap = tf.model({ inputs: this.pooled.inputs, outputs: last.output as tf.SymbolicTensor });
    this.pooled.weights.forEach((w, i) => params.adopt(`cnn/${i}/${w.originalName}`, w.read() as tf.Variable, w.trainable));
  }

  /** [B,H,W,C] → [B, dim] (pooled). `training`: batch statistics + update running ones. */
  forward(x: Tensor, training: boolean): Tensor {
    if (this.spec.pooling === 'grid') return gridPool(this.features(x, training));
    if (this.spec.pooling !== 'meanstd') return this.pooled.apply(x, { training }) as Tensor;
    const f = this.features(x, training);
    const { mean, variance } = tf.moments(f, [1, 2]);
    return tf.concat([mean, tf.sqrt(tf.add(variance, 1e-5))], 1);
  }

  /** [B,H,W,C] → the last feature map [B, h, w, dim] (before pooling). */
  features(x: Tensor, training: boolean): Tensor {
    return this.featureMap.apply(x, { training }) as Tensor;
  }

  /** Channels of the last feature map. */
  get mapChannels(): number {
    return this.spec.channels[this.spec.channels.length - 1];
  }

  /** Total stride of the trunk (input cells per feature-map cell along each axis). */
  get stride(): number {
    return this.spec.strides.reduce((a, b) => a * b, 1);
  }

  dispose(): void {
    this.pooled.dispose();
  }
}

/**
 * [B,h,w,C] → [B, 4C]: the mean over each cell of a 2×2 grid (rows/columns split as evenly as
 * the map allows; a 1-pixel side is shared by both halves). Slices + means, whose gradients the
 * wasm backend has (it lacks AvgPoolGrad).
 */
export function gridPool(f: Tensor): Tensor {
  const [B, h, w, C] = f.shape as [number, number, number, number];
  const halves = (n: number): Array<[number, number]> => (n === 1 ? [[0, 1], [0, 1]] : [[0, Math.ceil(n / 2)], [Math.floor(n / 2), n - Math.floor(n / 2)]]);
  const cells: Tensor[] = [];
  for (const [r0, rh] of halves(h)) for (const [c0, cw] of halves(w)) cells.push(tf.mean(tf.slice(f, [0, r0, c0, 0], [B, rh, cw, C]), [1, 2]));
  return tf.concat(cells, 1);
}
