import type { Kysely, Transaction } from 'kysely';
import { NotFoundError, UserError } from '../core/errors.ts';
import { mulberry32 } from '../core/rng.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import type { Database } from '../store/schema.ts';
import { chiSquare, psi } from './categorical.ts';
import { DRIFT_TESTS, type DriftTestName } from './tests.ts';
import type { Sample } from './types.ts';
import { vectorsFor, type Embedder, type FeatureSource } from './vectors.ts';

/**
 * Drift of one import against a reference snapshot, in a project (`tessera drift --project`):
 * the reference is a snapshot dataset (datasets row: the items a model was trained on, or a
 * frozen import), the current sample is the items an import added. Both are turned into vectors
 * (a model's embeddings, or raw features — vectors.ts) and compared with each asked test (MMD,
 * KS on PCA components, classifier two-sample test). With several tests the verdict uses a
 * Bonferroni correction: drift when some test has p < α / m. When both samples carry source
 * labels, the label distribution is compared too (chi-square and PSI: label/prior shift).
 */
export interface ProjectDriftRequest {
  reference: number;
  current: number;
  features?: FeatureSource;
  tests?: DriftTestName[];
  alpha?: number;
  seed?: number;
  /** Rows per side at most (a seeded subsample above it; default 5,000). */
  maxRows?: number;
}

export interface ProjectDriftReport {
  project: string;
  reference: { dataset: number; name: string; items: number };
  current: { import: number; path: string; items: number };
  features: 'model' | 'raw';
  model: number | null;
  dim: number;
  rows: { reference: number; current: number };
  embedded: number;
  alpha: number;
  correction: 'none' | 'bonferroni';
  tests: Array<{ test: DriftTestName; statistic: number; pValue: number; drift: boolean }>;
  drift: boolean;
  labels?: { chiSquare: { statistic: number; pValue: number; dof: number; drift: boolean }; psi: number; reference: Record<string, number>; current: Record<string, number> };
}

type Db = Kysely<Database> | Transaction<Database>;

export async function referenceItems(db: Db, projectId: number, datasetId: number): Promise<{ name: string; ids: number[] }> {
  const ds = await db.selectFrom('datasets').select(['id', 'name', 'project_id']).where('id', '=', datasetId).executeTakeFirst();
  if (!ds || ds.project_id !== projectId) throw new NotFoundError(`snapshot ${datasetId} in this project`);
  const rows = await db.selectFrom('dataset_items').select('item_id').where('dataset_id', '=', datasetId).orderBy('item_id').execute();
  return { name: ds.name, ids: rows.map((r) => r.item_id) };
}

export async function importItems(db: Db, projectId: number, sourceId: number): Promise<{ path: string; ids: number[] }> {
  const src = await db.selectFrom('import_sources').select(['id', 'path', 'project_id', 'status']).where('id', '=', sourceId).executeTakeFirst();
  if (!src || src.project_id !== projectId || src.status !== 'committed') throw new NotFoundError(`committed import ${sourceId} in this project`);
  const rows = await db.selectFrom('items').select('id').where('project_id', '=', projectId).where('source_id', '=', sourceId).orderBy('id').execute();
  return { path: src.path, ids: rows.map((r) => r.id) };
}

function subsample(ids: number[], max: number, seed: number): number[] {
  if (ids.length <= max) return ids;
  const rand = mulberry32(seed);
  const a = ids.slice();
  for (let i = 0; i < max; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, max).sort((x, y) => x - y);
}

export async function projectDrift(store: Store, project: Project, req: ProjectDriftRequest, embed?: Embedder): Promise<ProjectDriftReport> {
  const alpha = req.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new UserError(`alpha expects a number between 0 and 1, got ${alpha}`);
  const tests = req.tests ?? (['mmd', 'ks', 'c2st'] as DriftTestName[]);
  for (const t of tests) if (!Object.hasOwn(DRIFT_TESTS, t)) throw new UserError(`test expects ${Object.keys(DRIFT_TESTS).join('|')}, got "${t}"`);
  const seed = req.seed ?? 0;
  const ref = await referenceItems(store.db, project.id, req.reference);
  const cur = await importItems(store.db, project.id, req.current);
  if (ref.ids.length < 2) throw new UserError(`snapshot ${req.reference} has ${ref.ids.length} item(s); a drift test needs at least 2`);
  if (cur.ids.length < 2) throw new UserError(`import ${req.current} added ${cur.ids.length} new item(s); a drift test needs at least 2`);
  const maxRows = req.maxRows ?? 5000;
  const refIds = subsample(ref.ids, maxRows, seed);
  const curIds = subsample(cur.ids, maxRows, seed + 1);
  const features = req.features ?? { kind: 'model' };
  const v = await vectorsFor(store, project, [refIds, curIds], features, embed);
  const a: Sample = { rows: refIds.length, dim: v.dim, data: v.sets[0] };
  const b: Sample = { rows: curIds.length, dim: v.dim, data: v.sets[1] };
  const m = tests.length;
  const perTest = alpha / m;
  const results = tests.map((t) => {
    const r = DRIFT_TESTS[t](a, b, { alpha: perTest, seed });
    return { test: t, statistic: r.statistic, pValue: r.pValue, drift: r.pValue < perTest };
  });
  const report: ProjectDriftReport = {
    project: project.name,
    reference: { dataset: req.reference, name: ref.name, items: ref.ids.length },
    current: { import: req.current, path: cur.path, items: cur.ids.length },
    features: features.kind,
    model: v.model,
    dim: v.dim,
    rows: { reference: refIds.length, current: curIds.length },
    embedded: v.embedded,
    alpha,
    correction: m > 1 ? 'bonferroni' : 'none',
    tests: results,
    drift: results.some((r) => r.drift),
  };
  const labels = await labelShift(store, ref.ids, cur.ids, alpha);
  if (labels) report.labels = labels;
  return report;
}

/** Source-label counts, in a Map: a label may be named __proto__ or constructor (src/core/dict.ts). */
async function labelCounts(store: Store, ids: number[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await store.db.selectFrom('items').select('source_label').where('id', 'in', ids.slice(i, i + 5000)).where('source_label', 'is not', null).execute();
    for (const r of rows) counts.set(r.source_label!, (counts.get(r.source_label!) ?? 0) + 1);
  }
  return counts;
}

async function labelShift(store: Store, refIds: number[], curIds: number[], alpha: number): Promise<ProjectDriftReport['labels'] | undefined> {
  return labelShiftOf(await labelCounts(store, refIds), await labelCounts(store, curIds), alpha);
}

/** Label shift between two count tables (χ² and PSI over the union of labels, sorted); undefined if either is empty. */
export function labelShiftOf(r: ReadonlyMap<string, number>, c: ReadonlyMap<string, number>, alpha: number): ProjectDriftReport['labels'] | undefined {
  if (r.size === 0 || c.size === 0) return undefined;
  const classes = [...new Set([...r.keys(), ...c.keys()])].sort();
  const counts = { reference: classes.map((k) => r.get(k) ?? 0), current: classes.map((k) => c.get(k) ?? 0) };
  const chi = chiSquare(counts, alpha);
  return { chiSquare: { statistic: chi.statistic, pValue: chi.pValue, dof: chi.dof, drift: chi.drift }, psi: psi(counts).statistic, reference: Object.fromEntries(r), current: Object.fromEntries(c) };
}
