import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.ts';
import { compileFilenamePattern, readAudio } from '../../src/ingest/readers/audio.ts';
import type { ReadResult, ReaderOptions, SourceRecord } from '../../src/ingest/types.ts';
import { encodeWav16, parseWav } from '../../src/ingest/wav.ts';
import { dataset } from '../helpers/datasets.ts';
import wavefile from 'wavefile';

/** A WAV written by wavefile (an encoder independent of ours): `channels[c][i]` in wavefile's integer/float scale. */
function wav(sampleRate: number, depth: string, channels: number[][]): Uint8Array {
  const wf = new wavefile.WaveFile();
  wf.fromScratch(channels.length, sampleRate, depth, channels.length === 1 ? channels[0] : channels);
  return wf.toBuffer();
}

/** Byte offset of the first sample (just past the "data" chunk header). */
function dataOffset(bytes: Uint8Array): number {
  for (let i = 12; i + 4 <= bytes.length; i++) {
    if (bytes[i] === 0x64 && bytes[i + 1] === 0x61 && bytes[i + 2] === 0x74 && bytes[i + 3] === 0x61) return i + 8;
  }
  throw new Error('no data chunk');
}

async function collect(path: string, opts: ReaderOptions = {}) {
  const records: SourceRecord[] = [];
  const rejects: { where: string; message: string }[] = [];
  for await (const r of readAudio(path, opts) as AsyncIterable<ReadResult>) {
    if (r.ok) records.push(r.record);
    else rejects.push(r.reject);
  }
  return { records, rejects };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-audio-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('compileFilenamePattern: FSDD names', () => {
  const m = compileFilenamePattern('{label}_{speaker}_{index}.wav');
  assert.deepEqual(m('7_jackson_0.wav'), { label: '7', speaker: 'jackson', index: '0' });
  assert.deepEqual(m('0_george_49.wav'), { label: '0', speaker: 'george', index: '49' });
  // first placeholders take as little as possible; the last takes the rest
  assert.deepEqual(m('1_a_b_3.wav'), { label: '1', speaker: 'a', index: 'b_3' });
  assert.equal(m('7_jackson_0.mp3'), null);
  assert.equal(m('7jackson0.wav'), null);
  assert.equal(m('_jackson_0.wav'), null); // each field needs at least one character
  assert.equal(m('x/7_jackson_0.wav'), null);
});

test('compileFilenamePattern: literals are escaped, case-sensitive; duplicates refused', () => {
  const m = compileFilenamePattern('rec(1)+{label}.WAV');
  assert.deepEqual(m('rec(1)+dog.WAV'), { label: 'dog' });
  assert.equal(m('rec(1)+dog.wav'), null);
  assert.equal(m('rec1+dog.WAV'), null);
  assert.deepEqual(compileFilenamePattern('fixed.wav')('fixed.wav'), {});
  assert.throws(() => compileFilenamePattern('{a}_{a}.wav'), /placeholder \{a\} appears twice/);
});

test('FSDD: 3,000 recordings, 300 per digit, no rejects, labels and speakers from the name', async () => {
  const { records, rejects } = await collect(dataset('audio/fsdd/recordings'), {
    labelPattern: '{label}_{speaker}_{index}.wav',
  });
  assert.deepEqual(rejects, []);
  assert.equal(records.length, 3000);
  const perDigit = new Map<string, number>();
  for (const r of records) perDigit.set(r.sourceLabel!, (perDigit.get(r.sourceLabel!) ?? 0) + 1);
  assert.deepEqual([...perDigit.keys()].sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  for (const n of perDigit.values()) assert.equal(n, 300);
  assert.equal(new Set(records.map((r) => r.meta.speaker)).size, 6);
  // sorted by relative path, key = locator = file name
  const keys = records.map((r) => r.key);
  assert.deepEqual(keys, [...keys].sort());
  const r = records.find((x) => x.key === '0_jackson_0.wav')!;
  assert.equal(r.locator, '0_jackson_0.wav');
  assert.equal(r.modality, 'audio');
  assert.equal(r.sourceLabel, '0');
  assert.equal(r.meta.speaker, 'jackson');
  assert.equal(r.meta.index, '0');
  assert.equal(r.meta.file, '0_jackson_0.wav');
  assert.equal(r.meta.originalSampleRate, 8000);
  assert.equal(r.meta.originalChannels, 1);
  assert.equal(r.meta.originalBitDepth, 16);
  assert.equal(r.meta.originalFormat, 'pcm');
  assert.equal(r.meta.sampleRate, 16000);
  assert.equal(r.blob!.mime, 'audio/wav');
  const w = parseWav(r.blob!.bytes);
  assert.equal(w.sampleRate, 16000);
  assert.equal(w.channels.length, 1);
  assert.equal(w.channels[0].length, r.meta.samples);
  assert.equal(r.meta.durationSec, (r.meta.samples as number) / 16000);
  for (const x of records) {
    assert.equal(x.meta.originalSampleRate, 8000);
    assert.ok((x.meta.durationSec as number) > 0.1 && (x.meta.durationSec as number) < 3, `${x.key} ${x.meta.durationSec}`);
  }
});

test('folder: recursive, sorted, .wav case-insensitive, other files ignored, bad files rejected by name', async () => {
  const root = join(dir, 'mixed');
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  const tone = (n: number, amp: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i / 5) * amp));
  await writeFile(join(root, 'b.wav'), wav(8000, '16', [tone(800, 10000)]));
  await writeFile(join(root, 'sub', 'A.WAV'), wav(8000, '24', [tone(800, 2_000_000)]));
  await writeFile(join(root, 'sub', 'deeper', 'c.wav'), wav(8000, '8', [tone(80, 100).map((v) => v + 128)]));
  await writeFile(join(root, 'notes.txt'), 'not audio, and not a .wav: ignored');
  await writeFile(join(root, '.hidden.wav'), 'ignored too');
  await writeFile(join(root, 'fake.wav'), 'this is a text file pretending to be a WAV');
  const full = wav(8000, '16', [tone(1000, 5000)]); // 2000 data bytes
  await writeFile(join(root, 'sub', 'cut.wav'), full.subarray(0, full.length - 300));
  await writeFile(join(root, 'empty.wav'), encodeWav16(new Float32Array(0), 8000));
  await writeFile(join(root, 'zero.wav'), new Uint8Array(0));

  const { records, rejects } = await collect(root);
  assert.deepEqual(
    records.map((r) => r.key),
    ['b.wav', 'sub/A.WAV', 'sub/deeper/c.wav'],
  );
  assert.ok(records.every((r) => r.locator === r.key && r.sourceLabel === null));
  assert.deepEqual(
    rejects.map((r) => r.where),
    ['empty.wav', 'fake.wav', 'sub/cut.wav', 'zero.wav'],
  );
  const msg = Object.fromEntries(rejects.map((r) => [r.where, r.message]));
  assert.match(msg['empty.wav'], /^no audio: the data chunk is empty/);
  assert.match(msg['fake.wav'], /^not a WAV file: expected "RIFF" at byte 0/);
  assert.match(msg['sub/cut.wav'], /^truncated WAV: the data chunk declares 2000 bytes but only 1700 are present/);
  assert.match(msg['zero.wav'], /^not a WAV file: 0 bytes/);

  // 8 kHz → 16 kHz doubles the length; the 24-bit original is described
  const a = records[1];
  assert.equal(a.meta.samples, 1600);
  assert.equal(a.meta.originalBitDepth, 24);
  assert.equal(a.meta.durationSec, 0.1);
});

test('stereo float 44.1 kHz → mono 16-bit at the requested rate', async () => {
  const n = 4410;
  const s = Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 44100));
  const file = join(dir, 'stereo.wav');
  await writeFile(file, wav(44100, '32f', [s, s])); // identical channels: the downmix is the same tone
  const { records, rejects } = await collect(file, { sampleRate: 22050 });
  assert.equal(rejects.length, 0);
  const r = records[0];
  assert.equal(r.key, 'stereo.wav'); // single file: its base name
  assert.deepEqual(
    { ...r.meta },
    {
      sampleRate: 22050,
      durationSec: 0.1,
      samples: 2205,
      originalSampleRate: 44100,
      originalChannels: 2,
      originalBitDepth: 32,
      originalFormat: 'float',
      file: 'stereo.wav',
    },
  );
  const w = parseWav(r.blob!.bytes);
  assert.equal(w.bitDepth, 16);
  assert.equal(w.sampleRate, 22050);
  // the tone is intact (compare to the ideal away from the edges)
  let maxErr = 0;
  for (let i = 200; i < 2000; i++) maxErr = Math.max(maxErr, Math.abs(w.channels[0][i] - 0.5 * Math.sin((2 * Math.PI * 440 * i) / 22050)));
  assert.ok(maxErr < 2e-3, `max error ${maxErr}`);
});

test('a recording too short to leave one sample after resampling is rejected', async () => {
  const file = join(dir, 'blip.wav');
  await writeFile(file, wav(48000, '16', [[100]]));
  const { records, rejects } = await collect(file, { sampleRate: 8000 });
  assert.equal(records.length, 0);
  assert.deepEqual(rejects, [{ where: 'blip.wav', message: 'too short: 1 sample frame(s) at 48000 Hz give no sample at 8000 Hz' }]);
});

test('float WAV with NaN samples is rejected, naming the sample', async () => {
  const file = join(dir, 'nan.wav');
  const bytes = wav(8000, '32f', [[0, 0.5, 0]]);
  new DataView(bytes.buffer, bytes.byteOffset).setFloat32(dataOffset(bytes) + 4, NaN, true);
  await writeFile(file, bytes);
  const { records, rejects } = await collect(file);
  assert.equal(records.length, 0);
  assert.equal(rejects[0].where, 'nan.wav');
  assert.match(rejects[0].message, /^sample 1 of channel 0 is NaN; expected finite float samples/);
});

test('labelPattern: names that do not match are rejected with the pattern shown', async () => {
  const root = join(dir, 'labelled');
  await mkdir(root);
  const wav = encodeWav16(new Float32Array(100).fill(0.1), 8000);
  await writeFile(join(root, 'dog_alice_1.wav'), wav);
  await writeFile(join(root, 'cat-bob-2.wav'), wav);
  const { records, rejects } = await collect(root, { labelPattern: '{label}_{speaker}_{take}.wav', sampleRate: 8000 });
  assert.equal(records.length, 1);
  assert.equal(records[0].sourceLabel, 'dog');
  assert.equal(records[0].meta.speaker, 'alice');
  assert.equal(records[0].meta.take, '1');
  assert.equal(records[0].meta.samples, 100);
  assert.deepEqual(rejects, [
    {
      where: 'cat-bob-2.wav',
      message: 'file name "cat-bob-2.wav" does not match the label pattern "{label}_{speaker}_{take}.wav"',
    },
  ]);
});

test('whole-source errors are UserErrors', async () => {
  await assert.rejects(collect(join(dir, 'nope')), (e: unknown) => e instanceof UserError && /nope: cannot read/.test(e.message));
  const empty = join(dir, 'no-wavs');
  await mkdir(empty);
  await writeFile(join(empty, 'x.txt'), 'x');
  await assert.rejects(collect(empty), (e: unknown) => e instanceof UserError && /no-wavs: no \.wav files in the folder or its sub-folders/.test(e.message));
  await assert.rejects(collect(join(empty, 'x.txt')), (e: unknown) => e instanceof UserError && /expected a \.wav file/.test(e.message));
  await assert.rejects(collect(empty, { labelPattern: '{label}_{sampleRate}.wav' }), (e: unknown) => e instanceof UserError && /\{sampleRate\} would overwrite/.test(e.message));
  await assert.rejects(collect(empty, { sampleRate: 12.5 }), (e: unknown) => e instanceof UserError && /sample rate 12\.5/.test(e.message));
});

test('maxRecordBytes: an oversized file is rejected before it is read', async () => {
  const file = join(dir, 'big.wav');
  await writeFile(file, encodeWav16(new Float32Array(1000), 8000));
  const { rejects } = await collect(file, { maxRecordBytes: 500 });
  assert.match(rejects[0].message, /^file is 2044 bytes, larger than the 500-byte limit/);
});
