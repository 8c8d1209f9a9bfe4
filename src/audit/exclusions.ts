import type { Kysely, Transaction } from 'kysely';
import { parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Database } from '../store/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * What the loop takes from the latest audit of a project: item ids to leave out of selection
 * (duplicates beyond the first of each group, empty / unreadable / truncated / changed items),
 * ids to flag for review (size and embedding outliers, conflicting source labels), and ids with
 * PII (for the caller's policy). `reasons` gives each listed id its finding kinds.
 * Items imported after that audit are in none of the lists.
 */
export interface AuditExclusions {
  run: number | null;
  at: string | null;
  exclude: number[];
  flag: number[];
  pii: number[];
  reasons: Record<number, string[]>;
}

export async function latestAuditRun(db: Db, projectId: number): Promise<{ id: number; created_at: string; summary: string } | undefined> {
  return db.selectFrom('audit_runs').select(['id', 'created_at', 'summary']).where('project_id', '=', projectId).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function auditExclusions(store: Store | { db: Db }, projectId: number): Promise<AuditExclusions> {
  const run = await latestAuditRun(store.db, projectId);
  if (!run) return { run: null, at: null, exclude: [], flag: [], pii: [], reasons: {} };
  const rows = await store.db.selectFrom('audit_findings').select(['item_id', 'kind', 'action']).where('run_id', '=', run.id).where('kind', '!=', 'coverage_gap').orderBy('item_id').execute();
  const exclude = new Set<number>();
  const flag = new Set<number>();
  const pii = new Set<number>();
  const reasons: Record<number, string[]> = {};
  for (const r of rows) {
    if (r.action === 'exclude') exclude.add(r.item_id);
    else if (r.action === 'flag') flag.add(r.item_id);
    else if (r.kind === 'pii') pii.add(r.item_id);
    else continue;
    const k = (reasons[r.item_id] ??= []);
    if (!k.includes(r.kind)) k.push(r.kind);
  }
  for (const id of exclude) flag.delete(id);
  return { run: run.id, at: run.created_at, exclude: [...exclude], flag: [...flag], pii: [...pii], reasons };
}

/**
 * The review-worthy findings (`flag`: outliers, conflicting source labels) of the latest audit
 * for one item — consensus sends such an item to review instead of finalising it.
 */
export async function auditFlagsFor(db: Db, projectId: number, itemId: number): Promise<{ run: number; kinds: string[] } | null> {
  const run = await latestAuditRun(db, projectId);
  if (!run) return null;
  const rows = await db.selectFrom('audit_findings').select('kind').where('run_id', '=', run.id).where('item_id', '=', itemId).where('action', '=', 'flag').execute();
  return rows.length ? { run: run.id, kinds: [...new Set(rows.map((r) => r.kind))].sort() } : null;
}

/** The stored report of the latest audit (what `tessera audit` printed), or null. */
export async function latestAuditReport(db: Db, projectId: number): Promise<Record<string, unknown> | null> {
  const run = await latestAuditRun(db, projectId);
  return run ? parseJson(run.summary, null) : null;
}

/** Findings of one run, optionally of one kind, for review screens. */
export async function listFindings(db: Db, runId: number, q: { kind?: string; after?: number; limit?: number } = {}) {
  let query = db.selectFrom('audit_findings').selectAll().where('run_id', '=', runId).where('id', '>', q.after ?? 0).orderBy('id').limit(q.limit ?? 100);
  if (q.kind) query = query.where('kind', '=', q.kind);
  return (await query.execute()).map((r) => ({ id: r.id, itemId: r.item_id, kind: r.kind, action: r.action, groupKey: r.group_key, score: r.score === null ? null : Number(r.score), detail: parseJson(r.detail, {}) }));
}
