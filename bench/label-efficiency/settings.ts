/**
 * The arms' training settings, derived (and checked) from the options the same way in this
 * process and in every worker job, and the schedule numbers that follow from them.
 */
import { UserError } from '../../src/core/errors.ts';
import { STRATEGIES } from '../../src/select/index.ts';
import type { LabelEfficiencyOptions } from '../../src/cli/label-efficiency-contract.ts';
import { FINE_TUNE_DEFAULTS, TRAIN_METHODS, resolveFixMatch, type FixMatchOptions, type NoisyStudentOptions, type TrainMethod } from './train-api.ts';

/** What a job needs to run tasks: the options without the log (a worker gets them as data). */
export type ArmOptions = Omit<LabelEfficiencyOptions, 'log'>;

/**
 * The benchmark's training budget floor per fine-tuning epoch asked for: every run is planned for
 * at least this × `epochs` steps of batch 32 (1,200 at the default 30 epochs ≈ 80 passes over 480
 * training labels), whatever its labelled set's size.
 */
export const BENCH_STEPS_PER_EPOCH = 40;

export interface ArmSettings {
  sslRatio: number;
  refit: boolean;
  ensemble: number;
  keep: 'best' | 'final';
  trainMethod: TrainMethod;
  selectWith: 'head' | 'model';
  fixmatchSettings: ReturnType<typeof resolveFixMatch>;
  epochs: number;
  minSteps: number;
  nsEnabled: boolean;
  nsOptions: NoisyStudentOptions;
}

/** Refuses options that are out of range or do not combine (before any data is read). */
function checkOptions(opts: ArmOptions): void {
  if (!STRATEGIES[opts.strategy]) throw new UserError(`unknown strategy "${opts.strategy}" (known: ${Object.keys(STRATEGIES).join(', ')})`);
  if (!Number.isInteger(opts.budget) || opts.budget < 2) throw new UserError(`--budget expects a whole number ≥ 2, got ${opts.budget}`);
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new UserError(`--rounds expects a whole number ≥ 1, got ${opts.rounds}`);
  const sslRatio = opts.sslEncoderLrRatio ?? 0.1;
  if (!(sslRatio >= 0 && sslRatio <= 10)) throw new UserError(`--ssl-encoder-lr expects a ratio between 0 and 10, got ${opts.sslEncoderLrRatio}`);
  if (opts.refit && opts.noisyStudent) throw new UserError('--refit and --noisy-student do not combine: the student is judged on the validation items a refit trains on');
  const ensemble = opts.ensemble ?? 0;
  if (!Number.isInteger(ensemble) || ensemble < 0 || ensemble > 8) throw new UserError(`--ensemble expects a whole number of fine-tuned models from 1 to 8, got ${opts.ensemble}`);
  if (ensemble && opts.noisyStudent) throw new UserError('--ensemble and --noisy-student do not combine: the student replaces one model of the ensemble');
  if (opts.priorShift && opts.noisyStudent) throw new UserError('--prior-shift and --noisy-student do not combine: the report compares the student with a teacher whose probabilities were not corrected');
  if (opts.pretext !== undefined && opts.encoderDir !== undefined) throw new UserError('give --pretext or --encoder, not both: a saved encoder has its own pretext');
  const keep = opts.keep ?? 'final';
  if (keep !== 'best' && keep !== 'final') throw new UserError(`--keep expects best or final, got ${JSON.stringify(opts.keep)}`);
  const trainMethod = opts.train ?? 'auto';
  if (!(TRAIN_METHODS as readonly string[]).includes(trainMethod)) throw new UserError(`--method expects ${TRAIN_METHODS.join('|')}, got ${JSON.stringify(opts.train)}`);
  if (opts.ensembleScratch && !ensemble) throw new UserError('--ensemble-scratch adds a member to the ensemble candidate: it needs --ensemble');
  if (ensemble && trainMethod !== 'auto') throw new UserError(`--ensemble needs --method auto (the average competes with both models on validation), got --method ${trainMethod}`);
  const selectWith = opts.selectWith ?? 'head';
  if (selectWith !== 'head' && selectWith !== 'model') throw new UserError(`--select-with expects head or model, got ${JSON.stringify(opts.selectWith)}`);
}

const fixmatchFlag = (f: keyof FixMatchOptions) => `--fixmatch-${f === 'lambdaU' ? 'lambda-u' : f}`;

/** FixMatch's resolved settings; its μ/τ only with FixMatch on. */
function fixmatchOf(opts: ArmOptions): ReturnType<typeof resolveFixMatch> {
  const setFixmatch = Object.entries(opts.fixmatchSettings ?? {}).filter(([, v]) => v !== undefined);
  if (!opts.fixmatch && setFixmatch.length) throw new UserError(`${setFixmatch.map(([k]) => fixmatchFlag(k as keyof FixMatchOptions)).join(', ')} needs --fixmatch`);
  if (opts.fixmatch !== true && opts.fixmatch !== false && opts.fixmatch !== 'final') throw new UserError(`--fixmatch expects all or final, got ${String(opts.fixmatch)}`);
  return resolveFixMatch(opts.fixmatchSettings, fixmatchFlag);
}

export function armSettings(opts: ArmOptions): ArmSettings {
  checkOptions(opts);
  const fixmatchSettings = fixmatchOf(opts);
  const epochs = opts.epochs ?? FINE_TUNE_DEFAULTS.epochs;
  const minSteps = opts.minSteps ?? BENCH_STEPS_PER_EPOCH * epochs;
  if (!Number.isInteger(minSteps) || minSteps < 0) throw new UserError(`--min-steps expects a whole number ≥ 0, got ${opts.minSteps}`);
  return {
    sslRatio: opts.sslEncoderLrRatio ?? 0.1,
    refit: Boolean(opts.refit),
    ensemble: opts.ensemble ?? 0,
    keep: opts.keep ?? 'final',
    trainMethod: opts.train ?? 'auto',
    selectWith: opts.selectWith ?? 'head',
    fixmatchSettings,
    epochs,
    minSteps,
    nsEnabled: Boolean(opts.noisyStudent),
    nsOptions: typeof opts.noisyStudent === 'object' ? opts.noisyStudent : {},
  };
}

/** Cumulative labels after each round: budget split evenly over `rounds`, the last round takes the rest. */
export function roundSizes(budget: number, rounds: number): number[] {
  const out: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const n = Math.round((budget * r) / rounds);
    if (n > (out.at(-1) ?? 0)) out.push(n);
  }
  return out;
}

/** full_supervised's fine-tuning epochs: --full-epochs, else as many as fit in `fullSteps` optimiser steps (at least 2, at most `epochs`). */
export function fullSchedule(opts: ArmOptions, poolSize: number, epochs: number): { fullEpochs: number; fullSteps: number } {
  const fullSteps = opts.fullSteps ?? 600;
  const fullTrain = Math.round(poolSize * (1 - FINE_TUNE_DEFAULTS.valFraction));
  return { fullSteps, fullEpochs: opts.fullEpochs ?? Math.max(2, Math.min(epochs, Math.ceil((fullSteps * FINE_TUNE_DEFAULTS.batch) / Math.max(1, fullTrain)))) };
}
