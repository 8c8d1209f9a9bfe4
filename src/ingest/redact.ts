import type { SourceRecord } from './types.ts';
import type { PiiKind } from './pii.ts';
import { redactPii } from './pii.ts';
import { scanValue } from './pii-fields.ts';

/**
 * Redaction at import (`tessera import --redact-pii`): the record is rewritten before it is
 * hashed and stored, so the original never reaches the store. Text (and other string fields)
 * get `[KIND]` in place of each finding; a numeric cell holding an identifier becomes missing
 * (null), keeping the column numeric. `meta.piiRedacted` records which fields had which kinds
 * (never the values). The content hash is the redacted content's, so re-importing with
 * redaction is idempotent.
 */
export function redactRecord(r: SourceRecord): { record: SourceRecord; redacted: Record<string, PiiKind[]> | null } {
  const redacted: Record<string, PiiKind[]> = {};
  const str = (field: string, s: string): string => {
    const m = scanValue(s);
    if (m.length === 0) return s;
    redacted[field] = m.map((x) => x.kind);
    return redactPii(s, m);
  };
  const out: SourceRecord = { ...r, meta: { ...r.meta } };
  if (typeof r.text === 'string') out.text = str('text', r.text);
  if (r.values) {
    const values: Record<string, string | number | null> = {};
    for (const [k, v] of Object.entries(r.values)) {
      if (typeof v === 'string') values[k] = str(k, v);
      else if (typeof v === 'number') {
        const m = scanValue(v);
        if (m.length) redacted[k] = m.map((x) => x.kind);
        values[k] = m.length ? null : v;
      } else values[k] = v;
    }
    out.values = values;
  }
  const fields = r.meta.fields;
  if (fields && typeof fields === 'object' && !Array.isArray(fields)) {
    const f: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
      if (typeof v === 'string') f[k] = str(`fields.${k}`, v);
      else if (typeof v === 'number' && scanValue(v).length) {
        redacted[`fields.${k}`] = scanValue(v).map((x) => x.kind);
        f[k] = null;
      } else f[k] = v;
    }
    out.meta.fields = f;
  }
  for (const [k, v] of Object.entries(r.meta)) if (k !== 'fields' && typeof v === 'string') out.meta[k] = str(`meta.${k}`, v);
  if (Object.keys(redacted).length === 0) return { record: r, redacted: null };
  out.meta.piiRedacted = Object.fromEntries(Object.entries(redacted).map(([k, v]) => [k, [...new Set(v)]]));
  return { record: out, redacted };
}
