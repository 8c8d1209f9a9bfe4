import { randomBytes } from 'node:crypto';
import { UserError } from '../core/errors.ts';
import { parseDuration } from '../core/duration.ts';
import { sha256Hex } from '../core/hash.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import type { Actor } from '../store/context.ts';
import { writeTx, type Conn } from '../store/tx.ts';
import { getUser, type User } from './users.ts';

/**
 * Browser sessions, made when a person signs in with OpenID Connect (src/server/oidc.ts).
 *
 * The session cookie carries a secret of 32 random bytes (base64url); the store keeps only its
 * sha256 (a secret of 256 random bits needs no slow hash: nothing can be guessed). A session
 * ends at the first of: its absolute end (`maxAge` after sign-in), `idle` without a request, or
 * its revocation (the person signs out, or an admin revokes it). The row is read on every
 * request, so a revocation applies at once in every server process. The time of the last request
 * is written at most once a minute (through the store's side connection, best effort), so the
 * idle timeout is exact to about a minute.
 */
export interface SessionPolicy {
  /** Absolute lifetime in ms (default 12 h; TESSERA_SESSION_MAX_AGE). */
  maxAgeMs: number;
  /** Idle timeout in ms (default 1 h; TESSERA_SESSION_IDLE). */
  idleMs: number;
}

export const SESSION_DEFAULTS: SessionPolicy = { maxAgeMs: 12 * 3_600_000, idleMs: 3_600_000 };
/** How stale `last_seen_at` may get before a request rewrites it. */
export const TOUCH_MS = 60_000;

/** The policy from TESSERA_SESSION_MAX_AGE and TESSERA_SESSION_IDLE (`12h`, `30m`, …); a bad value is an error naming the variable. */
export function sessionPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): SessionPolicy {
  const read = (name: string, fallback: number) => {
    const v = env[name]?.trim();
    return v ? parseDuration(v, name) : fallback;
  };
  const p = { maxAgeMs: read('TESSERA_SESSION_MAX_AGE', SESSION_DEFAULTS.maxAgeMs), idleMs: read('TESSERA_SESSION_IDLE', SESSION_DEFAULTS.idleMs) };
  return checkPolicy(p);
}

export function checkPolicy(p: SessionPolicy): SessionPolicy {
  if (!(p.maxAgeMs > 0) || !(p.idleMs > 0)) throw new UserError(`session lifetimes must be positive (max age ${p.maxAgeMs} ms, idle ${p.idleMs} ms)`);
  return p;
}

/** A well-formed session secret: 43 base64url characters. Anything else is refused unhashed. */
export function looksLikeSessionSecret(s: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(s);
}

export const sessionHash = (secret: string) => sha256Hex(`tessera-session\n${secret}`);

const iso = (ms: number) => new Date(ms).toISOString();

/** Makes a session for a user who has just signed in; returns the secret for the cookie (never stored). */
export async function createSession(store: Store, user: User, issuer: string | null, policy: SessionPolicy, now = Date.now()): Promise<{ id: number; secret: string; expiresAt: string }> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = iso(now + policy.maxAgeMs);
  return writeTx(store, null, async (conn) => {
    const { id } = await conn
      .insertInto('sessions')
      .values({ user_id: user.id, secret_hash: sessionHash(secret), issuer, created_at: iso(now), expires_at: expiresAt, idle_seconds: Math.ceil(policy.idleMs / 1000), last_seen_at: iso(now), revoked_at: null, revoked_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(conn, store.dialect, { projectId: null, actor: `user:${user.name}`, action: 'session.create', subject: `user:${user.id}`, payload: { session: id, issuer, expiresAt } });
    return { id, secret, expiresAt };
  });
}

export interface SessionInfo {
  id: number;
  createdAt: string;
  expiresAt: string;
  /** When it ends without another request. */
  idleExpiresAt: string;
  lastSeenAt: string;
  issuer: string | null;
}

export type SessionCheck =
  | { status: 'ok'; user: User; session: SessionInfo }
  | { status: 'expired'; reason: 'absolute' | 'idle'; at: string }
  | { status: 'revoked' }
  | { status: 'invalid' };

const idleEnd = (lastSeenAt: string, idleSeconds: number) => iso(Date.parse(lastSeenAt) + idleSeconds * 1000);

/** What the session cookie's secret stands for at `now`. */
export async function checkSession(db: Conn, secret: string, now = Date.now()): Promise<SessionCheck> {
  if (!looksLikeSessionSecret(secret)) return { status: 'invalid' };
  const r = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id as session_id', 'sessions.issuer', 'sessions.created_at as session_created', 'sessions.expires_at', 'sessions.idle_seconds', 'sessions.last_seen_at', 'sessions.revoked_at', 'users.id', 'users.name', 'users.display_name', 'users.created_at'])
    .where('sessions.secret_hash', '=', sessionHash(secret))
    .executeTakeFirst();
  if (!r) return { status: 'invalid' };
  if (r.revoked_at !== null) return { status: 'revoked' };
  const nowIso = iso(now);
  if (r.expires_at <= nowIso) return { status: 'expired', reason: 'absolute', at: r.expires_at };
  const idleAt = idleEnd(r.last_seen_at, r.idle_seconds);
  if (idleAt <= nowIso) return { status: 'expired', reason: 'idle', at: idleAt };
  return {
    status: 'ok',
    user: { id: r.id, name: r.name, displayName: r.display_name, createdAt: r.created_at },
    session: { id: r.session_id, createdAt: r.session_created, expiresAt: r.expires_at, idleExpiresAt: idleAt, lastSeenAt: r.last_seen_at, issuer: r.issuer },
  };
}

/** Records a request on a live session (at most once per TOUCH_MS); best effort, on the side connection. */
export async function touchSession(store: Store, s: SessionInfo, now = Date.now()): Promise<void> {
  if (now - Date.parse(s.lastSeenAt) < TOUCH_MS) return;
  try {
    await store.side().updateTable('sessions').set({ last_seen_at: iso(now) }).where('id', '=', s.id).where('revoked_at', 'is', null).execute();
  } catch {
    // A busy store: the next request tries again (the idle timeout is a minute coarser meanwhile).
  }
}

/** Ends the session whose cookie this is (signing out); whether there was a live one. Audit-logged. */
export async function endSession(store: Store, secret: string): Promise<boolean> {
  if (!looksLikeSessionSecret(secret)) return false;
  return writeTx(store, null, async (conn) => {
    const row = await conn
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.id', 'sessions.user_id', 'users.name'])
      .where('secret_hash', '=', sessionHash(secret))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return false;
    await conn.updateTable('sessions').set({ revoked_at: iso(Date.now()), revoked_by: 'signed out' }).where('id', '=', row.id).execute();
    await appendAudit(conn, store.dialect, { projectId: null, actor: `user:${row.name}`, action: 'session.end', subject: `user:${row.user_id}`, payload: { session: row.id } });
    return true;
  });
}

export interface SessionRow extends SessionInfo {
  state: 'active' | 'expired' | 'revoked';
  revokedAt: string | null;
  revokedBy: string | null;
}

/** A user's sessions, newest first (the most recent `limit`). */
export async function listSessions(db: Conn, userName: string, opts: { limit?: number; now?: number } = {}): Promise<SessionRow[]> {
  const u = await getUser(db, userName);
  const rows = await db.selectFrom('sessions').selectAll().where('user_id', '=', u.id).orderBy('id', 'desc').limit(opts.limit ?? 100).execute();
  const nowIso = iso(opts.now ?? Date.now());
  return rows.map((r) => {
    const idleAt = idleEnd(r.last_seen_at, r.idle_seconds);
    const state = r.revoked_at !== null ? 'revoked' : r.expires_at <= nowIso || idleAt <= nowIso ? 'expired' : 'active';
    return { id: r.id, createdAt: r.created_at, expiresAt: r.expires_at, idleExpiresAt: idleAt, lastSeenAt: r.last_seen_at, issuer: r.issuer, state, revokedAt: r.revoked_at, revokedBy: r.revoked_by };
  });
}

/** Revokes a user's live sessions (or one of them, by id); how many. Audit-logged with the actor. */
export async function revokeSessions(store: Store, actor: Actor, userName: string, sessionId?: number): Promise<number> {
  return writeTx(store, null, async (conn) => {
    const u = await getUser(conn, userName);
    let q = conn.updateTable('sessions').set({ revoked_at: iso(Date.now()), revoked_by: actor.name }).where('user_id', '=', u.id).where('revoked_at', 'is', null);
    if (sessionId !== undefined) q = q.where('id', '=', sessionId);
    const n = Number((await q.executeTakeFirst()).numUpdatedRows);
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'session.revoke', subject: `user:${u.id}`, payload: { session: sessionId ?? 'all', revoked: n } });
    return n;
  });
}
