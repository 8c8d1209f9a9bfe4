import { test } from 'node:test';
import assert from 'node:assert/strict';
import wavefile from 'wavefile';
import { downmix, encodeWav16, parseWav, resample } from '../../src/ingest/wav.ts';

/** Build a WAV by hand: `frames[i][c]` are raw sample values (integers for PCM, floats for float). */
function makeWav(o: {
  format?: 'pcm' | 'float' | 'extensible-pcm' | 'extensible-float';
  bits: number;
  sampleRate?: number;
  frames: number[][];
  /** Extra chunks before the data chunk. */
  before?: { id: string; body: Uint8Array }[];
  formatCode?: number;
}): Uint8Array {
  const format = o.format ?? 'pcm';
  const channels = o.frames[0]?.length ?? 1;
  const bps = o.bits / 8;
  const ext = format.startsWith('extensible');
  const isFloat = format.endsWith('float');
  const data = new Uint8Array(o.frames.length * channels * bps);
  const dv = new DataView(data.buffer);
  let p = 0;
  for (const frame of o.frames) {
    for (const v of frame) {
      if (isFloat) {
        if (o.bits === 32) dv.setFloat32(p, v, true);
        else dv.setFloat64(p, v, true);
      } else if (o.bits === 8) dv.setUint8(p, v);
      else if (o.bits === 16) dv.setInt16(p, v, true);
      else if (o.bits === 24) {
        const u = v & 0xffffff;
        data[p] = u & 0xff;
        data[p + 1] = (u >> 8) & 0xff;
        data[p + 2] = (u >> 16) & 0xff;
      } else dv.setInt32(p, v, true);
      p += bps;
    }
  }
  const fmt = new Uint8Array(ext ? 40 : 16);
  const fv = new DataView(fmt.buffer);
  const sr = o.sampleRate ?? 8000;
  fv.setUint16(0, o.formatCode ?? (ext ? 0xfffe : isFloat ? 3 : 1), true);
  fv.setUint16(2, channels, true);
  fv.setUint32(4, sr, true);
  fv.setUint32(8, sr * channels * bps, true);
  fv.setUint16(12, channels * bps, true);
  fv.setUint16(14, o.bits, true);
  if (ext) {
    fv.setUint16(16, 22, true);
    fv.setUint16(18, o.bits, true);
    fv.setUint32(20, channels === 2 ? 3 : 4, true);
    fv.setUint16(24, isFloat ? 3 : 1, true);
    fmt.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return riff([{ id: 'fmt ', body: fmt }, ...(o.before ?? []), { id: 'data', body: data }]);
}

function riff(chunks: { id: string; body: Uint8Array; declared?: number }[]): Uint8Array {
  const parts: number[] = [];
  const push32 = (v: number) => parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const ascii = (s: string) => parts.push(...[...s].map((c) => c.charCodeAt(0)));
  ascii('WAVE');
  for (const c of chunks) {
    ascii(c.id);
    push32(c.declared ?? c.body.length);
    parts.push(...c.body);
    if (c.body.length & 1) parts.push(0);
  }
  const out = new Uint8Array(8 + parts.length);
  out.set([0x52, 0x49, 0x46, 0x46]);
  new DataView(out.buffer).setUint32(4, parts.length, true);
  out.set(parts, 8);
  return out;
}

const close = (a: number, b: number, eps = 1e-7) => Math.abs(a - b) <= eps;

test('PCM 8-bit unsigned decodes (128 is silence)', () => {
  const w = parseWav(makeWav({ bits: 8, frames: [[0], [128], [255], [64]] }));
  assert.equal(w.format, 'pcm');
  assert.equal(w.bitDepth, 8);
  assert.equal(w.sampleRate, 8000);
  assert.deepEqual(Array.from(w.channels[0]), [-1, 0, 127 / 128, -0.5]);
});

test('PCM 16-bit signed decodes exactly, including extremes', () => {
  const vals = [-32768, -1, 0, 1, 16384, 32767];
  const w = parseWav(makeWav({ bits: 16, frames: vals.map((v) => [v]) }));
  assert.deepEqual(Array.from(w.channels[0]), vals.map((v) => Math.fround(v / 32768)));
});

test('PCM 24-bit signed decodes (sign extension)', () => {
  const vals = [-8388608, -1, 0, 1, 4194304, 8388607];
  const w = parseWav(makeWav({ bits: 24, frames: vals.map((v) => [v]) }));
  assert.equal(w.bitDepth, 24);
  assert.deepEqual(Array.from(w.channels[0]), vals.map((v) => Math.fround(v / 8388608)));
});

test('PCM 32-bit signed decodes', () => {
  const vals = [-2147483648, -65536, 0, 1 << 30, 2147483647];
  const w = parseWav(makeWav({ bits: 32, frames: vals.map((v) => [v]) }));
  assert.deepEqual(Array.from(w.channels[0]), vals.map((v) => Math.fround(v / 2147483648)));
});

test('IEEE float 32 and 64 decode, stereo de-interleaves', () => {
  const frames = [
    [0.25, -0.5],
    [1, -1],
    [0.125, 0.75],
  ];
  for (const bits of [32, 64]) {
    const w = parseWav(makeWav({ format: 'float', bits, frames, sampleRate: 44100 }));
    assert.equal(w.format, 'float');
    assert.equal(w.bitDepth, bits);
    assert.equal(w.sampleRate, 44100);
    assert.equal(w.channels.length, 2);
    assert.deepEqual(Array.from(w.channels[0]), [0.25, 1, 0.125]);
    assert.deepEqual(Array.from(w.channels[1]), [-0.5, -1, 0.75]);
  }
});

test('WAVE_FORMAT_EXTENSIBLE with PCM and float sub-formats', () => {
  const pcm = parseWav(makeWav({ format: 'extensible-pcm', bits: 24, frames: [[4194304, -4194304]] }));
  assert.equal(pcm.format, 'pcm');
  assert.deepEqual([pcm.channels[0][0], pcm.channels[1][0]], [0.5, -0.5]);
  const flt = parseWav(makeWav({ format: 'extensible-float', bits: 32, frames: [[0.5], [-0.25]] }));
  assert.equal(flt.format, 'float');
  assert.deepEqual(Array.from(flt.channels[0]), [0.5, -0.25]);
});

test('skips other chunks (odd-sized, padded) before data; 3+ channels', () => {
  const list = { id: 'LIST', body: new Uint8Array([1, 2, 3]) };
  const w = parseWav(makeWav({ bits: 16, frames: [[1, 2, 3], [4, 5, 6]], before: [list] }));
  assert.equal(w.channels.length, 3);
  assert.deepEqual(Array.from(w.channels[2]).map((v) => v * 32768), [3, 6]);
});

test('agrees with wavefile (independent encoder) for every supported depth', () => {
  const n = 50;
  const ints = (bits: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i / 3) * (2 ** (bits - 1) - 1)));
  const cases: [string, number[], (v: number) => number][] = [
    ['8', ints(8).map((v) => v + 128), (v) => (v - 128) / 128],
    ['16', ints(16), (v) => v / 32768],
    ['24', ints(24), (v) => v / 8388608],
    ['32', ints(32), (v) => v / 2147483648],
    ['32f', ints(8).map((v) => v / 200), (v) => v],
    ['64', ints(8).map((v) => v / 200), (v) => v],
  ];
  for (const [depth, samples, norm] of cases) {
    const wf = new wavefile.WaveFile();
    wf.fromScratch(2, 22050, depth, [samples, samples.map((v) => v)]);
    const w = parseWav(wf.toBuffer());
    assert.equal(w.sampleRate, 22050, depth);
    assert.equal(w.channels.length, 2, depth);
    for (let i = 0; i < n; i++) assert.ok(close(w.channels[1][i], Math.fround(norm(samples[i]))), `${depth} sample ${i}`);
  }
});

test('rejects non-RIFF bytes with what was found', () => {
  const text = new TextEncoder().encode('hello, this is not audio at all');
  assert.throws(() => parseWav(text), /not a WAV file: expected "RIFF" at byte 0 and "WAVE" at byte 8, found "hell"/);
  assert.throws(() => parseWav(new Uint8Array(5)), /not a WAV file: 5 bytes, too short/);
});

test('rejects missing fmt / data chunks', () => {
  const fmtOnly = makeWav({ bits: 16, frames: [[1]] }).slice(0, 12 + 8 + 16);
  new DataView(fmtOnly.buffer).setUint32(4, fmtOnly.length - 8, true);
  assert.throws(() => parseWav(fmtOnly), /no "data" chunk/);
  const dataOnly = riff([{ id: 'data', body: new Uint8Array(4) }]);
  assert.throws(() => parseWav(dataOnly), /no "fmt " chunk/);
});

test('rejects unsupported format codes and bit depths', () => {
  assert.throws(() => parseWav(makeWav({ bits: 16, frames: [[0]], formatCode: 0x11 })), /unsupported WAV format code 0x0011 \(IMA ADPCM\)/);
  assert.throws(() => parseWav(makeWav({ bits: 16, frames: [[0]], formatCode: 7 })), /format code 0x0007 \(mu-law\): expected PCM \(1\)/);
  assert.throws(() => parseWav(makeWav({ bits: 16, frames: [[0]], formatCode: 3 })), /unsupported bit depth 16 for IEEE float WAV: expected 32, 64/);
  const twelve = makeWav({ bits: 16, frames: [[0]] });
  new DataView(twelve.buffer).setUint16(12 + 8 + 14, 12, true);
  assert.throws(() => parseWav(twelve), /unsupported bit depth 12 for PCM WAV: expected 8, 16, 24, 32/);
  const ext = makeWav({ format: 'extensible-pcm', bits: 16, frames: [[0]] });
  ext[12 + 8 + 24] = 0x55; // sub-format MP3
  assert.throws(() => parseWav(ext), /sub-format 0x0055 \(MPEG Layer 3\) in WAVE_FORMAT_EXTENSIBLE/);
});

test('truncated file: says declared and present byte counts', () => {
  const full = makeWav({ bits: 16, frames: Array.from({ length: 100 }, () => [7]) });
  const cut = full.slice(0, full.length - 50);
  assert.throws(() => parseWav(cut), /truncated WAV: the data chunk declares 200 bytes but only 150 are present/);
});

test('partial final sample frame counts as truncation', () => {
  const body = new Uint8Array(7); // 16-bit stereo frames are 4 bytes: 1 whole frame + 3 bytes
  const w = makeWav({ bits: 16, frames: [[0, 0]] });
  const fmt = w.slice(20, 36);
  const bad = riff([{ id: 'fmt ', body: fmt }, { id: 'data', body }]);
  assert.throws(() => parseWav(bad), /data chunk holds 7 bytes, not a whole number of 4-byte sample frames \(expected 4 or 8; the final frame is partial\)/);
});

test('empty data chunk decodes to zero frames', () => {
  const w = parseWav(makeWav({ bits: 16, frames: [] }));
  assert.equal(w.channels[0].length, 0);
});

test('downmix is the channel mean', () => {
  const m = downmix([new Float32Array([1, 0.5, -1]), new Float32Array([0, 0.5, 1])]);
  assert.deepEqual(Array.from(m), [0.5, 0.5, 0]);
  const one = new Float32Array([0.1, 0.2]);
  const copy = downmix([one]);
  assert.deepEqual(copy, one);
  assert.notEqual(copy, one);
});

test('encodeWav16 round-trips through parseWav and clips', () => {
  const x = new Float32Array([0, 0.5, -0.5, 1.5, -2, 32767 / 32768, -1, NaN]);
  const w = parseWav(encodeWav16(x, 16000));
  assert.equal(w.sampleRate, 16000);
  assert.equal(w.bitDepth, 16);
  assert.equal(w.channels.length, 1);
  assert.deepEqual(Array.from(w.channels[0]), [0, 0.5, -0.5, 32767 / 32768, -1, 32767 / 32768, -1, 0].map(Math.fround));
  // 16-bit input survives decode → encode unchanged, byte for byte
  const src = makeWav({ bits: 16, frames: [[-32768], [-3], [0], [12345], [32767]] });
  assert.deepEqual(encodeWav16(parseWav(src).channels[0], 8000), src);
});

// ---- resampling ---------------------------------------------------------------------------

const sine = (n: number, freq: number, rate: number, amp = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));

/** Magnitude of the DFT of `x` at frequency `f` (Hz), normalised so a sine of amplitude A gives ≈ A. */
function dftMag(x: Float32Array, f: number, rate: number, from = 0, to = x.length): number {
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i] * Math.cos((2 * Math.PI * f * i) / rate);
    im -= x[i] * Math.sin((2 * Math.PI * f * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

const rms = (x: Float32Array, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
};

test('resample: identity when rates match (a copy)', () => {
  const x = sine(100, 440, 8000);
  const y = resample(x, 8000, 8000);
  assert.deepEqual(y, x);
  assert.notEqual(y, x);
});

test('resample 8 kHz → 16 kHz keeps a 1 kHz sine at 1 kHz', () => {
  const x = sine(8000, 1000, 8000); // 1 s
  const y = resample(x, 8000, 16000);
  assert.equal(y.length, 16000);
  // zero crossings in the interior (away from the zero-padded edges): 2 per period
  let crossings = 0;
  for (let i = 1001; i < 15000; i++) if ((y[i - 1] < 0) !== (y[i] < 0)) crossings++;
  const expected = (2 * 1000 * (15000 - 1001)) / 16000;
  assert.ok(Math.abs(crossings - expected) <= 2, `crossings ${crossings} vs ${expected}`);
  // the energy is at 1 kHz: amplitude preserved, nothing at the image frequency 7 kHz
  assert.ok(Math.abs(dftMag(y, 1000, 16000, 1000, 15000) - 0.5) < 0.005);
  assert.ok(dftMag(y, 7000, 16000, 1000, 15000) < 1e-3);
  // and the original samples are (nearly) reproduced at even output indices
  let maxErr = 0;
  for (let i = 100; i < 7900; i++) maxErr = Math.max(maxErr, Math.abs(y[2 * i] - x[i]));
  assert.ok(maxErr < 1e-3, `max error ${maxErr}`);
});

test('resample length ratio is exact within one sample for awkward rates', () => {
  for (const [from, to, n] of [
    [44100, 16000, 44100],
    [22050, 16000, 12345],
    [8000, 16000, 4001],
    [48000, 44100, 9999],
    [11025.5, 16000, 1000],
  ]) {
    const y = resample(new Float32Array(n), from, to);
    assert.ok(Math.abs(y.length - (n * to) / from) <= 1, `${from}→${to}: ${y.length}`);
  }
});

test('resample 44.1 kHz → 16 kHz keeps a 440 Hz tone and a constant', () => {
  const x = sine(44100, 440, 44100);
  const y = resample(x, 44100, 16000);
  assert.ok(Math.abs(dftMag(y, 440, 16000, 1000, 15000) - 0.5) < 0.005);
  const dc = resample(new Float32Array(1000).fill(0.25), 44100, 16000);
  for (let i = 50; i < dc.length - 50; i++) assert.ok(close(dc[i], 0.25, 1e-6), `dc[${i}] = ${dc[i]}`);
});

test('resample down is band-limited: a tone above the new Nyquist is removed, not aliased', () => {
  const x = sine(16000, 6000, 16000); // 6 kHz cannot exist at 8 kHz; naive decimation would alias it to 2 kHz
  const y = resample(x, 16000, 8000);
  assert.equal(y.length, 8000);
  assert.ok(rms(y, 200, 7800) < 1e-3, `rms ${rms(y, 200, 7800)}`);
  assert.ok(dftMag(y, 2000, 8000, 200, 7800) < 1e-3);
  // while a tone below it passes at full amplitude
  const z = resample(sine(16000, 1500, 16000), 16000, 8000);
  assert.ok(Math.abs(dftMag(z, 1500, 8000, 200, 7800) - 0.5) < 0.005);
});

test('resample rejects nonsense rates', () => {
  assert.throws(() => resample(new Float32Array(4), 0, 16000), /sample rates must be positive/);
});
