import { findPii, PII_KINDS, type PiiKind, type PiiMatch } from './pii.ts';

/**
 * PII per field of text and tabular items: which fields hold personal data, of which kinds, in
 * how many items. A text item's fields are `text` and, for JSONL/CSV sources, its other string
 * fields (`fields.NAME`); a tabular item's fields are its columns (numbers too: a TFN column is
 * numeric) and its metadata columns (`meta.NAME`).
 */

/** Cheap pre-filter: every PII kind needs an "@", ≥ 4 digits (phones 13 xx xx have 6; IPv4 ≥ 4) or ≥ 2 colons (IPv6). */
export function mayHavePii(s: string): boolean {
  if (s.length < 3) return false;
  if (s.includes('@')) return true;
  let digits = 0;
  let colons = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 4) return true;
    } else if (c === 58 && ++colons >= 2) return true;
  }
  return false;
}

export function scanValue(v: unknown): PiiMatch[] {
  if (v === null || v === undefined) return [];
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
  return mayHavePii(s) ? findPii(s) : [];
}

/** The fields of one item to scan, by name. */
export function piiFields(item: { text: string | null; values: Record<string, unknown> | null; meta: Record<string, unknown> }): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (item.text !== null) out.push(['text', item.text]);
  if (item.values) for (const [k, v] of Object.entries(item.values)) out.push([k, v]);
  const fields = item.meta.fields;
  if (fields && typeof fields === 'object') for (const [k, v] of Object.entries(fields as Record<string, unknown>)) out.push([`fields.${k}`, v]);
  if (item.values) for (const [k, v] of Object.entries(item.meta)) if (k !== 'file' && k !== 'fields' && k !== 'piiRedacted' && typeof v === 'string') out.push([`meta.${k}`, v]);
  return out;
}

/** PII found in one item, by field: the kinds of every match (a kind may repeat). */
export function scanItem(item: { text: string | null; values: Record<string, unknown> | null; meta: Record<string, unknown> }): Record<string, PiiKind[]> {
  const found: Record<string, PiiKind[]> = {};
  for (const [field, v] of piiFields(item)) {
    const m = scanValue(v);
    if (m.length) found[field] = m.map((x) => x.kind);
  }
  return found;
}

export interface PiiFieldCounts {
  /** Items with at least one finding. */
  items: number;
  /** Per field: items with a finding in it, and matches per kind. */
  byField: Record<string, { items: number; matches: Partial<Record<PiiKind, number>> }>;
  /** Matches per kind over all fields. */
  byKind: Partial<Record<PiiKind, number>>;
}

/** Accumulates per-field counts over many items. */
export class PiiCounter {
  private readonly counts: PiiFieldCounts = { items: 0, byField: {}, byKind: {} };
  add(found: Record<string, PiiKind[]>): void {
    const fields = Object.keys(found);
    if (fields.length === 0) return;
    this.counts.items++;
    for (const f of fields) {
      const e = (this.counts.byField[f] ??= { items: 0, matches: {} });
      e.items++;
      for (const k of found[f]) {
        e.matches[k] = (e.matches[k] ?? 0) + 1;
        this.counts.byKind[k] = (this.counts.byKind[k] ?? 0) + 1;
      }
    }
  }
  result(): PiiFieldCounts {
    const order = (o: Partial<Record<PiiKind, number>>) => Object.fromEntries(PII_KINDS.filter((k) => o[k]).map((k) => [k, o[k]!])) as Partial<Record<PiiKind, number>>;
    const byField = Object.fromEntries(
      Object.keys(this.counts.byField)
        .sort()
        .map((f) => [f, { items: this.counts.byField[f].items, matches: order(this.counts.byField[f].matches) }]),
    );
    return { items: this.counts.items, byField, byKind: order(this.counts.byKind) };
  }
}
