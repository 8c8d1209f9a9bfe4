/**
 * The label-efficiency arms (every one on the same held-out test split, never selected from):
 *  - ssl_active: the SSL encoder; labels bought in rounds — round 0 TypiClust (cold start), then
 *    the strategy on a linear head over the frozen SSL embeddings or on the previous round's
 *    trained classifier (`selectWith`); then trained.
 *  - ssl_random: the same encoder and training, labels drawn uniformly at random (seeded).
 *  - scratch_random: the same architecture randomly initialised (`randomEncoder` with the SSL
 *    encoder's pretext and config), the same random labels, augmentation, regularisation, budget.
 *  - full_supervised: the SSL encoder with every training label (epochs capped for big sets).
 * Every arm trains through trainClassifier, the loop's own training call: the better on a
 * validation split of a linear head and fine-tuning, with the options' extras.
 */
import { mulberry32, shuffled } from '../../src/core/rng.ts';
import { subsetData } from '../../src/ssl/data.ts';
import { loadEncoder, randomEncoder, type Encoder } from '../../src/ssl/index.ts';
import { SslEncoder } from '../../src/ssl/encoder.ts';
import type { Features } from '../../src/probe/features.ts';
import { STRATEGIES } from '../../src/select/index.ts';
import { loadBenchData, type BenchData } from './datasets.ts';
import { embedAll, embedViews } from './encoder-cache.ts';
import { selectActiveBatch, unlabelledCandidates, type PreviousPrediction } from './select.ts';
import { armSettings, fullSchedule, roundSizes, type ArmOptions, type ArmSettings } from './settings.ts';
import type { ActivePoint, ArmScore, ArmsRunner, ArmTask, ArmTaskResult, NoisyStudentScore } from './tasks.ts';
import { FINE_TUNE_DEFAULTS, PRIOR_SHIFT_POOL, limitPool, metricsFromProba, snapshotEncoder, trainClassifier, viewsFor, type TrainedClassifier } from './train-api.ts';

type Kind = 'ssl' | 'scratch';

/** Everything the tasks share: the data, both encoders (with their initial weights) and their embeddings. */
interface ArmContext {
  bd: BenchData;
  opts: ArmOptions;
  s: ArmSettings;
  log: (line: string) => void;
  emb: Record<Kind, Features>;
  ttaEmb: Record<Kind, Features[]> | null;
  encoders: Record<Kind, Encoder>;
  initial: Record<Kind, ReturnType<typeof snapshotEncoder>>;
  pool: number[];
  unlabelledTrain: number[];
  testNames: string[];
  sizes: number[];
  /** ssl_random and scratch_random: nested random label sets (the first n of one seeded permutation). */
  order: number[];
}

interface TrainRun {
  epochs: number;
  fixmatch: boolean;
  noisyStudent: boolean;
  /** Positions whose calibrated probabilities under the trained classifier to return as well, as `predicted` (before it is freed). */
  predict?: number[];
}

const labelNames = (bd: BenchData, pos: number[]) => pos.map((p) => bd.classes[bd.y[p]]);

/**
 * Embeds the data under both encoders (and the test-time views) and returns a runner for the
 * tasks: every task starts each encoder from its initial weights, so results do not depend on
 * which tasks ran before in the same job.
 */
export async function prepareArms(bd: BenchData, base: Encoder, opts: ArmOptions, s: ArmSettings, log: (line: string) => void): Promise<ArmsRunner> {
  const { data, y } = bd;
  const sslEmb = await embedAll(base, data);
  // What --tta averages over (the same views for the scratch encoder: same architecture and config).
  const ttaViews = opts.tta && base instanceof SslEncoder ? viewsFor(base).tta : null;
  // The SSL encoder's own architecture and views, untrained (a saved encoder may have another pretext or config).
  const scratchEnc = await randomEncoder(subsetData(data, bd.train), { pretext: base.pretext, seed: opts.seed, config: base instanceof SslEncoder ? base.config : undefined });
  const scratchEmb = await embedAll(scratchEnc, data);
  // With --tta the linear heads read every test-time view too: embedded now, before any fine-tuning moves the encoders.
  const ttaEmb = ttaViews ? { ssl: await embedViews(base, data), scratch: await embedViews(scratchEnc, data) } : null;
  const pool = bd.train.filter((i) => y[i] >= 0);
  const ctx: ArmContext = {
    bd,
    opts,
    s,
    log,
    emb: { ssl: sslEmb, scratch: scratchEmb },
    ttaEmb,
    encoders: { ssl: base, scratch: scratchEnc },
    // One instance per kind, put back to its initial weights before every fine-tuning run (it
    // keeps its caches of tokenised texts / spectrograms of the whole dataset).
    initial: { ssl: snapshotEncoder(base), scratch: snapshotEncoder(scratchEnc) },
    pool,
    unlabelledTrain: bd.train.filter((i) => y[i] < 0),
    testNames: labelNames(bd, bd.test),
    sizes: roundSizes(opts.budget, opts.rounds),
    order: shuffled(pool, mulberry32(opts.seed + 7919)),
  };
  return {
    run: (task) => runTask(ctx, task),
    dispose() {
      for (const k of ['ssl', 'scratch'] as const) {
        ctx.initial[k].dispose();
        ctx.encoders[k].dispose();
      }
    },
  };
}

/** A worker job's runner: loads the data and the (already resolved) encoder itself. */
export async function openArms(opts: ArmOptions, log: (line: string) => void): Promise<ArmsRunner> {
  if (!opts.encoderDir) throw new Error('a job needs the resolved encoder folder');
  const s = armSettings({ ...opts, pretext: undefined });
  const bd = await loadBenchData(opts);
  const base = await loadEncoder(opts.encoderDir);
  return prepareArms(bd, base, opts, s, log);
}

/** Whether a budget arm's training (its final one when `last`) uses FixMatch. */
const fixmatchIn = (opts: ArmOptions, last: boolean) => opts.fixmatch === true || (opts.fixmatch === 'final' && last);

async function runTask(ctx: ArmContext, task: ArmTask): Promise<ArmTaskResult> {
  const { opts, s, sizes, order, pool } = ctx;
  const scored = async (arm: 'ssl_random' | 'scratch_random' | 'full_supervised', kind: Kind, labelled: number[], run: TrainRun): Promise<ArmTaskResult> => {
    const score = await trainArm(ctx, kind, labelled, run);
    showScore(ctx.log, arm, score);
    return { arm, score };
  };
  switch (task.arm) {
    case 'ssl_active':
      return { arm: task.arm, curve: await activeCurve(ctx) };
    case 'ssl_random': {
      if (!sizes.includes(task.labels)) throw new Error(`ssl_random at ${task.labels} labels is not a curve point (${sizes.join(', ')})`);
      const last = task.labels === sizes.at(-1);
      return scored('ssl_random', 'ssl', order.slice(0, task.labels), { epochs: s.epochs, fixmatch: fixmatchIn(opts, last), noisyStudent: s.nsEnabled && last });
    }
    case 'scratch_random':
      return scored('scratch_random', 'scratch', order.slice(0, opts.budget), { epochs: s.epochs, fixmatch: fixmatchIn(opts, true), noisyStudent: s.nsEnabled });
    case 'full_supervised':
      return scored('full_supervised', 'ssl', pool, { epochs: fullSchedule(opts, pool.length, s.epochs).fullEpochs, fixmatch: false, noisyStudent: false });
  }
}

/** ssl_active: TypiClust in round 0, then the strategy on the probabilities of a linear head over the frozen SSL embeddings, or of the classifier the previous round trained (selectWith). */
async function activeCurve(ctx: ArmContext): Promise<ActivePoint[]> {
  const { bd, opts, s, sizes, pool } = ctx;
  const active: number[] = [];
  const curve: ActivePoint[] = [];
  const needsProbs = STRATEGIES[opts.strategy].needs.includes('probs');
  let previous: PreviousPrediction | null = null;
  for (let r = 0; r < sizes.length; r++) {
    const strategy = r === 0 ? 'typiclust' : opts.strategy;
    const { picked, uncertaintyFrom } = selectActiveBatch({ strategy, pool, active, k: sizes[r] - active.length, embeddings: ctx.emb.ssl, labelNames: labelNames(bd, active), classes: bd.classes, seed: opts.seed, round: r, selectWith: s.selectWith, previous });
    active.push(...picked);
    const last = r === sizes.length - 1;
    const taken = new Set(active);
    const predict = s.selectWith === 'model' && needsProbs && !last ? pool.filter((p) => !taken.has(p)) : undefined;
    const { predicted, ...score } = await trainArm(ctx, 'ssl', active.slice(), { epochs: s.epochs, fixmatch: fixmatchIn(opts, last), noisyStudent: s.nsEnabled && last, predict });
    previous = predict && predicted ? { method: score.method, positions: predict, proba: predicted } : null;
    curve.push({ ...score, strategy, uncertaintyFrom });
    showScore(ctx.log, `ssl_active r${r}`, score);
  }
  return curve;
}

/** Linear head vs fine-tuning (or FixMatch), chosen on a validation split of the labels by trainClassifier, scored on the test split. */
async function trainArm(ctx: ArmContext, kind: Kind, labelled: number[], run: TrainRun): Promise<ArmScore & { predicted?: Float64Array }> {
  const { bd, opts } = ctx;
  const ta = performance.now();
  // Fine-tuning trains the encoder in place: start from its initial weights.
  ctx.initial[kind].restore();
  const withScratch = kind === 'ssl' && Boolean(opts.ensembleScratch);
  if (withScratch) ctx.initial.scratch.restore();
  const trained = await trainClassifier(
    { features: ctx.emb[kind], ttaFeatures: ctx.ttaEmb?.[kind], labelled, y: labelled.map((p) => bd.y[p]), classes: bd.classes, encoder: ctx.encoders[kind], data: bd.data, scratchEncoder: withScratch ? ctx.encoders.scratch : undefined },
    trainOptions(ctx, kind, labelled, run),
  );
  const metrics = await trained.evaluate(bd.test, ctx.testNames);
  const predicted = run.predict ? { predicted: await trained.proba(run.predict) } : {};
  trained.dispose();
  const { method, valLinear, valFineTune, valEnsemble, valScratch, fineTunedModels, fineTuneEpochs, fineTuneBestEpoch } = trained;
  const noisyStudent = trained.noisyStudentInfo ? noisyStudentScore(ctx, trained.noisyStudentInfo, metrics.accuracy) : null;
  const refit = trained.refit ? { validatedSteps: trained.refit.validatedSteps, steps: trained.refit.steps } : null;
  return { labels: labelled.length, accuracy: metrics.accuracy, macroF1: metrics.macroF1, ece: metrics.ece, method, valLinear, valFineTune, valEnsemble, valScratch, fineTunedModels, fineTuneEpochs, fineTuneBestEpoch, noisyStudent, refit, priorShift: trained.priorShift, seconds: (performance.now() - ta) / 1000, ...predicted };
}

/** trainClassifier's options for one arm's training: the same for every arm but the encoder's learning rate. */
function trainOptions(ctx: ArmContext, kind: Kind, labelled: number[], run: TrainRun): Parameters<typeof trainClassifier>[1] {
  const { bd, opts, s, pool } = ctx;
  const labelledSet = new Set(labelled);
  const nsPool = run.noisyStudent ? unlabelledCandidates(bd.train, labelled, bd.test) : null;
  return {
    method: s.trainMethod,
    seed: opts.seed,
    epochs: run.epochs,
    // No pretrained features to protect: the scratch encoder learns at the head's rate.
    encoderLr: kind === 'scratch' ? FINE_TUNE_DEFAULTS.lr : FINE_TUNE_DEFAULTS.lr * s.sslRatio,
    minSteps: s.minSteps,
    fixmatchUnlabelled: run.fixmatch ? [...pool.filter((p) => !labelledSet.has(p)), ...ctx.unlabelledTrain] : undefined,
    fixmatch: s.fixmatchSettings,
    noisyStudent: nsPool ? { ...s.nsOptions, unlabelled: nsPool } : undefined,
    alsoPredict: nsPool ? bd.test : undefined,
    refit: s.refit,
    ensemble: s.ensemble,
    scratchEncoderLr: FINE_TUNE_DEFAULTS.lr,
    keep: s.keep,
    tta: opts.tta,
    priorShift: opts.priorShift ? { unlabelled: limitPool(unlabelledCandidates(bd.train, labelled, bd.test), PRIOR_SHIFT_POOL, opts.seed) } : undefined,
  };
}

/** What noisy student did, with the pseudo-labels checked against the true labels the benchmark knows. */
function noisyStudentScore(ctx: ArmContext, ns: NonNullable<TrainedClassifier['noisyStudentInfo']>, testKept: number): NoisyStudentScore {
  const { y, classes } = ctx.bd;
  const known = ns.pseudo.idx.map((p, i) => [y[p], ns.pseudo.y[i]]).filter(([t]) => t >= 0);
  return {
    teacher: ns.teacher,
    pseudoLabels: ns.pseudo.idx.length,
    perClass: ns.pseudo.perClass,
    pseudoLabelAccuracy: known.length ? known.filter(([t, p]) => t === p).length / known.length : null,
    predicted: ns.predicted,
    valTeacher: ns.valTeacher,
    valStudent: ns.valStudent,
    testTeacher: ns.teacherProba ? metricsFromProba(ns.teacherProba, classes, ctx.testNames).accuracy : null,
    testKept,
    studentSteps: ns.studentSteps,
    studentWon: ns.won,
  };
}

function fmtPct(v: number | null): string {
  return v === null || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`;
}

/** One log line per trained arm or curve point. */
function showScore(log: (line: string) => void, arm: string, s: ArmScore): void {
  const ns = s.noisyStudent;
  const nsText = ns
    ? `; noisy student: ${ns.pseudoLabels} pseudo-labels (${fmtPct(ns.pseudoLabelAccuracy)} right), validation teacher ${fmtPct(ns.valTeacher)} / student ${fmtPct(ns.valStudent)} → ${ns.studentWon ? 'student' : 'teacher'} kept; test teacher ${fmtPct(ns.testTeacher)}`
    : '';
  const validation = `validation: linear ${fmtPct(s.valLinear)}, fine-tune ${fmtPct(s.valFineTune)}${s.fineTuneBestEpoch !== null ? ` at epoch ${s.fineTuneBestEpoch}/${s.fineTuneEpochs}` : ''}${s.valEnsemble !== null ? `, ensemble ${fmtPct(s.valEnsemble)}` : ''}${s.valScratch !== null ? ` (its random-init network ${fmtPct(s.valScratch)})` : ''}`;
  const prior = s.priorShift ? (s.priorShift.applied ? `; prior moved to EM's on ${s.priorShift.items} unlabelled items (${s.priorShift.iterations} iterations)` : `; prior kept: EM collapsed ${s.priorShift.collapsed.join(', ')}`) : '';
  log(`${arm.padEnd(15)} ${String(s.labels).padStart(6)} labels: accuracy ${(s.accuracy * 100).toFixed(1)}%, macro-F1 ${(s.macroF1 * 100).toFixed(1)}% (${s.method}; ${validation}${s.refit ? `; refitted on every label for ${s.refit.steps} steps` : ''}${prior}${nsText}; ${s.seconds.toFixed(1)} s)`);
}
