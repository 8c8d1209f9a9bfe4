import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A record or ledger line that does not hold what it must; the message names the file and field. */
export class RecordError extends Error {
  override name = 'RecordError';
}

/** `/runs/0/seed` → `runs[0].seed`. */
function fieldName(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

const show = (v: unknown) => {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

/** What a schema expects, in words (for unions, whose own message says only "union value"). */
function describe(s: TSchema): string {
  if (s.anyOf) return (s.anyOf as TSchema[]).map(describe).join(' or ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'integer') return s.minimum !== undefined ? `a whole number ≥ ${s.minimum}` : 'a whole number';
  if (s.type === 'number') return s.minimum !== undefined && s.maximum !== undefined ? `a number from ${s.minimum} to ${s.maximum}` : 'a number';
  if (s.type === 'array') return 'an array';
  if (s.type === 'object') return 'an object';
  return typeof s.type === 'string' ? `a ${s.type}` : 'a value';
}

/** The first way `value` fails `schema`, as "field X: expected …, got …"; null when it conforms. */
export function firstSchemaError(schema: TSchema, value: unknown): string | null {
  const e = Value.Errors(schema, value).First();
  if (!e) return null;
  const field = fieldName(e.path) || '(the whole document)';
  if (e.message === 'Expected required property') return `field ${field}: missing (expected ${describe(e.schema)})`;
  if (e.message === 'Unexpected property') return `field ${field}: not a field of this record (a typo?)`;
  const expected = e.schema.anyOf ? `expected ${describe(e.schema)}` : e.message.replace(/^Expected/, 'expected');
  return `field ${field}: ${expected}, got ${show(e.value)}`;
}
