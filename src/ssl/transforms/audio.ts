/**
 * Audio views: waveform-level speed perturbation (Ko et al. 2015, "Audio Augmentation for Speech
 * Recognition"), time shift, gain and additive Gaussian noise at a random SNR,
 * then spectrogram-level time and frequency masking (SpecAugment, Park et al. 2019), and
 * patch masking for masked-spectrogram modelling.
 */
import type { Rng } from '../rng.ts';
import { centredOffset, placeWave } from '../encoders/audio.ts';

export interface WaveAugment {
  /**
   * Max speed change, as a fraction (0.1 → factor 0.9–1.1): the clip is played faster or slower,
   * shifting tempo and pitch together, so two views of one clip differ in pitch and formants (the
   * standard speech augmentation; it lowered FSDD's frozen-probe accuracy, so no pretext turns it
   * on by default). 0 or absent = off.
   */
  speed?: number;
  /** Max shift of the clip inside the window, seconds (either way from centred). */
  shift: number;
  /** Max gain change, dB (either way). */
  gainDb: number;
  /** Probability of adding noise, and its SNR range in dB. */
  noise: { p: number; snrDb: [number, number] } | false;
}

export interface SpecAugment {
  timeMasks: number;
  /** Max width of a time mask, as a fraction of the frames. */
  timeWidth: number;
  freqMasks: number;
  /** Max width of a frequency mask, as a fraction of the mel bands. */
  freqWidth: number;
}

/**
 * `wave` played at `factor` × its speed (> 1 = faster and higher, fewer samples), by linear
 * interpolation: cheap enough to run per view (a windowed-sinc resample per view would cost more
 * than the training step it feeds), at the price of slight high-frequency loss and aliasing.
 */
export function changeSpeed(wave: Float32Array, factor: number): Float32Array {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`changeSpeed: factor must be positive, got ${factor}`);
  if (factor === 1 || wave.length === 0) return wave;
  const n = Math.max(1, Math.round(wave.length / factor));
  const out = new Float32Array(n);
  const last = wave.length - 1;
  for (let i = 0; i < n; i++) {
    const t = Math.min(last, i * factor);
    const j = Math.floor(t);
    const f = t - j;
    out[i] = j < last ? wave[j] * (1 - f) + wave[j + 1] * f : wave[last];
  }
  return out;
}

/** A randomly sped-up or slowed, shifted, scaled and noised window of `samples` from `wave`. */
export function augmentWave(source: Float32Array, samples: number, sampleRate: number, aug: WaveAugment, rng: Rng): Float32Array {
  // No draw when off, so views without speed keep their random streams.
  const wave = aug.speed ? changeSpeed(source, 1 + rng.uniform(-aug.speed, aug.speed)) : source;
  const c = centredOffset(wave.length, samples);
  const lo = Math.min(0, samples - wave.length);
  const hi = Math.max(0, samples - wave.length);
  const off = Math.max(lo, Math.min(hi, c + Math.round(rng.uniform(-aug.shift, aug.shift) * sampleRate)));
  const x = placeWave(wave, samples, off);
  const g = 10 ** (rng.uniform(-aug.gainDb, aug.gainDb) / 20);
  let power = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] *= g;
    if (x[i] !== 0) {
      power += x[i] * x[i];
      n++;
    }
  }
  if (aug.noise && rng.next() < aug.noise.p && n > 0) {
    const snr = rng.uniform(aug.noise.snrDb[0], aug.noise.snrDb[1]);
    const std = Math.sqrt(power / n / 10 ** (snr / 10));
    for (let i = 0; i < x.length; i++) x[i] += std * rng.normal();
  }
  return x;
}

/** SpecAugment time/frequency masks on one [M × T] spectrogram at `at` (set to 0 = the band mean). */
export function maskSpec(spec: Float32Array, at: number, M: number, T: number, aug: SpecAugment, rng: Rng): void {
  for (let k = 0; k < aug.timeMasks; k++) {
    const w = rng.int(Math.floor(aug.timeWidth * T) + 1);
    const t0 = rng.int(Math.max(1, T - w + 1));
    for (let m = 0; m < M; m++) for (let t = t0; t < t0 + w; t++) spec[at + m * T + t] = 0;
  }
  for (let k = 0; k < aug.freqMasks; k++) {
    const w = rng.int(Math.floor(aug.freqWidth * M) + 1);
    const m0 = rng.int(Math.max(1, M - w + 1));
    for (let m = m0; m < m0 + w; m++) for (let t = 0; t < T; t++) spec[at + m * T + t] = 0;
  }
}

/**
 * Patch masking on a grid of p×p patches (the encoder's stride) over one [M × T] spectrogram:
 * each patch is masked with probability `ratio` (at least one). Masked values become 0 in
 * `spec`; returns the 0/1 mask per patch, row-major [ceil(M/p) × ceil(T/p)].
 */
export function maskPatches(spec: Float32Array, at: number, M: number, T: number, p: number, ratio: number, rng: Rng): Uint8Array {
  const gh = Math.ceil(M / p);
  const gw = Math.ceil(T / p);
  const mask = new Uint8Array(gh * gw);
  let any = false;
  for (let i = 0; i < mask.length; i++) if (rng.next() < ratio) mask[i] = 1, (any = true);
  if (!any) mask[rng.int(mask.length)] = 1;
  for (let gy = 0; gy < gh; gy++) {
    for (let gx = 0; gx < gw; gx++) {
      if (!mask[gy * gw + gx]) continue;
      for (let m = gy * p; m < Math.min(M, (gy + 1) * p); m++) for (let t = gx * p; t < Math.min(T, (gx + 1) * p); t++) spec[at + m * T + t] = 0;
    }
  }
  return mask;
}
