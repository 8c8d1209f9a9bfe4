/**
 * The replica module of data-parallel pretraining (src/ml/parallel.ts loads it in every worker).
 * A replica rebuilds exactly what the calling thread trains — backbone, pretext heads, AdamW —
 * from a checkpoint folder the caller wrote (so fitted preprocessing, weights and optimiser
 * moments are identical everywhere), and computes the loss and gradients of its shard of each
 * batch. The combined gradient is applied through the same AdamW (clipping, weight decay and
 * the warm-up/cosine schedule included), so every replica stays bit-identical.
 */
import { tf } from '../ml/engine.ts';
import type { ReplicaContext, StepContext, Batch, LossAndGrads } from '../ml/parallel.ts';
import type { ModalityData } from './types.ts';
import { Rng } from './rng.ts';
import { lrAt } from './nn.ts';
import { METHODS } from './methods/index.ts';
import type { PretextTask } from './methods/method.ts';
import type { Backbone } from './encoders/backbone.ts';
import { SslEncoder, loadBackbone, readEncoderFile } from './encoder.ts';
import { loadTrainTensors, makeTrainer, readTrainState, writeCheckpoint, type Trainer, type TrainState } from './checkpoint.ts';

export interface SslReplicaConfig {
  /** Checkpoint folder (encoder + training state) every replica starts from. */
  init: string;
  data: ModalityData;
  pretext: string;
  seed: number;
  /** Optimiser steps taken before this trainer started (resume), for the schedule and the RNG. */
  stepOffset: number;
  totalSteps: number;
  lr: number;
  warmup: number;
}

/**
 * Trainable variables (optimiser order) and the non-trainable state a step changes (batch-norm
 * running statistics), in an order every replica and the calling thread agree on.
 */
export function replicaVariables(backbone: Backbone, task: PretextTask, trainer: Trainer): { trainable: tf.Variable[]; state: tf.Variable[] } {
  const trainable = trainer.vars.map(([, v]) => v);
  const own = new Set<tf.Tensor>(trainable);
  const state = [...backbone.params.named(), ...task.heads.named()].map((t) => t.tensor as tf.Variable).filter((v) => !own.has(v));
  return { trainable, state };
}

/** Row-major views of the image/audio data on SharedArrayBuffers: workers share, not copy, them. */
export function shareData(d: ModalityData): ModalityData {
  if (d.modality === 'image') {
    if (d.pixels.buffer instanceof SharedArrayBuffer) return d;
    const pixels = new Float32Array(new SharedArrayBuffer(d.pixels.byteLength));
    pixels.set(d.pixels);
    return { ...d, pixels };
  }
  if (d.modality === 'audio') {
    const total = d.waves.reduce((s, w) => s + w.length, 0);
    const buf = new SharedArrayBuffer(4 * total);
    let o = 0;
    const waves = d.waves.map((w) => {
      const v = new Float32Array(buf, 4 * o, w.length);
      v.set(w);
      o += w.length;
      return v;
    });
    return { ...d, waves };
  }
  return d;
}

export async function createReplica(c: SslReplicaConfig, _ctx: ReplicaContext) {
  const f = await readEncoderFile(c.init);
  const saved = await readTrainState(c.init);
  const backbone = await loadBackbone(c.init, f);
  const m = METHODS[c.pretext];
  if (!m) throw new Error(`unknown pretext ${c.pretext}`);
  const task = m.create(backbone, c.data, f.config, Rng.derive(c.seed, 'heads'));
  const trainer = makeTrainer(backbone, task, f.config);
  await loadTrainTensors(c.init, task, trainer, saved);
  const encoder = new SslEncoder(backbone, c.pretext, f.config, { init: 'pretrained', epochs: saved.epoch, seed: c.seed });
  const { trainable, state } = replicaVariables(backbone, task, trainer);
  const nameOf = new Map(trainer.vars.map(([n, v]) => [v.name, n]));
  let rate = c.lr;
  return {
    trainableVariables: trainable,
    stateVariables: state,
    optimizer: {
      // The trainer hands over the combined gradient by variable name; AdamW keys by checkpoint name.
      applyGradients(named: Record<string, tf.Tensor>) {
        trainer.optimizer.apply(new Map(Object.entries(named).map(([k, g]) => [nameOf.get(k)!, g])), rate);
      },
    } as unknown as tf.Optimizer,
    lossAndGrads(batch: Batch, ctx: StepContext): LossAndGrads {
      const idx = (batch.idx as { data: Int32Array }).data;
      const step = c.stepOffset + ctx.step;
      rate = lrAt(step, c.totalSteps, c.lr, c.warmup);
      // Augmentations depend on (seed, step, first row of the shard), not on which worker runs it.
      const rng = Rng.derive(c.seed, `step ${step} row ${ctx.shardOffset}`);
      const shard = task.coupled ? { rank: ctx.rank, allGather: ctx.allGather } : undefined;
      const [loss, ...grads] = tf.tidy(() => {
        const { value, grads: g } = tf.variableGrads(() => task.loss(idx, rng, shard), trainable);
        return [value, ...trainable.map((v) => g[v.name] ?? tf.zerosLike(v))];
      });
      return { loss: loss as tf.Scalar, grads, reduction: task.coupled ? 'sum' : 'mean' };
    },
    /** Writes a resumable checkpoint of this replica (called on rank 0 after each epoch). */
    async checkpoint(dir: string, s: TrainState) {
      encoder.info.epochs = s.epoch;
      await writeCheckpoint(dir, encoder, task, trainer, s);
    },
  };
}
