/**
 * The pretraining loop shared by every pretext method: seeded batch order, AdamW with warm-up
 * + cosine schedule, abort between steps, per-epoch callback and checkpoint, exact resume.
 *
 * Exactness of resume: a checkpoint stores the weights, the heads, AdamW's moments and step,
 * and the RNG state at the end of the epoch; a resumed run therefore draws the same batch
 * orders, augmentations and dropout masks as an uninterrupted one (up to the wasm kernels
 * being deterministic, which they are single-threaded).
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { createParallelTrainer, type ParallelTrainer } from '../ml/parallel.ts';
import { tf } from '../ml/engine.ts';
import { CancelledError } from '../core/errors.ts';
import type { ModalityData, PretrainOptions } from './types.ts';
import { replicaVariables, shareData, type SslReplicaConfig } from './replica.ts';
import { writeCheckpoint, type Trainer, type TrainState } from './checkpoint.ts';
import { num, sub, type Config } from './config.ts';
import { lrAt } from './nn.ts';
import { Rng } from './rng.ts';
import type { PretextTask } from './methods/method.ts';
import type { SslEncoder } from './encoder.ts';

export interface LoopArgs {
  encoder: SslEncoder;
  task: PretextTask;
  trainer: Trainer;
  cfg: Config;
  n: number;
  minBatch: number;
  opts: PretrainOptions;
  /** Where to start (fresh: epoch 0). */
  state: TrainState;
}

/** Batch size, steps and schedule of a run (shared by the serial and the data-parallel loop). */
function plan(a: LoopArgs) {
  const { opts, n } = a;
  const batch = Math.min(n, Math.max(a.minBatch, Math.floor(opts.batch)));
  if (n < a.minBatch) throw new Error(`${opts.pretext} needs at least ${a.minBatch} items, got ${n}`);
  const stepsPerEpoch = Math.max(1, Math.floor(n / batch));
  const total = stepsPerEpoch * opts.epochs;
  const o = sub(a.cfg, 'optim');
  const lr = num(o, 'lr');
  const warmup = Math.round(num(o, 'warmup', { min: 0, max: 1, where: 'config.optim' }) * total);
  const state: TrainState = { ...a.state, losses: [...a.state.losses], batch, epochs: opts.epochs };
  const check = (where: string) => {
    if (opts.signal?.aborted) throw new CancelledError(`pretraining (${opts.pretext}) cancelled ${where}`);
  };
  const diverged = (epoch: number, s: number, loss: number) =>
    new Error(`pretraining (${opts.pretext}) diverged at epoch ${epoch} step ${s + 1}: loss is ${loss}; lower config.optim.lr (now ${lr})`);
  /** Records a finished epoch in `state`, checkpoints it with `save` (when asked to) and reports it. */
  const endEpoch = async (epoch: number, sum: number, t0: number, rng: Rng, save: (dir: string) => Promise<unknown>) => {
    const seconds = (performance.now() - t0) / 1000;
    state.epoch = epoch;
    state.losses.push(sum / stepsPerEpoch);
    state.seconds += seconds;
    state.rng = rng.state();
    a.encoder.info.epochs = epoch;
    if (opts.checkpointDir) await save(opts.checkpointDir);
    await opts.onEpoch?.({ epoch, loss: sum / stepsPerEpoch, seconds });
  };
  return { batch, stepsPerEpoch, total, lr, warmup, state, check, diverged, endEpoch };
}

/** Runs epochs state.epoch+1 … opts.epochs; returns the final state. */
export async function trainLoop(a: LoopArgs): Promise<TrainState> {
  const { task, trainer, opts, n } = a;
  const { batch, stepsPerEpoch, total, lr, warmup, state, check, diverged, endEpoch } = plan(a);
  const rng = new Rng(a.state.rng);
  const varList = trainer.vars.map(([, v]) => v);
  for (let epoch = state.epoch + 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    let perm = rng.permutation(n);
    if (task.arrange) perm = task.arrange(perm, batch, rng);
    let sum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      check(`in epoch ${epoch}, before step ${s + 1}/${stepsPerEpoch}`);
      const idx = perm.subarray(s * batch, (s + 1) * batch);
      const rate = lrAt(state.step, total, lr, warmup);
      const lossT = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => task.loss(idx, rng), varList);
        const named = new Map<string, tf.Tensor>();
        for (const [name, v] of trainer.vars) if (grads[v.name]) named.set(name, grads[v.name]);
        trainer.optimizer.apply(named, rate);
        return value;
      });
      const loss = (await lossT.data())[0];
      lossT.dispose();
      if (!Number.isFinite(loss)) throw diverged(epoch, s, loss);
      sum += loss;
      state.step++;
      await new Promise((r) => setImmediate(r));
    }
    await endEpoch(epoch, sum, t0, rng, (dir) => writeCheckpoint(dir, a.encoder, task, trainer, state));
  }
  return state;
}

/**
 * The same loop, data-parallel over `workers` threads (src/ml/parallel.ts with src/ssl/replica.ts):
 * the batch order comes from this thread's RNG exactly as in `trainLoop`; each worker computes its
 * contiguous shard (contrastive losses all-gather the other shards' projections), gradients are
 * combined in a fixed order and applied by every replica. Per-shard batch-norm statistics and
 * per-shard augmentation streams make results depend on the worker count (as PyTorch DDP without
 * SyncBN), never on timing. Checkpoints are written by worker 0 in the usual format, so a run can
 * be resumed with any worker count.
 */
export async function trainLoopParallel(a: LoopArgs & { data: ModalityData; workers: number }): Promise<TrainState> {
  const { opts, n } = a;
  const { batch, stepsPerEpoch, total, lr, warmup, state, check, diverged, endEpoch } = plan(a);
  if (batch < a.workers) throw new Error(`batch ${batch} cannot be split over ${a.workers} workers`);
  const rng = new Rng(a.state.rng);
  const init = await mkdtemp(join(tmpdir(), 'tessera-replica-'));
  let trainer: ParallelTrainer | undefined;
  try {
    await writeCheckpoint(init, a.encoder, a.task, a.trainer, state);
    const config: SslReplicaConfig = { init, data: shareData(a.data), pretext: opts.pretext, seed: opts.seed, stepOffset: state.step, totalSteps: total, lr, warmup };
    trainer = await createParallelTrainer({ module: new URL('./replica.ts', import.meta.url), config, workers: a.workers });
    for (let epoch = state.epoch + 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      let perm = rng.permutation(n);
      if (a.task.arrange) perm = a.task.arrange(perm, batch, rng);
      let sum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        check(`in epoch ${epoch}, before step ${s + 1}/${stepsPerEpoch}`);
        const idx = perm.slice(s * batch, (s + 1) * batch);
        const { loss } = await trainer.step({ idx: { data: idx, shape: [idx.length] } });
        if (!Number.isFinite(loss)) throw diverged(epoch, s, loss);
        sum += loss;
        state.step++;
      }
      await endEpoch(epoch, sum, t0, rng, (dir) => trainer!.call('checkpoint', [dir, state], 0));
    }
    // Bring the trained weights (and running statistics) back into this thread's encoder.
    const weights = await trainer.getWeights();
    const { trainable, state: stateVars } = replicaVariables(a.encoder.backbone, a.task, a.trainer);
    const vars = [...trainable, ...stateVars];
    if (weights.length !== vars.length) throw new Error(`replica returned ${weights.length} weight arrays for ${vars.length} variables`);
    tf.tidy(() => vars.forEach((v, i) => v.assign(tf.tensor(weights[i], v.shape))));
    a.trainer.optimizer.step = state.step;
  } finally {
    await trainer?.close();
    await rm(init, { recursive: true, force: true });
  }
  return state;
}
