import { basename } from 'node:path';
import { UserError } from '../../core/errors.ts';
import type { Reader, ReadResult, SourceRecord } from '../types.ts';
import { readCsvRecords } from '../csv.ts';
import { at, emptyText, linesOf, maxBytes, noRecords, reject } from './common.ts';

/** JSONL: one JSON object per line with a text field, optional id and label fields. */
export const readJsonl: Reader = async function* (path, opts) {
  const textCol = opts.textColumn ?? 'text';
  let lastLine = 0;
  let records = 0;
  for await (const line of await linesOf(path, opts, opts.encoding)) {
    lastLine = line.lineNo;
    const where = at(path, line.lineNo);
    if ('error' in line) {
      records++;
      yield reject(where, line.error);
      continue;
    }
    if (line.text.trim() === '') continue;
    records++;
    const deep = tooDeep(line.text);
    if (deep >= 0) {
      yield reject(where, `JSON nested more than ${MAX_JSON_DEPTH} levels deep (at character ${deep}); expected one flat-ish JSON object per line`);
      continue;
    }
    let obj: unknown;
    try {
      obj = JSON.parse(line.text);
    } catch (e) {
      yield reject(where, `invalid JSON (${(e as Error).message}); expected one JSON object per line`);
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      yield reject(where, `expected a JSON object, got ${Array.isArray(obj) ? 'an array' : typeof obj === 'object' ? 'null' : typeof obj}`);
      continue;
    }
    yield textRecord(path, where, obj as Record<string, unknown>, textCol, opts.idColumn, opts.labelColumn);
  }
  if (records === 0) throw noRecords(path, lastLine, `${lastLine} blank line${lastLine === 1 ? '' : 's'} and no record`);
};

/** Deepest nesting of arrays/objects accepted in a JSONL record (metadata is kept as JSON). */
export const MAX_JSON_DEPTH = 100;

/**
 * Where `text` (JSON) first nests deeper than MAX_JSON_DEPTH, or -1. Checked before parsing:
 * a 20 KB line of 10,000 nested arrays parsed, then overflowed the stack later (a RangeError,
 * not a rejected record). Brackets inside strings are skipped.
 */
function tooDeep(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** CSV with a header row; choose the text, id and label columns by name. */
export const readTextCsv: Reader = async function* (path, opts) {
  const textCol = opts.textColumn ?? 'text';
  let header: string[] | undefined;
  let headerLine = 0;
  let rows = 0;
  const records = readCsvRecords(await linesOf(path, opts, opts.encoding), { maxBytes: maxBytes(opts) });
  for await (const rec of records) {
    const where = at(path, rec.lineNo);
    if (header) rows++;
    if ('error' in rec) {
      if (!header) throw new UserError(`${where}: cannot read the header row: ${rec.error}`);
      yield reject(where, rec.error);
      continue;
    }
    if (!header) {
      headerLine = rec.lineNo;
      header = rec.fields.map((f) => f.trim());
      if (!header.includes(textCol)) {
        throw new UserError(`${where}: header has no text column "${textCol}" (columns: ${header.join(', ')}); choose one with --text-column`);
      }
      for (const [flag, col] of [['--id-column', opts.idColumn], ['--label-column', opts.labelColumn]] as const) {
        if (col !== undefined && !header.includes(col)) throw new UserError(`${where}: header has no column "${col}" given by ${flag} (columns: ${header.join(', ')})`);
      }
      continue;
    }
    if (rec.fields.length !== header.length) {
      yield reject(where, `wrong column count: expected ${header.length} fields (${header.join(',')}), got ${rec.fields.length}`);
      continue;
    }
    const obj: Record<string, unknown> = {};
    header.forEach((h, i) => (obj[h] = rec.fields[i]));
    yield textRecord(path, where, obj, textCol, opts.idColumn, opts.labelColumn);
  }
  if (!header) throw new UserError(`${basename(path)}: no header row found; expected a CSV header naming the columns`);
  if (rows === 0) throw noRecords(path, headerLine, 'the header row is the only row');
};

function textRecord(
  path: string,
  where: string,
  obj: Record<string, unknown>,
  textCol: string,
  idCol: string | undefined,
  labelCol: string | undefined,
): ReadResult {
  const text = obj[textCol];
  if (typeof text !== 'string') {
    return reject(where, `field "${textCol}" ${text === undefined ? 'is missing' : `is ${typeof text}`}; expected a string (choose the field with --text-column)`);
  }
  if (text === '') return reject(where, emptyText(`field "${textCol}"`));
  let key = where;
  if (idCol !== undefined) {
    const id = obj[idCol];
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id).trim() === '') {
      return reject(where, `field "${idCol}" (--id-column) is ${id === undefined ? 'missing' : JSON.stringify(id)}; expected a non-empty string or number`);
    }
    key = `id:${String(id)}`;
  }
  const lc = labelCol ?? ('label' in obj ? 'label' : undefined);
  let label: string | null = null;
  if (lc !== undefined) {
    const v = obj[lc];
    if (v === undefined && labelCol !== undefined) return reject(where, `field "${lc}" (--label-column) is missing`);
    if (v !== undefined && v !== null && v !== '') {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return reject(where, `field "${lc}" is ${typeof v}; expected a string label`);
      label = String(v);
    }
  }
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== textCol && k !== idCol && k !== lc) fields[k] = v;
  const record: SourceRecord = {
    locator: where,
    key,
    modality: 'text',
    text,
    meta: { file: basename(path), ...(Object.keys(fields).length ? { fields } : {}) },
    sourceLabel: label,
  };
  return { ok: true, record };
}

/** SMS Spam Collection: `label<TAB>text` per line (Almeida & Gómez Hidalgo, UCI). */
export const readSms: Reader = async function* (path, opts) {
  let lastLine = 0;
  let records = 0;
  for await (const line of await linesOf(path, opts, opts.encoding)) {
    lastLine = line.lineNo;
    const where = at(path, line.lineNo);
    if ('error' in line) {
      records++;
      yield reject(where, line.error);
      continue;
    }
    if (line.text === '') continue;
    records++;
    const tab = line.text.indexOf('\t');
    if (tab <= 0) {
      yield reject(where, tab === 0 ? 'empty label before the tab' : 'no tab found; expected `label<TAB>text`');
      continue;
    }
    const text = line.text.slice(tab + 1);
    if (text === '') {
      yield reject(where, emptyText('the text after the tab'));
      continue;
    }
    yield {
      ok: true,
      record: { locator: where, key: where, modality: 'text', text, meta: { file: basename(path) }, sourceLabel: line.text.slice(0, tab) },
    };
  }
  if (records === 0) throw noRecords(path, lastLine, `${lastLine} blank line${lastLine === 1 ? '' : 's'} and no record`);
};

/**
 * TREC question classification (Li & Roth 2002): `COARSE:fine question` per line. The source
 * label is the coarse class; the fine one is kept in meta. The files are ISO-8859-1, so this
 * preset reads Latin-1 unless --encoding says otherwise.
 */
export const readTrec: Reader = async function* (path, opts) {
  let lastLine = 0;
  let records = 0;
  for await (const line of await linesOf(path, opts, opts.encoding ?? 'latin1')) {
    lastLine = line.lineNo;
    const where = at(path, line.lineNo);
    if ('error' in line) {
      records++;
      yield reject(where, line.error);
      continue;
    }
    if (line.text === '') continue;
    records++;
    const m = /^([A-Z]+):(\S+) (.*)$/.exec(line.text);
    if (!m) {
      yield reject(where, 'expected `COARSE:fine question` (e.g. `DESC:manner How did …`)');
      continue;
    }
    if (m[3] === '') {
      yield reject(where, emptyText('the question'));
      continue;
    }
    yield {
      ok: true,
      record: { locator: where, key: where, modality: 'text', text: m[3], meta: { file: basename(path), fineLabel: `${m[1]}:${m[2]}` }, sourceLabel: m[1] },
    };
  }
  if (records === 0) throw noRecords(path, lastLine, `${lastLine} blank line${lastLine === 1 ? '' : 's'} and no record`);
};
