import type { Command } from 'commander';
import { cliActor } from '../../label/context.ts';
import { ROLES } from '../../label/roles.ts';
import { createUser, issueToken, listUsers, removeRole, revokeTokens, setInstanceAdmin, setRole } from '../../label/users.ts';
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
    .option('--json', 'print one JSON document')
    .description('issue another API token for a user (printed once)')
    .action(
      act(async (user: string, f: { name: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const t = await issueToken(store, cliActor(actor()), user, f.name);
          out.result({ user, token: t.token, tokenId: t.id }, () => `token for ${user} (shown once): ${t.token}`);
        });
      }),
    );
  users
    .command('revoke')
    .argument('<name>')
    .option('--token-id <id>', 'only this token (default: all of the user’s tokens)', parseIntOption('--token-id'))
    .option('--json', 'print one JSON document')
    .description("revoke a user's API tokens")
    .action(
      act(async (user: string, f: { tokenId?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const n = await revokeTokens(store, cliActor(actor()), user, f.tokenId);
          out.result({ user, revoked: n }, () => `revoked ${n} token(s) of ${user}`);
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
