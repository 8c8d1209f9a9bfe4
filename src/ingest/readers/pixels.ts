import { basename } from 'node:path';
import { readCsvRecords } from '../csv.ts';
import type { Reader } from '../types.ts';
import { at, linesOf, maxBytes, reject } from './common.ts';

/**
 * Images stored as CSV rows of pixel values followed by the label, e.g. scikit-learn's copy of
 * the UCI 8×8 handwritten digits (64 values 0–16, then the digit): `--format digits`.
 * Pixels are rescaled to 0–255 and stored as raw 8-bit grayscale.
 */
export const readDigits: Reader = async function* (path, opts) {
  const width = 8;
  const height = 8;
  const maxValue = 16;
  const n = width * height;
  const records = readCsvRecords(await linesOf(path, opts), { maxBytes: maxBytes(opts) });
  for await (const rec of records) {
    const where = at(path, rec.lineNo);
    if ('error' in rec) {
      yield reject(where, rec.error);
      continue;
    }
    if (rec.fields.length !== n + 1) {
      yield reject(where, `wrong column count: expected ${n} pixel values and a label (${n + 1} fields), got ${rec.fields.length}`);
      continue;
    }
    const pixels = new Uint8Array(n);
    let bad: string | undefined;
    for (let i = 0; i < n; i++) {
      const v = Number(rec.fields[i]);
      if (!Number.isFinite(v) || v < 0 || v > maxValue) {
        bad = `pixel ${i + 1}: expected a number from 0 to ${maxValue}, got ${JSON.stringify(rec.fields[i].slice(0, 20))}`;
        break;
      }
      pixels[i] = Math.round((v * 255) / maxValue);
    }
    if (bad) {
      yield reject(where, bad);
      continue;
    }
    const label = rec.fields[n].trim();
    yield {
      ok: true,
      record: {
        locator: where,
        key: where,
        modality: 'image',
        blob: { bytes: pixels, mime: 'image/x-raw-gray8' },
        meta: { file: basename(path), width, height, channels: 1 },
        sourceLabel: label === '' ? null : label,
      },
    };
  }
};
