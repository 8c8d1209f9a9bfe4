import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor } from './context.ts';
import { isRole, ROLES, type Role } from './roles.ts';
import { digestsEqual, generateToken, hashToken, looksLikeToken } from './tokens.ts';
import { writeTx, type Conn } from './tx.ts';

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

export async function listUsers(db: Conn): Promise<Array<User & { memberships: Array<{ project: string; role: Role }> }>> {
  const users = await db.selectFrom('users').select(['id', 'name', 'display_name', 'created_at']).orderBy('id').execute();
  const ms = await db
    .selectFrom('memberships')
    .innerJoin('projects', 'projects.id', 'memberships.project_id')
    .select(['memberships.user_id', 'projects.name', 'memberships.role'])
    .orderBy('projects.name')
    .execute();
  return users.map((u) => ({ ...toUser(u), memberships: ms.filter((m) => m.user_id === u.id).map((m) => ({ project: m.name, role: m.role })) }));
}

export interface IssuedToken {
  id: number;
  /** Shown once: only its hash is stored. */
  token: string;
  prefix: string;
}

async function insertToken(conn: Conn, userId: number, name: string): Promise<IssuedToken> {
  const t = generateToken();
  const { id } = await conn
    .insertInto('api_tokens')
    .values({ user_id: userId, name, token_hash: t.hash, prefix: t.prefix, created_at: nowIso() })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id, token: t.token, prefix: t.prefix };
}

/** Creates a user with a first API token, audit-logged (the token itself never is). */
export async function createUser(store: Store, actor: Actor, name: string, displayName?: string): Promise<{ user: User; token: IssuedToken }> {
  validateUserName(name);
  return writeTx(store, null, async (conn) => {
    if (await findUser(conn, name)) throw new UserError(`user "${name}" already exists`, 'E_EXISTS');
    const { id } = await conn
      .insertInto('users')
      .values({ name, display_name: displayName ?? name, token_hash: null, created_at: nowIso() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const token = await insertToken(conn, id, 'default');
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'user.create', subject: `user:${id}`, payload: { name, tokenId: token.id, tokenPrefix: token.prefix } });
    return { user: (await findUser(conn, name))!, token };
  });
}

export async function issueToken(store: Store, actor: Actor, userName: string, tokenName = 'default'): Promise<IssuedToken> {
  return writeTx(store, null, async (conn) => {
    const u = await getUser(conn, userName);
    const token = await insertToken(conn, u.id, tokenName);
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'token.issue', subject: `user:${u.id}`, payload: { tokenId: token.id, tokenPrefix: token.prefix, name: tokenName } });
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
 * The user a bearer token belongs to, or undefined. The lookup is by the token's sha256 (an
 * index), then the stored digest is compared in constant time; malformed tokens are refused
 * before any lookup.
 */
export async function authenticate(db: Conn, token: string): Promise<User | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const hash = hashToken(token);
  const r = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select(['api_tokens.token_hash', 'api_tokens.revoked_at', 'users.id', 'users.name', 'users.display_name', 'users.created_at'])
    .where('api_tokens.token_hash', '=', hash)
    .executeTakeFirst();
  if (!r || r.revoked_at !== null || !digestsEqual(r.token_hash, hash)) return undefined;
  return toUser(r);
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

/** Grants (or changes) a user's role in a project; audit-logged with the previous role. */
export async function setRole(store: Store, project: Project, actor: Actor, userName: string, role: string): Promise<{ user: string; role: Role; previous: Role | null }> {
  const r = checkRole(role);
  return change(store, project, actor, async (ctx) => {
    const u = await getUser(ctx.conn, userName);
    const previous = await roleIn(ctx.conn, u.id, project.id);
    if (previous === null) await ctx.conn.insertInto('memberships').values({ project_id: project.id, user_id: u.id, role: r }).execute();
    else await ctx.conn.updateTable('memberships').set({ role: r }).where('project_id', '=', project.id).where('user_id', '=', u.id).execute();
    await record(ctx, 'member.set', `user:${u.id}`, { user: u.name, role: r, previous });
    return { user: u.name, role: r, previous };
  });
}

export async function removeRole(store: Store, project: Project, actor: Actor, userName: string): Promise<{ user: string; previous: Role }> {
  return change(store, project, actor, async (ctx) => {
    const u = await getUser(ctx.conn, userName);
    const previous = await roleIn(ctx.conn, u.id, project.id);
    if (previous === null) throw new NotFoundError(`membership of "${userName}" in project "${project.name}"`);
    await ctx.conn.deleteFrom('memberships').where('project_id', '=', project.id).where('user_id', '=', u.id).execute();
    await record(ctx, 'member.remove', `user:${u.id}`, { user: u.name, previous });
    return { user: u.name, previous };
  });
}
