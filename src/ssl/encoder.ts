/**
 * The `Encoder` handed out by pretrain/loadEncoder/randomEncoder, and its files.
 *
 * A saved encoder folder holds:
 *   model.json + weights.bin   the encoder weights in tfjs format (written by io.ts' IOHandler)
 *   encoder.json               modality, pretext, full config, fitted preprocessing (tokenizer,
 *                              standardisation, log-mel statistics), input shape, embedding width
 * and, when written as a training checkpoint, also
 *   train/model.json + train/weights.bin   head weights and AdamW moments
 *   train/state.json           epoch, optimiser step, RNG state, losses so far (written last)
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Modality } from '../core/modality.ts';
import type { Encoder, ModalityData } from './types.ts';
import type { Config } from './config.ts';
import type { Backbone, BackboneSpec } from './encoders/backbone.ts';
import { disposeMap, loadTensors, readJson, saveTensors, writeJson } from './io.ts';
import { KITS } from './encoders/index.ts';

export const ENCODER_FORMAT = 'tessera-ssl-encoder';
export const ENCODER_VERSION = 1;

export interface EncoderFile {
  format: typeof ENCODER_FORMAT;
  version: number;
  modality: Modality;
  pretext: string;
  /** 'random' for an untrained baseline, else 'pretrained'. */
  init: 'pretrained' | 'random';
  dim: number;
  /** The full resolved pretext config (encoder, optimiser, method settings). */
  config: Config;
  backbone: BackboneSpec;
  /** Epochs trained and seed, for provenance. */
  epochs: number;
  seed: number;
  savedAt: string;
}

export class SslEncoder implements Encoder {
  readonly modality: Modality;
  readonly dim: number;

  constructor(
    readonly backbone: Backbone,
    readonly pretext: string,
    readonly config: Config,
    readonly info: { init: 'pretrained' | 'random'; epochs: number; seed: number },
  ) {
    this.modality = backbone.modality;
    this.dim = backbone.dim;
  }

  async embed(data: ModalityData, opts: { batch?: number } = {}): Promise<Float32Array> {
    const n = this.backbone.count(data);
    const batch = Math.max(1, Math.floor(opts.batch ?? 256));
    const out = new Float32Array(n * this.dim);
    const order = this.backbone.embedOrder?.(data) ?? Int32Array.from({ length: n }, (_, i) => i);
    for (let s = 0; s < n; s += batch) {
      const idx = order.subarray(s, Math.min(n, s + batch));
      const t = this.backbone.embed(data, idx);
      const rows = await t.data();
      t.dispose();
      for (let i = 0; i < idx.length; i++) out.set(rows.subarray(i * this.dim, (i + 1) * this.dim), idx[i] * this.dim);
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  describe(): EncoderFile {
    return {
      format: ENCODER_FORMAT,
      version: ENCODER_VERSION,
      modality: this.modality,
      pretext: this.pretext,
      init: this.info.init,
      dim: this.dim,
      config: this.config,
      backbone: this.backbone.spec(),
      epochs: this.info.epochs,
      seed: this.info.seed,
      savedAt: new Date().toISOString(),
    };
  }

  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const d = this.describe();
    await saveTensors(dir, this.backbone.params.named(), { tessera: ENCODER_FORMAT, modality: d.modality, pretext: d.pretext, architecture: d.backbone.encoder }, ENCODER_FORMAT);
    await writeJson(join(dir, 'encoder.json'), d);
  }

  dispose(): void {
    this.backbone.dispose();
  }
}

export async function readEncoderFile(dir: string): Promise<EncoderFile> {
  const f = await readJson<EncoderFile>(join(dir, 'encoder.json'), 'encoder');
  if (f.format !== ENCODER_FORMAT) throw new Error(`${join(dir, 'encoder.json')} is not a Tessera SSL encoder (format ${JSON.stringify(f.format)})`);
  if (f.version > ENCODER_VERSION) throw new Error(`${join(dir, 'encoder.json')} was written by a newer version (${f.version} > ${ENCODER_VERSION})`);
  return f;
}

/** Rebuilds the backbone described in `dir` and loads its weights. */
export async function loadBackbone(dir: string, f: EncoderFile): Promise<Backbone> {
  const kit = KITS[f.backbone.modality];
  if (!kit) throw new Error(`encoder in ${dir}: unknown modality ${f.backbone.modality}`);
  const bb = kit.restore(f.backbone);
  const { tensors } = await loadTensors(dir);
  try {
    bb.params.assign(tensors);
  } catch (e) {
    bb.dispose();
    throw new Error(`encoder in ${dir}: ${(e as Error).message}`);
  } finally {
    disposeMap(tensors);
  }
  return bb;
}
