import { UserError } from '../core/errors.ts';
import { parseCsvRecord } from '../ingest/csv.ts';

/**
 * Reads rating files for the file CLIs (`tessera agreement FILE`, `tessera consensus FILE`):
 * CSV or TSV with a header, one row per rating. Columns are found by name — the first alias
 * present, case-insensitive — or named with --item-col / --annotator-col / --label-col.
 * The aliases cover `item,annotator,label`, `task,worker,label`, `question,worker,answer`
 * and the Snow et al. (2008) TSVs (`!amt_worker_ids`, `orig_id`, `response`).
 * Pure: takes the file's text (the CLI reads it). Errors name the file and line.
 */
export const COLUMN_ALIASES = {
  item: ['item', 'task', 'question', 'orig_id'],
  annotator: ['annotator', 'worker', '!amt_worker_ids'],
  label: ['label', 'answer', 'response'],
} as const;

type Role = keyof typeof COLUMN_ALIASES;
const FLAG: Record<Role, string> = { item: '--item-col', annotator: '--annotator-col', label: '--label-col' };

export interface Rating {
  item: string;
  annotator: string;
  label: string;
  line: number;
}

export interface RatingsFile {
  ratings: Rating[];
  columns: Record<Role, string>;
  delimiter: string;
}

export interface ReadOptions {
  /** For messages: the file's name as the user gave it. */
  name: string;
  delimiter?: string;
  itemCol?: string;
  annotatorCol?: string;
  labelCol?: string;
}

export function parseRatings(text: string, opts: ReadOptions): RatingsFile {
  const file = opts.name;
  const delimiter = opts.delimiter ?? guessDelimiter(file, text);
  const records = csvRecords(text.replace(/^\uFEFF/, ''), file, delimiter);
  if (records.length === 0) throw new UserError(`${file} is empty: expected a header row (e.g. item,annotator,label) and one row per rating`);
  const [header, ...rows] = records;
  const names = header.fields.map((h) => h.trim());
  const index = (role: Role, given: string | undefined): number => {
    if (given !== undefined) {
      const i = names.indexOf(given);
      if (i < 0) throw new UserError(`${file}: column "${given}" (${FLAG[role]}) is not in the header (${names.join(', ')})`);
      return i;
    }
    const lower = names.map((n) => n.toLowerCase());
    for (const alias of COLUMN_ALIASES[role]) {
      const i = lower.indexOf(alias);
      if (i >= 0) return i;
    }
    throw new UserError(`${file}: no ${role} column in the header (${names.join(', ') || 'empty'}): expected one of ${COLUMN_ALIASES[role].join(', ')}, or name it with ${FLAG[role]}`);
  };
  const col = { item: index('item', opts.itemCol), annotator: index('annotator', opts.annotatorCol), label: index('label', opts.labelCol) };
  if (rows.length === 0) throw new UserError(`${file} has a header but no ratings: expected one row per rating after line ${header.line}`);
  const ratings = rows.map((r): Rating => {
    if (r.fields.length !== names.length) {
      throw new UserError(`${file}:${r.line}: expected ${names.length} fields (${names.join(delimiter === '\t' ? ' TAB ' : ',')}), got ${r.fields.length}`);
    }
    const get = (role: Role) => {
      const v = r.fields[col[role]].trim();
      if (v === '') throw new UserError(`${file}:${r.line}: empty ${role} in column "${names[col[role]]}" (a missing rating is an absent row)`);
      return v;
    };
    return { item: get('item'), annotator: get('annotator'), label: get('label'), line: r.line };
  });
  return { ratings, columns: { item: names[col.item], annotator: names[col.annotator], label: names[col.label] }, delimiter };
}

export function guessDelimiter(file: string, text: string): string {
  if (/\.(tsv|tab)$/i.test(file)) return '\t';
  const first = text.slice(0, text.search(/\r?\n|$/));
  return first.includes('\t') && !first.includes(',') ? '\t' : ',';
}

/** RFC 4180 records (a quoted field may span lines); blank lines are skipped. */
export function csvRecords(text: string, file: string, delimiter: string): Array<{ line: number; fields: string[] }> {
  const out: Array<{ line: number; fields: string[] }> = [];
  const lines = text.split(/\r?\n/);
  let pending: string[] = [];
  let start = 0;
  let quotes = 0;
  lines.forEach((l, i) => {
    if (pending.length === 0) {
      if (l.trim() === '') return;
      start = i + 1;
    }
    pending.push(l);
    quotes += (l.match(/"/g) ?? []).length;
    if (quotes % 2 === 1) return;
    const parsed = parseCsvRecord(pending.join('\n'), delimiter);
    if (typeof parsed === 'string') throw new UserError(`${file}:${start}: ${parsed}`);
    out.push({ line: start, fields: parsed });
    pending = [];
    quotes = 0;
  });
  if (pending.length > 0) throw new UserError(`${file}:${start}: a quoted field opened here is never closed (end of file reached); expected a closing "`);
  return out;
}
