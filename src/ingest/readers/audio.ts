/**
 * WAV reader: a .wav file or a folder of them (recursive) → one audio record per file.
 *
 * Each file is decoded, downmixed to mono, resampled to the project's rate (default 16 kHz)
 * and stored as 16-bit PCM mono WAV, so every audio item of a project has one encoding.
 * Files are processed one at a time (the next file's bytes are read ahead while the current
 * one is decoded): only the list of paths is held for the whole folder.
 */
import { basename } from 'node:path';
import { UserError, errorMessage } from '../../core/errors.ts';
import type { Reader, SourceRecord } from '../types.ts';
import { DEFAULT_MAX_MEDIA_BYTES, listSourceFiles, readFilesAhead } from '../files.ts';
import { reject } from './common.ts';
import { downmix, encodeWav16, parseWav, resample } from '../wav.ts';

export const DEFAULT_AUDIO_SAMPLE_RATE = 16000;
/**
 * Source sample rates accepted (Hz). Outside this range a file is not a recording but a header
 * that would make the resampler blow up: a 2 KB file declaring 1 Hz became 32 M samples after
 * 53 s of work, one declaring 4294967295 Hz made it allocate a 27-billion-entry filter table.
 */
export const MIN_SOURCE_SAMPLE_RATE = 1000;
export const MAX_SOURCE_SAMPLE_RATE = 768000;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Compile a file-name pattern such as `{label}_{speaker}_{index}.wav` into a matcher.
 *
 * The pattern must match the whole base name (extension included). Each `{name}` captures one
 * or more characters, as few as possible (so with `{label}_{speaker}_{index}.wav`, `0_a_b_3.wav`
 * gives label 0, speaker a, index b_3); everything else is literal and case-sensitive.
 * Returns the captured fields, or null when the name does not match.
 * Throws when a placeholder name repeats.
 */
export function compileFilenamePattern(pattern: string): (basename: string) => Record<string, string> | null {
  const names: string[] = [];
  let source = '';
  let last = 0;
  for (const m of pattern.matchAll(PLACEHOLDER)) {
    const name = m[1];
    if (names.includes(name)) throw new Error(`file-name pattern "${pattern}": placeholder {${name}} appears twice`);
    names.push(name);
    source += escapeRegExp(pattern.slice(last, m.index)) + '([^/]+?)';
    last = m.index! + m[0].length;
  }
  source += escapeRegExp(pattern.slice(last));
  const re = new RegExp(`^${source}$`, 'u');
  return (name: string) => {
    const m = re.exec(name);
    return m ? Object.fromEntries(names.map((n, i) => [n, m[i + 1]])) : null;
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Meta keys the audio reader sets itself; pattern fields may not overwrite them. */
const AUDIO_META_KEYS = [
  'sampleRate',
  'durationSec',
  'samples',
  'originalSampleRate',
  'originalChannels',
  'originalBitDepth',
  'originalFormat',
  'file',
];


/**
 * Read a .wav file or a folder of them (recursive, sorted by relative path, other files ignored).
 *
 * Record: modality 'audio', key = locator = path relative to the folder (the base name for a
 * single file), blob = 16-bit mono WAV at `opts.sampleRate` (default 16 kHz), meta = the new
 * rate/length and the original encoding. With `opts.labelPattern` the label and any other
 * `{name}` fields come from the file name; a name that does not match is rejected.
 */
export const readAudio: Reader = async function* readAudio(path, opts) {
  const target = opts.sampleRate ?? DEFAULT_AUDIO_SAMPLE_RATE;
  if (!Number.isInteger(target) || target < 1000 || target > 384000) {
    throw new UserError(`sample rate ${target}: expected a whole number of Hz between 1000 and 384000`);
  }
  const maxBytes = opts.maxRecordBytes ?? DEFAULT_MAX_MEDIA_BYTES;
  let match: ((name: string) => Record<string, string> | null) | null = null;
  const pattern = opts.labelPattern;
  if (pattern !== undefined) {
    try {
      match = compileFilenamePattern(pattern);
    } catch (e) {
      throw new UserError(errorMessage(e));
    }
    const clash = [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((n) => AUDIO_META_KEYS.includes(n));
    if (clash.length) {
      throw new UserError(
        `file-name pattern "${pattern}": {${clash[0]}} would overwrite the reader's own meta field; rename it (reserved: ${AUDIO_META_KEYS.join(', ')})`,
      );
    }
  }

  const files = await listSourceFiles(path, ['.wav'], 'a .wav file');
  for await (const { file: f, bytes } of readFilesAhead(files, maxBytes)) {
    const name = basename(f.rel);
    let fields: Record<string, string> | null = null;
    if (match) {
      fields = match(name);
      if (!fields) {
        yield reject(f.rel, `file name "${name}" does not match the label pattern "${pattern}"`);
        continue;
      }
    }
    if (typeof bytes === 'string') {
      yield reject(f.rel, bytes);
      continue;
    }
    let wav;
    try {
      wav = parseWav(bytes);
    } catch (e) {
      yield reject(f.rel, `${errorMessage(e)}`);
      continue;
    }
    if (wav.sampleRate < MIN_SOURCE_SAMPLE_RATE || wav.sampleRate > MAX_SOURCE_SAMPLE_RATE) {
      yield reject(f.rel, `sample rate ${wav.sampleRate} Hz in the "fmt " chunk: expected ${MIN_SOURCE_SAMPLE_RATE}–${MAX_SOURCE_SAMPLE_RATE} Hz`);
      continue;
    }
    const frames = wav.channels[0].length;
    if (frames === 0) {
      yield reject(f.rel, `no audio: the data chunk is empty (expected at least one sample frame)`);
      continue;
    }
    // The resampled item must fit the media limit too (upsampling multiplies the size: up to 384× from 1 kHz).
    const outBytes = 44 + 2 * Math.round((frames * target) / wav.sampleRate);
    if (outBytes > maxBytes) {
      yield reject(f.rel, `resampled to ${target} Hz it would be ${outBytes} bytes, over the ${maxBytes}-byte limit (maxRecordBytes)`);
      continue;
    }
    if (wav.format === 'float') {
      const bad = findNonFinite(wav.channels);
      if (bad) {
        yield reject(f.rel, `sample ${bad.index} of channel ${bad.channel} is ${bad.value}; expected finite float samples`);
        continue;
      }
    }
    const mono = resample(downmix(wav.channels), wav.sampleRate, target);
    if (mono.length === 0) {
      yield reject(f.rel, `too short: ${frames} sample frame(s) at ${wav.sampleRate} Hz give no sample at ${target} Hz`);
      continue;
    }
    const { label, ...extra } = fields ?? {};
    const record: SourceRecord = {
      locator: f.rel,
      key: f.rel,
      modality: 'audio',
      blob: { bytes: encodeWav16(mono, target), mime: 'audio/wav' },
      meta: {
        ...extra,
        sampleRate: target,
        durationSec: mono.length / target,
        samples: mono.length,
        originalSampleRate: wav.sampleRate,
        originalChannels: wav.channels.length,
        originalBitDepth: wav.bitDepth,
        originalFormat: wav.format,
        file: name,
      },
      sourceLabel: label ?? null,
    };
    yield { ok: true, record };
  }
};

function findNonFinite(channels: Float32Array[]): { channel: number; index: number; value: number } | null {
  for (let c = 0; c < channels.length; c++) {
    const ch = channels[c];
    for (let i = 0; i < ch.length; i++) if (!Number.isFinite(ch[i])) return { channel: c, index: i, value: ch[i] };
  }
  return null;
}

