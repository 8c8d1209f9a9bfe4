/** A fine-tuning run's step plan and its seeded batch order. */
import type { Rng } from '../ssl/rng.ts';

export interface Schedule {
  /** Batch actually used (capped at the training split's size). */
  batch: number;
  stepsPerEpoch: number;
  /** Epochs planned: at least `epochs`, more when `minSteps` needs them. */
  epochs: number;
  /** Steps the warm-up + cosine schedule spans (epochs × stepsPerEpoch). */
  totalSteps: number;
  /** Steps that run whatever the validation score does: early stopping may end the run only after this many. */
  noStopBefore: number;
}

/**
 * The step plan of a fine-tuning run on `trainCount` items: an epoch is one pass (at least
 * `minStepsPerEpoch` steps); the plan is `epochs` epochs, or more when `minSteps` needs them.
 */
export function planSchedule(trainCount: number, o: { epochs: number; batch: number; minStepsPerEpoch: number; minSteps: number }): Schedule {
  const batch = Math.max(1, Math.min(o.batch, trainCount));
  const stepsPerEpoch = Math.max(1, o.minStepsPerEpoch, Math.ceil(trainCount / batch));
  const epochs = o.epochs === 0 ? 0 : Math.max(o.epochs, Math.ceil(o.minSteps / stepsPerEpoch));
  return { batch, stepsPerEpoch, epochs, totalSteps: epochs * stepsPerEpoch, noStopBefore: Math.min(o.minSteps, epochs * stepsPerEpoch) };
}

/** Endless seeded batches over `items`: a fresh permutation each pass. */
export class Sampler {
  private order: Int32Array;
  private at = 0;
  constructor(
    private readonly items: Int32Array,
    private readonly rng: Rng,
  ) {
    this.order = this.shuffle();
  }
  private shuffle(): Int32Array {
    const p = this.rng.permutation(this.items.length);
    return Int32Array.from(p, (i) => this.items[i]);
  }
  next(k: number): Int32Array {
    const out = new Int32Array(k);
    for (let i = 0; i < k; i++) {
      if (this.at >= this.order.length) {
        this.order = this.shuffle();
        this.at = 0;
      }
      out[i] = this.order[this.at++];
    }
    return out;
  }
}
