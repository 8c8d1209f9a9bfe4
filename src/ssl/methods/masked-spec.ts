/**
 * Masked-spectrogram reconstruction (in the spirit of MAE, He et al. 2022, and its audio
 * versions, e.g. Audio-MAE, Huang et al. 2022, here with a CNN): the centred log-mel
 * spectrogram is cut into p×p patches (p = the encoder's total stride, so each cell of its
 * last feature map sits over one patch); a random `maskRatio` of the patches is zeroed; a
 * linear head on each feature-map cell predicts the p·p values of its patch; the loss is the
 * MSE over the masked patches only (padding beyond the last frame excluded). Optional light
 * waveform augmentation (shift/gain/noise) varies the inputs between epochs.
 */
import { tf } from '../../ml/engine.ts';
import { num, sub, type Config } from '../config.ts';
import { Params } from '../nn.ts';
import { AUDIO_DEFAULTS, AudioBackbone } from '../encoders/audio.ts';
import { augmentWave, maskPatches } from '../transforms/audio.ts';
import { addLinear, linear } from '../heads/mlp.ts';
import { maskedMse } from '../losses/reconstruction.ts';
import { waveAugment } from './audio-contrastive.ts';
import { OPTIM_DEFAULTS, assertBackbone, type PretextMethod } from './method.ts';

export const maskedSpec: PretextMethod = {
  name: 'masked-spec',
  modality: 'audio',
  description: 'masked-spectrogram reconstruction: hide random patches of the log-mel spectrogram and reconstruct them (MSE on the hidden patches)',
  minBatch: 1,
  defaults: {
    encoder: AUDIO_DEFAULTS,
    /** Fraction of patches hidden (high, as in MAE; on FSDD 0.75 gave better kNN than 0.5). */
    maskRatio: 0.75,
    augment: { shift: 0.05, gainDb: 3, noise: false },
    optim: { ...OPTIM_DEFAULTS, lr: 2e-3, weightDecay: 1e-4 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, AudioBackbone, 'masked-spec');
    const ratio = num(cfg, 'maskRatio', { min: 0.01, max: 0.99 });
    const wa = waveAugment(sub(cfg, 'augment'));
    const p = bb.trunk.stride;
    const { samples, sampleRate, nMels: M, frames: T } = bb.prep;
    const gh = Math.ceil(M / p);
    const gw = Math.ceil(T / p);
    const heads = new Params();
    addLinear(heads, 'recon', bb.trunk.mapChannels, p * p, rng);
    const waves = bb.waves(data);
    const S = bb.specSize;
    return {
      heads,
      loss(idx, r) {
        const B = idx.length;
        const clean = new Float32Array(B * S);
        idx.forEach((i, b) => bb.spectrogram(augmentWave(waves[i], samples, sampleRate, wa, r), clean, b * S));
        const masked = clean.slice();
        // Targets and weights in patch layout [B, gh, gw, p·p] (no transposes on the tensor side).
        const target = new Float32Array(B * gh * gw * p * p);
        const weight = new Float32Array(B * gh * gw * p * p);
        for (let b = 0; b < B; b++) {
          const mask = maskPatches(masked, b * S, M, T, p, ratio, r);
          for (let gy = 0; gy < gh; gy++) {
            for (let gx = 0; gx < gw; gx++) {
              const cell = ((b * gh + gy) * gw + gx) * p * p;
              for (let dy = 0; dy < p; dy++) {
                for (let dx = 0; dx < p; dx++) {
                  const m = gy * p + dy;
                  const t = gx * p + dx;
                  if (m >= M || t >= T) continue;
                  target[cell + dy * p + dx] = clean[b * S + m * T + t];
                  weight[cell + dy * p + dx] = mask[gy * gw + gx];
                }
              }
            }
          }
        }
        const fmap = bb.trunk.features(bb.input(masked, B), true);
        const [, h, w] = fmap.shape;
        if (h !== gh || w !== gw) throw new Error(`masked-spec: feature map ${h}×${w} does not tile the ${M}×${T} spectrogram in ${p}×${p} patches (${gh}×${gw})`);
        const pred = linear(heads, 'recon', fmap);
        return maskedMse(pred, tf.tensor4d(target, [B, gh, gw, p * p]), tf.tensor4d(weight, [B, gh, gw, p * p]));
      },
      dispose: () => heads.dispose(),
    };
  },
};
