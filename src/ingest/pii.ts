import { isIP } from 'node:net';
import { abnValid, luhnValid, medicareValid, tfnValid } from './pii-checksums.ts';

export const PII_KINDS = ['email', 'phone', 'credit_card', 'tfn', 'medicare', 'abn', 'ip'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
  text: string;
}

// Digit runs allow the separators people type: spaces, dashes, dots.
const SEP = '[ .-]?';
const run = (n: number) => Array.from({ length: n }, () => '\\d').join(SEP);

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** Australian: mobiles 04xx xxx xxx, landlines (0[2378]) xxxx xxxx, with +61 forms; 1300/1800 xxx xxx; 13 xx xx. */
const AU_PHONE = /(?:\+61[ -]?|\(?0)(?:4\d{2}|[2378]\)?[ -]?\d{2})[ -]?\d{3}[ -]?\d{3}\b|\b1[38]00[ -]?\d{3}[ -]?\d{3}\b|\b13[ -]?\d{2}[ -]?\d{2}\b/g;
/** International E.164 with a leading +: 8–15 digits in groups. */
const INTL_PHONE = /\+[1-9](?:[ .-]?\(?\d\)?){7,14}\b/g;
const CARD = new RegExp(`\\b\\d(?:${SEP}\\d){12,18}\\b`, 'g');
const ELEVEN = new RegExp(`\\b${run(2)}${SEP}${run(3)}${SEP}${run(3)}${SEP}${run(3)}\\b|\\b\\d{11}\\b`, 'g');
const NINE = new RegExp(`\\b${run(3)}${SEP}${run(3)}${SEP}${run(3)}\\b|\\b\\d{8}\\b`, 'g');
const MEDICARE = new RegExp(`\\b[2-6]\\d{3}${SEP}\\d{5}${SEP}\\d(?:${SEP}\\d)?\\b`, 'g');
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
/** Candidate IPv6 tokens (hex groups with ≥ 2 colons); node:net's isIP decides. */
const IPV6 = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g;

/** A card number must pass Luhn and start with a known issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners). */
function cardLike(digits: string): boolean {
  return /^(4\d{12}(\d{3}){0,2}|5[1-5]\d{14}|2(2[2-9][1-9]|[3-6]\d{2}|7[01]\d|720)\d{12}|3[47]\d{13}|6(011|5\d{2})\d{12,15}|35\d{14,17}|3(0[0-5]|[68]\d)\d{11,16})$/.test(digits) && luhnValid(digits);
}

/**
 * Finds personal data in free text. Numbers are accepted only when their check digits are
 * valid, so order numbers and dates do not drown the real findings. Overlaps resolve to the
 * first kind in PII_KINDS order (e.g. a Luhn-valid card beats a phone-shaped prefix).
 */
export function findPii(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  const add = (kind: PiiKind, re: RegExp, ok: (m: string) => boolean = () => true) => {
    for (const m of text.matchAll(re)) if (ok(m[0])) found.push({ kind, start: m.index!, end: m.index! + m[0].length, text: m[0] });
  };
  const digits = (s: string) => s.replace(/\D/g, '');
  add('email', EMAIL);
  add('credit_card', CARD, (m) => cardLike(digits(m)));
  add('abn', ELEVEN, (m) => abnValid(m));
  add('medicare', MEDICARE, (m) => medicareValid(m));
  add('tfn', NINE, (m) => tfnValid(m));
  add('ip', IPV4, (m) => isIP(m) === 4);
  add('ip', IPV6, (m) => isIP(m) === 6);
  add('phone', AU_PHONE);
  add('phone', INTL_PHONE, (m) => digits(m).length >= 8 && digits(m).length <= 15);
  // Keep the earliest-ranked kind where matches overlap.
  const rank = (k: PiiKind) => PII_KINDS.indexOf(k);
  found.sort((a, b) => a.start - b.start || rank(a.kind) - rank(b.kind) || b.end - a.end);
  const out: PiiMatch[] = [];
  for (const m of found) {
    const clash = out.find((o) => m.start < o.end && o.start < m.end);
    if (!clash) out.push(m);
    else if (rank(m.kind) < rank(clash.kind)) out.splice(out.indexOf(clash), 1, m);
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Replaces every finding with `[KIND]`, for redaction at import. */
export function redactPii(text: string, matches = findPii(text)): string {
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += text.slice(at, m.start) + `[${m.kind.toUpperCase()}]`;
    at = m.end;
  }
  return out + text.slice(at);
}
