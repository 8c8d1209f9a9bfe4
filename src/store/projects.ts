import type { Kysely, Transaction } from 'kysely';
import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Database } from './schema.ts';

export interface ProjectSettings {
  /** Audio is resampled to this rate at import (Hz). */
  sampleRate: number;
  /** Residency tag given to imported items unless the import names another. */
  region: string;
}
export const DEFAULT_SETTINGS: ProjectSettings = { sampleRate: 16000, region: 'local' };

export interface Project {
  id: number;
  name: string;
  createdAt: string;
  settings: ProjectSettings;
}

type Db = Kysely<Database> | Transaction<Database>;

export function validateProjectName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UserError(`invalid project name "${name}": expected 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return name;
}

function toProject(r: { id: number; name: string; created_at: string; settings: string }): Project {
  return { id: r.id, name: r.name, createdAt: r.created_at, settings: { ...DEFAULT_SETTINGS, ...parseJson<Partial<ProjectSettings>>(r.settings, {}) } };
}

export async function findProject(db: Db, name: string): Promise<Project | undefined> {
  const r = await db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  return r && toProject(r);
}

export async function getProject(db: Db, name: string): Promise<Project> {
  const p = await findProject(db, name);
  if (!p) throw new NotFoundError(`project "${name}"`);
  return p;
}

/** Creates the project unless it exists (projects are created on first use). */
export async function ensureProject(db: Db, name: string, settings: Partial<ProjectSettings> = {}): Promise<{ project: Project; created: boolean }> {
  validateProjectName(name);
  const existing = await findProject(db, name);
  if (existing) return { project: existing, created: false };
  await db
    .insertInto('projects')
    .values({ name, created_at: nowIso(), settings: JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return { project: await getProject(db, name), created: true };
}

export async function listProjects(db: Db): Promise<Array<Project & { items: number }>> {
  const rows = await db
    .selectFrom('projects')
    .leftJoin('items', 'items.project_id', 'projects.id')
    .select(['projects.id', 'projects.name', 'projects.created_at', 'projects.settings'])
    .select((e) => e.fn.count<number>('items.id').as('items'))
    .groupBy(['projects.id', 'projects.name', 'projects.created_at', 'projects.settings'])
    .orderBy('projects.id')
    .execute();
  return rows.map((r) => ({ ...toProject(r), items: Number(r.items) }));
}

export interface ProjectStats {
  items: number;
  byModality: Record<string, number>;
  sourceLabels: Record<string, number>;
}

export async function projectStats(db: Db, projectId: number): Promise<ProjectStats> {
  const byMod = await db
    .selectFrom('items')
    .select(['modality', (e) => e.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .groupBy('modality')
    .orderBy('modality')
    .execute();
  const byLabel = await db
    .selectFrom('items')
    .select(['source_label', (e) => e.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .where('source_label', 'is not', null)
    .groupBy('source_label')
    .orderBy('source_label')
    .execute();
  const byModality: Record<string, number> = {};
  let items = 0;
  for (const r of byMod) {
    byModality[r.modality] = Number(r.n);
    items += Number(r.n);
  }
  // fromEntries makes own keys: a label may be named __proto__ (src/core/dict.ts).
  const sourceLabels: Record<string, number> = Object.fromEntries(byLabel.map((r) => [r.source_label as string, Number(r.n)]));
  return { items, byModality, sourceLabels };
}
