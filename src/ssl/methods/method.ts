/**
 * The contract every pretext method honours (one file per method under methods/): a name, the
 * modality it trains, its default config, and `create`, which puts its heads on a backbone and
 * returns the per-batch loss. Methods compose transforms/ (views), heads/ and losses/.
 */
import type { tf } from '../../ml/engine.ts';
import type { Modality } from '../../core/modality.ts';
import type { ModalityData } from '../types.ts';
import type { Config } from '../config.ts';
import type { Params } from '../nn.ts';
import type { Rng } from '../rng.ts';
import type { Backbone } from '../encoders/backbone.ts';
import type { BatchShard } from '../losses/ntxent.ts';

export interface PretextTask {
  /** Head weights (discarded after pretraining; saved in training checkpoints). */
  readonly heads: Params;
  /**
   * Loss of the batch `idx` of the data given to `create`. Runs inside the gradient tape;
   * every random draw (augmentations, masks, dropout seeds) comes from `rng`.
   */
  loss(idx: Int32Array, rng: Rng, shard?: BatchShard): tf.Scalar;
  /**
   * True when the loss couples the rows of a batch (contrastive: every other item is a
   * negative). Data-parallel training then gives `loss` a `shard` to all-gather the other
   * workers' rows and sums the workers' gradients; otherwise each worker's loss is the mean
   * over its own rows and the gradients are averaged.
   */
  readonly coupled?: boolean;
  /**
   * Optional: reorders an epoch's shuffled item order before it is cut into batches (text
   * groups texts of similar length so batches carry little padding).
   */
  arrange?(perm: Int32Array, batch: number, rng: Rng): Int32Array;
  dispose(): void;
}

/**
 * Length bucketing: within windows of 16 batches of the shuffled order, sort by length, cut
 * into batches, then shuffle the order of the batches. Batches stay random in content (so
 * contrastive negatives vary) while padding shrinks.
 */
export function bucketByLength(perm: Int32Array, length: (i: number) => number, batch: number, rng: Rng): Int32Array {
  const window = batch * 16;
  const batches: Int32Array[] = [];
  for (let s = 0; s < perm.length; s += window) {
    const w = Array.from(perm.subarray(s, s + window)).sort((a, b) => length(a) - length(b) || a - b);
    for (let b = 0; b < w.length; b += batch) batches.push(Int32Array.from(w.slice(b, b + batch)));
  }
  // Keep a short final batch last (the loop drops incomplete batches).
  const full = batches.filter((b) => b.length === batch);
  const rest = batches.filter((b) => b.length !== batch);
  rng.shuffle(full);
  const out = new Int32Array(perm.length);
  let k = 0;
  for (const b of [...full, ...rest]) {
    out.set(b, k);
    k += b.length;
  }
  return out;
}

export interface PretextMethod {
  name: string;
  modality: Modality;
  description: string;
  /** Full default config: `encoder` (architecture), `optim` and the method's own settings. */
  defaults: Config;
  /** Smallest usable batch (2 for contrastive losses). */
  minBatch: number;
  create(backbone: Backbone, data: ModalityData, cfg: Config, rng: Rng): PretextTask;
}

export const OPTIM_DEFAULTS: Config = {
  lr: 1e-3,
  weightDecay: 1e-4,
  /** Global gradient-norm clip (0 = off). */
  clip: 1,
  /** Fraction of all steps spent warming the learning rate up linearly (then cosine decay). */
  warmup: 0.05,
};

export function assertBackbone<T extends Backbone>(b: Backbone, ctor: abstract new (...args: never[]) => T, method: string): T {
  if (!(b instanceof ctor)) throw new Error(`${method} needs a ${ctor.name}, got ${b.constructor.name}`);
  return b;
}
