import { errorMessage, NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { createSnapshot, getModel } from '../store/models.ts';
import { getProject, type Project } from '../store/projects.ts';
import { change, cliActor } from '../store/context.ts';
import { emit } from '../label/webhooks.ts';
import { importItems, projectDrift, referenceItems, type ProjectDriftReport } from './project.ts';
import { DRIFT_TESTS, type DriftTestName } from './tests.ts';
import type { Embedder } from './vectors.ts';

/**
 * Drift monitors: a reference snapshot, the vectors to compare (a model's embeddings or raw
 * features) and the tests. Every import that adds items runs every active monitor of its
 * project (runImportMonitors, called by the import job once the import has committed). Each run
 * is stored (drift_checks); a drift opens an alert (alerts: what the UI lists until someone
 * acknowledges it), sends the `drift.alert` webhook event and is audit-logged. A monitor that
 * fails (no encoder to embed with, …) records an `error` check and never fails the import.
 */
export interface Monitor {
  id: number;
  name: string;
  reference: number;
  features: 'model' | 'raw';
  model: number | null;
  tests: DriftTestName[];
  alpha: number;
  active: boolean;
  createdAt: string;
  createdBy: string;
}

export interface MonitorInput {
  name?: string;
  /** A snapshot dataset id, or… */
  reference?: number;
  /** …an import whose items are frozen as the reference snapshot now. */
  referenceImport?: number;
  features?: 'model' | 'raw';
  model?: number;
  tests?: DriftTestName[];
  alpha?: number;
}

const toMonitor = (r: { id: number; name: string; reference_dataset_id: number; features: 'model' | 'raw'; model_id: number | null; tests: string; alpha: number; active: number; created_at: string; created_by: string }): Monitor => ({
  id: r.id,
  name: r.name,
  reference: r.reference_dataset_id,
  features: r.features,
  model: r.model_id,
  tests: parseJson(r.tests, []),
  alpha: Number(r.alpha),
  active: r.active === 1,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export async function createMonitor(store: Store, project: Project, input: MonitorInput, actor: string): Promise<Monitor> {
  const tests = input.tests ?? (['mmd', 'ks', 'c2st'] as DriftTestName[]);
  if (tests.length === 0) throw new UserError('tests: expected at least one of mmd, ks, c2st');
  for (const t of tests) if (!Object.hasOwn(DRIFT_TESTS, t)) throw new UserError(`--test expects ${Object.keys(DRIFT_TESTS).join('|')} (comma-separated), got "${t}"`);
  const alpha = input.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new UserError(`--alpha expects a number between 0 and 1, got ${alpha}`);
  const features = input.features ?? 'model';
  if (features === 'model' && input.model !== undefined) await getModel(store.db, project.id, input.model);
  if ((input.reference === undefined) === (input.referenceImport === undefined)) throw new UserError('give the reference as a snapshot (--reference ID) or as an import to freeze (--reference-import ID), one of them');
  return store.db.transaction().execute(async (trx) => {
    let reference = input.reference;
    if (reference !== undefined) await referenceItems(trx, project.id, reference);
    else {
      const imp = await importItems(trx, project.id, input.referenceImport!);
      if (imp.ids.length < 2) throw new UserError(`import ${input.referenceImport} added ${imp.ids.length} item(s); a reference needs at least 2`);
      reference = await createSnapshot(trx, project.id, `drift reference: import ${input.referenceImport}`, imp.ids, { purpose: 'drift-reference', import: input.referenceImport });
    }
    const { id } = await trx
      .insertInto('drift_monitors')
      .values({ project_id: project.id, name: input.name ?? `drift vs snapshot ${reference}`, reference_dataset_id: reference, features, model_id: input.model ?? null, tests: JSON.stringify(tests), alpha, active: 1, created_at: nowIso(), created_by: actor })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, store.dialect, { projectId: project.id, actor, action: 'monitor.create', subject: `drift_monitor:${id}`, payload: { reference, features, model: input.model ?? null, tests, alpha } });
    const row = await trx.selectFrom('drift_monitors').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return toMonitor(row);
  });
}

export async function listMonitors(store: Store, projectId: number, activeOnly = false): Promise<Monitor[]> {
  let q = store.db.selectFrom('drift_monitors').selectAll().where('project_id', '=', projectId).orderBy('id');
  if (activeOnly) q = q.where('active', '=', 1);
  return (await q.execute()).map(toMonitor);
}

export async function deactivateMonitor(store: Store, projectId: number, id: number, actor: string): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const r = await trx.updateTable('drift_monitors').set({ active: 0 }).where('project_id', '=', projectId).where('id', '=', id).where('active', '=', 1).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new NotFoundError(`active monitor ${id} in this project`);
    await appendAudit(trx, store.dialect, { projectId, actor, action: 'monitor.remove', subject: `drift_monitor:${id}`, payload: {} });
  });
}

export interface MonitorOutcome {
  monitor: number;
  check: number;
  status: 'ok' | 'drift' | 'skipped' | 'error';
  alert?: number;
  pValues?: Record<string, number>;
  message?: string;
}

/** Runs every active monitor of the project on one committed import. Never throws for a monitor's failure. */
export async function runImportMonitors(store: Store, c: { projectId: number; sourceId: number }, opts: { embed?: Embedder; actor?: string; seed?: number } = {}): Promise<MonitorOutcome[]> {
  const monitors = await listMonitors(store, c.projectId, true);
  if (monitors.length === 0) return [];
  const projectRow = await store.db.selectFrom('projects').select('name').where('id', '=', c.projectId).executeTakeFirstOrThrow();
  const project = await getProject(store.db, projectRow.name);
  const added = (await importItems(store.db, project.id, c.sourceId)).ids.length;
  const out: MonitorOutcome[] = [];
  for (const m of monitors) {
    let status: MonitorOutcome['status'];
    let result: ProjectDriftReport | { message: string };
    if (added < 2) {
      status = 'skipped';
      result = { message: `import ${c.sourceId} added ${added} new item(s); nothing to test` };
    } else {
      try {
        result = await projectDrift(store, project, { reference: m.reference, current: c.sourceId, features: m.features === 'raw' ? { kind: 'raw' } : { kind: 'model', model: m.model ?? undefined }, tests: m.tests, alpha: m.alpha, seed: opts.seed ?? 0 }, opts.embed);
        status = result.drift ? 'drift' : 'ok';
      } catch (e) {
        status = 'error';
        result = { message: errorMessage(e) };
      }
    }
    out.push(await recordCheck(store, project, m, c.sourceId, status, result, opts.actor ?? 'monitor'));
  }
  return out;
}

async function recordCheck(store: Store, project: Project, m: Monitor, sourceId: number, status: MonitorOutcome['status'], result: ProjectDriftReport | { message: string }, actor: string): Promise<MonitorOutcome> {
  const report = 'tests' in result ? result : null;
  // Through the labelling change helper: the alert, its webhook outbox rows and the audit event commit together.
  return change(store, project, cliActor(actor), async (ctx) => {
    const { id: check } = await ctx.conn
      .insertInto('drift_checks')
      .values({ project_id: project.id, monitor_id: m.id, reference_dataset_id: m.reference, import_source_id: sourceId, model_id: report?.model ?? m.model, status, drift: status === 'drift' ? 1 : 0, result: JSON.stringify(result), created_at: nowIso() })
      .returning('id')
      .executeTakeFirstOrThrow();
    const outcome: MonitorOutcome = { monitor: m.id, check, status };
    if (report) outcome.pValues = Object.fromEntries(report.tests.map((t) => [t.test, t.pValue]));
    else outcome.message = (result as { message: string }).message;
    if (status !== 'drift' || !report) return outcome;
    const failing = report.tests.filter((t) => t.drift).map((t) => `${t.test} p=${t.pValue.toPrecision(3)}`);
    const message = `drift on import ${sourceId} vs snapshot ${m.reference} (${m.name}): ${failing.join(', ')}`;
    const detail = { monitor: m.id, check, import: sourceId, reference: m.reference, features: report.features, model: report.model, alpha: report.alpha, tests: report.tests, labels: report.labels ?? null };
    const { id: alert } = await ctx.conn
      .insertInto('alerts')
      .values({ project_id: project.id, kind: 'drift', subject: `import_source:${sourceId}`, message, detail: JSON.stringify(detail), created_at: nowIso() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await emit(ctx, 'drift.alert', { alert, ...detail });
    await appendAudit(ctx.conn, ctx.dialect, { projectId: project.id, actor, action: 'drift.alert', subject: `alert:${alert}`, payload: { monitor: m.id, check, import: sourceId, reference: m.reference, pValues: outcome.pValues } });
    return { ...outcome, alert };
  });
}

export interface Alert {
  id: number;
  kind: string;
  subject: string;
  message: string;
  detail: Record<string, unknown>;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

/** Alerts for the UI: open ones (default) or all, newest first. */
export async function listAlerts(store: Store, projectId: number, q: { all?: boolean; limit?: number } = {}): Promise<Alert[]> {
  let query = store.db.selectFrom('alerts').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(q.limit ?? 100);
  if (!q.all) query = query.where('acknowledged_at', 'is', null);
  return (await query.execute()).map((r) => ({ id: r.id, kind: r.kind, subject: r.subject, message: r.message, detail: parseJson(r.detail, {}), createdAt: r.created_at, acknowledgedAt: r.acknowledged_at, acknowledgedBy: r.acknowledged_by }));
}

export async function acknowledgeAlert(store: Store, projectId: number, id: number, actor: string): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const r = await trx.updateTable('alerts').set({ acknowledged_at: nowIso(), acknowledged_by: actor }).where('project_id', '=', projectId).where('id', '=', id).where('acknowledged_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new NotFoundError(`open alert ${id} in this project`);
    await appendAudit(trx, store.dialect, { projectId, actor, action: 'alert.acknowledge', subject: `alert:${id}`, payload: {} });
  });
}

/** Recent drift checks (every monitor run), newest first. */
export async function listChecks(store: Store, projectId: number, limit = 50) {
  const rows = await store.db.selectFrom('drift_checks').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, monitor: r.monitor_id, import: r.import_source_id, reference: r.reference_dataset_id, model: r.model_id, status: r.status, drift: r.drift === 1, result: parseJson(r.result, {}), createdAt: r.created_at }));
}
