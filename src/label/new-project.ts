import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { ensureProject, validateProjectName, type Project, type ProjectSettings } from '../store/projects.ts';
import { nowIso } from '../core/json.ts';
import { userActor } from '../store/context.ts';
import { roleChanged } from './users.ts';
import { writeTx } from '../store/tx.ts';

/** A residency tag: what `tessera project create --region` takes, kept short and plain. */
export function validateRegion(region: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(region)) {
    throw new UserError(`invalid region "${region}": expected 1–64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit (e.g. "eu", "au-syd")`);
  }
  return region;
}

/**
 * Creates a project for an API user and makes them its admin, in one transaction with both audit
 * events (`project.create`, `member.set`): a project is never left without the admin who made it.
 */
export async function createProjectAs(store: Store, user: { id: number; name: string }, name: string, settings: Partial<Pick<ProjectSettings, 'region'>> = {}): Promise<Project> {
  validateProjectName(name);
  const actor = userActor(user);
  if (settings.region !== undefined) validateRegion(settings.region);
  return writeTx(store, null, async (conn) => {
    const { project, created } = await ensureProject(conn, name, settings);
    if (!created) throw new UserError(`project "${name}" already exists`, 'E_EXISTS');
    await appendAudit(conn, store.dialect, { projectId: project.id, actor: actor.name, action: 'project.create', subject: `project:${project.id}`, payload: { name, settings: project.settings } });
    await conn.insertInto('memberships').values({ project_id: project.id, user_id: user.id, role: 'admin' }).execute();
    // The admin role's period begins (assignment never serves them blind what they could read as admin).
    await roleChanged(conn, project.id, user.id, 'admin', nowIso());
    await appendAudit(conn, store.dialect, { projectId: project.id, actor: actor.name, action: 'member.set', subject: `user:${user.id}`, payload: { user: user.name, role: 'admin', previous: null } });
    return project;
  });
}
