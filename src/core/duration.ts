import { UserError } from './errors.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A length of time written as a whole number and a unit — `90s`, `30m`, `12h`, `30d`, `2w` — in
 * milliseconds. Anything else is an error naming `what` (the flag or variable) and the form expected.
 */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d{1,6})\s*([smhdw])\s*$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
  if (!m || ms <= 0) throw new UserError(`${what}="${text}": expected a positive whole number and a unit, s, m, h, d or w (e.g. 30m, 12h, 30d)`);
  return ms;
}

/**
 * When something given as `--expires` ends: a duration from `now` (`30d`, see parseDuration) or
 * a date or date-time (`2027-06-30`, `2027-06-30T18:00:00Z`; a date alone means its start, UTC),
 * which must lie in the future. ISO 8601 text.
 */
export function expiryFrom(text: string, what: string, now = Date.now()): string {
  if (/^\s*\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text.trim());
    if (!Number.isFinite(t)) throw new UserError(`${what}="${text}": not a valid date (expected e.g. 2027-06-30 or 2027-06-30T18:00:00Z, or a duration such as 30d)`);
    if (t <= now) throw new UserError(`${what}="${text}": that moment has passed (expected a future date, or a duration such as 30d)`);
    return new Date(t).toISOString();
  }
  return new Date(now + parseDuration(text, what)).toISOString();
}
