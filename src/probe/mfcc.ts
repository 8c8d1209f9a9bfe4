import FFT from 'fft.js';
import type { Features } from './features.ts';

/**
 * MFCC statistics, the classic raw audio baseline: 25 ms Hann frames every 10 ms, power
 * spectrum, 40 mel bands (HTK mel scale), log, DCT-II → 20 coefficients; each recording is
 * summarised by the mean and standard deviation of every coefficient over its frames (40 dims).
 */
export function mfccStatistics(waves: Float32Array[], sampleRate: number, nMfcc = 20, nMels = 40): Features {
  const frame = Math.round(0.025 * sampleRate);
  const hop = Math.round(0.01 * sampleRate);
  let nfft = 1;
  while (nfft < frame) nfft *= 2;
  const fft = new FFT(nfft);
  const window = Float64Array.from({ length: frame }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (frame - 1)));
  const mel = melFilterbank(nMels, nfft, sampleRate);
  const dct = dctMatrix(nMfcc, nMels);
  const dim = 2 * nMfcc;
  const out = new Float32Array(waves.length * dim);
  const input = new Array<number>(nfft).fill(0);
  const spec = fft.createComplexArray() as number[];
  const power = new Float64Array(nfft / 2 + 1);
  const logMel = new Float64Array(nMels);
  waves.forEach((w, r) => {
    const frames = Math.max(1, 1 + Math.floor((w.length - frame) / hop));
    const sum = new Float64Array(nMfcc);
    const sq = new Float64Array(nMfcc);
    for (let f = 0; f < frames; f++) {
      for (let i = 0; i < nfft; i++) input[i] = i < frame ? (w[f * hop + i] ?? 0) * window[i] : 0;
      fft.realTransform(spec, input);
      for (let k = 0; k <= nfft / 2; k++) power[k] = spec[2 * k] ** 2 + spec[2 * k + 1] ** 2;
      for (let m = 0; m < nMels; m++) {
        let e = 0;
        for (const [k, wt] of mel[m]) e += power[k] * wt;
        logMel[m] = Math.log(e + 1e-10);
      }
      for (let c = 0; c < nMfcc; c++) {
        let v = 0;
        for (let m = 0; m < nMels; m++) v += dct[c][m] * logMel[m];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
    for (let c = 0; c < nMfcc; c++) {
      const mean = sum[c] / frames;
      out[r * dim + c] = mean;
      out[r * dim + nMfcc + c] = Math.sqrt(Math.max(0, sq[c] / frames - mean * mean));
    }
  });
  return { rows: waves.length, dim, data: out };
}

const hzToMel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number) => 700 * (10 ** (mel / 2595) - 1);

/** Triangular mel filters as sparse (bin, weight) lists over the nfft/2+1 power bins. */
export function melFilterbank(nMels: number, nfft: number, sampleRate: number): Array<Array<[number, number]>> {
  const top = hzToMel(sampleRate / 2);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz((top * i) / (nMels + 1)));
  const binHz = sampleRate / nfft;
  return Array.from({ length: nMels }, (_, m) => {
    const [lo, mid, hi] = [edges[m], edges[m + 1], edges[m + 2]];
    const taps: Array<[number, number]> = [];
    for (let k = 0; k <= nfft / 2; k++) {
      const hz = k * binHz;
      const w = hz <= lo || hz >= hi ? 0 : hz <= mid ? (hz - lo) / (mid - lo) : (hi - hz) / (hi - mid);
      if (w > 0) taps.push([k, w]);
    }
    return taps;
  });
}

/** Orthonormal DCT-II rows. */
function dctMatrix(n: number, m: number): number[][] {
  return Array.from({ length: n }, (_, c) =>
    Array.from({ length: m }, (_, j) => Math.cos((Math.PI * c * (j + 0.5)) / m) * Math.sqrt((c === 0 ? 1 : 2) / m)),
  );
}
