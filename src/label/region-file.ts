import { boxAgreement, type Box } from '../consensus/boxes.ts';
import { intervalAgreement, type Interval } from '../consensus/intervals.ts';
import type { RegionAnswer } from '../consensus/regions.ts';
import { UserError } from '../core/errors.ts';
import { csvRecords, guessDelimiter } from './crowd-file.ts';

/**
 * The region files of `tessera agreement FILE --kind spans|segments|boxes` (a contract other tools
 * rely on): CSV (or TSV) with a header, one row per span, segment or box —
 *   spans:    item,annotator,start,end,label   (character offsets, end exclusive)
 *   segments: item,annotator,start,end,label   (seconds)
 *   boxes:    item,annotator,x,y,w,h,label      (pixels)
 * An annotator who marked nothing on an item writes one row with the other fields empty.
 * Columns are found by name, case-insensitively, in any order. Pure: takes the file's text.
 */
export const REGION_KINDS = ['spans', 'segments', 'boxes'] as const;
export type RegionFileKind = (typeof REGION_KINDS)[number];

const COLUMNS: Record<RegionFileKind, string[]> = {
  spans: ['item', 'annotator', 'start', 'end', 'label'],
  segments: ['item', 'annotator', 'start', 'end', 'label'],
  boxes: ['item', 'annotator', 'x', 'y', 'w', 'h', 'label'],
};

export type RegionFile = { kind: 'spans' | 'segments'; answers: RegionAnswer<Interval>[] } | { kind: 'boxes'; answers: RegionAnswer<Box>[] };

export function parseRegionFile(text: string, opts: { name: string; kind: string; delimiter?: string }): RegionFile {
  const file = opts.name;
  if (!(REGION_KINDS as readonly string[]).includes(opts.kind)) throw new UserError(`--kind: expected ${REGION_KINDS.join('|')}, got "${opts.kind}"`);
  const kind = opts.kind as RegionFileKind;
  const want = COLUMNS[kind];
  const records = csvRecords(text.replace(/^\uFEFF/, ''), file, opts.delimiter ?? guessDelimiter(file, text));
  if (records.length === 0) throw new UserError(`${file} is empty: expected a header row (${want.join(',')}) and one row per ${kind === 'boxes' ? 'box' : kind.slice(0, -1)}`);
  const [header, ...rows] = records;
  const names = header.fields.map((h) => h.trim().toLowerCase());
  const col = Object.fromEntries(want.map((c) => {
    const i = names.indexOf(c);
    if (i < 0) throw new UserError(`${file}: no "${c}" column in the header (${header.fields.join(', ')}): a ${kind} file has ${want.join(',')}`);
    return [c, i];
  })) as Record<string, number>;
  if (rows.length === 0) throw new UserError(`${file} has a header but no rows: expected one row per ${kind === 'boxes' ? 'box' : kind.slice(0, -1)} after line ${header.line}`);
  const answers = new Map<string, { item: string; annotator: string; regions: Array<Interval | Box> }>();
  const geometry = want.filter((c) => c !== 'item' && c !== 'annotator');
  for (const r of rows) {
    if (r.fields.length !== names.length) throw new UserError(`${file}:${r.line}: expected ${names.length} fields (${header.fields.join(',')}), got ${r.fields.length}`);
    const get = (c: string) => r.fields[col[c]].trim();
    const item = get('item');
    const annotator = get('annotator');
    if (item === '') throw new UserError(`${file}:${r.line}: empty item`);
    if (annotator === '') throw new UserError(`${file}:${r.line}: empty annotator`);
    const key = `${item}\u0000${annotator}`;
    const a = answers.get(key) ?? { item, annotator, regions: [] };
    answers.set(key, a);
    const empty = geometry.filter((c) => get(c) === '');
    if (empty.length === geometry.length) continue; // marked nothing on this item
    if (empty.length > 0) throw new UserError(`${file}:${r.line}: empty ${empty.join(', ')}; a row is either a whole ${kind === 'boxes' ? 'box' : kind.slice(0, -1)} or, for an annotator who marked nothing, ${geometry.join(', ')} all empty`);
    const num = (c: string, rule: (v: number) => boolean, expected: string) => {
      const s = get(c);
      const v = Number(s);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) || !rule(v)) throw new UserError(`${file}:${r.line}: ${c} "${s}": expected ${expected}`);
      return v;
    };
    const label = get('label');
    if (kind === 'boxes') {
      a.regions.push({ x: num('x', Number.isFinite, 'a number'), y: num('y', Number.isFinite, 'a number'), w: num('w', (v) => v > 0, 'a width > 0'), h: num('h', (v) => v > 0, 'a height > 0'), label });
    } else {
      const unit = kind === 'spans' ? 'a whole number of characters ≥ 0' : 'seconds ≥ 0';
      const ok = kind === 'spans' ? (v: number) => Number.isInteger(v) && v >= 0 : (v: number) => Number.isFinite(v) && v >= 0;
      const start = num('start', ok, unit);
      const end = num('end', ok, unit);
      if (end <= start) throw new UserError(`${file}:${r.line}: end ${end} is not after start ${start} (end is exclusive)`);
      a.regions.push({ start, end, label });
    }
  }
  const list = [...answers.values()];
  const annotators = new Set(list.map((a) => a.annotator));
  if (annotators.size < 2) throw new UserError(`${file}: agreement needs at least 2 annotators; the file has ${annotators.size} (${[...annotators].join(', ')})`);
  const perItem = new Map<string, number>();
  for (const a of list) perItem.set(a.item, (perItem.get(a.item) ?? 0) + 1);
  if (![...perItem.values()].some((n) => n >= 2)) throw new UserError(`${file}: no item was annotated by two or more annotators: there is nothing to compare`);
  return kind === 'boxes' ? { kind, answers: list as RegionAnswer<Box>[] } : { kind, answers: list as RegionAnswer<Interval>[] };
}

export type RegionAgreementResult = { kind: 'spans' | 'segments'; pairs: number; f1: { exact: number | null; overlap: number | null } } | { kind: 'boxes'; pairs: number; f1At50: number | null; meanIoU: number | null };

/** The contract's JSON: spans/segments `{"kind","pairs","f1":{"exact","overlap"}}`, boxes `{"kind","pairs","f1At50","meanIoU"}`. */
export function regionAgreementOfFile(f: RegionFile): RegionAgreementResult {
  if (f.kind === 'boxes') {
    const r = boxAgreement(f.answers);
    return { kind: 'boxes', pairs: r.pairs, f1At50: r.f1At50, meanIoU: r.meanIoU };
  }
  const r = intervalAgreement(f.answers);
  return { kind: f.kind, pairs: r.pairs, f1: r.f1 };
}
