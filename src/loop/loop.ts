import { join } from 'node:path';
import { mulberry32, shuffled } from '../core/rng.ts';
import { tesseraHome } from '../core/config.ts';
import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { getProject, type Project } from '../store/projects.ts';
import { createSnapshot, getModel, listModels, readEmbeddings, registerModel } from '../store/models.ts';
import { appendAudit } from '../store/audit.ts';
import { auditExclusions } from '../audit/exclusions.ts';
import type { InProcessRunner } from '../jobs/runner.ts';
import { loadModalityData, projectModality, type LoadedData } from '../ssl/data.ts';
import { rawFeatures } from '../probe/raw.ts';
import { selectRows, type Features } from '../probe/features.ts';
import type { ProbeReport } from '../probe/probe.ts';
import { STRATEGIES } from '../select/index.ts';
import { evaluate, fitHead, headProba, type Head, type Metrics } from '../train/linear-head.ts';
import { FINE_TUNE_DEFAULTS, snapshotEncoder } from '../train/fine-tune.ts';
import { TRAIN_METHODS, trainClassifier, type TrainMethod, type TrainedClassifier } from '../train/train-classifier.ts';
import { PRIOR_SHIFT_POOL } from '../train/prior-shift.ts';
import { limitPool } from '../train/noisy-student.ts';
import { loadEncoder, type Encoder } from '../ssl/index.ts';
import { cliActor, userActor, type Actor } from '../label/context.ts';
import { createTaxonomy, findTaxonomy } from '../label/taxonomies.ts';
import { createUser, findUser, setRole, type User } from '../label/users.ts';
import { listFinalLabels, setPriorities, setSuggestions } from '../label/results.ts';
import { nextTask, submitTask } from '../label/assignment.ts';
import { heldOutItems } from '../label/eligibility.ts';
import { decideReview, listReviews } from '../label/review.ts';
import { simulatedAnnotators, type SimAnnotator } from './simulated.ts';
import { labelEconomics, type CurvePoint, type Economics, type EconomicsWords } from './economics.ts';
import { applyLoopSettings, type SettingsGuard } from './serving.ts';
import { promotedWithoutTest, promotionDecision, rightOn, type Promotion } from './promotion.ts';
import { inUseProba, modelInUse, trainedOn, type LoopInputs } from './incumbent.ts';
import { rowArgmax } from '../ml/rows.ts';

export interface LoopOptions {
  project: string;
  rounds: number;
  batch: number;
  annotators: { count: number; noise: number };
  /** Price of one answer (one annotator labelling one item) and of one review decision, in `currency`. */
  priceLabel: number;
  priceReview: number;
  /** What prices are counted in (default: none — "cost units"). */
  currency?: string;
  seed: number;
  /** Strategy after round 0 (round 0, with no labels yet, uses the TypiClust cold start). */
  strategy: string;
  /** Annotators per item (default min(K, 3)). */
  overlap?: number;
  /** Held-out test split: at most this many labelled items (default 1000, and ≤ 20%). */
  testSize?: number;
  pretrain: { epochs: number; batch: number; pretext?: string; config?: Record<string, unknown> };
  /**
   * How each round's classifier is trained (src/train/train-classifier.ts): `linear` head on the
   * frozen features, `fine-tune` the encoder, or `auto` (default) the better of the two on a
   * stratified validation split of the labels. `epochs`: most fine-tuning epochs (default 30).
   * `priorShift`: move each round's classifier from its labels' class prior to the prior EM
   * estimates on (up to PRIOR_SHIFT_POOL of) the items still unlabelled, test items excluded
   * (src/train/prior-shift.ts): active selection skews the class mix of the labels bought. The
   * evaluation, the suggestions and the registered model (its params.priorShift, which
   * `tessera suggest` applies too) all use the moved probabilities.
   */
  train?: { method?: TrainMethod; epochs?: number; priorShift?: boolean };
  /** Where fine-tuned classifiers are saved (default $TESSERA_HOME/models/<project>). */
  modelsDir?: string;
  actor: string;
}

/** How a round's classifier was trained. */
export interface RoundTraining {
  /** What won (or was asked for). */
  method: 'linear' | 'fine-tune';
  requested: TrainMethod;
  validationItems: number;
  /** Validation accuracy of the linear head (fitted on the training part) and of the fine-tuned model. */
  valLinear: number | null;
  valFineTune: number | null;
  fineTuneEpochs: number | null;
  fineTuneBestEpoch: number | null;
  /** With `train.priorShift`: the prior of the labels the classifier learnt from and the one EM estimated on the unlabelled items. */
  priorShift: TrainedClassifier['priorShift'];
  /** When the head reads raw features (the probe found SSL does not help): fine-tuning's McNemar test against the head on validation, which it must pass at CHALLENGER_ALPHA to win. */
  challenge: TrainedClassifier['challenges'][number] | null;
  seconds: number;
}

/**
 * When the probe found SSL does not help, fine-tuning the SSL encoder must beat the raw-feature
 * head significantly on validation (one-sided McNemar) to replace it: a handful of validation
 * items otherwise lets it win by luck against the probe's evidence (the SMS Spam demo once kept a
 * network that beat the head on 23 to 20 of 24 validation items, then tested below the round before).
 */
export const CHALLENGER_ALPHA = 0.05;

export interface RoundReport {
  round: number;
  strategy: string;
  selected: number;
  /** Answers bought this round (items × overlap, give or take leases): annotations, not labelled items. */
  labelsBought: number;
  reviews: number;
  cost: number;
  totalCost: number;
  /** Items with a final label so far. */
  labelledItems: number;
  model: number;
  /** Whether this round's model replaced the model in use (serves suggestions); see src/loop/promotion.ts. */
  promoted: boolean;
  promotion: Promotion;
  training: RoundTraining;
  test: Metrics;
  economics: Economics;
}

export interface LoopReport {
  project: string;
  encoder: number;
  /** What the classifier head read. */
  features: 'ssl' | 'raw';
  probe: Pick<ProbeReport, 'labels' | 'representations' | 'verdict'> | null;
  testItems: number;
  rounds: RoundReport[];
  baseline: CurvePoint[];
  summary: string;
}

export interface LoopHooks {
  log?(line: string): void;
  onRound?(r: RoundReport): void;
  /** While the loop's label settings are in force (src/loop/serving.ts SettingsGuard): e.g. restore them on Ctrl-C. */
  guardSettings?: SettingsGuard;
}

/** What the loop knows about the project before the first round. */
interface Setup {
  project: Project;
  loaded: LoadedData;
  classes: string[];
  truth: Map<number, string>;
  row: Map<number, number>;
  embeddings: Features;
  /** What the classifier head reads: the SSL embeddings, or raw features when the probe says SSL does not help. */
  features: Features;
  featureSource: 'ssl' | 'raw';
  encoderId: number;
  testIds: number[];
  annotators: Array<{ sim: SimAnnotator; user: User }>;
  reviewer: User;
  overlap: number;
  actor: Actor;
}

/**
 * The data-engine loop, round by round: (pretrain if needed → probe) → select → assign →
 * annotate → consensus/review → fine-tune → evaluate on the held-out test split. Simulated
 * annotators go through the same labelling path as people (leases, blind overlap, consensus,
 * review queue, audit log); only their answers are generated.
 */
export async function runLoop(store: Store, runner: InProcessRunner, opts: LoopOptions, hooks: LoopHooks = {}): Promise<LoopReport> {
  const log = hooks.log ?? (() => {});
  if (!STRATEGIES[opts.strategy]) throw new UserError(`unknown strategy "${opts.strategy}" (known: ${Object.keys(STRATEGIES).join(', ')})`);
  const method = opts.train?.method ?? 'auto';
  if (!TRAIN_METHODS.includes(method)) throw new UserError(`unknown training method "${method}" (known: ${TRAIN_METHODS.join(', ')})`);
  const ftEpochs = opts.train?.epochs ?? FINE_TUNE_DEFAULTS.epochs;
  if (!Number.isInteger(ftEpochs) || ftEpochs < 0) throw new UserError(`fine-tuning epochs must be a whole number ≥ 0, got ${ftEpochs}`);
  const s = await setup(store, runner, opts, log);
  const probe = await runProbeOnce(runner, opts, s, log);
  const raw = await rawFeatures(s.loaded.data);
  // The probe's rule: when the pretext did not teach what the task needs, the head reads raw features.
  if (probe && !probe.verdict.sslHelps) {
    s.features = raw;
    s.featureSource = 'raw';
    log('the classifier head will read raw features (the probe found SSL does not help here); selection geometry stays on the SSL embeddings');
  }

  const baselineCache = new Map<number, number>();
  const baselineOrder = shuffled(
    s.loaded.itemIds.filter((id) => s.truth.has(id) && !s.testIds.includes(id)),
    mulberry32(opts.seed + 1),
  );
  const baselineAt = (n: number) => {
    // Random selection, no SSL: raw features, linear head, clean labels (flattering the baseline, not us).
    if (!baselineCache.has(n)) {
      const ids = baselineOrder.slice(0, n);
      const labels = ids.map((id) => s.truth.get(id)!);
      if (new Set(labels).size < 2) baselineCache.set(n, 0);
      else {
        const head = fitHead(selectRows(raw, ids.map((id) => s.row.get(id)!)), labels, s.classes, opts.seed);
        baselineCache.set(n, evaluate(head, selectRows(raw, s.testIds.map((id) => s.row.get(id)!)), s.testIds.map((id) => s.truth.get(id)!)).accuracy);
      }
    }
    return baselineCache.get(n)!;
  };

  const fitOn = (labels: Map<number, { label: string }>) => {
    const ids = [...labels.keys()].filter((id) => s.row.has(id));
    return fitHead(selectRows(s.features, ids.map((id) => s.row.get(id)!)), ids.map((id) => labels.get(id)!.label), s.classes, opts.seed);
  };
  // Fine-tuning starts every round from the pretrained encoder: loaded once, put back before each run.
  let tunable: { encoder: Encoder; initial: ReturnType<typeof snapshotEncoder> } | null = null;
  const classIndex = new Map(s.classes.map((c, i) => [c, i]));
  const train = async (labels: Map<number, { label: string }>): Promise<TrainedClassifier> => {
    // Ascending item id: the snapshot's order, so the validation split can be recomputed from it.
    const ids = [...labels.keys()].filter((id) => s.row.has(id)).sort((a, b) => a - b);
    if (method !== 'linear' && !tunable) {
      const enc = await getModel(store.db, s.project.id, s.encoderId);
      const encoder = await loadEncoder(enc.checkpointPath!);
      tunable = { encoder, initial: snapshotEncoder(encoder) };
    }
    tunable?.initial.restore();
    const unlabelled = opts.train?.priorShift ? limitPool(unlabelledIds(s, labels).map((id) => s.row.get(id)!), PRIOR_SHIFT_POOL, opts.seed) : null;
    return trainClassifier(
      { features: s.features, labelled: ids.map((id) => s.row.get(id)!), y: ids.map((id) => classIndex.get(labels.get(id)!.label)!), classes: s.classes, encoder: tunable?.encoder, data: s.loaded.data },
      { method, seed: opts.seed, epochs: ftEpochs, featuresAreEmbeddings: s.featureSource === 'ssl', significance: s.featureSource === 'raw' ? CHALLENGER_ALPHA : undefined, priorShift: unlabelled ? { unlabelled } : undefined },
    );
  };
  const rounds: RoundReport[] = [];
  let totalCost = 0;
  let head: Head | null = null;
  const unit = opts.currency ?? 'cost units';
  const inputs: LoopInputs = { classes: s.classes, data: s.loaded.data, raw, embeddings: s.embeddings, encoderId: s.encoderId };
  // The simulated annotators' settings, for the rounds only: the project's own are put back after them (src/loop/serving.ts).
  const serving = await applyLoopSettings(store, s.project, s.actor, s.overlap, hooks.guardSettings);
  let failed = false;
  try {
    for (let r = 0; r < opts.rounds; r++) {
      const labelled = await finalLabels(store, s.project.id);
      // A re-run starts from the labels earlier runs bought.
      if (!head && new Set([...labelled.values()].map((l) => l.label)).size >= 2) head = fitOn(labelled);
      const strategyName = head ? opts.strategy : 'typiclust';
      const chosen = await selectBatch(store, s, strategyName, head, labelled, opts, r);
      if (chosen.length === 0) {
        log(`round ${r + 1}: nothing left to select`);
        break;
      }
      await setPriorities(store, s.project, s.actor, chosen.map((itemId, i) => ({ itemId, priority: 1_000_000 - r * 10_000 - i })));
      const bought = await annotate(store, s);
      const reviews = await review(store, s);
      const after = await finalLabels(store, s.project.id);
      const ids = [...after.keys()].filter((id) => s.row.has(id));
      const trained = await train(after);
      let test: Metrics;
      let model: number;
      let promotion: Promotion;
      try {
        test = await trained.evaluate(s.testIds.map((id) => s.row.get(id)!), s.testIds.map((id) => s.truth.get(id)!));
        // Decided on validation only: the test split above is reported, never used to choose.
        promotion = await decidePromotion(store, s, inputs, trained, after);
        model = await registerClassifier(store, s, trained, after, test, promotion, opts, r);
        // Not promoted: the model in use keeps serving its suggestions.
        if (promotion.promoted) await suggest(store, s, trained, after, model);
      } finally {
        trained.dispose();
      }
      // Selection in the next round reads a linear head on the frozen features (the winner's own when linear won).
      head = trained.head ?? fitOn(after);
      const training: RoundTraining = {
        method: trained.method === 'linear' ? 'linear' : 'fine-tune',
        requested: method,
        validationItems: trained.valCount,
        valLinear: trained.valLinear,
        valFineTune: trained.valFineTune,
        fineTuneEpochs: trained.fineTuneEpochs,
        fineTuneBestEpoch: trained.fineTuneBestEpoch,
        priorShift: trained.priorShift,
        challenge: trained.challenges[0] ?? null,
        seconds: trained.seconds,
      };

      const cost = bought * opts.priceLabel + reviews * opts.priceReview;
      totalCost += cost;
      const curve = [...rounds.map((x) => ({ labels: x.labelledItems, accuracy: x.test.accuracy })), { labels: ids.length, accuracy: test.accuracy }];
      const baseline = baselineCurve(baselineAt, ids.length, test.accuracy, opts.batch, baselineOrder.length);
      // Each baseline item would be labelled the same way (overlap annotators), without reviews.
      const words = economicsWords(s.featureSource, [...rounds.map((x) => x.training.method), training.method], s.overlap, opts.priceLabel, unit);
      const economics = labelEconomics(curve, baseline, opts.priceLabel * s.overlap, words);
      const report: RoundReport = { round: r + 1, strategy: strategyName, selected: chosen.length, labelsBought: bought, reviews, cost, totalCost, labelledItems: ids.length, model, promoted: promotion.promoted, promotion, training, test, economics };
      rounds.push(report);
      log(
        `round ${r + 1} (${strategyName}): ${chosen.length} items selected, ${bought} answers bought, ${reviews} reviews, cost ${cost.toFixed(2)} ${unit}; ${ids.length} labelled items → ${describeTraining(training)} → test accuracy ${(test.accuracy * 100).toFixed(1)}%, macro-F1 ${(test.macroF1 * 100).toFixed(1)}%, ECE ${test.ece.toFixed(3)}; ${promotion.promoted ? `model ${model} promoted` : `model ${model} registered, not promoted`} (${promotion.reason})`,
      );
      hooks.onRound?.(report);
    }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    const t = tunable as { encoder: Encoder; initial: ReturnType<typeof snapshotEncoder> } | null;
    t?.initial.dispose();
    t?.encoder.dispose();
    await serving.end(failed, log);
  }
  const baseline = [...baselineCache.entries()].sort((a, b) => a[0] - b[0]).map(([labels, accuracy]) => ({ labels, accuracy }));
  const last = rounds[rounds.length - 1];
  const summary = last
    ? `label economics after ${rounds.length} round(s): ${last.economics.summary}. Total cost ${last.totalCost.toFixed(2)} ${unit}: ${rounds.reduce((a, x) => a + x.labelsBought, 0)} answers at ${opts.priceLabel.toFixed(2)} and ${rounds.reduce((a, x) => a + x.reviews, 0)} reviews at ${opts.priceReview.toFixed(2)}.`
    : 'no rounds ran';
  await appendAudit(store.db, store.dialect, { projectId: s.project.id, actor: opts.actor, action: 'loop.run', subject: `project:${s.project.id}`, payload: { rounds: rounds.length, models: rounds.map((x) => x.model), summary } });
  return { project: opts.project, encoder: s.encoderId, features: s.featureSource, probe, testItems: s.testIds.length, rounds, baseline, summary };
}

function describeTraining(t: RoundTraining): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  const val = t.validationItems > 0 ? ` (validation on ${t.validationItems}: linear ${pct(t.valLinear)}, fine-tune ${pct(t.valFineTune)}${t.fineTuneBestEpoch !== null ? ` at epoch ${t.fineTuneBestEpoch}/${t.fineTuneEpochs}` : ''})` : '';
  const ch = t.challenge;
  const challenge = ch ? `; fine-tune right where the head was wrong on ${ch.b}, the reverse on ${ch.c}: McNemar p ${ch.pOneSided.toFixed(3)} ${ch.passed ? '≤' : '>'} ${ch.alpha}${ch.passed ? '' : ', the head kept'}` : '';
  const ps = t.priorShift;
  const v = ps?.validation;
  const check = v ? `validation log-loss ${v.logLossKept.toFixed(3)} → ${v.logLossMoved.toFixed(3)} on ${v.items} items, weighted to ${v.weightedTo === 'validation' ? `validation's own class mix${v.fit ? ' (the pool does not fit label shift)' : ''}` : "EM's prior (the pool fits label shift)"}` : '';
  const shift = !ps
    ? ''
    : ps.applied
      ? `; prior moved to EM's on ${ps.items} unlabelled items (${ps.iterations} iterations; ${check})`
      : ps.collapsed.length > 0
        ? `; prior kept: EM on ${ps.items} unlabelled items drains ${ps.collapsed.join(', ')} to nothing (a collapse, not a finding)`
        : v
          ? `; prior kept: EM on ${ps.items} unlabelled items moves it to ${ps.poolPrior.map((x) => x.toFixed(2)).join('/')}, which makes it worse (${check})`
          : `; prior kept: EM on ${ps.items} unlabelled items, but no validation items to check the shift on`;
  return `${t.method}${t.requested === 'auto' ? ' won' : ''}${val}${challenge}${shift}, ${t.seconds.toFixed(1)} s`;
}

/**
 * What the economics line compares, in words: this run's classifiers (what each round trained)
 * with active selection, against the baseline — random selection, a linear head on raw features
 * trained on the items' true labels. When the probe sent the head to raw features, both sides
 * are that head and only the selection differs: the line says so rather than "SSL vs …".
 */
export function economicsWords(features: 'ssl' | 'raw', methods: Array<'linear' | 'fine-tune'>, overlap: number, priceLabel: number, unit: string): EconomicsWords {
  const fineTuned = methods.includes('fine-tune');
  const itemPrice = `${overlap} answer${overlap === 1 ? '' : 's'} × ${priceLabel.toFixed(2)}`;
  if (features === 'raw' && !fineTuned) {
    return { run: 'active selection with a linear head on raw features', baseline: 'random selection with the same head (true labels)', unit, itemPrice };
  }
  const run = fineTuned ? `active selection with ${features === 'raw' ? 'a raw-feature head or ' : 'an SSL-embedding head or '}a fine-tuned SSL encoder (each round's validation winner)` : 'active selection with a linear head on the SSL embeddings';
  return { run, baseline: 'random selection with a linear head on raw features (true labels)', unit, itemPrice };
}

/** The items with no final label, test items excluded, in the loaded data's order: what gets suggestions and what the prior shift's EM reads. */
function unlabelledIds(s: Setup, labels: Map<number, unknown>): number[] {
  const test = new Set(s.testIds);
  return s.loaded.itemIds.filter((id) => !labels.has(id) && !test.has(id));
}

/** Baseline accuracies at growing label counts until it matches `target` (or runs out of pool). */
function baselineCurve(at: (n: number) => number, used: number, target: number, step: number, pool: number): CurvePoint[] {
  const sizes = new Set<number>();
  for (let n = step; n <= Math.min(pool, used); n += step) sizes.add(n);
  sizes.add(Math.min(pool, used));
  const curve = [...sizes].sort((a, b) => a - b).map((n) => ({ labels: n, accuracy: at(n) }));
  // Keep buying random labels for the baseline (doubling) until it reaches our accuracy.
  let n = Math.min(pool, used);
  while (curve[curve.length - 1].accuracy < target && n < pool) {
    n = Math.min(pool, n * 2);
    curve.push({ labels: n, accuracy: at(n) });
  }
  return curve;
}

async function setup(store: Store, runner: InProcessRunner, opts: LoopOptions, log: (l: string) => void): Promise<Setup> {
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
  return { project, loaded, classes, truth, row, embeddings, features: embeddings, featureSource: 'ssl', encoderId: encoder.id, testIds, annotators, reviewer, overlap, actor };
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

async function runProbeOnce(runner: InProcessRunner, opts: LoopOptions, s: Setup, log: (l: string) => void) {
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
async function finalLabels(store: Store, projectId: number): Promise<Map<number, { label: string; source: string | null; confidence: number | null }>> {
  const out = new Map<number, { label: string; source: string | null; confidence: number | null }>();
  const heldOut = await heldOutItems(store.db, projectId, 'train');
  for (let after = 0; ; ) {
    const page = await listFinalLabels(store.db, projectId, { after, limit: 1000 });
    for (const f of page) if (f.labels && f.labels.length === 1 && !heldOut.has(f.itemId)) out.set(f.itemId, { label: f.labels[0], source: f.source, confidence: f.confidence });
    if (page.length < 1000) return out;
    after = page[page.length - 1].itemId;
  }
}

async function selectBatch(store: Store, s: Setup, strategy: string, head: Head | null, labelled: Map<number, unknown>, opts: LoopOptions, round: number): Promise<number[]> {
  // Never bought: the test split, and every item held out from training (evaluation sets too).
  const test = new Set([...s.testIds, ...(await heldOutItems(store.db, s.project.id, 'train'))]);
  const taken = new Set((await store.db.selectFrom('label_items').select('item_id').where('project_id', '=', s.project.id).where('priority', 'is not', null).execute()).map((r) => r.item_id));
  // The latest corpus audit's exclusions (redundant duplicates, empty / corrupt items) are never bought.
  const excluded = new Set((await auditExclusions(store, s.project.id)).exclude);
  const poolIds = s.loaded.itemIds.filter((id) => !test.has(id) && !labelled.has(id) && !taken.has(id) && !excluded.has(id));
  if (poolIds.length === 0) return [];
  // Geometry (cold start, core-set) on the SSL embeddings; BADGE's gradient embeddings on what the head reads.
  const space = strategy === 'badge' ? s.features : s.embeddings;
  const rows = (ids: number[]) => selectRows(space, ids.map((id) => s.row.get(id)!));
  const embeddings = rows(poolIds);
  const labelledEmb = labelled.size ? rows([...labelled.keys()].filter((id) => s.row.has(id))) : undefined;
  const probs = head ? { rows: poolIds.length, classes: s.classes.length, data: headProba(head, selectRows(s.features, poolIds.map((id) => s.row.get(id)!))) } : undefined;
  return STRATEGIES[strategy].fn({ ids: poolIds, embeddings, probs }, opts.batch, { seed: opts.seed + round, labelled: labelledEmb });
}

/** Simulated annotators take turns asking for tasks until none is left for anyone. */
async function annotate(store: Store, s: Setup): Promise<number> {
  let bought = 0;
  for (let active = true; active; ) {
    active = false;
    for (const a of s.annotators) {
      const task = await nextTask(store, s.project, a.user);
      if (!task) continue;
      active = true;
      const truth = s.truth.get(task.item.id);
      if (truth === undefined) throw new Error(`item ${task.item.id} has no source label to simulate an answer from`);
      await submitTask(store, s.project, a.user, task.id, { labels: [a.sim.answer(task.item.id, truth)], taxonomyVersion: task.taxonomy.version, timeMs: 4000 });
      bought++;
    }
  }
  return bought;
}

/** The simulated expert reviewer accepts a correct proposal and fixes a wrong one. */
async function review(store: Store, s: Setup): Promise<number> {
  let n = 0;
  for (;;) {
    const open = await listReviews(store.db, s.project.id, { status: 'open', limit: 200 });
    if (open.length === 0) return n;
    for (const e of open) {
      const truth = s.truth.get(e.itemId)!;
      const ok = e.proposal?.length === 1 && e.proposal[0] === truth;
      await decideReview(store, s.project, userActor(s.reviewer), e.id, ok ? { decision: 'accept' } : { decision: 'fix', labels: [truth], note: 'simulated expert review' });
      n++;
    }
  }
}

/**
 * Whether the round's classifier replaces the model in use (src/loop/promotion.ts): compared on
 * its validation items that the model in use never trained on, its held-out predictions there
 * (TrainedClassifier.valProba) against the model in use's, as it serves.
 */
async function decidePromotion(store: Store, s: Setup, inputs: LoopInputs, trained: TrainedClassifier, labels: Map<number, { label: string }>): Promise<Promotion> {
  const current = await modelInUse(store, s.project.id);
  if (!current) return promotedWithoutTest('the project has no model in use yet');
  if (!trained.valProba || trained.valPositions.length === 0) return promotedWithoutTest(`no held-out validation predictions to compare with model ${current.id}`, current.id);
  const seen = await trainedOn(store, current);
  const C = s.classes.length;
  const classIndex = new Map(s.classes.map((c, i) => [c, i]));
  const shared = trained.valPositions.map((pos, i) => ({ pos, i })).filter((v) => !seen.has(s.loaded.itemIds[v.pos]));
  const y = shared.map((v) => classIndex.get(labels.get(s.loaded.itemIds[v.pos])!.label)!);
  const fresh = new Float64Array(shared.length * C);
  shared.forEach((v, k) => fresh.set(trained.valProba!.subarray(v.i * C, v.i * C + C), k * C));
  let old: Float64Array;
  try {
    old = shared.length ? await inUseProba(current, inputs, shared.map((v) => v.pos)) : new Float64Array(0);
  } catch (e) {
    return promotedWithoutTest(`model ${current.id} in use cannot predict here (${(e as Error).message}): nothing to compare with`, current.id);
  }
  return promotionDecision(rightOn(fresh, y, C), rightOn(old, y, C), current.id);
}

async function registerClassifier(store: Store, s: Setup, trained: TrainedClassifier, labels: Map<number, { label: string; source: string | null; confidence: number | null }>, test: Metrics, promotion: Promotion, opts: LoopOptions, round: number): Promise<number> {
  const encoder = await getModel(store.db, s.project.id, s.encoderId);
  const taxonomy = await findTaxonomy(store.db, s.project.id);
  const ids = [...labels.keys()].sort((a, b) => a - b);
  const validation = {
    rule: `stratified ${FINE_TUNE_DEFAULTS.valFraction * 100}% of the snapshot (ascending item id), seed ${opts.seed} (src/train/fine-tune.ts stratifiedSplit)`,
    fraction: FINE_TUNE_DEFAULTS.valFraction,
    items: trained.valPositions.map((p) => s.loaded.itemIds[p]).sort((a, b) => a - b),
    linear: trained.valLinear,
    fineTune: trained.valFineTune,
    ...(trained.challenges.length ? { challenges: trained.challenges } : {}),
  };
  const ft = trained.fineTune;
  const fineTuneInfo =
    trained.fineTuneEpochs === null
      ? null
      : { maxEpochs: opts.train?.epochs ?? FINE_TUNE_DEFAULTS.epochs, epochsRun: trained.fineTuneEpochs, bestEpoch: trained.fineTuneBestEpoch, ...(ft ? { stoppedEarly: ft.stoppedEarly, trainItems: ft.trainCount, settings: ft.settings, history: ft.history, seconds: ft.seconds } : {}) };
  // The prior correction is part of the model: whoever predicts with it (tessera suggest) applies it too.
  const common = { method: trained.method, requested: trained.requested, seed: opts.seed, classes: s.classes, validation, fineTune: fineTuneInfo, ...(trained.priorShift ? { priorShift: trained.priorShift } : {}), promotion };
  let checkpointPath = encoder.checkpointPath;
  let params: Record<string, unknown>;
  if (ft) {
    // The fine-tuned encoder and its head, loadable with loadFineTuned (src/train/fine-tune.ts).
    checkpointPath = join(opts.modelsDir ?? join(tesseraHome(), 'models', s.project.name), `classifier-r${round + 1}-${Date.now().toString(36)}`);
    await ft.model.save(checkpointPath, { encoder: encoder.id, round: round + 1 });
    params = { ...common, head: 'fine-tuned encoder + linear head', features: 'encoder', temperature: ft.model.temperature };
  } else {
    const head = trained.head!;
    params = {
      ...common,
      head: s.featureSource === 'ssl' ? 'linear (frozen encoder)' : 'linear (raw features; the probe found SSL does not help)',
      features: s.featureSource,
      lambda: head.model.lambda,
      temperature: head.temperature,
      W: Array.from(head.model.W),
      b: Array.from(head.model.b),
      mean: Array.from(head.model.mean),
      std: Array.from(head.model.std),
    };
  }
  return store.db.transaction().execute(async (trx) => {
    const datasetId = await createSnapshot(trx, s.project.id, `loop round ${round + 1}`, ids, { purpose: 'fine-tune', round: round + 1 }, ids.map((id) => ({ label: labels.get(id)!.label, decidedBy: { source: labels.get(id)!.source, confidence: labels.get(id)!.confidence } })));
    const id = await registerModel(trx, {
      projectId: s.project.id,
      kind: 'classifier',
      pretext: encoder.pretext,
      parentId: encoder.id,
      datasetId,
      taxonomyVersion: taxonomy?.version ?? null,
      checkpointPath,
      params,
      metrics: { test, validation: { items: validation.items.length, linear: validation.linear, fineTune: validation.fineTune }, method: trained.method, labelledItems: ids.length, round: round + 1, promoted: promotion.promoted },
    });
    await appendAudit(trx, store.dialect, { projectId: s.project.id, actor: opts.actor, action: 'model.fine-tune', subject: `model:${id}`, payload: { encoder: encoder.id, datasetId, round: round + 1, method: trained.method, accuracy: test.accuracy, promoted: promotion.promoted, reason: promotion.reason } });
    return id;
  });
}

/** Pre-annotations for every unlabelled, non-test item: the predicted label and its calibrated confidence. */
async function suggest(store: Store, s: Setup, trained: TrainedClassifier, labelled: Map<number, unknown>, model: number): Promise<void> {
  const ids = unlabelledIds(s, labelled);
  if (ids.length === 0) return;
  const p = await trained.proba(ids.map((id) => s.row.get(id)!));
  const C = s.classes.length;
  const entries = ids.map((itemId, i) => {
    const best = rowArgmax(p, i, C);
    return { itemId, labels: [s.classes[best]], source: `model:${model}`, confidence: p[i * C + best] };
  });
  for (let i = 0; i < entries.length; i += 2000) await setSuggestions(store, s.project, s.actor, entries.slice(i, i + 2000));
}
