import sharp from 'sharp';
import { errorMessage } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import type { Modality } from '../core/modality.ts';
import { parseWav } from '../ingest/wav.ts';
import type { Gray } from './phash.ts';

/** What an item's stored content looks like to the audit: one row from the store. */
export interface AuditItem {
  id: number;
  modality: Modality;
  sha256: string;
  text: string | null;
  data: string | null;
  bytes: Uint8Array | null;
  mime: string | null;
  meta: Record<string, unknown>;
}

export type ContentProblem = 'empty' | 'unreadable' | 'truncated' | 'hash_mismatch';

export interface ContentFacts {
  problems: Array<{ kind: ContentProblem; message: string }>;
  /** The size measure of the modality (text: characters; image: pixels; audio: seconds; tabular: missing cells). */
  size: number | null;
  /** Decoded grayscale pixels, for perceptual hashing (images that decoded). */
  gray?: Gray;
  /** Parsed tabular values. */
  values?: Record<string, unknown> | null;
}

export const SIZE_METRIC: Record<Modality, string> = { text: 'characters', image: 'pixels', audio: 'seconds', tabular: 'missing_cells' };

/** Silence below this peak amplitude (−80 dBFS) counts as an empty recording. */
const SILENCE = 1e-4;

/**
 * Re-checks one stored item: content hash (corruption since import), empty content (blank text,
 * a row of missing values, a constant image, a silent or zero-length recording), and whether
 * media still decode (unreadable, or truncated when the decoder says the data ends early).
 */
export async function inspectItem(it: AuditItem): Promise<ContentFacts> {
  const problems: ContentFacts['problems'] = [];
  const content = it.text ?? it.data ?? it.bytes;
  if (content !== null && sha256Hex(content) !== it.sha256) problems.push({ kind: 'hash_mismatch', message: 'stored content no longer matches its sha256 (changed or corrupted after import)' });
  switch (it.modality) {
    case 'text': {
      const t = it.text ?? '';
      if (t.trim() === '') problems.push({ kind: 'empty', message: t.length ? 'only whitespace' : 'empty text' });
      else if (t.includes('\uFFFD')) problems.push({ kind: 'unreadable', message: 'contains U+FFFD replacement characters (decoded with the wrong encoding?)' });
      return { problems, size: [...t].length };
    }
    case 'tabular': {
      let values: Record<string, unknown> | null = null;
      try {
        values = JSON.parse(it.data ?? 'null');
      } catch (e) {
        problems.push({ kind: 'unreadable', message: `row is not valid JSON (${errorMessage(e)})` });
        return { problems, size: null, values: null };
      }
      const cells = Object.values(values ?? {});
      const missing = cells.filter((v) => v === null || v === undefined || v === '').length;
      if (cells.length === 0 || missing === cells.length) problems.push({ kind: 'empty', message: 'every value is missing' });
      return { problems, size: missing, values };
    }
    case 'image':
      return inspectImage(it, problems);
    case 'audio':
      return inspectAudio(it, problems);
  }
}

const TRUNCATED = /truncat|premature end|unexpected end|end of (file|stream|data)|incomplete|short read/i;

async function inspectImage(it: AuditItem, problems: ContentFacts['problems']): Promise<ContentFacts> {
  if (!it.bytes || it.bytes.length === 0) {
    problems.push({ kind: 'empty', message: 'no image bytes' });
    return { problems, size: 0 };
  }
  let gray: Gray;
  if (it.mime === 'image/x-raw-gray8') {
    const width = Number(it.meta.width);
    const height = Number(it.meta.height);
    const channels = Number(it.meta.channels ?? 1);
    const expected = width * height * channels;
    if (!(expected > 0)) {
      problems.push({ kind: 'unreadable', message: `raw pixels without a usable size (width ${it.meta.width}, height ${it.meta.height})` });
      return { problems, size: null };
    }
    if (it.bytes.length < expected) {
      problems.push({ kind: 'truncated', message: `raw pixels: ${it.bytes.length} bytes, expected ${expected} (${width}×${height}×${channels})` });
      return { problems, size: width * height };
    }
    gray = { width, height, pixels: channels === 1 ? it.bytes : toGray(it.bytes, width, height, channels) };
  } else {
    try {
      const { data, info } = await sharp(it.bytes, { failOn: 'warning' }).grayscale().raw().toBuffer({ resolveWithObject: true });
      gray = { width: info.width, height: info.height, pixels: info.channels === 1 ? data : toGray(data, info.width, info.height, info.channels) };
    } catch (e) {
      const msg = errorMessage(e).trim();
      problems.push({ kind: TRUNCATED.test(msg) ? 'truncated' : 'unreadable', message: `image does not decode (sharp: ${msg})` });
      return { problems, size: null };
    }
  }
  const px = gray.pixels;
  let constant = true;
  for (let i = 1; i < px.length && constant; i++) if (px[i] !== px[0]) constant = false;
  if (constant) problems.push({ kind: 'empty', message: `blank image (every pixel is ${px[0]})` });
  return { problems, size: gray.width * gray.height, gray };
}

function toGray(bytes: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const c = Math.min(channels, 3);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += bytes[i * channels + k];
    out[i] = Math.round(s / c);
  }
  return out;
}

function inspectAudio(it: AuditItem, problems: ContentFacts['problems']): ContentFacts {
  if (!it.bytes || it.bytes.length === 0) {
    problems.push({ kind: 'empty', message: 'no audio bytes' });
    return { problems, size: 0 };
  }
  let wav;
  try {
    wav = parseWav(it.bytes);
  } catch (e) {
    const msg = errorMessage(e);
    problems.push({ kind: /truncated/i.test(msg) ? 'truncated' : 'unreadable', message: msg });
    return { problems, size: null };
  }
  const ch = wav.channels[0] ?? new Float32Array(0);
  const seconds = ch.length / wav.sampleRate;
  if (ch.length === 0) problems.push({ kind: 'empty', message: 'zero-length recording' });
  else {
    let peak = 0;
    for (const c of wav.channels) for (let i = 0; i < c.length; i++) peak = Math.max(peak, Math.abs(c[i]));
    if (peak < SILENCE) problems.push({ kind: 'empty', message: `silent recording (peak amplitude ${peak.toExponential(1)})` });
  }
  return { problems, size: seconds };
}
