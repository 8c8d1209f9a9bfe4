import { fft } from './fft.ts';

export interface Spectrogram {
  /** Time frames (columns). */
  frames: number;
  /** Frequency bins (rows), 0 Hz first. */
  bins: number;
  /** dB values, frame-major: db[f * bins + k]. */
  db: Float32Array;
  sampleRate: number;
  hop: number;
  /** Range of the dB values (for the colour scale). */
  min: number;
  max: number;
}

/**
 * Short-time Fourier transform with a Hann window: power in dB per frame and frequency bin.
 * Pure (no DOM), so it can run ahead of time while the previous item is being labelled.
 */
export function spectrogram(samples: Float32Array, sampleRate: number, opts: { size?: number; hop?: number; maxFrames?: number } = {}): Spectrogram {
  const size = opts.size ?? 512;
  let hop = opts.hop ?? size / 4;
  const maxFrames = opts.maxFrames ?? 1200;
  if (samples.length > size && Math.floor((samples.length - size) / hop) + 1 > maxFrames) hop = Math.ceil((samples.length - size) / (maxFrames - 1));
  const frames = Math.max(1, Math.floor((Math.max(samples.length, size) - size) / hop) + 1);
  const bins = size / 2;
  const win = new Float64Array(size);
  for (let i = 0; i < size; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (size - 1));
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  const db = new Float32Array(frames * bins);
  let min = Infinity;
  let max = -Infinity;
  for (let f = 0; f < frames; f++) {
    const o = f * hop;
    for (let i = 0; i < size; i++) {
      re[i] = (samples[o + i] ?? 0) * win[i];
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < bins; k++) {
      const v = 10 * Math.log10(re[k] * re[k] + im[k] * im[k] + 1e-10);
      db[f * bins + k] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { frames, bins, db, sampleRate, hop, min: Math.max(min, max - 80), max };
}

/** A perceptual colour ramp (dark blue → yellow), t in [0, 1] → [r, g, b]. */
export function ramp(t: number): [number, number, number] {
  const stops: Array<[number, number, number]> = [
    [13, 8, 135],
    [126, 3, 168],
    [204, 71, 120],
    [248, 149, 64],
    [240, 249, 33],
  ];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const u = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u];
}

/** RGBA pixels of the spectrogram, time left → right, low frequencies at the bottom. */
export function spectrogramPixels(s: Spectrogram): Uint8ClampedArray {
  const w = s.frames;
  const h = s.bins;
  const px = new Uint8ClampedArray(w * h * 4);
  const span = Math.max(1e-6, s.max - s.min);
  for (let f = 0; f < w; f++) {
    for (let k = 0; k < h; k++) {
      const [r, g, b] = ramp((s.db[f * h + k] - s.min) / span);
      const o = ((h - 1 - k) * w + f) * 4;
      px[o] = r;
      px[o + 1] = g;
      px[o + 2] = b;
      px[o + 3] = 255;
    }
  }
  return px;
}
