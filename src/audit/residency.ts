import type { Kysely, Transaction } from 'kysely';
import { UserError } from '../core/errors.ts';
import { parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import type { Project } from '../store/projects.ts';
import type { Database } from '../store/schema.ts';
import { dict, dictOf } from '../core/dict.ts';

/**
 * Data residency. Every item carries a region tag (items.residency: the import's `--region`,
 * else the project's region). A project's home region is `settings.region`; its setting
 * `exportRegions` lists the other regions whose items may leave through export and outbound
 * webhooks ("*" = any). Items tagged for any other region are refused on those channels, and
 * every refusal is written to the audit log (action `residency.refused`).
 */
export interface ResidencyPolicy {
  home: string;
  exportRegions: string[];
}

type Db = Kysely<Database> | Transaction<Database>;

const REGION = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function residencyPolicy(project: Pick<Project, 'settings'>): ResidencyPolicy {
  const s = project.settings as Project['settings'] & { exportRegions?: unknown };
  const regions = Array.isArray(s.exportRegions) ? s.exportRegions.filter((r): r is string => typeof r === 'string') : [];
  return { home: s.region, exportRegions: regions };
}

/** Whether an item tagged `region` may leave the machine under `policy`. */
export function exportAllowed(policy: ResidencyPolicy, region: string): boolean {
  return region === policy.home || policy.exportRegions.includes('*') || policy.exportRegions.includes(region);
}

export function parseRegions(list: string): string[] {
  const regions = [...new Set(list.split(',').map((r) => r.trim()).filter(Boolean))];
  for (const r of regions) if (r !== '*' && !REGION.test(r)) throw new UserError(`region "${r}": expected 1–64 letters, digits, ".", "_", ":" or "-" (or "*" for any)`);
  return regions;
}

/** Sets the regions a project may export to (audit-logged, with the previous list). */
export async function setExportRegions(store: Store, projectId: number, regions: string[], actor: string): Promise<ResidencyPolicy> {
  return store.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('projects').select(['settings']).where('id', '=', projectId).executeTakeFirstOrThrow();
    const settings = parseJson<Record<string, unknown>>(row.settings, {});
    const before = Array.isArray(settings.exportRegions) ? settings.exportRegions : [];
    settings.exportRegions = regions;
    await trx.updateTable('projects').set({ settings: JSON.stringify(settings) }).where('id', '=', projectId).execute();
    await appendAudit(trx, store.dialect, { projectId, actor, action: 'residency.settings', subject: `project:${projectId}`, payload: { exportRegions: regions, before } });
    return { home: String(settings.region ?? 'local'), exportRegions: regions };
  });
}

/** Items per region tag. */
export async function itemsByRegion(db: Db, projectId: number): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('items')
    .select(['residency', (e) => e.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .groupBy('residency')
    .orderBy('residency')
    .execute();
  return dictOf(rows.map((r) => [r.residency, Number(r.n)] as const));
}

export interface ResidencyReport extends ResidencyPolicy {
  byRegion: Record<string, number>;
  /** Items export and webhooks would refuse under the current policy. */
  notExportable: number;
}

export async function residencyReport(db: Db, project: Pick<Project, 'id' | 'settings'>): Promise<ResidencyReport> {
  const policy = residencyPolicy(project);
  const byRegion = await itemsByRegion(db, project.id);
  const notExportable = Object.entries(byRegion).reduce((s, [r, n]) => s + (exportAllowed(policy, r) ? 0 : n), 0);
  return { ...policy, byRegion, notExportable };
}

/** The audit payload of a refusal: how many items, from which regions, the first ids. */
export function refusalPayload(channel: 'export' | 'webhook', refused: Array<{ id: number; region: string }>, policy: ResidencyPolicy, extra: Record<string, unknown> = {}) {
  const regions = dict<number>();
  for (const r of refused) regions[r.region] = (regions[r.region] ?? 0) + 1;
  return { channel, items: refused.length, regions, itemIds: refused.slice(0, 1000).map((r) => r.id), home: policy.home, exportRegions: policy.exportRegions, ...extra };
}
