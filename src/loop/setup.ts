/**
 * What the loop sets up before its first round (the project, its data and source labels, the
 * taxonomy, the simulated annotators and reviewer, the held-out test split, the encoder and its
 * embeddings, the probe), and the labels it reads back each round.
 */
import { mulberry32, shuffled } from '../core/rng.ts';
import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { getProject, type Project } from '../store/projects.ts';
import { listModels, readEmbeddings } from '../store/models.ts';
import { loadModalityData, projectModality, type LoadedData } from '../ssl/data.ts';
import type { Features } from '../probe/features.ts';
import type { ProbeReport } from '../probe/probe.ts';
import type { RawFeaturizer } from '../probe/raw.ts';
import { cliActor, type Actor } from '../store/context.ts';
import { createTaxonomy, findTaxonomy } from '../label/taxonomies.ts';
import { createUser, findUser, setRole, type User } from '../label/users.ts';
import { listFinalLabels } from '../label/results.ts';
import { heldOutItems } from '../label/eligibility.ts';
import { simulatedAnnotators, type SimAnnotator } from './simulated.ts';
import type { JobSubmitter, LoopOptions } from './types.ts';

/** What the loop knows about the project before the first round. */
export interface Setup {
  project: Project;
  loaded: LoadedData;
  classes: string[];
  truth: Map<number, string>;
  row: Map<number, number>;
  embeddings: Features;
  /** What the classifier head reads: the SSL embeddings, or raw features when the probe says SSL does not help. */
  features: Features;
  featureSource: 'ssl' | 'raw';
  /** What the raw features were fitted with, when the head reads them: registered with the head so any shard can compute them. */
  rawFeaturizer: RawFeaturizer | null;
  encoderId: number;
  testIds: number[];
  annotators: Array<{ sim: SimAnnotator; user: User }>;
  reviewer: User;
  overlap: number;
  actor: Actor;
}

/** The items with no final label, test items excluded, in the loaded data's order: what gets suggestions and what the prior shift's EM reads. */
export function unlabelledIds(s: Setup, labels: Map<number, unknown>): number[] {
  const test = new Set(s.testIds);
  return s.loaded.itemIds.filter((id) => !labels.has(id) && !test.has(id));
}

export async function setup(store: Store, runner: JobSubmitter, opts: LoopOptions, log: (l: string) => void): Promise<Setup> {
  const project = await getProject(store.db, opts.project);
  const actor = cliActor(opts.actor);
  const modality = await projectModality(store, project.id);
  const loaded = await loadModalityData(store, project.id, modality, { sampleRate: project.settings.sampleRate });
  const truth = new Map<number, string>();
  loaded.itemIds.forEach((id, i) => {
    if (loaded.labels[i] !== null) truth.set(id, loaded.labels[i]!);
  });
  const classes = [...new Set(truth.values())].sort();
  if (classes.length < 2) throw new UserError(`the loop simulates annotators from source labels: project "${opts.project}" needs items with source labels of at least 2 classes`);
  const row = new Map(loaded.itemIds.map((id, i) => [id, i]));

  if (!(await findTaxonomy(store.db, project.id))) {
    await createTaxonomy(store, project, actor, { kind: 'single', labels: classes.map((name) => ({ name })), guidelines: 'Created by `tessera loop` from the source labels.' });
    log(`taxonomy v1 created: ${classes.join(', ')}`);
  }
  // Put in force for the rounds only, with servePrioritisedOnly (applyLoopSettings, src/loop/serving.ts).
  const overlap = Math.min(opts.overlap ?? 3, opts.annotators.count);

  const sims = simulatedAnnotators(opts.annotators.count, opts.annotators.noise, classes, opts.seed);
  const ensureUser = async (name: string, role: string) => {
    const u = (await findUser(store.db, name)) ?? (await createUser(store, actor, name)).user;
    await setRole(store, project, actor, name, role);
    return u;
  };
  const annotators = [];
  for (const sim of sims) annotators.push({ sim, user: await ensureUser(sim.name, 'annotator') });
  const reviewer = await ensureUser('sim-reviewer', 'reviewer');

  const testIds = await testSplit(store, project, [...truth.keys()], opts);
  log(`held-out test split: ${testIds.length} items (never selected, never shown to annotators)`);

  let encoders = await listModels(store.db, project.id, 'encoder');
  if (encoders.length === 0) {
    log(`pretraining an encoder (${opts.pretrain.pretext ?? 'default pretext'}, ${opts.pretrain.epochs} epochs) on ${loaded.itemIds.length} unlabelled items…`);
    const job = await runner.submitAndRun('pretrain', { project: opts.project, pretext: opts.pretrain.pretext, epochs: opts.pretrain.epochs, batch: opts.pretrain.batch, seed: opts.seed, config: opts.pretrain.config, actor: opts.actor }, project.id);
    if (job.status !== 'succeeded') throw new Error(`pretraining failed: ${job.error ?? job.message}`);
    encoders = await listModels(store.db, project.id, 'encoder');
  }
  const encoder = encoders[0];
  let emb = await readEmbeddings(store.db, encoder.id, loaded.itemIds);
  if (emb.missing > 0) {
    log(`embedding ${loaded.itemIds.length} items with encoder ${encoder.id}…`);
    const job = await runner.submitAndRun('embed', { project: opts.project, model: encoder.id }, project.id);
    if (job.status !== 'succeeded') throw new Error(`embedding failed: ${job.error ?? job.message}`);
    emb = await readEmbeddings(store.db, encoder.id, loaded.itemIds);
  }
  const embeddings = { rows: loaded.itemIds.length, dim: emb.dim, data: emb.data };
  return { project, loaded, classes, truth, row, embeddings, features: embeddings, featureSource: 'ssl', rawFeaturizer: null, encoderId: encoder.id, testIds, annotators, reviewer, overlap, actor };
}

/** A seeded, stratified test split, stored as a dataset so re-runs (and audits) use the same one. */
async function testSplit(store: Store, project: Project, labelled: number[], opts: LoopOptions): Promise<number[]> {
  const existing = await store.db.selectFrom('datasets').select('id').where('project_id', '=', project.id).where('kind', '=', 'split').where('name', '=', 'loop-test').executeTakeFirst();
  if (existing) return (await store.db.selectFrom('dataset_items').select('item_id').where('dataset_id', '=', existing.id).orderBy('item_id').execute()).map((r) => r.item_id);
  const size = Math.min(opts.testSize ?? 1000, Math.floor(labelled.length * 0.2));
  const ids = shuffled(labelled, mulberry32(opts.seed + 2)).slice(0, size).sort((a, b) => a - b);
  const { id } = await store.db
    .insertInto('datasets')
    .values({ project_id: project.id, name: 'loop-test', kind: 'split', held_out: 'test', spec: JSON.stringify({ seed: opts.seed, purpose: 'held-out test split of the loop' }), item_count: ids.length, created_at: new Date().toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let i = 0; i < ids.length; i += 1000) await store.db.insertInto('dataset_items').values(ids.slice(i, i + 1000).map((item_id) => ({ dataset_id: id, item_id, label: null, decided_by: null }))).execute();
  return ids;
}

export async function runProbeOnce(runner: JobSubmitter, opts: LoopOptions, s: Setup, log: (l: string) => void) {
  const labels = Math.min(Math.max(opts.batch, 10 * s.classes.length), 200);
  const job = await runner.submitAndRun('probe', { project: opts.project, labels, seed: opts.seed, model: s.encoderId, testMax: 2000 }, s.project.id);
  if (job.status !== 'succeeded') {
    log(`probe skipped: ${job.error ?? job.message}`);
    return null;
  }
  const r = job.result as ProbeReport;
  log(`probe (${r.labels} labels): ${r.verdict.text}`);
  return { labels: r.labels, representations: r.representations, verdict: r.verdict };
}

/** Items with a final label, except those held out from training: id → label and how it was decided. */
export async function finalLabels(store: Store, projectId: number): Promise<Map<number, { label: string; source: string | null; confidence: number | null }>> {
  const out = new Map<number, { label: string; source: string | null; confidence: number | null }>();
  const heldOut = await heldOutItems(store.db, projectId, 'train');
  for (let after = 0; ; ) {
    const page = await listFinalLabels(store.db, projectId, { after, limit: 1000 });
    for (const f of page) if (f.labels && f.labels.length === 1 && !heldOut.has(f.itemId)) out.set(f.itemId, { label: f.labels[0], source: f.source, confidence: f.confidence });
    if (page.length < 1000) return out;
    after = page[page.length - 1].itemId;
  }
}
