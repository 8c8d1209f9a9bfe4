import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError, errorMessage } from '../core/errors.ts';
import { fsCode, linkLoopError } from './fs-errors.ts';
import { FORMATS, type Format, type Reader } from './types.ts';

/** Readers load lazily so a text import never loads sharp or the audio code. */
const READERS: Record<Format, () => Promise<Reader>> = {
  jsonl: async () => (await import('./readers/text.ts')).readJsonl,
  csv: async () => (await import('./readers/text.ts')).readTextCsv,
  sms: async () => (await import('./readers/text.ts')).readSms,
  trec: async () => (await import('./readers/text.ts')).readTrec,
  tabular: async () => (await import('./readers/tabular.ts')).readTabular,
  digits: async () => (await import('./readers/pixels.ts')).readDigits,
  idx: async () => (await import('./readers/idx.ts')).readIdx,
  wav: async () => (await import('./readers/audio.ts')).readAudio,
  images: async () => (await import('./readers/images.ts')).readImages,
};

export function readerFor(format: Format): Promise<Reader> {
  return READERS[format]();
}

export function parseFormat(s: string): Format {
  if (!(FORMATS as readonly string[]).includes(s)) throw new UserError(`unknown format "${s}"; expected one of ${FORMATS.join(', ')}`);
  return s as Format;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** Guesses the format from the path: extension (inside .gz too), known dataset names, folder contents. */
export function guessFormat(path: string): Format {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw linkLoopError(path, e) ?? new UserError(`${path}: no such file or folder`);
  }
  if (st.isDirectory()) {
    const counts = { wav: 0, images: 0 };
    countByKind(path, counts, 0);
    if (counts.wav === 0 && counts.images === 0) throw new UserError(`${path}: folder has no .wav, .png or .jpg files; pass --format for other sources`);
    return counts.wav >= counts.images ? 'wav' : 'images';
  }
  const name = basename(path).replace(/\.gz$/i, '');
  const ext = extname(name).toLowerCase();
  if (/idx3-ubyte$/i.test(name)) return 'idx';
  if (name === 'SMSSpamCollection') return 'sms';
  if (/^TREC\.(train|test)$/.test(name) || /^train_\d+\.label$/.test(name)) return 'trec';
  if (name === 'digits.csv') return 'digits';
  if (/^KDD(Train|Test)\+/.test(name)) return 'tabular';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.wav') return 'wav';
  if (IMAGE_EXT.has(ext)) return 'images';
  throw new UserError(`cannot guess the format of ${basename(path)}; pass --format (${FORMATS.join('|')})`);
}

/** Presets that go with a guessed dataset name (e.g. NSL-KDD's columns). */
export function impliedPreset(path: string): string | undefined {
  return /^KDD(Train|Test)\+/.test(basename(path)) ? 'nsl-kdd' : undefined;
}

function countByKind(dir: string, counts: { wav: number; images: number }, depth: number) {
  if (depth > 3 || counts.wav + counts.images > 100) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const ext = extname(name).toLowerCase();
    if (ext === '.wav') counts.wav++;
    else if (IMAGE_EXT.has(ext)) counts.images++;
    else if (!name.startsWith('.') && isDirectory(p)) countByKind(p, counts, depth + 1);
  }
}

/** Whether P is (or links to) a folder. A dangling link is not one; a link loop is an error naming P. */
function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch (e) {
    if (fsCode(e) === 'ENOENT') return false;
    throw linkLoopError(p, e) ?? new UserError(`${p}: cannot read (${fsCode(e) ?? errorMessage(e)})`);
  }
}
