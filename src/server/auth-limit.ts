import { sha256Hex } from '../core/hash.ts';
import type { Store } from '../store/db.ts';

/**
 * Limits failed authentications (a bearer token that is malformed, unknown, wrong or revoked),
 * in fixed time windows (default one minute), with three ceilings:
 *
 * | counted per                               | default | env                                       | over it                                   |
 * |-------------------------------------------|---------|-------------------------------------------|-------------------------------------------|
 * | token key from one address                |      10 | TESSERA_AUTH_FAILURES_PER_ADDRESS_TOKEN   | that token key from that address: 429     |
 * | token key from all addresses together     |      50 | TESSERA_AUTH_FAILURES_PER_TOKEN           | that token key from anywhere: 429         |
 * | address, whatever the token               |     100 | TESSERA_AUTH_FAILURES_PER_ADDRESS         | every failure from that address: 429      |
 *
 * (A token key is `tsr_` + the token's 16-character lookup key; `TESSERA_AUTH_FAILURES_PER_MINUTE`
 * or the `max` option sets all three at once.) A token key over its ceiling is refused before it
 * is checked — a correct token with that key included, so guessing one token gives no signal and
 * costs no scrypt once limited. An address over its ceiling still gets its correct tokens through
 * (they are checked as usual); only its failures are answered 429. So many people behind one
 * address (an office's NAT) keep working while one of them mistypes a token, or an attacker
 * among them sprays guesses: each typo locks only that token key from there, and a spray of
 * random tokens is cut off at the address's ceiling. Requests without any token are not counted.
 *
 * Counters live in this process and, when `shared`, also in the store's `auth_failures` table,
 * so several `tessera serve` processes on one database add up their counts. Legitimate traffic
 * costs nothing extra: the table is written only on a failure and read only for a key with a
 * failure in the current window (in this process, or just now). Keys are stored as truncated
 * sha256 (no client address or token in the database); old windows are deleted as they pass.
 * The database is reached through the store's side connection, which fails fast rather than
 * wait behind a long write; when it fails the in-process counts still apply.
 */
export interface AuthLimitOptions {
  /** Sets every ceiling below that is not given itself (the single limit of earlier versions). */
  max?: number;
  /** Failures per window for one token key from one address (default 10). */
  perAddressToken?: number;
  /** Failures per window for one token key from all addresses together (default 50). */
  perToken?: number;
  /** Failures per window from one address, any token (default 100). */
  perAddress?: number;
  /** Window length in ms (default 60 000). */
  windowMs?: number;
  /** Share counts through the database (default true). */
  shared?: boolean;
  /** Clock (tests). */
  now?: () => number;
}

export const AUTH_LIMIT_DEFAULTS = { perAddressToken: 10, perToken: 50, perAddress: 100 } as const;

const ENV = {
  perAddressToken: 'TESSERA_AUTH_FAILURES_PER_ADDRESS_TOKEN',
  perToken: 'TESSERA_AUTH_FAILURES_PER_TOKEN',
  perAddress: 'TESSERA_AUTH_FAILURES_PER_ADDRESS',
} as const;
const ENV_ALL = 'TESSERA_AUTH_FAILURES_PER_MINUTE';

/** A positive integer from the environment, or undefined (unset); anything else is an error naming the variable. */
function envCeiling(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const v = env[name]?.trim();
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}="${v}": expected a positive whole number of failed authentications per window`);
  return n;
}

/** The three ceilings: the option, else `max`, else its own variable, else TESSERA_AUTH_FAILURES_PER_MINUTE, else the default. */
export function authLimitCeilings(opts: AuthLimitOptions = {}, env: NodeJS.ProcessEnv = process.env): Record<keyof typeof AUTH_LIMIT_DEFAULTS, number> {
  const all = envCeiling(ENV_ALL, env);
  const pick = (k: keyof typeof AUTH_LIMIT_DEFAULTS) => {
    const n = opts[k] ?? opts.max ?? envCeiling(ENV[k], env) ?? all ?? AUTH_LIMIT_DEFAULTS[k];
    if (!Number.isInteger(n) || n <= 0) throw new Error(`auth limit ${k}=${n}: expected a positive whole number`);
    return n;
  };
  return { perAddressToken: pick('perAddressToken'), perToken: pick('perToken'), perAddress: pick('perAddress') };
}

export interface LimitKeys {
  ip: string;
  /** The token's key (prefix + lookup key) when a well-formed bearer token was sent. */
  token?: string;
}

/** Where a request stands before its token is checked: seconds to wait per kind of ceiling, or null. */
export interface Throttle {
  /** This token key is over its ceiling (from this address, or from all): refuse it unchecked. */
  token: number | null;
  /** This address is over its ceiling: a correct token still passes; a failure is a 429. */
  address: number | null;
}

type Scope = 'address' | 'token';
interface Counter {
  key: string;
  max: number;
  scope: Scope;
}

export class AuthFailureLimiter {
  readonly perAddressToken: number;
  readonly perToken: number;
  readonly perAddress: number;
  readonly windowMs: number;
  readonly shared: boolean;
  private readonly now: () => number;
  /** key → [bucket, count] in this process. */
  private readonly local = new Map<string, [number, number]>();
  private lastSweep = 0;

  constructor(
    private readonly store: Store,
    opts: AuthLimitOptions = {},
  ) {
    ({ perAddressToken: this.perAddressToken, perToken: this.perToken, perAddress: this.perAddress } = authLimitCeilings(opts));
    this.windowMs = opts.windowMs ?? 60_000;
    this.shared = opts.shared ?? true;
    this.now = opts.now ?? Date.now;
  }

  private countersOf(k: LimitKeys): Counter[] {
    const out: Counter[] = [{ key: `ip:${sha256Hex(`ip:${k.ip}`).slice(0, 32)}`, max: this.perAddress, scope: 'address' }];
    if (k.token) {
      out.push({ key: `ik:${sha256Hex(`ik:${k.ip}\n${k.token}`).slice(0, 32)}`, max: this.perAddressToken, scope: 'token' });
      out.push({ key: `tok:${sha256Hex(`tok:${k.token}`).slice(0, 32)}`, max: this.perToken, scope: 'token' });
    }
    return out;
  }

  private bucket(): number {
    return Math.floor(this.now() / this.windowMs);
  }

  /** Seconds until the current window ends (at least 1). */
  retryAfter(): number {
    const end = (this.bucket() + 1) * this.windowMs;
    return Math.max(1, Math.ceil((end - this.now()) / 1000));
  }

  private localCount(key: string, b: number): number {
    const e = this.local.get(key);
    return e && e[0] === b ? e[1] : 0;
  }

  private async sharedCounts(keys: string[], b: number): Promise<Map<string, number>> {
    const rows = await this.store.side().selectFrom('auth_failures').select(['key', 'count']).where('key', 'in', keys).where('bucket', '=', b).execute();
    return new Map(rows.map((r) => [r.key, Number(r.count)]));
  }

  /** Before checking a token: which ceilings this address and token key are over. */
  async check(k: LimitKeys): Promise<Throttle> {
    const b = this.bucket();
    const counters = this.countersOf(k);
    const over = new Set<Scope>();
    const suspect: Counter[] = [];
    for (const c of counters) {
      const n = this.localCount(c.key, b);
      if (n >= c.max) over.add(c.scope);
      else if (n > 0) suspect.push(c);
    }
    if (this.shared && suspect.length > 0) {
      try {
        const counts = await this.sharedCounts(suspect.map((c) => c.key), b);
        for (const c of suspect) {
          const n = counts.get(c.key) ?? 0;
          if (n > this.localCount(c.key, b)) this.local.set(c.key, [b, n]);
          if (n >= c.max) over.add(c.scope);
        }
      } catch {
        // The in-process counts still apply.
      }
    }
    const wait = this.retryAfter();
    return { token: over.has('token') ? wait : null, address: over.has('address') ? wait : null };
  }

  /**
   * After a failed authentication: records it; the seconds to wait when the failure is to be
   * answered 429 (the address was already over its ceiling, or this failure crossed one), else null.
   * An address already over its ceiling is not written again (its count no longer matters).
   */
  async fail(k: LimitKeys, before: Throttle = { token: null, address: null }): Promise<number | null> {
    const b = this.bucket();
    const counters = this.countersOf(k).filter((c) => !(c.scope === 'address' && before.address !== null));
    let over = before.address !== null;
    for (const c of counters) {
      const n = this.localCount(c.key, b) + 1;
      this.local.set(c.key, [b, n]);
      if (n > c.max) over = true;
    }
    if (this.shared && counters.length > 0) {
      try {
        const db = this.store.side();
        for (const c of counters) {
          await db
            .insertInto('auth_failures')
            .values({ key: c.key, bucket: b, count: 1 })
            .onConflict((oc) => oc.columns(['key', 'bucket']).doUpdateSet((eb) => ({ count: eb('auth_failures.count', '+', 1) })))
            .execute();
        }
        const counts = await this.sharedCounts(counters.map((c) => c.key), b);
        for (const c of counters) {
          const n = counts.get(c.key) ?? 0;
          if (n > this.localCount(c.key, b)) this.local.set(c.key, [b, n]);
          if (n > c.max) over = true;
        }
        if (this.now() - this.lastSweep > this.windowMs) {
          this.lastSweep = this.now();
          await db.deleteFrom('auth_failures').where('bucket', '<', b - 1).execute();
        }
      } catch {
        // The in-process counts still apply.
      }
    }
    this.sweepLocal(b);
    return over ? this.retryAfter() : null;
  }

  private sweepLocal(b: number) {
    if (this.local.size < 10000) return;
    for (const [key, [kb]] of this.local) if (kb < b) this.local.delete(key);
  }
}
