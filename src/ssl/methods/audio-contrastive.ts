/**
 * Contrastive audio (SimCLR applied to log-mel spectrograms, as in COLA, Saeed et al. 2021,
 * and CLAR, Al-Tahan & Mohsenzadeh 2021): two views of each clip — time shift, gain and noise
 * (and, opt-in, speed) on the waveform, then SpecAugment time/frequency masks on the spectrogram — encoder →
 * projection MLP → NT-Xent.
 */
import { num, numPair, sub, type Config } from '../config.ts';
import { Params } from '../nn.ts';
import { AUDIO_DEFAULTS, AudioBackbone } from '../encoders/audio.ts';
import { augmentWave, maskSpec, type SpecAugment, type WaveAugment } from '../transforms/audio.ts';
import { addProjection, projection } from '../heads/mlp.ts';
import { ntXentSharded } from '../losses/ntxent.ts';
import { OPTIM_DEFAULTS, assertBackbone, type PretextMethod } from './method.ts';

export function waveAugment(c: Config): WaveAugment {
  const w = 'config.augment';
  const noise = c.noise;
  return {
    // Encoders saved before speed perturbation existed have no `speed` key: off, as they trained.
    speed: c.speed === undefined ? 0 : num(c, 'speed', { min: 0, max: 0.5, where: w }),
    shift: num(c, 'shift', { min: 0, where: w }),
    gainDb: num(c, 'gainDb', { min: 0, where: w }),
    noise: noise === false || noise === null ? false : { p: num(noise as Config, 'p', { min: 0, max: 1, where: `${w}.noise` }), snrDb: numPair(noise as Config, 'snrDb', `${w}.noise`) },
  };
}

export function specAugment(c: Config): SpecAugment {
  const w = 'config.augment';
  return {
    timeMasks: num(c, 'timeMasks', { min: 0, int: true, where: w }),
    timeWidth: num(c, 'timeWidth', { min: 0, max: 1, where: w }),
    freqMasks: num(c, 'freqMasks', { min: 0, int: true, where: w }),
    freqWidth: num(c, 'freqWidth', { min: 0, max: 1, where: w }),
  };
}

export const audioContrastive: PretextMethod = {
  name: 'audio-contrastive',
  modality: 'audio',
  description: 'contrastive audio: two views per clip (time shift, gain, noise, time/frequency masking) pulled together with NT-Xent',
  minBatch: 2,
  defaults: {
    encoder: AUDIO_DEFAULTS,
    augment: {
      /**
       * Off by default: on FSDD (20 epochs, seed 0) ±10% speed made the frozen embedding worse —
       * 10 labels a class, kNN 54.3% vs 59.6%, linear probe 79.6% vs 82.0% (docs/journal/benchmarks.md).
       */
      speed: 0,
      shift: 0.15,
      gainDb: 6,
      noise: { p: 0.5, snrDb: [10, 30] },
      timeMasks: 2,
      timeWidth: 0.1,
      freqMasks: 2,
      freqWidth: 0.15,
    },
    temperature: 0.2,
    projection: 128,
    optim: { ...OPTIM_DEFAULTS, lr: 2e-3, weightDecay: 1e-4 },
  },
  create(backbone, data, cfg: Config, rng) {
    const bb = assertBackbone(backbone, AudioBackbone, 'audio-contrastive');
    const a = sub(cfg, 'augment');
    const wa = waveAugment(a);
    const sa = specAugment(a);
    const tau = num(cfg, 'temperature', { min: 1e-3 });
    const projDim = num(cfg, 'projection', { min: 1, int: true });
    const heads = new Params();
    addProjection(heads, 'proj', bb.dim, projDim, projDim, rng);
    const waves = bb.waves(data);
    const { samples, sampleRate, nMels: M, frames: T } = bb.prep;
    const S = bb.specSize;
    const view = (idx: Int32Array, r: typeof rng) => {
      const out = new Float32Array(idx.length * S);
      idx.forEach((i, b) => {
        bb.spectrogram(augmentWave(waves[i], samples, sampleRate, wa, r), out, b * S);
        maskSpec(out, b * S, M, T, sa, r);
      });
      return bb.input(out, idx.length);
    };
    return {
      heads,
      coupled: true,
      loss(idx, r, shard) {
        const z1 = projection(heads, 'proj', bb.trunk.forward(view(idx, r), true));
        const z2 = projection(heads, 'proj', bb.trunk.forward(view(idx, r), true));
        return ntXentSharded(z1, z2, tau, shard);
      },
      dispose: () => heads.dispose(),
    };
  },
};
