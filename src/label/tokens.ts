import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { sha256Hex } from '../core/hash.ts';

/**
 * API tokens: `tsr_` + 32 random bytes as base64url (43 characters), shown once.
 *
 * Stored form (migration 005): the token's *lookup key* — its first 16 characters after `tsr_`
 * (96 of its 256 bits), public like a username, indexed — and an scrypt hash of the whole token
 * with a per-token random salt (`scrypt$N$r$p$salt$hash`, base64url). Authentication finds the
 * row by the lookup key, then recomputes scrypt and compares in constant time
 * (crypto.timingSafeEqual). The remaining 162 secret bits are what scrypt protects: a copy of the
 * database gives neither the token nor a fast hash of it.
 *
 * Tokens issued before migration 005 were stored as a bare sha256. The migration wraps each of
 * them in scrypt (`scrypt-sha256$…`: scrypt over the old sha256 hex digest), so no fast hash is
 * left in the database; the first successful use of such a token re-hashes it into the current
 * form and records its lookup key. A bare sha256 written by a process still running an older
 * version (a rolling upgrade) is accepted too and re-hashed on its first use the same way.
 */
export const TOKEN_PREFIX = 'tsr_';
/** Characters of the token (after `tsr_`) that form its public lookup key. */
export const LOOKUP_CHARS = 16;
/** The short prefix shown in audit entries and `users list` (never enough to authenticate). */
export const DISPLAY_PREFIX_CHARS = TOKEN_PREFIX.length + 6;

/** scrypt cost: N=2^14, r=8, p=1 (16 MiB, ~50 ms here): each token's hash is computed once per process (see users.ts). */
export const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;
const MAXMEM = 64 << 20;

function scrypt(input: string, salt: Buffer, keyLength: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(input, salt, keyLength, { ...opts, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))));
}

export type HashScheme = 'scrypt' | 'scrypt-sha256' | 'sha256';

/** The scheme of a stored token hash: scrypt (current), scrypt over the legacy sha256 (migrated), or a bare legacy sha256. */
export function schemeOf(stored: string): HashScheme | null {
  if (stored.startsWith('scrypt$')) return 'scrypt';
  if (stored.startsWith('scrypt-sha256$')) return 'scrypt-sha256';
  if (/^[0-9a-f]{64}$/.test(stored)) return 'sha256';
  return null;
}

async function scryptString(scheme: 'scrypt' | 'scrypt-sha256', input: string, salt = randomBytes(SCRYPT.saltLength), params: { N: number; r: number; p: number } = SCRYPT): Promise<string> {
  const key = await scrypt(input, salt, SCRYPT.keyLength, { N: params.N, r: params.r, p: params.p });
  return `${scheme}$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** The stored form of a token: scrypt with a fresh salt. */
export function hashTokenScrypt(token: string): Promise<string> {
  return scryptString('scrypt', token);
}

/** What migration 005 stores for a legacy sha256 hex digest (it has its own frozen copy): scrypt over the digest. */
export function wrapLegacyHash(sha256hex: string): Promise<string> {
  return scryptString('scrypt-sha256', sha256hex);
}

/** The legacy (pre-005) stored form: sha256 hex of the token. */
export function hashToken(token: string): string {
  return sha256Hex(token);
}

/**
 * Whether `token` matches a stored hash of any scheme, compared in constant time. A stored hash
 * that does not parse, or asks for a cost beyond the limits, never matches.
 */
export async function verifyToken(token: string, stored: string): Promise<boolean> {
  const scheme = schemeOf(stored);
  if (scheme === null) return false;
  if (scheme === 'sha256') return digestsEqual(stored, hashToken(token));
  const parts = stored.split('$');
  if (parts.length !== 6) return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > 1 << 17 || r > 16 || p > 4 || 128 * N * r > MAXMEM / 2) return false;
  const salt = Buffer.from(parts[4], 'base64url');
  const want = Buffer.from(parts[5], 'base64url');
  if (want.length < 16 || want.length > 64) return false;
  const got = await scrypt(scheme === 'scrypt' ? token : hashToken(token), salt, want.length, { N, r, p });
  return timingSafeEqual(got, want);
}

export interface NewToken {
  token: string;
  /** The stored form (scrypt). */
  hash: string;
  /** Public: indexes the row. */
  lookup: string;
  /** Public: shown in audit entries. */
  prefix: string;
}

/** A fresh token with its stored hash (computed off the event loop: ~50 ms of scrypt). */
export async function generateToken(): Promise<NewToken> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: await hashTokenScrypt(token), lookup: lookupKey(token), prefix: displayPrefix(token) };
}

/** The public lookup key of a well-formed token. */
export function lookupKey(token: string): string {
  return token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + LOOKUP_CHARS);
}

export function displayPrefix(token: string): string {
  return token.slice(0, DISPLAY_PREFIX_CHARS);
}

/** Constant-time comparison of two strings (digests) of equal length; unequal lengths never match. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A plausible token: the prefix and 43 base64url characters. Anything else is refused unhashed. */
export function looksLikeToken(s: string): boolean {
  return /^tsr_[A-Za-z0-9_-]{43}$/.test(s);
}

/**
 * Any token-shaped substring, for scrubbing text that is about to be logged — spelt plainly or
 * with any of its characters percent-encoded (a URL's query is decoded before the token is
 * checked, so `tsr%5F…` or `%74sr_…` in a logged URL is the same working token).
 */
export const TOKEN_PATTERN = /(?:t|%74)(?:s|%73)(?:r|%72)(?:_|%5f)(?:[A-Za-z0-9_-]|%[0-9a-f]{2}){20,}/gi;

/** Whether `s` might hold a token at all (a cheap test before the full scrub). */
export const mayHoldToken = (s: string): boolean => /tsr|%7[234]|%5f/i.test(s);

export function scrubTokens(s: string): string {
  return s.replace(TOKEN_PATTERN, 'tsr_[redacted]');
}
