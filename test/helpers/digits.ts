import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dataset } from './datasets.ts';

/** The UCI 8×8 digits (scikit-learn's copy): 1,797 rows of 64 pixels (0–16) and the digit. */
export function loadDigits(): { x: Float32Array; y: Int32Array; rows: number } {
  const lines = gunzipSync(readFileSync(dataset('images', 'digits', 'digits.csv.gz'))).toString('utf8').trim().split('\n');
  const x = new Float32Array(lines.length * 64);
  const y = new Int32Array(lines.length);
  lines.forEach((l, i) => {
    const v = l.split(',').map(Number);
    for (let j = 0; j < 64; j++) x[i * 64 + j] = v[j] / 16;
    y[i] = v[64];
  });
  return { x, y, rows: lines.length };
}
