/**
 * A fine-tuned classifier — an encoder and the linear head trained with it — as it predicts and
 * as it is saved to and loaded from a classifier folder (the loop's model registry points at one).
 */
import { join } from 'node:path';
import { tf, initEngine } from '../ml/engine.ts';
import { UserError } from '../core/errors.ts';
import type { ModalityData } from '../ssl/types.ts';
import { SslEncoder } from '../ssl/encoder.ts';
import { loadEncoder } from '../ssl/index.ts';
import { disposeMap, loadTensors, readJson, saveTensors, writeJson } from '../ssl/io.ts';
import { Params, dense } from '../ssl/nn.ts';
import { Rng } from '../ssl/rng.ts';
import { softmaxWithTemperature } from './calibration.ts';
import { metricsFromProba, type Metrics } from './linear-head.ts';
import { viewsFor, type Views } from './views.ts';

/** Linear head on an encoder: calibrated probabilities and metrics on any data of the modality. */
export class FineTunedClassifier {
  constructor(
    readonly encoder: SslEncoder,
    readonly head: Params,
    readonly classes: string[],
    private readonly views: Views,
    public temperature = 1,
    /** Whether predictions average the logits of the test-time views (FineTuneOptions.tta). */
    readonly tta = false,
  ) {
    if (tta) testTimeViews(views);
  }

  /** Raw logits rows × classes (running statistics; no augmentation, or the test-time views' mean with `tta`). */
  async logits(data: ModalityData, idx?: ArrayLike<number>): Promise<Float32Array> {
    const ids = idx ? Int32Array.from(idx) : Int32Array.from({ length: this.encoder.backbone.count(data) }, (_, i) => i);
    return logitsOf(this.head, this.views, data, ids, this.classes.length, this.tta);
  }

  async proba(data: ModalityData, idx?: ArrayLike<number>): Promise<Float64Array> {
    return softmaxWithTemperature(await this.logits(data, idx), this.classes.length, this.temperature);
  }

  /** Accuracy, macro-F1, per-class F1, confusion, ECE on items `idx` with true class ids or names `truth`. */
  async evaluate(data: ModalityData, idx: ArrayLike<number>, truth: ArrayLike<number> | ArrayLike<string>): Promise<Metrics> {
    return metricsFromProba(await this.proba(data, idx), this.classes, truth);
  }

  /**
   * Writes a loadable classifier folder: the (fine-tuned) encoder as `Encoder.save` writes it
   * (encoder.json, model.json, weights.bin: `loadEncoder` reads it), the head (head.json +
   * head.bin) and classifier.json (classes, temperature). `loadFineTuned` reads it back.
   */
  async save(dir: string, extra: Record<string, unknown> = {}): Promise<void> {
    await this.encoder.save(dir);
    await saveTensors(dir, this.head.named(), { tessera: CLASSIFIER_FORMAT, classes: this.classes.length }, CLASSIFIER_FORMAT, 'head.json', 'head.bin');
    const f: ClassifierFile = { format: CLASSIFIER_FORMAT, version: 1, classes: this.classes, temperature: this.temperature, dim: this.encoder.dim, ...(this.tta ? { tta: true } : {}), ...extra };
    // Written last: a folder without it is an unfinished save.
    await writeJson(join(dir, 'classifier.json'), f);
  }

  /** Frees the head (the encoder belongs to the caller). */
  dispose(): void {
    this.head.dispose();
  }
}

export const CLASSIFIER_FORMAT = 'tessera-classifier';

interface ClassifierFile {
  format: typeof CLASSIFIER_FORMAT;
  version: number;
  classes: string[];
  temperature: number;
  dim: number;
  /** Predicts with the test-time views (absent = false). */
  tta?: boolean;
  [k: string]: unknown;
}

/**
 * Loads a classifier folder written by `FineTunedClassifier.save`. The returned model owns its
 * encoder: `dispose()` the model and then `model.encoder.dispose()`.
 */
export async function loadFineTuned(dir: string): Promise<FineTunedClassifier> {
  await initEngine();
  const f = await readJson<ClassifierFile>(join(dir, 'classifier.json'), 'classifier');
  if (f.format !== CLASSIFIER_FORMAT) throw new Error(`${join(dir, 'classifier.json')} is not a Tessera classifier (format ${JSON.stringify(f.format)})`);
  if (f.version > 1) throw new Error(`${join(dir, 'classifier.json')} was written by a newer version (${f.version} > 1)`);
  const encoder = await loadEncoder(dir);
  if (!(encoder instanceof SslEncoder) || encoder.dim !== f.dim) {
    encoder.dispose();
    throw new Error(`classifier ${dir}: the encoder's embedding width is ${encoder.dim}, the head expects ${f.dim}`);
  }
  const head = new Params();
  const rng = new Rng(0);
  head.add('cls/w', [f.dim, f.classes.length], 'zeros', rng);
  head.add('cls/b', [f.classes.length], 'zeros', rng);
  const { tensors } = await loadTensors(dir, 'head.json', 'head.bin');
  try {
    head.assign(tensors);
  } catch (e) {
    head.dispose();
    encoder.dispose();
    throw new Error(`classifier ${dir}: ${(e as Error).message}`);
  } finally {
    disposeMap(tensors);
  }
  return new FineTunedClassifier(encoder, head, f.classes, viewsFor(encoder), f.temperature, f.tta === true);
}

/** The test-time views, or an error saying that this modality has none. */
export function testTimeViews(views: Views): NonNullable<Views['tta']> {
  if (!views.tta) throw new UserError('test-time augmentation (tta) is defined for image encoders only');
  return views.tta;
}

export async function logitsOf(head: Params, views: Views, data: ModalityData, ids: Int32Array, K: number, tta = false): Promise<Float32Array> {
  const out = new Float32Array(ids.length * K);
  const dummy = new Rng(0);
  const tv = tta ? testTimeViews(views) : null;
  for (let s = 0; s < ids.length; s += 256) {
    const part = ids.subarray(s, Math.min(ids.length, s + 256));
    const t = tf.tidy(() => {
      if (!tv) return dense(head, 'cls', views.forward(data, part, 'none', false, dummy));
      let sum = dense(head, 'cls', tv.forward(data, part, 0));
      for (let v = 1; v < tv.count; v++) sum = sum.add(dense(head, 'cls', tv.forward(data, part, v)));
      return sum.div(tv.count);
    });
    out.set(await t.data(), s * K);
    t.dispose();
  }
  return out;
}
