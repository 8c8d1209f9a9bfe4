/**
 * The label-efficiency report: the arms' scores, the labels each SSL curve needed to reach 95% of
 * full supervision's accuracy (src/loop/economics.ts labelsToReach: linear interpolation, null
 * when a curve never gets there within the budget), the protocol in words, every resolved
 * setting, and the learning-curve chart.
 */
import { activeLearningVerdict, labelsToReach, type CurvePoint } from '../../src/loop/economics.ts';
import type { Arm, LabelEfficiencyOptions, LabelEfficiencyReport } from '../../src/cli/label-efficiency-contract.ts';
import type { BenchData } from './datasets.ts';
import type { CachedEncoder } from './encoder-cache.ts';
import type { ArmSettings } from './settings.ts';
import type { CurveChart } from './svg.ts';
import type { ArmScore, GatheredArms } from './tasks.ts';
import { FINE_TUNE_DEFAULTS, NOISY_STUDENT_DEFAULTS, PRIOR_SHIFT_POOL } from './train-api.ts';

/** What the run resolved besides the arms: the data, the encoder, the settings and the schedule. */
export interface RunFacts {
  opts: Omit<LabelEfficiencyOptions, 'log'>;
  s: ArmSettings;
  bd: BenchData;
  encoder: CachedEncoder & { pretext: string };
  tta: { count: number; describe: string } | null;
  sizes: number[];
  jobs: number;
  full: { fullEpochs: number; fullSteps: number };
  svgPath: string;
  seconds: number;
}

const curveOf = (c: ArmScore[]): CurvePoint[] => c.map((p) => ({ labels: p.labels, accuracy: p.accuracy }));

/** The protocol in words, for every setting the run used. */
function protocol(f: RunFacts): string {
  const { opts, s, tta } = f;
  const { trainMethod, keep, minSteps, refit, ensemble, selectWith } = s;
  return (
    'test split never selected from; SSL encoder pretrained on the training items without labels; ' +
    (trainMethod === 'auto' ? 'per arm the better on a 20% stratified validation split of its labels of' : `per arm, for every arm alike, only ${trainMethod === 'linear' ? 'the first' : 'the second'} of`) +
    ' a linear head (L2 logistic regression on frozen embeddings, refitted on all labels) and full fine-tuning (LP-FT head init, AdamW, warm-up+cosine, label smoothing, weak augmentation, ' +
    (keep === 'final' ? 'the whole schedule run and its final weights kept (validation only chooses the method and the temperature)' : 'early stopping with best-validation weights restored') +
    (opts.fixmatch ? `, FixMatch on the unlabelled training items${opts.fixmatch === 'final' ? " in each budget arm's final training (earlier curve points without)" : ''}` : '') +
    (keep === 'final' ? `; every fine-tuning run at least ${minSteps} steps` : `; every fine-tuning run at least ${minSteps} steps before early stopping may end it`) +
    (refit ? `; a fine-tuned winner trained again from the same start on all its labels (validation items too) replaying its learning-rate schedule to the ${keep === 'final' ? 'end' : 'validated step'}, keeping its temperature` : '') +
    (ensemble ? `; the average of the calibrated probabilities of the linear head and ${ensemble === 1 ? 'the fine-tuned model' : `${ensemble} fine-tuned models (seeds seed … seed+${ensemble - 1}; the head weighing one half, the networks' mean the other)`}${opts.ensembleScratch ? ' (in the SSL arms with a network fine-tuned from the random-init encoder on the same labels as a further member, head, SSL networks and it weighing a third each)' : ''}, competing as a third candidate, kept only when it validates strictly better than both` : '') +
    (s.nsEnabled ? '; noisy student: the trained classifier pseudo-labels the unlabelled training items class-balanced, a student is fine-tuned from the same start on labels + pseudo-labels with strong augmentation and kept only when it validates strictly better' : '') +
    (tta ? `; every model predicting (on validation too) with its logits averaged over ${tta.describe} (test-time augmentation): the fine-tuned networks over the shifted images, the linear heads over the frozen embeddings of those images, which they also train on` : '') +
    (opts.priorShift ? `; every classifier's probabilities moved from its labels' class prior to the prior EM estimates on up to ${PRIOR_SHIFT_POOL} unlabelled training items (Saerens et al. 2002)` : '') +
    `); ssl_active: round 0 TypiClust, later rounds the strategy on ${selectWith === 'model' ? "the calibrated probabilities of the previous round's trained classifier (with the frozen SSL embeddings for geometry)" : 'a linear head over frozen SSL embeddings'}; scratch_random: randomEncoder, same labels/augmentation/regularisation/epochs as ssl_random (encoder lr = head lr); labelsTo95pct from the per-round learning curves (linear interpolation, null if not reached within the budget)`
  );
}

/** One arm's details in the report (its optional parts only when the run used them). */
function armDetail(f: RunFacts, a: ArmScore) {
  return { labels: a.labels, method: a.method, ece: a.ece, valLinear: a.valLinear, valFineTune: a.valFineTune, ...(f.s.ensemble ? { valEnsemble: a.valEnsemble, fineTunedModels: a.fineTunedModels } : {}), ...(f.opts.ensembleScratch ? { valScratch: a.valScratch } : {}), fineTuneEpochs: a.fineTuneEpochs, fineTuneBestEpoch: a.fineTuneBestEpoch, refit: a.refit, ...(a.noisyStudent ? { noisyStudent: a.noisyStudent } : {}), ...(a.priorShift ? { priorShift: a.priorShift } : {}), seconds: a.seconds };
}

/** The settings the run resolved, in the report's order. */
function settingsDetails(f: RunFacts) {
  const { opts, s, tta } = f;
  return {
    fixmatch: opts.fixmatch ? { enabled: true, when: opts.fixmatch === 'final' ? 'final' : 'all', ...s.fixmatchSettings } : { enabled: false },
    noisyStudent: s.nsEnabled ? { enabled: true, ...NOISY_STUDENT_DEFAULTS, ...s.nsOptions } : { enabled: false },
    refit: s.refit,
    ensemble: s.ensemble ? { enabled: true, fineTunedModels: s.ensemble, scratchMember: Boolean(opts.ensembleScratch) } : { enabled: false },
    priorShift: opts.priorShift ? { enabled: true, poolLimit: PRIOR_SHIFT_POOL } : { enabled: false },
    tta: tta ? { enabled: true, views: tta.count, what: tta.describe, linearHead: 'trains on every view of the frozen embeddings, averages its logits over them' } : { enabled: false },
    train: s.trainMethod,
    selectWith: s.selectWith,
    jobs: f.jobs,
    fineTune: { ...FINE_TUNE_DEFAULTS, keep: s.keep, epochs: s.epochs, minSteps: s.minSteps, encoderLr: FINE_TUNE_DEFAULTS.lr * s.sslRatio, scratchEncoderLr: FINE_TUNE_DEFAULTS.lr },
  };
}

/** The learning curves of both SSL arms, point by point. */
function curvesDetails(arms: GatheredArms) {
  const ns = (p: ArmScore) => (p.noisyStudent ? { withoutNoisyStudent: p.noisyStudent.testTeacher } : {});
  return {
    ssl_active: arms.activeCurve.map((p) => ({ labels: p.labels, accuracy: p.accuracy, macroF1: p.macroF1, method: p.method, refitted: p.refit !== null, selectedBy: p.strategy, uncertaintyFrom: p.uncertaintyFrom, ...ns(p) })),
    ssl_random: arms.randomCurve.map((p) => ({ labels: p.labels, accuracy: p.accuracy, macroF1: p.macroF1, method: p.method, refitted: p.refit !== null, ...ns(p) })),
  };
}

export function buildReport(f: RunFacts, arms: GatheredArms): LabelEfficiencyReport {
  const { opts, bd, encoder } = f;
  const { activeCurve, randomCurve, scratch, full } = arms;
  const pool = bd.train.filter((i) => bd.y[i] >= 0);
  const target = 0.95 * full.accuracy;
  const labelsTo95pct = { active: labelsToReach(curveOf(activeCurve), target), random: labelsToReach(curveOf(randomCurve), target) };
  const pick = (a: ArmScore) => ({ accuracy: a.accuracy, macroF1: a.macroF1 });
  const results: Record<Arm, { accuracy: number; macroF1: number }> = { ssl_active: pick(activeCurve.at(-1)!), ssl_random: pick(randomCurve.at(-1)!), scratch_random: pick(scratch), full_supervised: pick(full) };
  const { fullEpochs, fullSteps } = f.full;
  return {
    dataset: bd.name,
    budget: opts.budget,
    strategy: opts.strategy,
    seed: opts.seed,
    seconds: f.seconds,
    results,
    labelsTo95pct,
    details: {
      protocol: protocol(f),
      modality: bd.modality,
      classes: bd.classes.length,
      split: { rule: bd.split, train: bd.train.length, labelledTrain: pool.length, unlabelledTrain: bd.train.length - pool.length, test: bd.test.length },
      encoder: { dir: encoder.dir, pretext: encoder.pretext, epochs: encoder.epochs, plannedEpochs: encoder.plannedEpochs, pretrainedNow: encoder.pretrainedNow, pretrainSeconds: encoder.pretrainSeconds },
      rounds: f.sizes,
      ...settingsDetails(f),
      fullSupervised: { labels: pool.length, epochsCap: fullEpochs, note: `fine-tuning epochs capped at ${fullEpochs}${opts.fullEpochs === undefined ? ` (≈${fullSteps} steps of ${FINE_TUNE_DEFAULTS.batch})` : ' (--full-epochs)'} for the full label set; SSL encoder, no FixMatch` },
      arms: { ssl_active: armDetail(f, activeCurve.at(-1)!), ssl_random: armDetail(f, randomCurve.at(-1)!), scratch_random: armDetail(f, scratch), full_supervised: armDetail(f, full) },
      curves: curvesDetails(arms),
      target95pct: target,
      activeLearning: activeLearningVerdict(labelsTo95pct.active, labelsTo95pct.random, opts.budget),
      report: opts.reportPath,
      svg: f.svgPath,
    },
  };
}

/** The learning-curve chart of a run: both SSL curves, the scratch point, full supervision and 95% of it. */
export function curveChart(r: LabelEfficiencyReport, arms: GatheredArms): CurveChart {
  const labelled = (r.details.split as { labelledTrain: number }).labelledTrain;
  return {
    title: `Label efficiency — ${r.dataset} (budget ${r.budget}, ${r.strategy}, seed ${r.seed})`,
    series: [
      { name: `SSL + ${r.strategy}`, color: '#1f77b4', points: curveOf(arms.activeCurve) },
      { name: 'SSL + random', color: '#ff7f0e', points: curveOf(arms.randomCurve) },
      { name: 'scratch + random', color: '#7f7f7f', points: [{ labels: arms.scratch.labels, accuracy: arms.scratch.accuracy }] },
    ],
    lines: [
      { name: `full supervision (${labelled})`, color: '#2ca02c', y: arms.full.accuracy },
      { name: '95% of full', color: '#d62728', y: r.details.target95pct as number },
    ],
    xLabel: 'labels bought',
    yLabel: 'test accuracy',
  };
}
