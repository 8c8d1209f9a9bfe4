import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor } from '../store/context.ts';
import { isRole, PERMISSIONS, ROLES, type Role } from './roles.ts';
import { sha256Hex } from '../core/hash.ts';
import { digestsEqual, displayPrefix, generateToken, hashTokenScrypt, lookupKey, looksLikeToken, schemeOf, verifyToken, type NewToken } from './tokens.ts';
import { writeTx, type Conn } from '../store/tx.ts';
import { isTokenScope, type TokenScope } from './token-scopes.ts';

export interface User {
  id: number;
  name: string;
  displayName: string;
  createdAt: string;
}

export function validateUserName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) {
    throw new UserError(`invalid user name "${name}": expected 1–64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`);
  }
  return name;
}

export function checkRole(role: string): Role {
  if (!isRole(role)) throw new UserError(`unknown role "${role}": expected ${ROLES.join('|')}`);
  return role;
}

const toUser = (r: { id: number; name: string; display_name: string; created_at: string }): User => ({ id: r.id, name: r.name, displayName: r.display_name, createdAt: r.created_at });

export async function findUser(db: Conn, name: string): Promise<User | undefined> {
  const r = await db.selectFrom('users').select(['id', 'name', 'display_name', 'created_at']).where('name', '=', name).executeTakeFirst();
  return r && toUser(r);
}

export async function getUser(db: Conn, name: string): Promise<User> {
  const u = await findUser(db, name);
  if (!u) throw new NotFoundError(`user "${name}"`);
  return u;
}

export async function listUsers(db: Conn): Promise<Array<User & { admin: boolean; memberships: Array<{ project: string; role: Role }> }>> {
  const users = await db.selectFrom('users').select(['id', 'name', 'display_name', 'created_at', 'is_admin']).orderBy('id').execute();
  const ms = await db
    .selectFrom('memberships')
    .innerJoin('projects', 'projects.id', 'memberships.project_id')
    .select(['memberships.user_id', 'projects.name', 'memberships.role'])
    .orderBy('projects.name')
    .execute();
  return users.map((u) => ({ ...toUser(u), admin: Number(u.is_admin) === 1, memberships: ms.filter((m) => m.user_id === u.id).map((m) => ({ project: m.name, role: m.role })) }));
}

export interface IssuedToken {
  id: number;
  /** Shown once: only its hash is stored. */
  token: string;
  prefix: string;
  scope: TokenScope;
  /** null: never expires. */
  expiresAt: string | null;
}

/** What a new token may do and until when (default: full, no expiry — as tokens always were). */
export interface TokenLimits {
  /** ISO 8601; null or absent: the token never expires. */
  expiresAt?: string | null;
  scope?: TokenScope;
}

async function insertToken(conn: Conn, userId: number, name: string, t: NewToken, limits: TokenLimits = {}): Promise<IssuedToken> {
  const { id } = await conn
    .insertInto('api_tokens')
    .values({ user_id: userId, name, token_hash: t.hash, lookup: t.lookup, prefix: t.prefix, created_at: nowIso(), expires_at: limits.expiresAt ?? null, scope: limits.scope ?? 'full' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id, token: t.token, prefix: t.prefix, scope: limits.scope ?? 'full', expiresAt: limits.expiresAt ?? null };
}

/** A new token whose 96-bit lookup key no stored token has (a collision is ~2^-96; checked anyway). */
async function freshToken(conn: Conn): Promise<NewToken> {
  for (;;) {
    const t = await generateToken();
    if (!(await conn.selectFrom('api_tokens').select('id').where('lookup', '=', t.lookup).executeTakeFirst())) return t;
  }
}

/**
 * Creates a user with a first API token, audit-logged (the token itself never is). `admin`
 * makes them an instance admin (may create projects and users).
 */
export async function createUser(store: Store, actor: Actor, name: string, displayName?: string, opts: { admin?: boolean } = {}): Promise<{ user: User; token: IssuedToken }> {
  validateUserName(name);
  // scrypt (~50 ms) runs before the write transaction, not inside it.
  const fresh = await freshToken(store.db);
  return writeTx(store, null, async (conn) => {
    if (await findUser(conn, name)) throw new UserError(`user "${name}" already exists`, 'E_EXISTS');
    const { id } = await conn
      .insertInto('users')
      .values({ name, display_name: displayName ?? name, token_hash: null, created_at: nowIso(), ...(opts.admin ? { is_admin: 1 } : {}) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = await insertToken(conn, id, 'default', fresh);
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'user.create', subject: `user:${id}`, payload: { name, tokenId: token.id, tokenPrefix: token.prefix, ...(opts.admin ? { admin: true } : {}) } });
    return { user: (await findUser(conn, name))!, token };
  });
}

/** Whether the user is an instance admin (may create projects and users, issue their tokens). */
export async function isInstanceAdmin(db: Conn, userId: number): Promise<boolean> {
  const r = await db.selectFrom('users').select('is_admin').where('id', '=', userId).executeTakeFirst();
  return r !== undefined && Number(r.is_admin) === 1;
}

/** Makes a user an instance admin, or no longer one; audit-logged with the previous value. */
export async function setInstanceAdmin(store: Store, actor: Actor, userName: string, admin: boolean): Promise<{ user: string; admin: boolean; previous: boolean }> {
  return writeTx(store, null, async (conn) => {
    const u = await getUser(conn, userName);
    const previous = await isInstanceAdmin(conn, u.id);
    await conn.updateTable('users').set({ is_admin: admin ? 1 : 0 }).where('id', '=', u.id).execute();
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'user.admin', subject: `user:${u.id}`, payload: { user: u.name, admin, previous } });
    return { user: u.name, admin, previous };
  });
}

/** The names of the instance admins (oldest first). */
export async function instanceAdmins(db: Conn): Promise<string[]> {
  return (await db.selectFrom('users').select('name').where('is_admin', '=', 1).orderBy('id').execute()).map((r) => r.name);
}

/** Issues another token for a user, with a scope and an expiry (see TokenLimits); audit-logged without the token. */
export async function issueToken(store: Store, actor: Actor, userName: string, tokenName = 'default', limits: TokenLimits = {}): Promise<IssuedToken> {
  await getUser(store.db, userName);
  const fresh = await freshToken(store.db);
  return writeTx(store, null, async (conn) => {
    const u = await getUser(conn, userName);
    const token = await insertToken(conn, u.id, tokenName, fresh, limits);
    await appendAudit(conn, store.dialect, {
      projectId: null,
      actor: actor.name,
      action: 'token.issue',
      subject: `user:${u.id}`,
      payload: { tokenId: token.id, tokenPrefix: token.prefix, name: tokenName, ...(token.scope !== 'full' ? { scope: token.scope } : {}), ...(token.expiresAt ? { expiresAt: token.expiresAt } : {}) },
    });
    return token;
  });
}

export async function revokeTokens(store: Store, actor: Actor, userName: string, tokenId?: number): Promise<number> {
  return writeTx(store, null, async (conn) => {
    const u = await getUser(conn, userName);
    let q = conn.updateTable('api_tokens').set({ revoked_at: nowIso() }).where('user_id', '=', u.id).where('revoked_at', 'is', null);
    if (tokenId !== undefined) q = q.where('id', '=', tokenId);
    const n = Number((await q.executeTakeFirst()).numUpdatedRows);
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'token.revoke', subject: `user:${u.id}`, payload: { tokenId: tokenId ?? 'all', revoked: n } });
    return n;
  });
}

/**
 * Tokens this process has verified with scrypt: row id → (stored hash, sha256 of the token).
 * scrypt costs ~50 ms, so each token pays it once per process; later requests compare the
 * token's sha256 with the remembered one in constant time. The row is still read on every
 * request, so a revocation (or a re-hash) takes effect at once, in every process. Memory only.
 */
const verified = new Map<number, { stored: string; digest: string }>();
const VERIFIED_MAX = 10000;

function remember(rowId: number, stored: string, digest: string) {
  verified.delete(rowId);
  verified.set(rowId, { stored, digest });
  if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!);
}

/** Forgets every verified token (tests; a process that wants to re-verify everything). */
export function forgetVerifiedTokens() {
  verified.clear();
}

type TokenRow = { token_id: number; token_hash: string; revoked_at: string | null; expires_at: string | null; scope: string; id: number; name: string; display_name: string; created_at: string };

const tokenRows = (db: Conn) =>
  db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select(['api_tokens.id as token_id', 'api_tokens.token_hash', 'api_tokens.revoked_at', 'api_tokens.expires_at', 'api_tokens.scope', 'users.id', 'users.name', 'users.display_name', 'users.created_at']);

/** What checking a bearer token found: its user, scope and expiry; or that it expired (only said to whoever holds the token); or nothing. */
export type TokenCheck = { status: 'ok'; user: User; tokenId: number; scope: TokenScope; expiresAt: string | null } | { status: 'expired'; expiredAt: string } | { status: 'invalid' };

function accepted(r: TokenRow, now: string): TokenCheck {
  if (r.expires_at !== null && r.expires_at <= now) return { status: 'expired', expiredAt: r.expires_at };
  // A scope this version does not know grants nothing beyond reading.
  return { status: 'ok', user: toUser(r), tokenId: r.token_id, scope: isTokenScope(r.scope) ? r.scope : 'read', expiresAt: r.expires_at };
}

/**
 * Checks a bearer token. Malformed tokens are refused before any lookup. The row is found by
 * the token's public lookup key (an index), then the stored scrypt hash is verified in constant
 * time (see tokens.ts); only then is its expiry looked at, so an expiry is never revealed to
 * someone without the token. Tokens from before migration 005 (no lookup key yet) are found by
 * their short display prefix among the rows without a lookup key, verified against their
 * wrapped (or bare) sha256, and re-hashed into the current form on that first use.
 */
export async function checkToken(db: Conn, token: string, now = nowIso()): Promise<TokenCheck> {
  if (!looksLikeToken(token)) return { status: 'invalid' };
  const digest = sha256Hex(token);
  const row = await tokenRows(db).where('api_tokens.lookup', '=', lookupKey(token)).executeTakeFirst();
  if (row) {
    if (row.revoked_at !== null) return { status: 'invalid' };
    const known = verified.get(row.token_id);
    if (known && known.stored === row.token_hash && digestsEqual(known.digest, digest)) return accepted(row, now);
    if (!(await verifyToken(token, row.token_hash))) return { status: 'invalid' };
    remember(row.token_id, row.token_hash, digest);
    return accepted(row, now);
  }
  // Tokens issued before migration 005: a handful of candidates share the display prefix.
  const legacy: TokenRow[] = await tokenRows(db).where('api_tokens.lookup', 'is', null).where('api_tokens.prefix', '=', displayPrefix(token)).execute();
  for (const r of legacy) {
    if (!(await verifyToken(token, r.token_hash))) continue;
    if (r.revoked_at !== null) return { status: 'invalid' };
    await upgradeLegacy(db, r, token);
    return accepted(r, now);
  }
  return { status: 'invalid' };
}

/** The user a valid (not revoked, not expired) bearer token belongs to, or undefined: see checkToken. */
export async function authenticate(db: Conn, token: string): Promise<User | undefined> {
  const c = await checkToken(db, token);
  return c.status === 'ok' ? c.user : undefined;
}

/** Re-hashes a pre-005 token into the current form on its first successful use. */
async function upgradeLegacy(db: Conn, r: TokenRow, token: string) {
  const scheme = schemeOf(r.token_hash);
  if (scheme === 'scrypt') return;
  const hash = await hashTokenScrypt(token);
  // Only if nobody changed the row meanwhile (two first uses at once: one of them wins).
  await db
    .updateTable('api_tokens')
    .set({ token_hash: hash, lookup: lookupKey(token), last_used_at: nowIso() })
    .where('id', '=', r.token_id)
    .where('token_hash', '=', r.token_hash)
    .execute();
}

export async function roleIn(db: Conn, userId: number, projectId: number): Promise<Role | null> {
  const r = await db.selectFrom('memberships').select('role').where('user_id', '=', userId).where('project_id', '=', projectId).executeTakeFirst();
  return r ? r.role : null;
}

export async function membershipsOf(db: Conn, userId: number): Promise<Array<{ project: string; projectId: number; role: Role }>> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('projects', 'projects.id', 'memberships.project_id')
    .select(['projects.id', 'projects.name', 'memberships.role'])
    .where('memberships.user_id', '=', userId)
    .orderBy('projects.name')
    .execute();
  return rows.map((r) => ({ project: r.name, projectId: r.id, role: r.role }));
}

export async function listMembers(db: Conn, projectId: number): Promise<Array<{ user: string; displayName: string; role: Role }>> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.name', 'users.display_name', 'memberships.role'])
    .where('memberships.project_id', '=', projectId)
    .orderBy('users.name')
    .execute();
  return rows.map((r) => ({ user: r.name, displayName: r.display_name, role: r.role }));
}

/** Roles that may list a project's members: a user in such a project is visible to the caller. */
const SEES_MEMBERS = PERMISSIONS['members.read'] as readonly Role[];

/**
 * The user `name` if the user `viewerId` may see them — they are a member of a project where the
 * viewer may list the members (members.read) — else undefined. One query, so a name that does
 * not exist and a name the viewer may not see take the same path and give the same answer.
 * (The CLI operator sees everyone: it uses findUser.)
 */
export async function findVisibleUser(db: Conn, viewerId: number, name: string): Promise<User | undefined> {
  const r = await db
    .selectFrom('users')
    .select(['id', 'name', 'display_name', 'created_at'])
    .where('name', '=', name)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('memberships as theirs')
          .innerJoin('memberships as mine', 'mine.project_id', 'theirs.project_id')
          .select('theirs.user_id')
          .whereRef('theirs.user_id', '=', 'users.id')
          .where('mine.user_id', '=', viewerId)
          .where('mine.role', 'in', SEES_MEMBERS),
      ),
    )
    .executeTakeFirst();
  return r && toUser(r);
}

/** A user that does not exist, or that the caller may not see: one answer for both. */
export class UnknownUserError extends NotFoundError {
  constructor(name: string) {
    super(`user "${name}"`);
    this.message = `user "${name}" not found among the members of the projects you manage (the operator grants a role to anyone: tessera users grant)`;
  }
}

export interface MemberChangeOptions {
  /**
   * Only users this user id may see (findVisibleUser); anyone else is answered exactly like a
   * user that does not exist. Unset: everyone (the CLI operator).
   */
  visibleTo?: number;
}

/**
 * A role change's bookkeeping (same transaction): the period of the old role ends and the new
 * one's begins (assignment reads them: whoever held a label-reading role is never served blind
 * an item that existed meanwhile), and the user's live leases in the project are released — a
 * lease belongs to one role, so none taken blind is answered after reading labels. Returns how
 * many leases were released.
 */
export async function roleChanged(conn: Conn, projectId: number, userId: number, to: Role | null, at: string): Promise<number> {
  await conn.updateTable('role_periods').set({ to_at: at }).where('project_id', '=', projectId).where('user_id', '=', userId).where('to_at', 'is', null).execute();
  if (to !== null) await conn.insertInto('role_periods').values({ project_id: projectId, user_id: userId, role: to, from_at: at, to_at: null }).execute();
  const r = await conn
    .updateTable('assignments')
    .set({ status: 'released', closed_at: at })
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .where('status', '=', 'leased')
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Grants (or changes) a user's role in a project; audit-logged with the previous role. */
export async function setRole(store: Store, project: Project, actor: Actor, userName: string, role: string, opts: MemberChangeOptions = {}): Promise<{ user: string; role: Role; previous: Role | null }> {
  const r = checkRole(role);
  return change(store, project, actor, async (ctx) => {
    const u = opts.visibleTo === undefined ? await getUser(ctx.conn, userName) : await findVisibleUser(ctx.conn, opts.visibleTo, userName);
    if (!u) throw new UnknownUserError(userName);
    const previous = await roleIn(ctx.conn, u.id, project.id);
    if (previous === null) await ctx.conn.insertInto('memberships').values({ project_id: project.id, user_id: u.id, role: r }).execute();
    else await ctx.conn.updateTable('memberships').set({ role: r }).where('project_id', '=', project.id).where('user_id', '=', u.id).execute();
    const released = previous === r ? 0 : await roleChanged(ctx.conn, project.id, u.id, r, nowIso());
    await record(ctx, 'member.set', `user:${u.id}`, { user: u.name, role: r, previous, ...(released ? { leasesReleased: released } : {}) });
    return { user: u.name, role: r, previous };
  });
}

export async function removeRole(store: Store, project: Project, actor: Actor, userName: string, opts: MemberChangeOptions = {}): Promise<{ user: string; previous: Role }> {
  return change(store, project, actor, async (ctx) => {
    const notMember = () => new NotFoundError(`membership of "${userName}" in project "${project.name}"`);
    // A user the caller may not see is answered like any non-member (never "no such user").
    const u = opts.visibleTo === undefined ? await getUser(ctx.conn, userName) : await findVisibleUser(ctx.conn, opts.visibleTo, userName);
    if (!u) throw notMember();
    const previous = await roleIn(ctx.conn, u.id, project.id);
    if (previous === null) throw notMember();
    await ctx.conn.deleteFrom('memberships').where('project_id', '=', project.id).where('user_id', '=', u.id).execute();
    const released = await roleChanged(ctx.conn, project.id, u.id, null, nowIso());
    await record(ctx, 'member.remove', `user:${u.id}`, { user: u.name, previous, ...(released ? { leasesReleased: released } : {}) });
    return { user: u.name, previous };
  });
}
