import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameCount, hann, hzToMel, logMel, melFilterbank, melToHz, powerSpectrogram } from '../../src/ssl/encoders/logmel.ts';

const near = (a: number, b: number, eps: number, what = '') => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b} (±${eps})`);

function sine(freq: number, sr: number, seconds: number, amp: number): Float32Array {
  return Float32Array.from({ length: Math.round(sr * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / sr));
}

test('periodic Hann window', () => {
  const w = hann(8);
  const expected = [0, 0.1464466, 0.5, 0.8535534, 1, 0.8535534, 0.5, 0.1464466];
  expected.forEach((e, i) => near(w[i], e, 1e-6, `w[${i}]`));
  near(hann(200).reduce((a, b) => a + b, 0), 100, 1e-9, 'sum of a periodic Hann window of n is n/2');
});

test('HTK mel scale: 700 Hz ↦ 2595·log10(2), and back', () => {
  near(hzToMel(700), 2595 * Math.log10(2), 1e-9);
  for (const f of [0, 125, 1000, 3999.5]) near(melToHz(hzToMel(f)), f, 1e-6);
});

test('mel filterbank: triangles with peak ≤ 1, partition of unity between the outer centres', () => {
  const fb = melFilterbank(40, 256, 8000);
  const bins = 129;
  for (let m = 0; m < 40; m++) {
    let max = 0;
    for (let k = 0; k < bins; k++) {
      assert.ok(fb[m * bins + k] >= 0);
      max = Math.max(max, fb[m * bins + k]);
    }
    assert.ok(max > 0.3 && max <= 1, `filter ${m} peak ${max}`);
  }
  // Between the first and the last centre frequency, adjacent triangles sum to 1.
  const lo = melToHz((hzToMel(4000) * 1) / 41);
  const hi = melToHz((hzToMel(4000) * 40) / 41);
  for (let k = 0; k < bins; k++) {
    const f = (k * 8000) / 256;
    if (f <= lo || f >= hi) continue;
    let s = 0;
    for (let m = 0; m < 40; m++) s += fb[m * bins + k];
    near(s, 1, 1e-5, `bin ${k} (${f} Hz)`);
  }
});

test('power spectrum of a 1 kHz tone at 8 kHz: peak at bin 32 with |X|² = (A·Σw/2)²', () => {
  const x = sine(1000, 8000, 1, 0.5);
  const { power, frames, bins } = powerSpectrogram(x, 256, 80, 200);
  assert.equal(frames, frameCount(8000, 80));
  assert.equal(frames, 101);
  assert.equal(bins, 129);
  const t = 50; // a frame well inside the signal
  const row = power.subarray(t * bins, (t + 1) * bins);
  let arg = 0;
  for (let k = 1; k < bins; k++) if (row[k] > row[arg]) arg = k;
  assert.equal(arg, 32, '1000 Hz / (8000/256 Hz per bin)');
  near(row[32], (0.5 * 100 / 2) ** 2, 0.625 * 1e-2, 'peak power');
  for (let k = 0; k < bins; k++) if (Math.abs(k - 32) >= 4) assert.ok(row[k] < row[32] * 1e-3, `leakage at bin ${k}: ${row[k]}`);
});

test('power spectrum matches a direct DFT of the windowed frame', () => {
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const x = Float32Array.from({ length: 1000 }, rand);
  const nFft = 64;
  const win = 50;
  const hop = 20;
  const { power, bins } = powerSpectrogram(x, nFft, hop, win);
  const w = hann(win);
  const off = Math.floor((nFft - win) / 2);
  for (const t of [0, 7, 30]) {
    const frame = new Float64Array(nFft);
    for (let i = 0; i < win; i++) {
      const j = t * hop - nFft / 2 + off + i;
      if (j >= 0 && j < x.length) frame[off + i] = x[j] * w[i];
    }
    for (let k = 0; k < bins; k++) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < nFft; n++) {
        re += frame[n] * Math.cos((2 * Math.PI * k * n) / nFft);
        im -= frame[n] * Math.sin((2 * Math.PI * k * n) / nFft);
      }
      near(power[t * bins + k], re * re + im * im, 1e-6 * Math.max(1, re * re + im * im), `frame ${t} bin ${k}`);
    }
  }
});

test('log-mel of a 1 kHz tone: loudest band is the one centred nearest 1 kHz, values in dB, floor at max − topDb', () => {
  const cfg = { sampleRate: 8000, nFft: 256, hop: 80, win: 200, nMels: 40, fmin: 0, fmax: 4000, topDb: 80 };
  const x = sine(1000, 8000, 1, 0.5);
  const { mel, frames } = logMel(x, cfg);
  assert.equal(mel.length, 40 * frames);
  const t = 50;
  let arg = 0;
  for (let m = 1; m < 40; m++) if (mel[m * frames + t] > mel[arg * frames + t]) arg = m;
  const centres = Array.from({ length: 40 }, (_, m) => melToHz((hzToMel(4000) * (m + 1)) / 41));
  const nearest = centres.reduce((b, c, m) => (Math.abs(c - 1000) < Math.abs(centres[b] - 1000) ? m : b), 0);
  assert.equal(arg, nearest);
  // The value is 10·log10 of the filter-weighted power.
  const fb = melFilterbank(40, 256, 8000);
  const { power } = powerSpectrogram(x, 256, 80, 200);
  let e = 0;
  for (let k = 0; k < 129; k++) e += fb[arg * 129 + k] * power[t * 129 + k];
  near(mel[arg * frames + t], 10 * Math.log10(e), 1e-3, 'dB value');
  const max = Math.max(...mel);
  assert.ok(Math.min(...mel) >= max - 80 - 1e-4);
  // Silence is at the floor.
  const silent = logMel(new Float32Array(8000), cfg).mel;
  assert.ok(silent.every((v) => v === silent[0]));
});
