/**
 * Log-mel spectrogram front end, pure functions (FFT by fft.js; tfjs-wasm has no FFT kernel).
 *
 *   frames:  centred framing (the signal is zero-padded by nFft/2 on both sides), hop `hop`,
 *            window = periodic Hann of length `win` zero-padded to nFft (as librosa/torch.stft)
 *   power:   |FFT|² of each frame, bins 0…nFft/2
 *   mel:     triangular filters equally spaced on the HTK mel scale
 *            mel(f) = 2595·log10(1 + f/700), peak 1 at each centre (HTK / Slaney-unnormalised)
 *   log:     10·log10(max(mel, 1e-10)) clamped below at (clip max − topDb) (librosa's
 *            power_to_db with ref = 1, top_db = 80)
 * Output layout: row-major [nMels × frames] (mel bands are rows, time runs along a row).
 */
import FFT from 'fft.js';

export interface LogMelConfig {
  sampleRate: number;
  nFft: number;
  hop: number;
  win: number;
  nMels: number;
  fmin: number;
  fmax: number;
  topDb: number;
}

/** Periodic Hann window w[i] = 0.5 − 0.5·cos(2πi/n). */
export function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

export const hzToMel = (f: number): number => 2595 * Math.log10(1 + f / 700);
export const melToHz = (m: number): number => 700 * (10 ** (m / 2595) - 1);

/** nMels × (nFft/2 + 1) triangular filterbank, row-major. */
export function melFilterbank(nMels: number, nFft: number, sampleRate: number, fmin = 0, fmax = sampleRate / 2): Float32Array {
  const bins = nFft / 2 + 1;
  const fb = new Float32Array(nMels * bins);
  const lo = hzToMel(fmin);
  const hi = hzToMel(fmax);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (nMels + 1)));
  for (let m = 0; m < nMels; m++) {
    const [l, c, r] = [edges[m], edges[m + 1], edges[m + 2]];
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRate) / nFft;
      let v = 0;
      if (f > l && f <= c) v = (f - l) / (c - l);
      else if (f > c && f < r) v = (r - f) / (r - c);
      fb[m * bins + k] = v;
    }
  }
  return fb;
}

export function frameCount(samples: number, hop: number): number {
  return Math.floor(samples / hop) + 1;
}

const ffts = new Map<number, FFT>();

/** Power spectrogram, row-major [frames × (nFft/2 + 1)]. */
export function powerSpectrogram(x: Float32Array, nFft: number, hop: number, win: number): { power: Float32Array; frames: number; bins: number } {
  if ((nFft & (nFft - 1)) !== 0 || nFft < 2) throw new Error(`nFft must be a power of two, got ${nFft}`);
  if (win > nFft) throw new Error(`window length ${win} exceeds nFft ${nFft}`);
  let fft = ffts.get(nFft);
  if (!fft) ffts.set(nFft, (fft = new FFT(nFft)));
  const w = hann(win);
  const off = Math.floor((nFft - win) / 2);
  const bins = nFft / 2 + 1;
  const frames = frameCount(x.length, hop);
  const power = new Float32Array(frames * bins);
  const frame = new Float64Array(nFft);
  const out = fft.createComplexArray() as number[];
  const pad = nFft / 2;
  for (let t = 0; t < frames; t++) {
    const start = t * hop - pad;
    frame.fill(0);
    for (let i = 0; i < win; i++) {
      const j = start + off + i;
      if (j >= 0 && j < x.length) frame[off + i] = x[j] * w[i];
    }
    fft.realTransform(out, frame);
    for (let k = 0; k < bins; k++) {
      const re = out[2 * k];
      const im = out[2 * k + 1];
      power[t * bins + k] = re * re + im * im;
    }
  }
  return { power, frames, bins };
}

/** Log-mel spectrogram in dB, row-major [nMels × frames]. */
export function logMel(x: Float32Array, cfg: LogMelConfig, fb: Float32Array = melFilterbank(cfg.nMels, cfg.nFft, cfg.sampleRate, cfg.fmin, cfg.fmax)): { mel: Float32Array; frames: number } {
  const { power, frames, bins } = powerSpectrogram(x, cfg.nFft, cfg.hop, cfg.win);
  const M = cfg.nMels;
  const mel = new Float32Array(M * frames);
  let max = -Infinity;
  for (let m = 0; m < M; m++) {
    for (let t = 0; t < frames; t++) {
      let s = 0;
      for (let k = 0; k < bins; k++) {
        const f = fb[m * bins + k];
        if (f !== 0) s += f * power[t * bins + k];
      }
      const db = 10 * Math.log10(Math.max(s, 1e-10));
      mel[m * frames + t] = db;
      if (db > max) max = db;
    }
  }
  const floor = max - cfg.topDb;
  for (let i = 0; i < mel.length; i++) if (mel[i] < floor) mel[i] = floor;
  return { mel, frames };
}
