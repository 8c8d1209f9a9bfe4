/**
 * A pretraining run's optimiser state and its checkpoints: what the loop (train.ts) and each
 * data-parallel replica (replica.ts) both need, kept apart so neither imports the other for it.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { tf } from '../ml/engine.ts';
import type { RngState } from './rng.ts';
import { num, sub, type Config } from './config.ts';
import { AdamW } from './nn.ts';
import { disposeMap, loadTensors, readJson, saveTensors, writeJson } from './io.ts';
import type { Backbone } from './encoders/backbone.ts';
import type { PretextTask } from './methods/method.ts';
import type { SslEncoder } from './encoder.ts';

export const STATE_FORMAT = 'tessera-ssl-train-state';

export interface TrainState {
  format: typeof STATE_FORMAT;
  pretext: string;
  /** Epochs completed. */
  epoch: number;
  /** Optimiser steps taken. */
  step: number;
  /** RNG state after `epoch` epochs. */
  rng: RngState;
  losses: number[];
  /** Training seconds so far. */
  seconds: number;
  seed: number;
  batch: number;
  epochs: number;
}

export interface Trainer {
  optimizer: AdamW;
  /** Optimised variables with checkpoint names (`enc/…`, `head/…`). */
  vars: Array<[string, tf.Variable]>;
}

export function makeTrainer(backbone: Backbone, task: PretextTask, cfg: Config): Trainer {
  const o = sub(cfg, 'optim');
  const vars: Array<[string, tf.Variable]> = [
    ...backbone.params.trainable().map(([n, v]) => [`enc/${n}`, v] as [string, tf.Variable]),
    ...task.heads.trainable().map(([n, v]) => [`head/${n}`, v] as [string, tf.Variable]),
  ];
  const optimizer = new AdamW(vars, {
    lr: num(o, 'lr', { min: 0, where: 'config.optim' }),
    weightDecay: num(o, 'weightDecay', { min: 0, where: 'config.optim' }),
    clip: num(o, 'clip', { min: 0, where: 'config.optim' }),
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
  });
  return { optimizer, vars };
}

/**
 * Writes a complete checkpoint into `<dir>.next`, then swaps it in for `dir` (two renames), so
 * `dir` always holds one consistent epoch — never weights of epoch k+1 with the state of k.
 */
export async function writeCheckpoint(dir: string, encoder: SslEncoder, task: PretextTask, trainer: Trainer, state: TrainState): Promise<void> {
  const next = `${dir}.next`;
  const prev = `${dir}.prev`;
  await rm(next, { recursive: true, force: true });
  await encoder.save(next);
  const tdir = join(next, 'train');
  await mkdir(tdir, { recursive: true });
  const heads = task.heads.named().map(({ name, tensor }) => ({ name: `head/${name}`, tensor }));
  await saveTensors(tdir, [...heads, ...trainer.optimizer.named()], { tessera: STATE_FORMAT, pretext: state.pretext }, STATE_FORMAT);
  await writeJson(join(tdir, 'state.json'), state);
  await rm(prev, { recursive: true, force: true });
  if (existsSync(dir)) await rename(dir, prev);
  await rename(next, dir);
  await rm(prev, { recursive: true, force: true });
}

/** Reads the training state of a checkpoint folder (throws a precise error when absent). */
export async function readTrainState(dir: string): Promise<TrainState> {
  const s = await readJson<TrainState>(join(dir, 'train', 'state.json'), 'resume').catch((e: Error) => {
    throw new Error(`${e.message}; resumeFrom needs a folder written with checkpointDir (Encoder.save alone writes no training state)`);
  });
  if (s.format !== STATE_FORMAT) throw new Error(`${join(dir, 'train', 'state.json')} is not a Tessera training state`);
  return s;
}

/** Loads heads and optimiser moments saved by `writeCheckpoint`. */
export async function loadTrainTensors(dir: string, task: PretextTask, trainer: Trainer, state: TrainState): Promise<void> {
  const { tensors } = await loadTensors(join(dir, 'train'));
  try {
    task.heads.assign(tensors, 'head/');
    trainer.optimizer.load(tensors, state.step);
  } finally {
    disposeMap(tensors);
  }
}
