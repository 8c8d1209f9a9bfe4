import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../core/errors.ts';
import { parseCsvRecord } from '../ingest/csv.ts';
import type { Sample } from './types.ts';

/**
 * Reads a CSV of numeric vectors, one per row; a first row that is not all numbers is a header.
 * Errors name the file, line and column, and what was expected.
 */
export function readVectorsCsv(path: string): Sample {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const name = basename(path);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let dim = -1;
  const values: number[] = [];
  let rows = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const fields = parseCsvRecord(line);
    if (typeof fields === 'string') throw new UserError(`${name}:${i + 1}: ${fields}`);
    const nums = fields.map((f) => (f.trim() === '' ? NaN : Number(f)));
    if (rows === 0 && dim === -1 && nums.some((v) => !Number.isFinite(v))) {
      dim = fields.length; // header row
      return;
    }
    if (dim === -1) dim = fields.length;
    if (fields.length !== dim) throw new UserError(`${name}:${i + 1}: expected ${dim} values per row, got ${fields.length}`);
    const bad = nums.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new UserError(`${name}:${i + 1}, column ${bad + 1}: expected a number, got ${JSON.stringify(fields[bad].slice(0, 30))}`);
    values.push(...nums);
    rows++;
  });
  if (rows === 0) throw new UserError(`${name}: no vectors found; expected one row of numbers per vector`);
  return { rows, dim, data: Float64Array.from(values) };
}
