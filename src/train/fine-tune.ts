/**
 * Full fine-tuning: an SSL encoder (or the same architecture randomly initialised — the honest
 * `scratch` baseline, called with exactly the same options) trained end to end with a linear
 * classifier head on a labelled set.
 *
 *  - AdamW (decoupled weight decay, src/ssl/nn.ts), linear warm-up then cosine decay (`lrAt`),
 *    global gradient-norm clipping; optionally a lower learning rate for the encoder than for
 *    the head (`encoderLr`), the usual protection of pretrained features.
 *  - Augmentation: the modality's pretext view transforms at "weak" strength (src/train/views.ts).
 *  - Regularisation: label smoothing (Szegedy et al. 2016, §7) and weight decay.
 *  - Head initialisation by a linear probe on the frozen features (LP-FT, Kumar et al. 2022:
 *    fine-tuning from a fitted head distorts pretrained features less than from a random one).
 *  - A validation split carved from the labelled set (stratified), evaluated after every epoch
 *    (and before the first): **early stopping** after `patience` epochs without improvement, and
 *    the best-validation weights (encoder, batch-norm statistics and head) restored. A step
 *    budget floor (`minSteps`) makes every run, whatever its epoch length, at least that many
 *    steps long before early stopping may end it (`planSchedule`). Better =
 *    higher validation accuracy, or equal accuracy and a validation loss lower by ≥ 0.01 nats
 *    (small validation splits saturate at 100% accuracy; the loss still tells epochs apart).
 *  - Temperature scaling (src/train/calibration.ts) on the validation split at the end.
 *  - Optional test-time augmentation (`tta`, images only): every prediction — validation scores
 *    included, so what is validated is what predicts — averages the logits of the deterministic
 *    test-time views (src/train/views.ts).
 *  - Optional FixMatch (src/train/fixmatch.ts) on an unlabelled pool.
 *
 * The encoder is trained in place: callers who need the original weights again load it again.
 */
import { tf, initEngine } from '../ml/engine.ts';
import { CancelledError, UserError } from '../core/errors.ts';
import type { Encoder, ModalityData } from '../ssl/types.ts';
import { SslEncoder } from '../ssl/encoder.ts';
import { AdamW, Params, dense, lrAt } from '../ssl/nn.ts';
import { Rng } from '../ssl/rng.ts';
import { fitLinearProbe, searchLambda } from '../probe/logreg.ts';
import { fitTemperature, softmaxWithTemperature } from './calibration.ts';
import { metricsFromProba } from './linear-head.ts';
import { viewsFor, type AugLevel, type Views } from './views.ts';
import { fixmatchUnlabelledLoss, pseudoLabels, resolveFixMatch, type FixMatchOptions } from './fixmatch.ts';
import { logitsCrossEntropy, rowArgmax } from '../ml/rows.ts';
import { FineTunedClassifier, logitsOf, testTimeViews } from './fine-tuned-model.ts';
import { BestWeights } from './weights.ts';
import { Sampler, planSchedule, type Schedule } from './schedule.ts';

export { CLASSIFIER_FORMAT, FineTunedClassifier, loadFineTuned } from './fine-tuned-model.ts';
export { BestWeights, snapshotEncoder } from './weights.ts';
export { planSchedule, type Schedule } from './schedule.ts';

export interface FineTuneOptions {
  seed: number;
  /** Most epochs (an epoch = one pass over the training split, at least `minStepsPerEpoch` steps). Default 30. */
  epochs?: number;
  /** Default 32 (capped at the training split's size). */
  batch?: number;
  minStepsPerEpoch?: number;
  /**
   * Training budget floor in optimiser steps (default 0 = none). The run is planned for
   * max(epochs × stepsPerEpoch, minSteps) steps (the epoch count rises to fit; warm-up and
   * cosine decay span the whole plan), and early stopping may not end it before `minSteps`
   * steps have run. Small labelled sets have short epochs: without a floor, `patience` epochs
   * of 8–15 steps end training after ~100 steps, long before a randomly initialised encoder
   * has learnt anything (see `planSchedule`).
   */
  minSteps?: number;
  /** Head learning rate (default 3e-3). */
  lr?: number;
  /** Encoder learning rate (default lr / 10; 0 freezes the encoder). */
  encoderLr?: number;
  /** AdamW decoupled weight decay (default 0.01; not applied to biases and norm gains). */
  weightDecay?: number;
  /** Label smoothing ε (default 0.1). */
  labelSmoothing?: number;
  /** Fraction of steps spent warming up (default 0.1). */
  warmup?: number;
  /** Global gradient-norm clip (default 1; 0 = off). */
  clip?: number;
  /** Augmentation of the supervised batches (default 'weak'). */
  augment?: AugLevel;
  /** Epochs without validation improvement before stopping (default 6; never before `minSteps` steps). */
  patience?: number;
  /**
   * Which weights the run ends with: 'best' (default) — early stopping and the best-validation
   * weights restored; 'final' — the whole planned schedule runs and its last weights are kept
   * (validation is still scored every epoch, for the history, the method choice and temperature
   * scaling). A validation split of 5–20 items picks an epoch mostly by chance; at the end of a
   * cosine schedule the learning rate is ~0, so the last weights are a settled choice.
   */
  keep?: 'best' | 'final';
  /** Validation fraction carved (stratified) from the labelled set when `validation` is not given (default 0.2). */
  valFraction?: number;
  /** Explicit validation items (indices into `data`) and their class ids; then every labelled item trains. */
  validation?: { idx: ArrayLike<number>; y: ArrayLike<number> };
  /**
   * Follow another run's learning-rate curve — warm-up and cosine over its `totalSteps` — and end
   * after its step `stopAt` (a refit on more labels that should learn as much as the validated
   * weights had at that step). Overrides `epochs` and `minSteps`.
   */
  replay?: { totalSteps: number; stopAt: number };
  /** 'probe' (default: LP-FT) or 'random'. */
  headInit?: 'probe' | 'random';
  /** FixMatch on these unlabelled items (indices into `data`). */
  fixmatch?: FixMatchOptions & { unlabelled: ArrayLike<number> };
  /** Predict (validation too) by averaging the logits of the test-time views; images only (default false). */
  tta?: boolean;
  signal?: AbortSignal;
  onEpoch?(e: EpochReport): void;
}

export interface EpochReport {
  epoch: number;
  steps: number;
  trainLoss: number;
  valAccuracy: number;
  valLoss: number;
  /** FixMatch: fraction of unlabelled items whose pseudo-label passed τ this epoch. */
  pseudoLabelRate?: number;
}

export interface FineTuneResult {
  model: FineTunedClassifier;
  /** Epoch 0 = before training. */
  history: EpochReport[];
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  trainCount: number;
  valCount: number;
  /** Validation accuracy of the weights the run ended with (the restored best, or the final ones with keep: final), before temperature scaling (argmax is unchanged by it). */
  valAccuracy: number;
  /** The step plan the run followed (planSchedule). */
  schedule: Schedule;
  seconds: number;
  settings: Required<Omit<FineTuneOptions, 'validation' | 'fixmatch' | 'replay' | 'signal' | 'onEpoch'>> & { fixmatch: (FixMatchOptions & { unlabelled: number }) | null };
}

/** Stratified split of positions 0..y.length-1: per class round(n·fraction) to validation, at least one left to train. */
export function stratifiedSplit(y: ArrayLike<number>, fraction: number, seed: number): { train: number[]; val: number[] } {
  const rng = Rng.derive(seed, 'fine-tune/val-split');
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < y.length; i++) {
    if (!byClass.has(y[i])) byClass.set(y[i], []);
    byClass.get(y[i])!.push(i);
  }
  const train: number[] = [];
  const val: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const rows = rng.shuffle(byClass.get(c)!.slice());
    const k = Math.min(rows.length - 1, Math.round(rows.length * fraction));
    val.push(...rows.slice(0, Math.max(0, k)));
    train.push(...rows.slice(Math.max(0, k)));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}

/** Mean cross-entropy against targets smoothed to (1−ε)·onehot + ε/K. */
export function smoothedCrossEntropy(logits: tf.Tensor, labels: ArrayLike<number>, epsilon: number): tf.Scalar {
  const [n, K] = logits.shape as [number, number];
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), K).toFloat();
    const target = epsilon > 0 ? tf.add(tf.mul(onehot, 1 - epsilon), epsilon / K) : onehot;
    return tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(logits), target)), n)) as tf.Scalar;
  });
}

export const FINE_TUNE_DEFAULTS = {
  epochs: 30,
  batch: 32,
  minStepsPerEpoch: 8,
  minSteps: 0,
  lr: 3e-3,
  weightDecay: 0.01,
  labelSmoothing: 0.1,
  warmup: 0.1,
  clip: 1,
  augment: 'weak' as AugLevel,
  patience: 6,
  keep: 'best' as 'best' | 'final',
  valFraction: 0.2,
  headInit: 'probe' as 'probe' | 'random',
};

/**
 * Fine-tunes `encoder` with a new linear head on items `labelled.idx` of `data` (class ids
 * `labelled.y` into `classes`). See the file comment for the procedure.
 */
export async function fineTune(
  encoder: Encoder,
  data: ModalityData,
  labelled: { idx: ArrayLike<number>; y: ArrayLike<number> },
  classes: string[],
  options: FineTuneOptions,
): Promise<FineTuneResult> {
  await initEngine();
  if (!(encoder instanceof SslEncoder)) throw new Error('fineTune needs an encoder from src/ssl (pretrain, loadEncoder or randomEncoder)');
  const d = FINE_TUNE_DEFAULTS;
  const o = {
    seed: options.seed,
    epochs: options.epochs ?? d.epochs,
    batch: options.batch ?? d.batch,
    minStepsPerEpoch: options.minStepsPerEpoch ?? d.minStepsPerEpoch,
    minSteps: options.minSteps ?? d.minSteps,
    lr: options.lr ?? d.lr,
    weightDecay: options.weightDecay ?? d.weightDecay,
    labelSmoothing: options.labelSmoothing ?? d.labelSmoothing,
    warmup: options.warmup ?? d.warmup,
    clip: options.clip ?? d.clip,
    augment: options.augment ?? d.augment,
    patience: options.patience ?? d.patience,
    keep: options.keep ?? d.keep,
    valFraction: options.valFraction ?? d.valFraction,
    headInit: options.headInit ?? d.headInit,
    tta: options.tta ?? false,
  };
  const encoderLr = options.encoderLr ?? o.lr / 10;
  const K = classes.length;
  if (K < 2) throw new UserError(`fine-tuning needs at least 2 classes, got ${K}`);
  if (labelled.idx.length !== labelled.y.length) throw new Error(`labelled: ${labelled.idx.length} items but ${labelled.y.length} labels`);
  for (let i = 0; i < labelled.y.length; i++) {
    const c = labelled.y[i];
    if (!Number.isInteger(c) || c < 0 || c >= K) throw new UserError(`labelled item ${i}: class id ${c} is not one of 0..${K - 1}`);
  }
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new UserError(`epochs must be a whole number ≥ 0, got ${o.epochs}`);
  if (!Number.isInteger(o.minSteps) || o.minSteps < 0) throw new UserError(`minSteps must be a whole number ≥ 0, got ${o.minSteps}`);
  if (o.keep !== 'best' && o.keep !== 'final') throw new UserError(`keep must be 'best' or 'final', got ${JSON.stringify(o.keep)}`);
  const t0 = performance.now();
  let trainIdx: Int32Array;
  let trainY: Int32Array;
  let valIdx: Int32Array;
  let valY: Int32Array;
  if (options.validation) {
    trainIdx = Int32Array.from(labelled.idx);
    trainY = Int32Array.from(labelled.y);
    valIdx = Int32Array.from(options.validation.idx);
    valY = Int32Array.from(options.validation.y);
  } else {
    const split = stratifiedSplit(labelled.y, o.valFraction, o.seed);
    trainIdx = Int32Array.from(split.train, (i) => labelled.idx[i]);
    trainY = Int32Array.from(split.train, (i) => labelled.y[i]);
    valIdx = Int32Array.from(split.val, (i) => labelled.idx[i]);
    valY = Int32Array.from(split.val, (i) => labelled.y[i]);
  }
  if (trainIdx.length === 0) throw new UserError('fine-tuning needs at least one labelled training item');
  const labelOf = new Map<number, number>();
  trainIdx.forEach((item, i) => labelOf.set(item, trainY[i]));

  const views = viewsFor(encoder);
  if (o.tta) testTimeViews(views);
  const bb = encoder.backbone;
  const rng = Rng.derive(o.seed, 'fine-tune');
  const head = new Params();
  head.add('cls/w', [encoder.dim, K], 'glorot', Rng.derive(o.seed, 'fine-tune/head'));
  head.add('cls/b', [K], 'zeros', rng);
  if (o.headInit === 'probe') await probeInit(encoder, views, head, data, trainIdx, trainY, K, o.seed);

  const encVars = bb.params.trainable();
  const headVars = head.trainable();
  const adamCfg = { weightDecay: o.weightDecay, clip: o.clip, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
  const encOpt = encoderLr > 0 ? new AdamW(encVars, { ...adamCfg, lr: encoderLr }) : null;
  const headOpt = new AdamW(headVars, { ...adamCfg, lr: o.lr });
  const varList = [...(encOpt ? encVars : []), ...headVars].map(([, v]) => v);
  // Everything early stopping must put back: all encoder variables (batch-norm running statistics too) and the head.
  // Better = higher validation accuracy, or the same accuracy and a validation loss lower by ≥ 0.01 nats.
  const keeper = new BestWeights(
    [...bb.params.named().map(({ name, tensor }) => [`enc/${name}`, tensor as tf.Variable] as [string, tf.Variable]), ...headVars.map(([n, v]) => [`head/${n}`, v] as [string, tf.Variable])],
    [0, 0.01],
  );

  const f = options.fixmatch;
  const fm = f ? { ...resolveFixMatch({ tau: f.tau, mu: f.mu, lambdaU: f.lambdaU }), unlabelled: Int32Array.from(f.unlabelled) } : null;
  const planned = planSchedule(trainIdx.length, o);
  const replay = options.replay;
  if (replay && !(Number.isInteger(replay.stopAt) && replay.stopAt >= 1 && Number.isInteger(replay.totalSteps) && replay.totalSteps >= replay.stopAt)) {
    throw new Error(`replay: expected whole steps 1 ≤ stopAt ≤ totalSteps, got ${JSON.stringify(replay)}`);
  }
  const plan: Schedule = replay ? { ...planned, epochs: Math.ceil(replay.stopAt / planned.stepsPerEpoch), totalSteps: replay.totalSteps, noStopBefore: replay.stopAt } : planned;
  const stopAt = replay ? replay.stopAt : Infinity;
  const { batch, stepsPerEpoch } = plan;
  const total = plan.totalSteps;
  const warmup = Math.round(o.warmup * total);
  const sampler = new Sampler(trainIdx, Rng.derive(o.seed, 'fine-tune/order'));
  const uSampler = fm && fm.unlabelled.length > 0 ? new Sampler(fm.unlabelled, Rng.derive(o.seed, 'fine-tune/unlabelled')) : null;

  const validate = async (): Promise<{ acc: number; loss: number }> => {
    if (valIdx.length === 0) return { acc: NaN, loss: NaN };
    const lg = await logitsOf(head, views, data, valIdx, K, o.tta);
    let ok = 0;
    let loss = 0;
    for (let i = 0; i < valIdx.length; i++) {
      loss += logitsCrossEntropy(lg, i, K, valY[i]);
      if (rowArgmax(lg, i, K) === valY[i]) ok++;
    }
    return { acc: ok / valIdx.length, loss: loss / valIdx.length };
  };

  const history: EpochReport[] = [];
  const v0 = await validate();
  history.push({ epoch: 0, steps: 0, trainLoss: NaN, valAccuracy: v0.acc, valLoss: v0.loss });
  // With keep 'final' nothing is offered: no copies, no early stop, no restore.
  const selecting = valIdx.length > 0 && o.keep === 'best';
  if (selecting) keeper.offer(0, [v0.acc, -v0.loss]);
  let step = 0;
  let stoppedEarly = false;
  let epoch = 0;
  try {
    for (epoch = 1; epoch <= plan.epochs; epoch++) {
      let sum = 0;
      let passed = 0;
      let seen = 0;
      let stepsThisEpoch = 0;
      for (let s = 0; s < stepsPerEpoch && step < stopAt; s++) {
        if (options.signal?.aborted) throw new CancelledError(`fine-tuning cancelled in epoch ${epoch}`);
        const idx = sampler.next(batch);
        const y = Int32Array.from(idx, (i) => labelOf.get(i)!);
        let pseudo: { idx: Int32Array; labels: Int32Array; mask: Float32Array } | null = null;
        if (fm && uSampler) {
          const uIdx = uSampler.next(Math.max(1, Math.round(fm.mu * batch)));
          // Pseudo-labels from the weak view, outside the gradient tape (no gradient flows through them).
          const weak = tf.tidy(() => tf.softmax(dense(head, 'cls', views.forward(data, uIdx, 'weak', false, rng))));
          const probs = await weak.data();
          weak.dispose();
          const pl = pseudoLabels(probs, K, fm.tau);
          passed += pl.count;
          seen += uIdx.length;
          pseudo = { idx: uIdx, labels: pl.labels, mask: pl.mask };
        }
        const rate = lrAt(step, total, 1, warmup, 0);
        const lossT = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const logits = dense(head, 'cls', views.forward(data, idx, o.augment, true, rng));
            let loss = smoothedCrossEntropy(logits, y, o.labelSmoothing);
            if (pseudo && pseudo.mask.some((m) => m > 0)) {
              const strong = dense(head, 'cls', views.forward(data, pseudo.idx, 'strong', true, rng));
              loss = tf.add(loss, tf.mul(fixmatchUnlabelledLoss(strong, pseudo.labels, pseudo.mask), fm!.lambdaU)) as tf.Scalar;
            }
            return loss;
          }, varList);
          const pick = (vars: Array<[string, tf.Variable]>) => {
            const m = new Map<string, tf.Tensor>();
            for (const [n, v] of vars) if (grads[v.name]) m.set(n, grads[v.name]);
            return m;
          };
          encOpt?.apply(pick(encVars), encoderLr * rate);
          headOpt.apply(pick(headVars), o.lr * rate);
          return value;
        });
        const loss = (await lossT.data())[0];
        lossT.dispose();
        if (!Number.isFinite(loss)) throw new Error(`fine-tuning diverged at epoch ${epoch} step ${s + 1} (loss ${loss}); lower lr (now ${o.lr}) or encoderLr (now ${encoderLr})`);
        sum += loss;
        step++;
        stepsThisEpoch++;
        await new Promise((r) => setImmediate(r));
      }
      const v = await validate();
      const rep: EpochReport = { epoch, steps: step, trainLoss: sum / Math.max(1, stepsThisEpoch), valAccuracy: v.acc, valLoss: v.loss, ...(fm ? { pseudoLabelRate: seen ? passed / seen : 0 } : {}) };
      history.push(rep);
      options.onEpoch?.(rep);
      if (selecting) {
        keeper.offer(epoch, [v.acc, -v.loss]);
        if (epoch < plan.epochs && step >= plan.noStopBefore && epoch - keeper.bestEpoch >= o.patience) {
          stoppedEarly = true;
          break;
        }
      }
    }
    if (epoch > plan.epochs) epoch = plan.epochs;
    if (selecting) keeper.restore();
  } catch (e) {
    head.dispose();
    throw e;
  } finally {
    keeper.dispose();
    encOpt?.dispose();
    headOpt.dispose();
  }
  const model = new FineTunedClassifier(encoder, head, classes, views, 1, o.tta);
  let valAccuracy = NaN;
  if (valIdx.length > 0) {
    const lg = await model.logits(data, valIdx);
    valAccuracy = metricsFromProba(softmaxWithTemperature(lg, K, 1), classes, valY).accuracy;
    if (valIdx.length >= 10) model.temperature = fitTemperature(lg, K, valY);
  }
  return {
    model,
    history,
    bestEpoch: selecting ? keeper.bestEpoch : epoch,
    epochsRun: epoch,
    stoppedEarly,
    trainCount: trainIdx.length,
    valCount: valIdx.length,
    valAccuracy,
    schedule: plan,
    seconds: (performance.now() - t0) / 1000,
    settings: { ...o, encoderLr, fixmatch: fm ? { tau: fm.tau, mu: fm.mu, lambdaU: fm.lambdaU, unlabelled: fm.unlabelled.length } : null },
  };
}

/** LP-FT: the head starts as a linear probe (L2 logistic regression) fitted on the frozen features, its standardisation folded into W and b. */
async function probeInit(enc: SslEncoder, views: Views, head: Params, data: ModalityData, idx: Int32Array, y: Int32Array, K: number, seed: number): Promise<void> {
  const D = enc.dim;
  const x = new Float32Array(idx.length * D);
  const dummy = new Rng(0);
  for (let s = 0; s < idx.length; s += 256) {
    const part = idx.subarray(s, Math.min(idx.length, s + 256));
    const t = views.forward(data, part, 'none', false, dummy);
    x.set(await t.data(), s * D);
    t.dispose();
  }
  const feats = { rows: idx.length, dim: D, data: x };
  const m = fitLinearProbe(feats, y, K, { seed, lambda: searchLambda(feats, y, K, seed) });
  const W = new Float32Array(D * K);
  const b = new Float32Array(K);
  for (let c = 0; c < K; c++) {
    let bc = m.b[c];
    for (let d = 0; d < D; d++) {
      const w = m.W[d * K + c] / m.std[d];
      W[d * K + c] = w;
      bc -= m.mean[d] * w;
    }
    b[c] = bc;
  }
  tf.tidy(() => {
    head.get('cls/w').assign(tf.tensor2d(W, [D, K]));
    head.get('cls/b').assign(tf.tensor1d(b));
  });
}
