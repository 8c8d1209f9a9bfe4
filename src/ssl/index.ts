/**
 * Self-supervised pretraining: `pretrain` trains an encoder on unlabelled data with a pretext
 * task, `loadEncoder` reads one back, `randomEncoder` gives the same architecture untrained
 * (the probe's baseline). Layout after LightlySSL: encoders/, transforms/ (views), heads/,
 * losses/, and methods/ composing them; train.ts is the shared loop.
 */
import { UserError } from '../core/errors.ts';
import type { Modality } from '../core/modality.ts';
import { initEngine } from '../ml/engine.ts';
import type { Encoder, ModalityData, PretrainOptions, PretrainResult } from './types.ts';
import { mergeConfig, sub, type Config } from './config.ts';
import { Rng } from './rng.ts';
import { KITS } from './encoders/index.ts';
import { METHODS } from './methods/index.ts';
import type { PretextMethod } from './methods/method.ts';
import { SslEncoder, loadBackbone, readEncoderFile } from './encoder.ts';
import { trainLoop, trainLoopParallel } from './train.ts';
import { STATE_FORMAT, loadTrainTensors, makeTrainer, readTrainState, type TrainState } from './checkpoint.ts';

export type { Encoder, ModalityData, PretrainOptions, PretrainResult } from './types.ts';

export interface PretextInfo {
  modality: Modality;
  description: string;
  /** Full default config (`encoder`, `optim` and the method's own settings). */
  defaults: Config;
}

/** Pretext name → modality, description, default config. */
export const PRETEXTS: Readonly<Record<string, PretextInfo>> = Object.freeze(
  Object.fromEntries(
    Object.values(METHODS).map((m) => [m.name, Object.freeze({ modality: m.modality, description: m.description, defaults: structuredClone(m.defaults) })]),
  ),
);

const DEFAULT_PRETEXT: Record<Modality, string> = {
  text: 'mlm',
  image: 'simclr',
  audio: 'audio-contrastive',
  tabular: 'vime',
};

/** Names of the pretexts for `modality`, in registry order. */
export function pretextsFor(modality: Modality): string[] {
  return Object.values(METHODS).filter((m) => m.modality === modality).map((m) => m.name);
}

/** The pretext used when none is chosen. */
export function defaultPretext(modality: Modality): string {
  const p = DEFAULT_PRETEXT[modality];
  if (!p) throw new UserError(`no pretext task for modality ${JSON.stringify(modality)}`);
  return p;
}

function method(pretext: string, data: ModalityData): PretextMethod {
  const m = METHODS[pretext];
  if (!m) throw new UserError(`unknown pretext ${JSON.stringify(pretext)}; known: ${Object.keys(METHODS).join(', ')}`);
  if (m.modality !== data.modality) {
    const options = pretextsFor(data.modality);
    throw new UserError(`pretext ${pretext} is for ${m.modality} data, this data is ${data.modality}; use one of: ${options.join(', ') || '(none)'}`);
  }
  const kit = KITS[m.modality];
  if (!kit) throw new UserError(`no encoder for modality ${m.modality} yet`);
  return m;
}

function checkOptions(opts: PretrainOptions): void {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new UserError(`epochs must be a positive integer, got ${opts.epochs}`);
  if (!Number.isInteger(opts.batch) || opts.batch < 1) throw new UserError(`batch must be a positive integer, got ${opts.batch}`);
  if (!Number.isFinite(opts.seed)) throw new UserError(`seed must be a number, got ${opts.seed}`);
  if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 0)) {
    throw new UserError(`workers must be a non-negative integer, got ${opts.workers}`);
  }
}

export async function pretrain(data: ModalityData, opts: PretrainOptions): Promise<PretrainResult> {
  await initEngine();
  checkOptions(opts);
  const m = method(opts.pretext, data);
  const kit = KITS[m.modality]!;
  let encoder: SslEncoder;
  let state: TrainState;
  let cfg: Config;
  if (opts.resumeFrom) {
    const f = await readEncoderFile(opts.resumeFrom);
    const saved = await readTrainState(opts.resumeFrom);
    if (f.pretext !== opts.pretext || saved.pretext !== opts.pretext) {
      throw new UserError(`resumeFrom ${opts.resumeFrom} holds a ${f.pretext} checkpoint, not ${opts.pretext}`);
    }
    cfg = f.config;
    if (opts.config !== undefined && JSON.stringify(mergeConfig(m.defaults, opts.config)) !== JSON.stringify(cfg)) {
      throw new UserError(`resumeFrom ${opts.resumeFrom}: config differs from the checkpoint's; omit config to continue with the saved one`);
    }
    if (saved.seed !== opts.seed) throw new UserError(`resumeFrom ${opts.resumeFrom}: it was trained with seed ${saved.seed}, not ${opts.seed}`);
    const backbone = await loadBackbone(opts.resumeFrom, f);
    encoder = new SslEncoder(backbone, opts.pretext, cfg, { init: 'pretrained', epochs: saved.epoch, seed: opts.seed });
    state = saved;
  } else {
    cfg = mergeConfig(m.defaults, opts.config);
    const rng = Rng.derive(opts.seed, 'init');
    const backbone = kit.create(data, sub(cfg, 'encoder'), rng);
    encoder = new SslEncoder(backbone, opts.pretext, cfg, { init: 'pretrained', epochs: 0, seed: opts.seed });
    state = {
      format: STATE_FORMAT,
      pretext: opts.pretext,
      epoch: 0,
      step: 0,
      rng: Rng.derive(opts.seed, 'train').state(),
      losses: [],
      seconds: 0,
      seed: opts.seed,
      batch: opts.batch,
      epochs: opts.epochs,
    };
  }
  const task = m.create(encoder.backbone, data, cfg, Rng.derive(opts.seed, 'heads'));
  const trainer = makeTrainer(encoder.backbone, task, cfg);
  try {
    if (opts.resumeFrom) await loadTrainTensors(opts.resumeFrom, task, trainer, state);
    const n = encoder.backbone.count(data);
    const args = { encoder, task, trainer, cfg, n, minBatch: m.minBatch, opts, state };
    state = (opts.workers ?? 1) > 1 ? await trainLoopParallel({ ...args, data, workers: opts.workers! }) : await trainLoop(args);
  } catch (e) {
    encoder.dispose();
    throw e;
  } finally {
    task.dispose();
    trainer.optimizer.dispose();
  }
  return { encoder, finalLoss: state.losses.at(-1) ?? NaN, losses: state.losses, epochs: state.epoch, seconds: state.seconds };
}

export async function loadEncoder(dir: string): Promise<Encoder> {
  await initEngine();
  const f = await readEncoderFile(dir);
  const backbone = await loadBackbone(dir, f);
  return new SslEncoder(backbone, f.pretext, f.config, { init: f.init, epochs: f.epochs, seed: f.seed });
}

/**
 * The architecture `pretext` would train, with random weights from `seed`: the baseline that
 * tells whether pretraining helped. Data-fitted preprocessing (tokenizer, standardisation,
 * log-mel statistics) and batch-norm running statistics are fitted on `data` as for pretraining,
 * so the comparison isolates the learned weights.
 */
export async function randomEncoder(data: ModalityData, opts: { pretext: string; seed: number; config?: Record<string, unknown> }): Promise<Encoder> {
  await initEngine();
  const m = method(opts.pretext, data);
  const cfg = mergeConfig(m.defaults, opts.config);
  const backbone = KITS[m.modality]!.create(data, sub(cfg, 'encoder'), Rng.derive(opts.seed, 'init'));
  await backbone.calibrate?.(data, Rng.derive(opts.seed, 'calibrate'));
  return new SslEncoder(backbone, opts.pretext, cfg, { init: 'random', epochs: 0, seed: opts.seed });
}
