import { sha256Hex } from '../core/hash.ts';
import type { Store } from '../store/db.ts';

/**
 * Limits failed authentications (a bearer token that is malformed, unknown, wrong or revoked),
 * per client address and per token key (`tsr_` + the token's 16-character lookup key), in fixed
 * time windows: after `max` failures in a window every request from that address, or carrying a
 * token with that key, gets 429 with `Retry-After` until the window ends — a correct token
 * included, so guessing gives no signal once limited. Requests without any token are not counted.
 *
 * Counters live in this process and, when `shared`, also in the store's `auth_failures` table,
 * so several `tessera serve` processes on one database add up their counts. Legitimate traffic
 * costs nothing extra: the table is written only on a failure and read only for an address or
 * key with a failure in the current window (in this process, or just now). Keys are stored as
 * truncated sha256 (no client address in the database); old windows are deleted as they pass.
 * The database is reached through the store's side connection, which fails fast rather than
 * wait behind a long write; when it fails the in-process counts still apply.
 */
export interface AuthLimitOptions {
  /** Failures allowed per window and key (default 10, or TESSERA_AUTH_FAILURES_PER_MINUTE). */
  max?: number;
  /** Window length in ms (default 60 000). */
  windowMs?: number;
  /** Share counts through the database (default true). */
  shared?: boolean;
  /** Clock (tests). */
  now?: () => number;
}

export interface LimitKeys {
  ip: string;
  /** The token's key (prefix + lookup key) when a well-formed bearer token was sent. */
  token?: string;
}

export class AuthFailureLimiter {
  readonly max: number;
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
    const env = Number(process.env.TESSERA_AUTH_FAILURES_PER_MINUTE);
    this.max = opts.max ?? (Number.isInteger(env) && env > 0 ? env : 10);
    this.windowMs = opts.windowMs ?? 60_000;
    this.shared = opts.shared ?? true;
    this.now = opts.now ?? Date.now;
  }

  private keysOf(k: LimitKeys): string[] {
    const out = [`ip:${sha256Hex(`ip:${k.ip}`).slice(0, 32)}`];
    if (k.token) out.push(`tok:${sha256Hex(`tok:${k.token}`).slice(0, 32)}`);
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

  /**
   * Before authenticating: the seconds to wait when this address or token key is over the limit,
   * else null.
   */
  async check(k: LimitKeys): Promise<number | null> {
    const b = this.bucket();
    const keys = this.keysOf(k);
    const suspect: string[] = [];
    for (const key of keys) {
      const n = this.localCount(key, b);
      if (n >= this.max) return this.retryAfter();
      if (n > 0) suspect.push(key);
    }
    if (this.shared && suspect.length > 0) {
      try {
        const counts = await this.sharedCounts(suspect, b);
        for (const key of suspect) {
          const n = counts.get(key) ?? 0;
          if (n > this.localCount(key, b)) this.local.set(key, [b, n]);
          if (n >= this.max) return this.retryAfter();
        }
      } catch {
        // The in-process counts still apply.
      }
    }
    return null;
  }

  /** After a failed authentication: records it; the seconds to wait when this failure crossed the limit, else null. */
  async fail(k: LimitKeys): Promise<number | null> {
    const b = this.bucket();
    const keys = this.keysOf(k);
    let over = false;
    for (const key of keys) {
      const n = this.localCount(key, b) + 1;
      this.local.set(key, [b, n]);
      if (n > this.max) over = true;
    }
    if (this.shared) {
      try {
        const db = this.store.side();
        for (const key of keys) {
          await db
            .insertInto('auth_failures')
            .values({ key, bucket: b, count: 1 })
            .onConflict((oc) => oc.columns(['key', 'bucket']).doUpdateSet((eb) => ({ count: eb('auth_failures.count', '+', 1) })))
            .execute();
        }
        const counts = await this.sharedCounts(keys, b);
        for (const key of keys) {
          const n = counts.get(key) ?? 0;
          if (n > this.localCount(key, b)) this.local.set(key, [b, n]);
          if (n > this.max) over = true;
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
