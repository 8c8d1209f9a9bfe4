/**
 * What every modality's encoder ("backbone") offers the pretext methods and the saved Encoder.
 *
 * A backbone = fitted preprocessing (tokenizer, standardisation, log-mel statistics…) +
 * named weights. `spec()` is JSON holding everything but the weights; `restore(spec)` in the
 * modality's kit rebuilds the same architecture, and the weights are then assigned.
 */
import type { tf } from '../../ml/engine.ts';
import type { Modality } from '../../core/modality.ts';
import type { ModalityData } from '../types.ts';
import type { Config } from '../config.ts';
import type { Params } from '../nn.ts';
import type { Rng } from '../rng.ts';

export interface BackboneSpec {
  modality: Modality;
  /** Architecture settings (resolved, with every default filled in). */
  encoder: Config;
  /** Fitted preprocessing state (tokenizer, statistics…). */
  prep: unknown;
  /** Shape of one preprocessed input, for information (e.g. [8, 8, 1], [40, 101, 1], [64]). */
  inputShape: number[];
}

export interface Backbone {
  readonly modality: Modality;
  readonly params: Params;
  /** Embedding width. */
  readonly dim: number;
  spec(): BackboneSpec;
  /** Number of items in `data` (checks the modality). */
  count(data: ModalityData): number;
  /** Deterministic embeddings of items `idx` of `data` (no dropout, running statistics). */
  embed(data: ModalityData, idx: Int32Array): tf.Tensor2D;
  /** Optional: the order in which `embed` should batch the items (e.g. texts by length). */
  embedOrder?(data: ModalityData): Int32Array;
  /**
   * Sets data-dependent non-trainable state before use without pretraining (batch-norm
   * running statistics from a pass over the data), so a random-init baseline is not crippled
   * by unset statistics. No-op for backbones without such state.
   */
  calibrate?(data: ModalityData, rng: Rng): Promise<void>;
  dispose(): void;
}

export interface ModalityKit<B extends Backbone = Backbone> {
  modality: Modality;
  /** Defaults of the architecture settings (`config.encoder`). */
  defaults: Config;
  /** Fits the preprocessing on `data` and initialises weights from `rng`. */
  create(data: ModalityData, encoder: Config, rng: Rng): B;
  /** Rebuilds from a spec (weights random until assigned). */
  restore(spec: BackboneSpec): B;
}

/** Ensures `data` is of the expected modality. */
export function expectModality<M extends ModalityData['modality']>(data: ModalityData, m: M): Extract<ModalityData, { modality: M }> {
  if (data.modality !== m) throw new Error(`this encoder takes ${m} data, got ${data.modality}`);
  return data as Extract<ModalityData, { modality: M }>;
}
