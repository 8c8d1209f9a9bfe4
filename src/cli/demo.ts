/**
 * The bundled demo's state in a store, for `tessera start`: whether the demo already ran, setting
 * an old demo project aside for `--fresh`, and the admin user a newcomer signs in as.
 */
import { UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { findProject, validateProjectName, type Project } from '../store/projects.ts';
import { listModels } from '../store/models.ts';
import type { Actor } from '../store/context.ts';
import { writeTx } from '../store/tx.ts';
import { createUser, findUser, roleIn, setRole } from '../label/users.ts';

/** Where the bundled demo file sits inside a checkout (the absolute path differs per checkout). */
export const DEMO_SUFFIX = 'demo/sms-spam/SMSSpamCollection';

/** What the demo project already holds from earlier runs. */
export interface DemoState {
  /** Classifiers the loop registered, newest last. */
  models: Array<{ id: number; round: number | null; labelledItems: number | null; accuracy: number | null; promoted: boolean }>;
  /** The last loop run's economics line (its audit event), if one finished. */
  summary: string | null;
}

export async function demoState(store: Store, project: Project): Promise<DemoState> {
  const models = (await listModels(store.db, project.id, 'classifier')).reverse().map((m) => {
    const x = m.metrics as { round?: number; labelledItems?: number; test?: { accuracy?: number }; promoted?: boolean };
    return { id: m.id, round: x.round ?? null, labelledItems: x.labelledItems ?? null, accuracy: x.test?.accuracy ?? null, promoted: x.promoted !== false };
  });
  const run = await store.db.selectFrom('audit_events').select('payload').where('project_id', '=', project.id).where('action', '=', 'loop.run').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const summary = run ? parseJson<{ summary?: unknown }>(run.payload, {}).summary : null;
  return { models, summary: typeof summary === 'string' ? summary : null };
}

/**
 * Import sources of `project` that are not the bundled demo file. --fresh sets a project aside
 * only when this is empty: a project with data of its own is never touched by it.
 */
export async function foreignSources(store: Store, project: Project): Promise<string[]> {
  const rows = await store.db.selectFrom('import_sources').select(['path', 'format']).where('project_id', '=', project.id).execute();
  return rows.filter((r) => !(r.format === 'sms' && r.path.replaceAll('\\', '/').endsWith(DEMO_SUFFIX))).map((r) => r.path);
}

/**
 * Refuses a project that holds data of its own: the demo is imported and its simulated loop
 * run only in a project of the demo alone, never mixed into a team's data.
 */
export async function refuseForeignProject(store: Store, project: Project, what: string): Promise<void> {
  const foreign = await foreignSources(store, project);
  if (foreign.length > 0) {
    throw new UserError(`${what}, but project "${project.name}" also holds other imports (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): it is left alone. Use another --project name for the demo`);
  }
}

/**
 * Sets the demo project aside under a new name (`NAME-old-K`, the first free K) so that the
 * name is free for a fresh start. Nothing is deleted: the audit log is one hash chain across
 * projects, and its events, labels and models stay with the renamed project. Refused for a
 * project holding anything but the bundled demo.
 */
export async function setDemoAside(store: Store, project: Project, actor: Actor): Promise<string> {
  await refuseForeignProject(store, project, '--fresh starts the bundled demo over');
  return writeTx(store, project.id, async (conn) => {
    let to = '';
    for (let k = 1; ; k++) {
      to = validateProjectName(`${project.name}-old-${k}`);
      if (!(await findProject(conn, to))) break;
    }
    await conn.updateTable('projects').set({ name: to }).where('id', '=', project.id).execute();
    await appendAudit(conn, store.dialect, { projectId: project.id, actor: actor.name, action: 'project.rename', subject: `project:${project.id}`, payload: { from: project.name, to, reason: 'tessera start --fresh', at: nowIso() } });
    return to;
  });
}

/** The admin a newcomer signs in as: created once (its token shown then only) as an instance admin (who may create projects and users from the UI), an admin of `project`. */
export interface AdminUser {
  name: string;
  created: boolean;
  /** Only when just created: shown once, stored hashed. */
  token: string | null;
  /** Whether it was made an admin of the project now. */
  granted: boolean;
  /** Its role in the project (another role, given by someone, is left as it is). */
  role: string;
}

export const ADMIN_USER = 'admin';

export async function ensureAdmin(store: Store, project: Project, actor: Actor): Promise<AdminUser> {
  const existing = await findUser(store.db, ADMIN_USER);
  let token: string | null = null;
  let user = existing;
  if (!user) {
    const made = await createUser(store, actor, ADMIN_USER, 'Admin (created by tessera start)', { admin: true });
    user = made.user;
    token = made.token.token;
  }
  const role = await roleIn(store.db, user.id, project.id);
  if (role) return { name: ADMIN_USER, created: !existing, token, granted: false, role };
  await setRole(store, project, actor, ADMIN_USER, 'admin');
  return { name: ADMIN_USER, created: !existing, token, granted: true, role: 'admin' };
}
