import { basename } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { readCsvRecords, type CsvRecord } from '../csv.ts';
import { TABULAR_PRESETS, parseColumnSpec, type ColumnSpec } from '../presets.ts';
import type { Reader, ReadResult } from '../types.ts';
import { at, linesOf, maxBytes, reject } from './common.ts';

const INFER_ROWS = 1000;

/**
 * Tabular CSV with typed columns: numeric (`num`) or categorical (`cat`), plus the label, id and
 * metadata columns. Types come from a preset (`--preset nsl-kdd`), `--columns`, or are inferred
 * from the first 1,000 rows (numeric when every non-empty value there is a finite number).
 */
export const readTabular: Reader = async function* (path, opts) {
  const preset = opts.preset && Object.hasOwn(TABULAR_PRESETS, opts.preset) ? TABULAR_PRESETS[opts.preset] : undefined;
  if (opts.preset && !preset) throw new UserError(`unknown tabular preset "${opts.preset}" (known: ${Object.keys(TABULAR_PRESETS).join(', ')})`);
  const hasHeader = opts.header ?? preset?.header ?? true;
  let explicit: ColumnSpec[] | undefined;
  try {
    explicit = opts.columns ? parseColumnSpec(opts.columns) : preset?.columns;
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const records = readCsvRecords(await linesOf(path, opts, opts.encoding), { maxBytes: maxBytes(opts) });
  const it = records[Symbol.asyncIterator]();

  let names: string[];
  if (hasHeader) {
    const first = await it.next();
    if (first.done) throw new UserError(`${basename(path)}: no header row; expected a CSV header naming the columns`);
    if ('error' in first.value) throw new UserError(`${at(path, first.value.lineNo)}: cannot read the header row: ${first.value.error}`);
    names = first.value.fields.map((f) => f.trim());
  } else {
    if (!explicit) throw new UserError(`${basename(path)}: without a header row the columns must be named (--columns name:num,… or --preset)`);
    names = explicit.map((c) => c.name);
  }

  // Rows read to infer types are replayed afterwards, so nothing is read twice from disk.
  const sample: CsvRecord[] = [];
  const typed = new Map<string, ColumnSpec['type']>();
  for (const c of explicit ?? []) typed.set(c.name, c.type);
  if (opts.labelColumn) typed.set(opts.labelColumn, 'label');
  if (opts.idColumn) typed.set(opts.idColumn, 'id');
  for (const n of typed.keys()) {
    if (!names.includes(n)) throw new UserError(`${basename(path)}: column "${n}" is not among the columns (${names.join(', ')})`);
  }
  const untyped = names.filter((n) => !typed.has(n));
  if (untyped.length > 0) {
    while (sample.length < INFER_ROWS) {
      const r = await it.next();
      if (r.done) break;
      sample.push(r.value);
    }
    for (const n of untyped) {
      const i = names.indexOf(n);
      const numeric = sample.every((r) => 'error' in r || r.fields[i] === undefined || r.fields[i].trim() === '' || Number.isFinite(Number(r.fields[i])));
      typed.set(n, numeric ? 'num' : 'cat');
    }
  }
  const columns: ColumnSpec[] = names.map((name) => ({ name, type: typed.get(name)! }));
  const inferred = new Set(untyped);

  async function* all(): AsyncGenerator<CsvRecord> {
    yield* sample;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  for await (const rec of all()) yield toRow(path, rec, columns, inferred);
};

function toRow(path: string, rec: CsvRecord, columns: ColumnSpec[], inferred: Set<string>): ReadResult {
  const where = at(path, rec.lineNo);
  if ('error' in rec) return reject(where, rec.error);
  if (rec.fields.length !== columns.length) {
    return reject(where, `wrong column count: expected ${columns.length} fields, got ${rec.fields.length}`);
  }
  const values: Record<string, string | number | null> = {};
  const meta: Record<string, unknown> = { file: basename(path) };
  let label: string | null = null;
  let key = where;
  for (let i = 0; i < columns.length; i++) {
    const { name, type } = columns[i];
    const raw = rec.fields[i].trim();
    if (type === 'num') {
      if (raw === '' || raw === '?' || raw.toLowerCase() === 'nan') {
        values[name] = null; // missing value
        continue;
      }
      const v = Number(raw);
      if (!Number.isFinite(v)) {
        const why = inferred.has(name) ? ` (inferred numeric from the first ${INFER_ROWS} rows; declare it with --columns ${name}:cat)` : '';
        return reject(where, `field "${name}": expected a number, got ${JSON.stringify(raw.slice(0, 40))}${why}`);
      }
      values[name] = v;
    } else if (type === 'cat') values[name] = raw === '' ? null : raw;
    else if (type === 'label') label = raw === '' ? null : raw;
    else if (type === 'meta') meta[name] = raw;
    else {
      if (raw === '') return reject(where, `field "${name}" (--id-column) is empty; expected an id`);
      key = `id:${raw}`;
    }
  }
  // Column types are implied by the values (number vs string) and recorded in the import source.
  return { ok: true, record: { locator: where, key, modality: 'tabular', values, meta, sourceLabel: label } };
}
