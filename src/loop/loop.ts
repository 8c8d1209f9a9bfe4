import { mulberry32, shuffled } from '../core/rng.ts';
import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { getModel } from '../store/models.ts';
import { appendAudit } from '../store/audit.ts';
import { applyRawFeaturizer, fitRawFeaturizer } from '../probe/raw.ts';
import { selectRows } from '../probe/features.ts';
import { STRATEGIES } from '../select/index.ts';
import { evaluate, fitHead, type Head, type Metrics } from '../train/linear-head.ts';
import { FINE_TUNE_DEFAULTS, snapshotEncoder } from '../train/fine-tune.ts';
import { TRAIN_METHODS, trainClassifier, type TrainedClassifier } from '../train/train-classifier.ts';
import { PRIOR_SHIFT_POOL } from '../train/prior-shift.ts';
import { limitPool } from '../train/noisy-student.ts';
import { loadEncoder, type Encoder } from '../ssl/index.ts';
import { setPriorities } from '../label/results.ts';
import { labelEconomics } from './economics.ts';
import { applyLoopSettings } from './serving.ts';
import type { Promotion } from './promotion.ts';
import type { LoopInputs } from './incumbent.ts';
import { finalLabels, runProbeOnce, setup, unlabelledIds } from './setup.ts';
import { annotate, review, selectBatch } from './labelling.ts';
import { decidePromotion, registerRoundModel, suggestRound } from './register.ts';
import { baselineCurve, describeTraining, economicsWords } from './report.ts';
import type { JobSubmitter, LoopHooks, LoopOptions, LoopReport, RoundReport, RoundTraining } from './types.ts';

export { economicsWords };
export type { JobSubmitter, LoopHooks, LoopOptions, LoopReport, RoundReport, RoundTraining } from './types.ts';

/**
 * When the probe found SSL does not help, fine-tuning the SSL encoder must beat the raw-feature
 * head significantly on validation (one-sided McNemar) to replace it: a handful of validation
 * items otherwise lets it win by luck against the probe's evidence (the SMS Spam demo once kept a
 * network that beat the head on 23 to 20 of 24 validation items, then tested below the round before).
 */
export const CHALLENGER_ALPHA = 0.05;

/**
 * The data-engine loop, round by round: (pretrain if needed → probe) → select → assign →
 * annotate → consensus/review → fine-tune → evaluate on the held-out test split. Simulated
 * annotators go through the same labelling path as people (leases, blind overlap, consensus,
 * review queue, audit log); only their answers are generated.
 */
export async function runLoop(store: Store, runner: JobSubmitter, opts: LoopOptions, hooks: LoopHooks = {}): Promise<LoopReport> {
  const log = hooks.log ?? (() => {});
  if (!STRATEGIES[opts.strategy]) throw new UserError(`unknown strategy "${opts.strategy}" (known: ${Object.keys(STRATEGIES).join(', ')})`);
  const method = opts.train?.method ?? 'auto';
  if (!TRAIN_METHODS.includes(method)) throw new UserError(`unknown training method "${method}" (known: ${TRAIN_METHODS.join(', ')})`);
  const ftEpochs = opts.train?.epochs ?? FINE_TUNE_DEFAULTS.epochs;
  if (!Number.isInteger(ftEpochs) || ftEpochs < 0) throw new UserError(`fine-tuning epochs must be a whole number ≥ 0, got ${ftEpochs}`);
  const s = await setup(store, runner, opts, log);
  const probe = await runProbeOnce(runner, opts, s, log);
  const rawFeaturizer = fitRawFeaturizer(s.loaded.data);
  const raw = await applyRawFeaturizer(rawFeaturizer, s.loaded.data);
  // The probe's rule: when the pretext did not teach what the task needs, the head reads raw features.
  if (probe && !probe.verdict.sslHelps) {
    s.features = raw;
    s.featureSource = 'raw';
    s.rawFeaturizer = rawFeaturizer;
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
        model = await registerRoundModel(store, s, trained, after, test, promotion, opts, r);
        // Not promoted: the model in use keeps serving its suggestions.
        if (promotion.promoted) await suggestRound(store, s, trained, after, model);
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

