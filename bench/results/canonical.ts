import { createHash } from 'node:crypto';

/**
 * Canonical JSON (the RFC 8785 idea, for the values a configuration holds): object keys sorted by
 * UTF-16 code units at every depth, no whitespace, numbers and strings as JSON.stringify writes
 * them, properties whose value is `undefined` dropped (as JSON.stringify drops them). Arrays keep
 * their order: order can be a setting. Anything JSON cannot hold exactly is refused instead of
 * being silently turned into something else.
 */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} has no JSON form; a configuration holds finite numbers`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => (v === undefined ? 'null' : canonicalJson(v, `${path}[${i}]`))).join(',')}]`;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path}: a ${proto?.constructor?.name ?? 'non-plain'} object is not a plain JSON value`);
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, `${path}.${k}`)}`).join(',')}}`;
  }
  throw new TypeError(`${path}: a ${typeof value} is not a JSON value`);
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
