/**
 * Training a classifier on labelled items, as the loop (`tessera loop --train`) and the
 * label-efficiency benchmark do it:
 *
 *  - `linear`:    a linear head (L2 logistic regression, temperature-scaled; src/train/linear-head.ts)
 *                 on frozen features, fitted on every label;
 *  - `fine-tune`: full fine-tuning of the encoder (src/train/fine-tune.ts: LP-FT, AdamW, cosine,
 *                 early stopping on the validation split, temperature scaling), trained on the
 *                 training part of the split;
 *  - `auto`:      both, on one stratified validation split of the labels (20%); fine-tuning wins
 *                 when its validation accuracy is not below the linear head's and it moved off
 *                 its linear-probe start (only a better validation score — accuracy, then loss —
 *                 does that; when the linear head reads the encoder's own embeddings, that start
 *                 *is* a linear head on fewer labels); otherwise the linear head wins and is
 *                 refitted on every label. With `significance`, fine-tuning (and the ensemble)
 *                 must moreover beat the head by McNemar's exact test on the validation items.
 *
 * With `refit`, a fine-tuned winner is trained once more from the encoder's starting weights on
 * every label (its validation items too), replaying the first run's learning-rate schedule up to
 * the step its validated weights were taken at, and keeps the first run's temperature: with 20% held
 * out, a fifth of the labels bought (in active learning, the hardest ones) never trained the
 * model. Its validation scores are the first run's: nothing is left to validate the refit on.
 * With `keep: 'final'` fine-tuning runs its whole schedule and keeps its last weights (the
 * validation split then only chooses the method and the temperature), and a refit replays that
 * whole schedule on every label.
 *
 * With `ensemble: K` (auto only), a third candidate joins the validation contest: the average of
 * the calibrated probabilities of the linear head (fitted on the training part) and of K fine-tuned
 * models — the first run, and K − 1 more from the same starting weights with seeds seed+1 …
 * seed+K−1 (other augmentations and batch orders) — the head weighing one half and the networks'
 * mean the other, so that more networks do not drown the head out. It wins only with
 * a strictly higher validation accuracy than both the head and the first run — the simpler model
 * keeps a tie — and then the classifier is all of them: the linear head refitted on every label
 * and the K fine-tuned models (each refitted too with `refit`), their probabilities averaged;
 * the encoder's weights are swapped in for each model as it predicts. Models that err on
 * different items (a head on frozen embeddings, networks whose encoder moved) gain from it.
 * Given a `scratchEncoder` (the same architecture, randomly initialised), a network fine-tuned
 * from it on the same training part, with the same schedule and augmentation, joins as a third
 * member weighing as much as the head and the SSL networks: networks fine-tuned from one SSL
 * start make correlated errors, and one grown from another start errs elsewhere.
 *
 * With `tta` (images only), every fine-tuned model — first run, refit, ensemble member, student —
 * predicts, on validation too, by averaging its logits over the test-time views (the image and
 * its one-pixel shifts; src/train/views.ts), so the method contest compares what will predict.
 * The linear head reads precomputed frozen features: given `ttaFeatures` (the same features under
 * those views), it trains on every view and averages its logits over them too (fitHead).
 *
 * With `noisyStudent` (src/train/noisy-student.ts), the classifier chosen above is the teacher:
 * a copy of it trained without the validation items (the linear head on the training part, or the
 * fine-tuned model as it is) pseudo-labels the unlabelled pool class-balanced, a student is
 * fine-tuned from the encoder's starting weights on the training part plus the pseudo-labels
 * with strong augmentation, and it replaces the teacher only when its validation accuracy is
 * strictly higher.
 *
 * The validation split is `stratifiedSplit(y, valFraction, seed)` over the labelled items in the
 * order given: callers pass them in a fixed order (the loop: ascending item id, as its snapshot)
 * so the split can be recomputed from the snapshot.
 */
import { selectRows, type Features } from '../probe/features.ts';
import { fitHead, headProba, metricsFromProba, type Head } from './linear-head.ts';
import { FINE_TUNE_DEFAULTS, fineTune, snapshotEncoder, stratifiedSplit, type FineTuneOptions, type FineTuneResult } from './fine-tune.ts';
import { NOISY_STUDENT_DEFAULTS, limitPool, selectPseudoLabels, type NoisyStudentOptions } from './noisy-student.ts';
import { adjustToPrior, collapsedClasses, emPrior, labelPrior, validateShift, type ShiftValidation } from './prior-shift.ts';
import { mcnemarPaired } from './mcnemar.ts';
import { rowArgmax } from '../ml/rows.ts';
import { Ensemble, FineTuned, LinearHead, PriorShifted, RawFeatureHead, averageProba } from './estimators.ts';
import type { Estimator } from './estimator.ts';
import type { NoisyStudentInfo, TrainClassifierInput, TrainClassifierOptions, TrainedClassifier } from './train-classifier-types.ts';

export { averageProba };

export { TRAIN_METHODS } from './train-classifier-types.ts';
export type { NoisyStudentInfo, TrainClassifierInput, TrainClassifierOptions, TrainedClassifier, TrainMethod } from './train-classifier-types.ts';

/** Trains the classifier `opts.method` asks for; see the file comment. */
export async function trainClassifier(input: TrainClassifierInput, opts: TrainClassifierOptions): Promise<TrainedClassifier> {
  const t0 = performance.now();
  const { features, labelled, y, classes } = input;
  if (labelled.length !== y.length) throw new Error(`trainClassifier: ${labelled.length} labelled items but ${y.length} labels`);
  const names = (ys: ArrayLike<number>) => Array.from(ys, (c) => classes[c]);
  const split = stratifiedSplit(y, opts.valFraction ?? FINE_TUNE_DEFAULTS.valFraction, opts.seed);
  const trainPos = split.train.map((i) => labelled[i]);
  const trainY = split.train.map((i) => y[i]);
  const valPos = split.val.map((i) => labelled[i]);
  const valY = split.val.map((i) => y[i]);

  if (input.ttaFeatures && !opts.tta) throw new Error('trainClassifier: ttaFeatures given without tta');
  const headViews = opts.tta && input.ttaFeatures ? [features, ...input.ttaFeatures] : null;
  if (headViews?.some((f) => f.rows !== features.rows || f.dim !== features.dim)) throw new Error('trainClassifier: ttaFeatures must match features row for row');
  /** What the linear head reads for `pos`: the frozen features, or (with ttaFeatures) their rows under every test-time view. */
  const headRows = (pos: number[]): Features | Features[] => (headViews ? headViews.map((f) => selectRows(f, pos)) : selectRows(features, pos));

  const members = opts.ensemble ?? 0;
  if (!Number.isInteger(members) || members < 0 || members > 8) throw new Error(`trainClassifier: ensemble expects 0–8 fine-tuned models, got ${opts.ensemble}`);
  if (opts.ensemble && opts.method !== 'auto') throw new Error(`trainClassifier: ensemble needs method auto (it competes on validation), got ${opts.method}`);
  if (opts.ensemble && opts.noisyStudent) throw new Error('trainClassifier: ensemble and noisyStudent do not combine (the student replaces one model)');
  const alpha = opts.significance;
  if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw new Error(`trainClassifier: significance is a level between 0 and 1, got ${alpha}`);
  const challenges: TrainedClassifier['challenges'] = [];
  /** Whether `challenger` beats the head on validation significantly (true without `significance`); recorded. */
  const passes = (challenger: 'fine-tune' | 'ensemble', proba: Float64Array): boolean => {
    if (alpha === undefined || opts.method !== 'auto') return true;
    const t = mcnemarPaired(rightOn(proba, valY, classes.length), rightOn(valHeadProba!, valY, classes.length));
    challenges.push({ challenger, b: t.b, c: t.c, pOneSided: t.pOneSided, alpha, passed: t.pOneSided <= alpha });
    return t.pOneSided <= alpha;
  };
  let valLinear: number | null = null;
  // The linear head on the training part: validated, and the ensemble's partner on validation.
  let trainHead: Head | null = null;
  /** Its calibrated probabilities of the validation items, computed once: scored, tested against challengers, averaged into the ensemble. */
  let valHeadProba: Float64Array | null = null;
  if (valPos.length > 0) {
    trainHead = fitHead(headRows(trainPos), names(trainY), classes, opts.seed);
    valHeadProba = headProba(trainHead, headRows(valPos));
    valLinear = metricsFromProba(valHeadProba, classes, names(valY)).accuracy;
  }

  let won: FineTuneResult | null = null;
  let valFineTune: number | null = null;
  let valEnsemble: number | null = null;
  let ensembled = false;
  let ensembleValProba: Float64Array | null = null;
  let fineTuneEpochs: number | null = null;
  let fineTuneBestEpoch: number | null = null;
  const runFineTune = opts.method === 'fine-tune' || (opts.method === 'auto' && valPos.length > 0);
  const ns = opts.noisyStudent && opts.method !== 'linear' && valPos.length > 0 ? opts.noisyStudent : null;
  if (ns && (!input.encoder || !input.data)) throw new Error('trainClassifier: noisyStudent needs the encoder and its data');
  if (ns && opts.refit) throw new Error('trainClassifier: refit and noisyStudent do not combine (the student is judged on the validation items)');
  const refitting = Boolean(opts.refit) && runFineTune && valPos.length > 0;
  if (runFineTune && (!input.encoder || !input.data)) throw new Error(`trainClassifier: method ${opts.method} needs the encoder and its data`);
  // The student, the refit and the ensemble's further models start where the first run did: keep the encoder's starting weights.
  const start = ns || refitting || (members > 1 && runFineTune) ? snapshotEncoder(input.encoder!) : null;
  /** The ensemble's further fine-tuned models, each with its encoder weights; `won`'s own weights are `wonWeights` then. */
  let extra: Array<{ ft: FineTuneResult; weights: Snapshot; seed: number }> = [];
  let wonWeights: Snapshot | null = null;
  /** The ensemble's network from random initialisation (input.scratchEncoder), with its weights and starting weights. */
  let scratch: { ft: FineTuneResult; weights: Snapshot; start: Snapshot } | null = null;
  let valScratch: number | null = null;
  const scratchLr = opts.scratchEncoderLr ?? FINE_TUNE_DEFAULTS.lr;
  if (input.scratchEncoder && !members) throw new Error('trainClassifier: scratchEncoder is an ensemble member: it needs ensemble ≥ 1');
  // The first run's settings; a refit trains with the same ones (its schedule replayed).
  const fineTuneOptions: FineTuneOptions = {
    seed: opts.seed,
    epochs: opts.epochs ?? FINE_TUNE_DEFAULTS.epochs,
    minSteps: opts.minSteps,
    keep: opts.keep,
    encoderLr: opts.encoderLr,
    fixmatch: opts.fixmatchUnlabelled ? { ...opts.fixmatch, unlabelled: opts.fixmatchUnlabelled } : undefined,
    tta: opts.tta,
    signal: opts.signal,
    onEpoch: opts.onEpoch,
  };
  if (runFineTune) {
    const ft = await fineTune(input.encoder!, input.data!, { idx: trainPos, y: trainY }, classes, { ...fineTuneOptions, validation: { idx: valPos, y: valY } });
    valFineTune = Number.isFinite(ft.valAccuracy) ? ft.valAccuracy : null;
    fineTuneEpochs = ft.epochsRun;
    fineTuneBestEpoch = ft.bestEpoch;
    const moved = ft.bestEpoch > 0 || opts.featuresAreEmbeddings === false;
    const wins = opts.method === 'fine-tune' || (moved && valLinear !== null && ft.valAccuracy >= valLinear && passes('fine-tune', await ft.model.proba(input.data!, valPos)));
    if (members > 0 && moved && trainHead && valLinear !== null) {
      if (members > 1) {
        wonWeights = snapshotEncoder(input.encoder!);
        for (let j = 1; j < members; j++) {
          start!.restore();
          const more = await fineTune(input.encoder!, input.data!, { idx: trainPos, y: trainY }, classes, { ...fineTuneOptions, seed: opts.seed + j, validation: { idx: valPos, y: valY } });
          extra.push({ ft: more, weights: snapshotEncoder(input.encoder!), seed: opts.seed + j });
        }
      }
      if (input.scratchEncoder) {
        const from = snapshotEncoder(input.scratchEncoder);
        const sft = await fineTune(input.scratchEncoder, input.data!, { idx: trainPos, y: trainY }, classes, { ...fineTuneOptions, encoderLr: scratchLr, validation: { idx: valPos, y: valY } });
        scratch = { ft: sft, weights: snapshotEncoder(input.scratchEncoder), start: from };
        valScratch = Number.isFinite(sft.valAccuracy) ? sft.valAccuracy : null;
      }
      const valProba = averageProba([valHeadProba!, averageProba(await networkProbas(ft, valPos)), ...(scratch ? [await scratchProba(valPos)] : [])]);
      valEnsemble = metricsFromProba(valProba, classes, valY).accuracy;
      ensembled = valEnsemble > Math.max(valLinear, ft.valAccuracy) && passes('ensemble', valProba);
      if (ensembled) ensembleValProba = valProba;
      if (!ensembled) {
        for (const m of extra) (m.ft.model.dispose(), m.weights.dispose());
        extra = [];
        wonWeights?.restore();
        wonWeights?.dispose();
        wonWeights = null;
        disposeScratch();
        scratch = null;
      }
    }
    if (wins || ensembled) won = ft;
    else ft.model.dispose();
  }
  let refit: TrainedClassifier['refit'] = null;
  /** Trains `first` again from the starting weights on every label, replaying its schedule to its validated step (the scratch member: its own encoder, start and rate). */
  const refitOne = async (first: FineTuneResult, seed: number, member: 'ssl' | 'scratch' = 'ssl'): Promise<FineTuneResult> => {
    (member === 'ssl' ? start! : scratch!.start).restore();
    const again = await fineTune(member === 'ssl' ? input.encoder! : input.scratchEncoder!, input.data!, { idx: labelled, y }, classes, {
      ...fineTuneOptions,
      ...(member === 'scratch' ? { encoderLr: scratchLr } : {}),
      seed,
      // The same learning rate at every step as the validated weights had: not a whole
      // schedule squeezed into their step count, which learns less when that count is small.
      replay: { totalSteps: first.schedule.totalSteps, stopAt: first.history[first.bestEpoch].steps },
      validation: { idx: [], y: [] },
    });
    again.model.temperature = first.model.temperature;
    first.model.dispose();
    return again;
  };
  try {
    if (refitting && won && won.bestEpoch > 0) {
      // The ensemble's further models first, so that the encoder ends holding the first model's weights.
      for (const m of extra) {
        if (m.ft.bestEpoch === 0) continue;
        m.ft = await refitOne(m.ft, m.seed);
        m.weights.dispose();
        m.weights = snapshotEncoder(input.encoder!);
      }
      if (scratch && scratch.ft.bestEpoch > 0) {
        scratch.ft = await refitOne(scratch.ft, opts.seed, 'scratch');
        scratch.weights.dispose();
        scratch.weights = snapshotEncoder(input.scratchEncoder!);
      }
      const validatedSteps = won.history[won.bestEpoch].steps;
      won = await refitOne(won, opts.seed);
      refit = { validatedSteps, steps: won.history.at(-1)?.steps ?? 0, seconds: won.seconds };
      if (wonWeights) {
        wonWeights.dispose();
        wonWeights = snapshotEncoder(input.encoder!);
      }
    }
  } finally {
    if (!ns) start?.dispose();
  }
  let head = won && !ensembled ? null : fitHead(headRows(labelled), names(y), classes, opts.seed);
  let method: TrainedClassifier['method'] = ensembled ? 'ensemble' : won ? (opts.fixmatchUnlabelled ? 'fixmatch' : 'fine-tune') : 'linear';
  let noisyStudentInfo: NoisyStudentInfo | null = null;
  if (ns) {
    try {
      const r = await noisyStudentStep();
      noisyStudentInfo = r.info;
      if (r.student) {
        won?.model.dispose();
        won = r.student;
        head = null;
        method = 'noisy-student';
      }
    } finally {
      start!.dispose();
    }
  }
  const rawProba = async (pos: number[]): Promise<Float64Array> => {
    if (ensembled) return averageProba([headProba(head!, headRows(pos)), averageProba(await networkProbas(won!, pos)), ...(scratch ? [await scratchProba(pos)] : [])]);
    return won ? won.model.proba(input.data!, pos) : headProba(head!, headRows(pos));
  };
  // The validation items' probabilities from a model that never trained on them (see TrainedClassifier.valProba).
  const heldOutVal = valPos.length === 0 || refit ? null : ensembled ? ensembleValProba : won ? await won.model.proba(input.data!, valPos) : valHeadProba;
  let priorShift: TrainedClassifier['priorShift'] = null;
  if (opts.priorShift) {
    // The labels the returned classifier learnt from: a linear head and a refit every label, a
    // fine-tuned model the training part, a student the training part and its pseudo-labels (an
    // ensemble: every label, its head's — the stratified split keeps the training part's prior).
    const learnt = method === 'noisy-student' ? [...trainY, ...noisyStudentInfo!.pseudo.y] : won && !refit && !ensembled ? trainY : Array.from(y);
    const from = labelPrior(learnt, classes.length);
    const pool = opts.priorShift.unlabelled;
    const poolProba = pool.length ? await rawProba(pool) : new Float64Array(0);
    const em = emPrior(poolProba, classes.length, from);
    const collapsed = collapsedClasses(poolProba, classes.length, from, em, learnt).map((c) => classes[c]);
    // Checked on held-out data before it is applied: the held-out twin (trained on the training
    // part) moved from its own labels' prior to EM's, on the validation items.
    let validation: ShiftValidation | null = null;
    if (heldOutVal && collapsed.length === 0) {
      const twinPool = won || ensembled ? poolProba : pool.length ? headProba(trainHead!, headRows(pool)) : new Float64Array(0);
      validation = validateShift(heldOutVal, valY, classes.length, labelPrior(method === 'noisy-student' ? learnt : trainY, classes.length), em.prior, twinPool);
    }
    const applied = collapsed.length === 0 && validation !== null && validation.logLossMoved <= validation.logLossKept;
    priorShift = { labelPrior: from, poolPrior: em.prior, items: pool.length, iterations: em.iterations, converged: em.converged, applied, collapsed, validation };
  }
  const proba = async (pos: number[]): Promise<Float64Array> => {
    const p = await rawProba(pos);
    return priorShift?.applied ? adjustToPrior(p, classes.length, priorShift.labelPrior, priorShift.poolPrior) : p;
  };
  const valProba = heldOutVal && priorShift?.applied ? adjustToPrior(heldOutVal, classes.length, labelPrior(method === 'noisy-student' ? [...trainY, ...noisyStudentInfo!.pseudo.y] : trainY, classes.length), priorShift.poolPrior) : heldOutVal;

  /** Teacher → pseudo-labels → student; the encoder ends holding the winner's weights. */
  async function noisyStudentStep(): Promise<{ info: NoisyStudentInfo; student: FineTuneResult | null }> {
    const settings: Required<NoisyStudentOptions> = {
      tau: ns!.tau ?? NOISY_STUDENT_DEFAULTS.tau,
      perClass: ns!.perClass ?? NOISY_STUDENT_DEFAULTS.perClass,
      poolLimit: ns!.poolLimit ?? NOISY_STUDENT_DEFAULTS.poolLimit,
      steps: ns!.steps ?? NOISY_STUDENT_DEFAULTS.steps,
      augment: ns!.augment ?? NOISY_STUDENT_DEFAULTS.augment,
    };
    const labelledSet = new Set(labelled);
    if (ns!.unlabelled.some((p) => labelledSet.has(p))) throw new Error('trainClassifier: noisyStudent.unlabelled holds labelled positions');
    const pool = limitPool(ns!.unlabelled, settings.poolLimit, opts.seed);
    // The teacher as trained WITHOUT the validation items, so that comparing it with the student on
    // validation is fair: the fine-tuned model as it is, or a linear head on the training part.
    const teacherHead = won ? null : fitHead(headRows(trainPos), names(trainY), classes, opts.seed);
    const teacherProbaOf = async (pos: number[]) => (won ? won.model.proba(input.data!, pos) : headProba(teacherHead!, headRows(pos)));
    const probs = pool.length ? await teacherProbaOf(pool) : new Float64Array(0);
    // Reported as "without noisy student": the classifier as it would be returned (a linear head refitted on every label).
    const teacherProba = opts.alsoPredict ? (won ? await won.model.proba(input.data!, opts.alsoPredict) : headProba(head!, headRows(opts.alsoPredict))) : null;
    const pseudo = selectPseudoLabels(probs, classes.length, pool, { tau: settings.tau, perClass: settings.perClass, exclude: labelledSet });
    const valTeacher = won ? (Number.isFinite(won.valAccuracy) ? won.valAccuracy : null) : valLinear;
    const teacherWeights = won ? snapshotEncoder(input.encoder!) : null;
    const info: NoisyStudentInfo = {
      teacher: method as NoisyStudentInfo['teacher'],
      settings,
      predicted: pool.length,
      pseudo,
      valTeacher,
      valStudent: null,
      studentEpochs: null,
      studentBestEpoch: null,
      studentSteps: null,
      won: false,
      teacherProba,
    };
    try {
      if (pseudo.idx.length === 0) return { info, student: null };
      start!.restore();
      const idx = [...trainPos, ...pseudo.idx];
      const batch = FINE_TUNE_DEFAULTS.batch;
      const epochs = Math.max(1, Math.round(settings.steps / Math.max(FINE_TUNE_DEFAULTS.minStepsPerEpoch, Math.ceil(idx.length / batch))));
      const student = await fineTune(input.encoder!, input.data!, { idx, y: [...trainY, ...pseudo.y] }, classes, {
        seed: opts.seed,
        epochs,
        minSteps: opts.minSteps,
        keep: opts.keep,
        encoderLr: opts.encoderLr,
        augment: settings.augment,
        tta: opts.tta,
        validation: { idx: valPos, y: valY },
        signal: opts.signal,
        onEpoch: opts.onEpoch,
      });
      info.valStudent = Number.isFinite(student.valAccuracy) ? student.valAccuracy : null;
      info.studentEpochs = student.epochsRun;
      info.studentBestEpoch = student.bestEpoch;
      info.studentSteps = student.history.at(-1)?.steps ?? 0;
      if (info.valStudent !== null && (valTeacher === null || info.valStudent > valTeacher)) {
        info.won = true;
        return { info, student };
      }
      student.model.dispose();
      // The teacher stays: put its weights back (a linear teacher reads frozen features: the starting weights).
      if (teacherWeights) teacherWeights.restore();
      else start!.restore();
      return { info, student: null };
    } finally {
      teacherWeights?.dispose();
    }
  }
  return {
    method,
    requested: opts.method,
    classes,
    labels: labelled.length,
    trainCount: won ? won.trainCount : labelled.length,
    valCount: valPos.length,
    valPositions: valPos,
    valLinear,
    valFineTune,
    valEnsemble,
    valScratch,
    challenges,
    scratchFineTune: scratch?.ft ?? null,
    fineTunedModels: !won ? 0 : 1 + extra.length + (scratch ? 1 : 0),
    fineTuneEpochs,
    fineTuneBestEpoch,
    head,
    fineTune: won,
    noisyStudentInfo,
    refit,
    priorShift,
    valProba,
    seconds: (performance.now() - t0) / 1000,
    estimator: asEstimator(),
    proba,
    async evaluate(pos, truth) {
      return metricsFromProba(await proba(pos), classes, truth);
    },
    dispose() {
      won?.model.dispose();
      wonWeights?.dispose();
      for (const m of extra) (m.ft.model.dispose(), m.weights.dispose());
      disposeScratch();
    },
  };

  /** The classifier as `rawProba` and `proba` compute it, one estimator per model. */
  function asEstimator(): Estimator {
    const linear = (h: Head) => (opts.featuresAreEmbeddings === false ? new RawFeatureHead(h, headViews !== null) : new LinearHead(h, headViews !== null));
    let e: Estimator;
    if (ensembled) {
      const nets = extra.length === 0 ? new FineTuned(won!.model) : new Ensemble([new FineTuned(won!.model, wonWeights), ...extra.map((m) => new FineTuned(m.ft.model, m.weights))]);
      e = new Ensemble([linear(head!), nets, ...(scratch ? [new FineTuned(scratch.ft.model, scratch.weights)] : [])]);
    } else e = won ? new FineTuned(won.model) : linear(head!);
    return priorShift?.applied ? new PriorShifted(e, priorShift.labelPrior, priorShift.poolPrior) : e;
  }

  /** The scratch member's probabilities of `pos`, its own encoder weights swapped in. */
  async function scratchProba(pos: number[]): Promise<Float64Array> {
    scratch!.weights.restore();
    return scratch!.ft.model.proba(input.data!, pos);
  }

  function disposeScratch(): void {
    if (!scratch) return;
    scratch.ft.model.dispose();
    scratch.weights.dispose();
    scratch.start.dispose();
  }

  /** Each fine-tuned model's probabilities of `pos`: `first`, then the ensemble's further models, each with its own encoder weights swapped in. */
  async function networkProbas(first: FineTuneResult, pos: number[]): Promise<Float64Array[]> {
    if (extra.length === 0) return [await first.model.proba(input.data!, pos)];
    const out: Float64Array[] = [];
    for (const [ft, weights] of [[first, wonWeights!] as const, ...extra.map((m) => [m.ft, m.weights] as const)]) {
      weights.restore();
      out.push(await ft.model.proba(input.data!, pos));
    }
    // The encoder ends holding the first model's weights, as without an ensemble.
    wonWeights!.restore();
    return out;
  }
}

type Snapshot = ReturnType<typeof snapshotEncoder>;

/** Whether each row's most probable class (rows × k probabilities) is its label in `y`. */
function rightOn(proba: Float64Array, y: ArrayLike<number>, k: number): boolean[] {
  if (proba.length !== y.length * k) throw new Error(`rightOn: ${proba.length} probabilities for ${y.length} rows of ${k}`);
  return Array.from(y, (label, i) => {
    return rowArgmax(proba, i, k) === label;
  });
}
