/**
 * Training views for fine-tuning, reusing each modality's pretext transforms (src/ssl/transforms):
 *
 * | modality | weak (supervised batches, FixMatch's pseudo-labelling view) | strong (FixMatch's training view) |
 * |---|---|---|
 * | image   | crop (p .5, scale .7–1) + small affine (±10°, ±10% shift) + light noise, flip as the pretext | the pretext's SimCLR augment (crop, affine, jitter, noise, erasing) |
 * | text    | token drop 10%                                         | token drop 20% + BERT masking 15%      |
 * | audio   | time shift ≤ 0.1 s, gain ±3 dB, SpecAugment 1 time + 1 frequency mask | the pretext's wave augment (shift, gain, noise) + SpecAugment 2 + 2 masks |
 * | tabular | 10% of features replaced from their marginals (SCARF rule) | 30% replaced                      |
 *
 * `forward` returns the encoder's pooled features; `training` switches batch-norm to batch
 * statistics (updating the running ones) and dropout on.
 *
 * Test-time views (`tta`, for FineTuneOptions.tta) exist for images only: the image itself and
 * its one-pixel shifts left, right, up and down (the weak augmentation shifts by up to 10%, so
 * the network has learnt these), plus the mirror image when the augmentation flips. A classifier
 * averages its logits over them: a prediction that hinges on one exact pixel alignment is
 * smoothed out.
 */
import { tf } from '../ml/engine.ts';
import type { ModalityData } from '../ssl/types.ts';
import type { SslEncoder } from '../ssl/encoder.ts';
import type { Config } from '../ssl/config.ts';
import type { Rng } from '../ssl/rng.ts';
import { ImageBackbone } from '../ssl/encoders/image.ts';
import { TextBackbone } from '../ssl/encoders/text.ts';
import { AudioBackbone } from '../ssl/encoders/audio.ts';
import { TabularBackbone } from '../ssl/encoders/tabular.ts';
import { imageAugment } from '../ssl/transforms/config.ts';
import { photometric, randomGeometry, type Affine, type ImageAugment } from '../ssl/transforms/image.ts';
import { dropTokens, maskTokens } from '../ssl/transforms/text.ts';
import { augmentWave, maskSpec, type SpecAugment, type WaveAugment } from '../ssl/transforms/audio.ts';
import { corruptFromMarginals } from '../ssl/transforms/tabular.ts';
import { SIMCLR_AUGMENT } from '../ssl/methods/simclr.ts';
import { specAugment, waveAugment } from '../ssl/methods/audio-contrastive.ts';

export type AugLevel = 'none' | 'weak' | 'strong';

export interface Views {
  /** Pooled encoder features [idx.length, dim] of items `idx` of `data` under augmentation `level`. */
  forward(data: ModalityData, idx: Int32Array, level: AugLevel, training: boolean, rng: Rng): tf.Tensor2D;
  /** What weak and strong do, for reports. */
  describe: { weak: string; strong: string };
  /** Deterministic test-time views, view 0 the item as it is (inference mode); null where the modality has none (see the file comment). */
  tta: TestTimeViews | null;
}

export interface TestTimeViews {
  count: number;
  describe: string;
  /** Pooled features [idx.length, dim] of items `idx` under view `view` (0 ≤ view < count), running statistics. */
  forward(data: ModalityData, idx: Int32Array, view: number): tf.Tensor2D;
}

/** Inverse maps of the image shifted by (dx, dy) pixels: output (u, v) samples the source at (u − dx, v − dy). */
const shift = (dx: number, dy: number): Affine => [1, 0, 0, 1, -dx, -dy];
const TTA_SHIFTS: Affine[] = [shift(0, 0), shift(1, 0), shift(-1, 0), shift(0, 1), shift(0, -1)];

const isObject = (x: unknown): x is Config => typeof x === 'object' && x !== null && !Array.isArray(x);

export function viewsFor(enc: SslEncoder): Views {
  const bb = enc.backbone;
  const cfg = enc.config;
  if (bb instanceof ImageBackbone) {
    const strong: ImageAugment = imageAugment(isObject(cfg.augment) ? cfg.augment : SIMCLR_AUGMENT);
    const weak: ImageAugment = {
      crop: { p: 0.5, scale: [0.7, 1], ratio: [0.8, 1.25] },
      flip: strong.flip,
      affine: { p: 0.5, degrees: 10, translate: 0.1, scale: [0.9, 1.1], shear: 5 },
      jitter: false,
      noise: { p: 0.3, std: 0.05 },
      erase: false,
    };
    const { height: H, width: W, source } = bb.prep;
    const C = source.channels;
    const ttaMaps = weak.flip > 0 ? [...TTA_SHIFTS, [-1, 0, 0, 1, W - 1, 0] as Affine] : TTA_SHIFTS;
    return {
      describe: { weak: 'crop p=.5 scale .7–1, affine ±10° ±10%, noise p=.3', strong: `${enc.pretext === 'simclr' ? "the pretext's" : 'SimCLR'} augment` },
      tta: {
        count: ttaMaps.length,
        describe: `the image and its one-pixel shifts${weak.flip > 0 ? ', and its mirror image' : ''}`,
        forward(data, idx, view) {
          if (!(view >= 0 && view < ttaMaps.length)) throw new Error(`test-time view ${view} of ${ttaMaps.length}`);
          const x = bb.views(data, idx, Array.from(idx, () => ttaMaps[view]));
          return tf.tidy(() => bb.trunk.forward(bb.input(x, idx.length), false) as tf.Tensor2D);
        },
      },
      forward(data, idx, level, training, rng) {
        if (level === 'none') return tf.tidy(() => bb.trunk.forward(bb.input(bb.views(data, idx), idx.length), training) as tf.Tensor2D);
        const aug = level === 'weak' ? weak : strong;
        const maps = Array.from(idx, () => randomGeometry(H, W, aug, rng));
        const x = bb.views(data, idx, maps, (img, at) => photometric(img, at, H, W, C, aug, rng));
        return tf.tidy(() => bb.trunk.forward(bb.input(x, idx.length), training) as tf.Tensor2D);
      },
    };
  }
  if (bb instanceof TextBackbone) {
    return {
      describe: { weak: 'token drop 10%', strong: 'token drop 20% + masking 15%' },
      tta: null,
      forward(data, idx, level, training, rng) {
        if (data.modality !== 'text') throw new Error(`text encoder given ${data.modality} data`);
        let tb = bb.batch(data.texts, idx);
        if (level === 'weak') tb = dropTokens(tb, 0.1, rng);
        else if (level === 'strong') tb = maskTokens(dropTokens(tb, 0.2, rng), 0.15, bb.vocabSize, rng).input;
        return tf.tidy(() => bb.forward(tb, { training, rng }).pooled as tf.Tensor2D);
      },
    };
  }
  if (bb instanceof AudioBackbone) {
    const a = isObject(cfg.augment) ? cfg.augment : {};
    const strongWave: WaveAugment = 'shift' in a && 'gainDb' in a ? waveAugment(a) : { shift: 0.15, gainDb: 6, noise: { p: 0.5, snrDb: [10, 30] } };
    const strongSpec: SpecAugment = 'timeMasks' in a ? specAugment(a) : { timeMasks: 2, timeWidth: 0.1, freqMasks: 2, freqWidth: 0.15 };
    const weakWave: WaveAugment = { shift: Math.min(0.1, strongWave.shift), gainDb: 3, noise: false };
    const weakSpec: SpecAugment = { timeMasks: 1, timeWidth: 0.05, freqMasks: 1, freqWidth: 0.1 };
    const { samples, sampleRate, nMels: M, frames: T } = bb.prep;
    const S = bb.specSize;
    return {
      describe: { weak: 'shift ≤0.1 s, gain ±3 dB, SpecAugment 1+1 masks', strong: 'shift/gain/noise + SpecAugment (the pretext’s settings)' },
      tta: null,
      forward(data, idx, level, training, rng) {
        let x: Float32Array;
        if (level === 'none') x = bb.gather(bb.spectrograms(data), idx);
        else {
          const waves = bb.waves(data);
          const [wa, sa] = level === 'weak' ? [weakWave, weakSpec] : [strongWave, strongSpec];
          x = new Float32Array(idx.length * S);
          idx.forEach((i, b) => {
            bb.spectrogram(augmentWave(waves[i], samples, sampleRate, wa, rng), x, b * S);
            maskSpec(x, b * S, M, T, sa, rng);
          });
        }
        return tf.tidy(() => bb.trunk.forward(bb.input(x, idx.length), training) as tf.Tensor2D);
      },
    };
  }
  if (bb instanceof TabularBackbone) {
    const rates = { weak: 0.1, strong: 0.3 };
    return {
      describe: { weak: '10% of features from their marginals', strong: '30% of features from their marginals' },
      tta: null,
      forward(data, idx, level, training, rng) {
        const table = bb.matrix(data);
        let x = bb.rows(table, idx);
        if (level !== 'none') x = corruptFromMarginals(x, idx.length, table, bb.numFeatures, bb.catCount, rates[level], rng, 'exact');
        return tf.tidy(() => bb.forward(x, idx.length, { training, rng }) as tf.Tensor2D);
      },
    };
  }
  throw new Error(`fine-tuning: no views for a ${bb.modality} backbone (${bb.constructor.name})`);
}
