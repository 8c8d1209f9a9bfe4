import type { Modality, ModalityData } from '../core/modality.ts';

// The decoded data is the modality's, not the encoders': pure modules (raw-feature probes) use it too.
export type { ModalityData } from '../core/modality.ts';

export interface PretrainOptions {
  /** Pretext task name, e.g. `simclr`, `rotation`, `mlm`, `simcse`, `masked-spec`, `audio-contrastive`, `scarf`, `vime`. */
  pretext: string;
  epochs: number;
  batch: number;
  seed: number;
  /** Pretext/encoder-specific settings (augmentations, rotation angles, mask rate, widths…). */
  config?: Record<string, unknown>;
  /** Worker threads for data-parallel training (default: 1). */
  workers?: number;
  signal?: AbortSignal;
  /** Called after every epoch; `state` is what `resume` needs to continue from here. */
  onEpoch?(e: { epoch: number; loss: number; seconds: number }): void | Promise<void>;
  /** Continue from a checkpoint written by `Encoder.save` with its training state. */
  resumeFrom?: string;
  /** Where to write a checkpoint after each epoch (enables resume). */
  checkpointDir?: string;
}

export interface PretrainResult {
  encoder: Encoder;
  finalLoss: number;
  losses: number[];
  epochs: number;
  seconds: number;
}

export interface Encoder {
  readonly modality: Modality;
  readonly pretext: string;
  /** Embedding width. */
  readonly dim: number;
  /** Embeds every entry of `data` (same modality); N×dim row-major. Deterministic (no dropout/augmentation). */
  embed(data: ModalityData, opts?: { batch?: number }): Promise<Float32Array>;
  /** Writes weights (tfjs format) + everything needed to rebuild it (tokenizer, config) to `dir`. */
  save(dir: string): Promise<void>;
  dispose(): void;
}
