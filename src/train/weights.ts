/** Copies of model weights: early stopping's best weights, and an encoder's starting weights to go back to. */
import { tf } from '../ml/engine.ts';
import type { Encoder } from '../ssl/types.ts';
import { SslEncoder } from '../ssl/encoder.ts';

/**
 * Keeps a copy of the variables at their best score so far and puts it back on `restore`
 * (early stopping's "restore best weights"). Scores compare lexicographically.
 */
export class BestWeights {
  private saved: Map<string, tf.Tensor> | null = null;
  bestScore: number[] | null = null;
  bestEpoch = -1;

  /** `minDelta[i]`: how much component i must grow to count as better (ties go to the next component). */
  constructor(
    private readonly vars: Array<[string, tf.Variable]>,
    private readonly minDelta: number[] = [],
  ) {}

  better(a: number[], b: number[] | null): boolean {
    if (!b) return true;
    for (let i = 0; i < a.length; i++) {
      const d = Math.max(1e-12, this.minDelta[i] ?? 0);
      if (a[i] > b[i] + d) return true;
      if (a[i] < b[i] - 1e-12) return false;
    }
    return false;
  }

  /** Records `score` for `epoch`; keeps a copy of the weights when it is the best so far. */
  offer(epoch: number, score: number[]): boolean {
    if (!this.better(score, this.bestScore)) return false;
    this.release();
    this.saved = new Map(this.vars.map(([n, v]) => [n, tf.clone(v)]));
    this.bestScore = score;
    this.bestEpoch = epoch;
    return true;
  }

  restore(): void {
    if (!this.saved) return;
    for (const [n, v] of this.vars) v.assign(this.saved.get(n)!);
  }

  private release(): void {
    if (this.saved) for (const t of this.saved.values()) t.dispose();
    this.saved = null;
  }

  dispose(): void {
    this.release();
  }
}

/**
 * A copy of every encoder variable (batch-norm statistics too), to put the encoder back as it
 * was before a fine-tuning run: cheaper than loading it again, and the backbone keeps its
 * per-data caches (tokenised texts, spectrograms).
 */
export function snapshotEncoder(encoder: Encoder): { restore(): void; dispose(): void } {
  if (!(encoder instanceof SslEncoder)) throw new Error('snapshotEncoder needs an encoder from src/ssl');
  const keeper = new BestWeights(encoder.backbone.params.named().map(({ name, tensor }) => [name, tensor as tf.Variable] as [string, tf.Variable]));
  keeper.offer(0, [0]);
  return { restore: () => keeper.restore(), dispose: () => keeper.dispose() };
}
