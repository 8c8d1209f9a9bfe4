export const MODALITIES = ['text', 'image', 'audio', 'tabular'] as const;
export type Modality = (typeof MODALITIES)[number];

/**
 * The data an encoder sees, decoded from the store (src/ssl/data.ts does that), one entry per item.
 * Pure in-memory arrays: encoders and pretext tasks never touch the store.
 */
export type ModalityData =
  | { modality: 'text'; texts: string[] }
  /** N images, row-major N×H×W×C floats in [0, 1]. */
  | { modality: 'image'; pixels: Float32Array; count: number; height: number; width: number; channels: number }
  /** Mono waveforms in [-1, 1] at one sample rate. */
  | { modality: 'audio'; waves: Float32Array[]; sampleRate: number }
  /** Rows of values in column order; numbers for `num` columns, strings for `cat`, null = missing. */
  | { modality: 'tabular'; rows: Array<Array<number | string | null>>; columns: Array<{ name: string; type: 'num' | 'cat' }> };
