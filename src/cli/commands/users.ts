import type { Command } from 'commander';
import { cliActor } from '../../store/context.ts';
import { ROLES } from '../../label/roles.ts';
import { createUser, issueToken, listUsers, removeRole, revokeTokens, setInstanceAdmin, setRole } from '../../label/users.ts';
import { linkExternalUser } from '../../label/external-users.ts';
import { listSessions, revokeSessions } from '../../label/sessions.ts';
import { checkTokenScope, TOKEN_SCOPES } from '../../label/token-scopes.ts';
import { expiryFrom } from '../../core/duration.ts';
import { getProject } from '../../store/projects.ts';
import { UserError } from '../../core/errors.ts';
import { act, actor, makeOut, parseIntOption, withStore } from '../context.ts';

/** Users, API tokens and project roles: what makes the REST API usable. Every change is audit-logged. */
export function registerUsers(program: Command) {
  const users = program.command('users').description('users, API tokens (shown once, stored hashed) and project roles');
  users
    .command('add')
    .argument('<name>')
    .option('--display-name <text>')
    .option('--role <role>', `role in --project: ${ROLES.join('|')}`)
    .option('--project <name>', 'project to grant --role in')
    .option('--admin', 'an instance admin: may create projects and users (and their tokens) from the web UI and the API')
    .option('--json', 'print one JSON document')
    .description('create a user and print their first API token (only this once)')
    .action(
      act(async (name: string, f: { displayName?: string; role?: string; project?: string; admin?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (Boolean(f.role) !== Boolean(f.project)) throw new UserError('--role and --project go together');
        return withStore(async (store) => {
          const project = f.project ? await getProject(store.db, f.project) : undefined;
          const { user, token } = await createUser(store, cliActor(actor()), name, f.displayName, { admin: Boolean(f.admin) });
          const membership = project && f.role ? await setRole(store, project, cliActor(actor()), name, f.role) : undefined;
          out.result(
            { user: user.name, displayName: user.displayName, token: token.token, tokenId: token.id, ...(f.admin ? { admin: true } : {}), ...(membership ? { project: project!.name, role: membership.role } : {}) },
            () => `created user ${user.name}${f.admin ? ' (instance admin)' : ''}${membership ? ` (${membership.role} in ${project!.name})` : ''}\ntoken (shown once, keep it safe): ${token.token}`,
          );
        });
      }),
    );
  users
    .command('token')
    .argument('<name>')
    .option('--name <label>', 'what the token is for', 'default')
    .option('--expires <when>', 'when it stops working: a duration (30m, 12h, 30d, 2w) or a date (2027-06-30); default never')
    .option('--scope <scope>', `${TOKEN_SCOPES.join('|')}: read = GET routes only, annotate = read and the task routes, full = everything the user's roles allow`, 'full')
    .option('--json', 'print one JSON document')
    .description('issue another API token for a user (printed once)')
    .action(
      act(async (user: string, f: { name: string; expires?: string; scope: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const scope = checkTokenScope(f.scope, '--scope');
        const expiresAt = f.expires === undefined ? null : expiryFrom(f.expires, '--expires');
        return withStore(async (store) => {
          const t = await issueToken(store, cliActor(actor()), user, f.name, { scope, expiresAt });
          out.result({ user, token: t.token, tokenId: t.id, scope: t.scope, expiresAt: t.expiresAt }, () => `token for ${user} (shown once; scope ${t.scope}, ${t.expiresAt ? `expires ${t.expiresAt}` : 'never expires'}): ${t.token}`);
        });
      }),
    );
  users
    .command('revoke')
    .argument('<name>')
    .option('--token-id <id>', 'only this token (default: all of the user’s tokens)', parseIntOption('--token-id'))
    .option('--sessions', 'revoke the user’s sign-in sessions instead of their tokens')
    .option('--session-id <id>', 'with --sessions: only this session', parseIntOption('--session-id'))
    .option('--json', 'print one JSON document')
    .description("revoke a user's API tokens, or with --sessions their sign-in sessions")
    .action(
      act(async (user: string, f: { tokenId?: number; sessions?: boolean; sessionId?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.sessionId !== undefined && !f.sessions) throw new UserError('--session-id goes with --sessions');
        if (f.sessions && f.tokenId !== undefined) throw new UserError('--token-id and --sessions do not go together: revoke tokens and sessions in two commands');
        return withStore(async (store) => {
          if (f.sessions) {
            const n = await revokeSessions(store, cliActor(actor()), user, f.sessionId);
            return out.result({ user, sessionsRevoked: n }, () => `revoked ${n} session(s) of ${user}`);
          }
          const n = await revokeTokens(store, cliActor(actor()), user, f.tokenId);
          out.result({ user, revoked: n }, () => `revoked ${n} token(s) of ${user}`);
        });
      }),
    );
  users
    .command('sessions')
    .argument('<name>')
    .option('--json', 'print one JSON document')
    .description("a user's sign-in sessions (OpenID Connect), newest first")
    .action(
      act(async (user: string, f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const list = await listSessions(store.db, user);
          out.result({ user, sessions: list }, () =>
            list.length
              ? list.map((x) => `${x.id}\t${x.state}\tsigned in ${x.createdAt}\tlast seen ${x.lastSeenAt}\tends ${x.state === 'revoked' ? `${x.revokedAt} (revoked by ${x.revokedBy})` : x.idleExpiresAt < x.expiresAt ? x.idleExpiresAt : x.expiresAt}`).join('\n')
              : `${user} has no sessions`,
          );
        });
      }),
    );
  users
    .command('link')
    .argument('<name>')
    .requiredOption('--sub <id>', "the account's subject (sub) at the provider, as the refused sign-in showed it")
    .option('--issuer <url>', 'the provider (default TESSERA_OIDC_ISSUER)')
    .option('--json', 'print one JSON document')
    .description('link an existing user to their account at the sign-in provider (OpenID Connect), so they can sign in with it')
    .action(
      act(async (user: string, f: { sub: string; issuer?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const issuer = f.issuer ?? process.env.TESSERA_OIDC_ISSUER?.trim();
        if (!issuer) throw new UserError('--issuer is required when TESSERA_OIDC_ISSUER is unset');
        return withStore(async (store) => {
          const r = await linkExternalUser(store, cliActor(actor()), user, issuer, f.sub);
          out.result(r, () => `${user} signs in as ${f.sub} at ${issuer}${r.previous ? ` (was ${r.previous.sub} at ${r.previous.issuer})` : ''}`);
        });
      }),
    );
  users
    .command('admin')
    .argument('<name>')
    .option('--off', 'no longer an instance admin')
    .option('--json', 'print one JSON document')
    .description('make an existing user an instance admin (may create projects and users from the web UI), or no longer one with --off')
    .action(
      act(async (user: string, f: { off?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const r = await setInstanceAdmin(store, cliActor(actor()), user, !f.off);
          out.result(r, () => `${user} is ${r.admin ? 'an instance admin' : 'not an instance admin'}${r.previous === r.admin ? ' (unchanged)' : ''}`);
        });
      }),
    );
  users
    .command('grant')
    .argument('<name>')
    .requiredOption('--project <name>')
    .requiredOption('--role <role>', ROLES.join('|'))
    .option('--json', 'print one JSON document')
    .description("set a user's role in a project")
    .action(
      act(async (user: string, f: { project: string; role: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const r = await setRole(store, await getProject(store.db, f.project), cliActor(actor()), user, f.role);
          out.result({ project: f.project, ...r }, () => `${user} is ${r.role} in ${f.project}${r.previous ? ` (was ${r.previous})` : ''}`);
        });
      }),
    );
  users
    .command('remove')
    .argument('<name>')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .description('remove a user from a project')
    .action(
      act(async (user: string, f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const r = await removeRole(store, await getProject(store.db, f.project), cliActor(actor()), user);
          out.result({ project: f.project, ...r }, () => `${user} removed from ${f.project} (was ${r.previous})`);
        });
      }),
    );
  users
    .command('list')
    .option('--json', 'print one JSON document')
    .description('users and their project roles')
    .action(
      act(async (f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const list = await listUsers(store.db);
          out.result(list, () => (list.length ? list.map((u) => `${u.name}${u.admin ? ' (admin)' : ''}\t${u.memberships.map((m) => `${m.project}:${m.role}`).join(' ') || '-'}`).join('\n') : 'no users yet'));
        });
      }),
    );
}
