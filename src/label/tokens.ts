import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../core/hash.ts';

/**
 * API tokens: 32 random bytes (256 bits) as base64url behind a `tsr_` prefix. Only the sha256 of
 * a token is stored: with that much entropy a fast hash is enough (no dictionary to attack), and
 * it lets the server find the token by an indexed equality lookup. The token is shown once.
 */
export const TOKEN_PREFIX = 'tsr_';

export function generateToken(): { token: string; hash: string; prefix: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) };
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

/** Constant-time comparison of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A plausible token: the prefix and 43 base64url characters. Anything else is refused unhashed. */
export function looksLikeToken(s: string): boolean {
  return /^tsr_[A-Za-z0-9_-]{43}$/.test(s);
}
