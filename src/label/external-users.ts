import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { findProject } from '../store/projects.ts';
import type { Actor } from '../store/context.ts';
import { ConflictError } from './errors.ts';
import type { Role } from './roles.ts';
import { writeTx, type Conn } from '../store/tx.ts';
import { findUser, getUser, isInstanceAdmin, membershipsOf, removeRole, setInstanceAdmin, setRole, validateUserName, type User } from './users.ts';

/**
 * Users who sign in through an OpenID Connect provider. A user is linked to one provider account
 * (`users.external_issuer` + `external_sub`, unique together) and found by that link on every
 * login, never by name: a provider account whose username equals a local user's name is refused
 * (SignInRefusedError) until an operator links the two (`tessera users link NAME --sub SUB`).
 * An unknown account becomes a new user with no project roles (unless the roles claim grants
 * some) and no API token.
 */

/** A login that must not go through: the message is shown to the person on the sign-in page. */
export class SignInRefusedError extends ConflictError {
  constructor(message: string) {
    super(message, 'E_SIGNIN_REFUSED');
    this.name = 'SignInRefusedError';
  }
}

const toUser = (r: { id: number; name: string; display_name: string; created_at: string }): User => ({ id: r.id, name: r.name, displayName: r.display_name, createdAt: r.created_at });

export async function findExternalUser(db: Conn, issuer: string, sub: string): Promise<User | undefined> {
  const r = await db.selectFrom('users').select(['id', 'name', 'display_name', 'created_at']).where('external_issuer', '=', issuer).where('external_sub', '=', sub).executeTakeFirst();
  return r && toUser(r);
}

/** Links an existing user to a provider account (an operator's decision); audit-logged. */
export async function linkExternalUser(store: Store, actor: Actor, userName: string, issuer: string, sub: string): Promise<{ user: string; issuer: string; sub: string; previous: { issuer: string; sub: string } | null }> {
  if (!issuer || !sub) throw new UserError('linking needs the provider (issuer URL) and the account id (sub)');
  return writeTx(store, null, async (conn) => {
    const u = await getUser(conn, userName);
    const other = await findExternalUser(conn, issuer, sub);
    if (other && other.id !== u.id) throw new UserError(`that provider account is already linked to user "${other.name}"`, 'E_EXISTS');
    const row = await conn.selectFrom('users').select(['external_issuer', 'external_sub']).where('id', '=', u.id).executeTakeFirstOrThrow();
    const previous = row.external_issuer !== null && row.external_sub !== null ? { issuer: row.external_issuer, sub: row.external_sub } : null;
    await conn.updateTable('users').set({ external_issuer: issuer, external_sub: sub }).where('id', '=', u.id).execute();
    await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'user.link', subject: `user:${u.id}`, payload: { user: u.name, issuer, sub, previous } });
    return { user: u.name, issuer, sub, previous };
  });
}

export interface ExternalIdentity {
  issuer: string;
  sub: string;
  /** The Tessera user name wanted for a new user (from the username claim). */
  name: string;
  displayName: string;
  /**
   * Project roles from the roles claim: null when no roles claim is configured (roles stay as
   * an admin sets them); otherwise the user's memberships become exactly these.
   */
  roles: Array<{ project: string; role: Role }> | null;
  /** Instance admin from the admin group: null when no admin group is configured. */
  admin: boolean | null;
}

export interface SignInResult {
  user: User;
  created: boolean;
  /** Membership changes this login made (each audit-logged as member.set / member.remove). */
  changes: Array<{ project: string; role: Role | null; previous: Role | null }>;
  /** Projects the roles claim names that do not exist (ignored). */
  unknownProjects: string[];
}

/**
 * The user an identity signs in as: found by its link, else created (refused when a user of that
 * name exists and is not linked to this account); then its memberships and instance-admin flag
 * are brought in line with the claims, when those are configured. Role changes go through
 * setRole/removeRole, so they are audit-logged and the blindness bookkeeping (role periods,
 * released leases) stays right.
 */
export async function signInExternal(store: Store, id: ExternalIdentity): Promise<SignInResult> {
  const actor: Actor = { name: `oidc:${id.issuer}`, userId: null };
  let created = false;
  let user = await findExternalUser(store.db, id.issuer, id.sub);
  if (!user) {
    try {
      validateUserName(id.name);
    } catch {
      throw new SignInRefusedError(`the provider's username "${id.name}" cannot be a Tessera user name (1–64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit): ask the operator to choose another claim (TESSERA_OIDC_USERNAME_CLAIM)`);
    }
    const made = await writeTx(store, null, async (conn) => {
      // A first sign-in of the same account that ran at the same moment may have made the user.
      const linked = await findExternalUser(conn, id.issuer, id.sub);
      if (linked) return { user: linked, created: false };
      const existing = await findUser(conn, id.name);
      if (existing) {
        throw new SignInRefusedError(
          `a Tessera user named "${id.name}" already exists and is not linked to this sign-in. If that account is yours, ask an operator to link it: tessera users link ${id.name} --sub ${id.sub} --issuer ${id.issuer}`,
        );
      }
      const { id: userId } = await conn
        .insertInto('users')
        .values({ name: id.name, display_name: id.displayName || id.name, token_hash: null, created_at: nowIso(), external_issuer: id.issuer, external_sub: id.sub })
        .returning('id')
        .executeTakeFirstOrThrow();
      await appendAudit(conn, store.dialect, { projectId: null, actor: actor.name, action: 'user.create', subject: `user:${userId}`, payload: { name: id.name, issuer: id.issuer, sub: id.sub } });
      return { user: (await findUser(conn, id.name))!, created: true };
    });
    user = made.user;
    created = made.created;
  } else if (id.displayName && id.displayName !== user.displayName) {
    const userId = user.id;
    await writeTx(store, null, (conn) => conn.updateTable('users').set({ display_name: id.displayName }).where('id', '=', userId).execute());
    user = { ...user, displayName: id.displayName };
  }

  if (id.admin !== null && id.admin !== (await isInstanceAdmin(store.db, user.id))) await setInstanceAdmin(store, actor, user.name, id.admin);

  const changes: SignInResult['changes'] = [];
  const unknownProjects: string[] = [];
  if (id.roles !== null) {
    const want = new Map(id.roles.map((r) => [r.project, r.role]));
    const have = new Map((await membershipsOf(store.db, user.id)).map((m) => [m.project, m.role]));
    for (const [name, role] of want) {
      const project = await findProject(store.db, name);
      if (!project) {
        unknownProjects.push(name);
        continue;
      }
      if (have.get(name) === role) continue;
      const r = await setRole(store, project, actor, user.name, role);
      changes.push({ project: name, role: r.role, previous: r.previous });
    }
    for (const [name] of have) {
      if (want.has(name)) continue;
      const project = await findProject(store.db, name);
      if (!project) continue;
      try {
        const r = await removeRole(store, project, actor, user.name);
        changes.push({ project: name, role: null, previous: r.previous });
      } catch (e) {
        // Removed meanwhile by someone else: nothing left to do.
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
  }
  return { user, created, changes, unknownProjects };
}
