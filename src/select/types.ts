import type { Features } from '../probe/features.ts';

/**
 * The candidates a strategy chooses from: unlabelled, unassigned, non-duplicate items (the
 * caller excludes the rest). Row i of `embeddings`/`probs` belongs to `ids[i]`.
 */
export interface Pool {
  ids: number[];
  /** Encoder embeddings, one row per candidate (diversity and cold-start strategies). */
  embeddings?: Features;
  /** Model class probabilities, rows × classes (uncertainty strategies). */
  probs?: { rows: number; classes: number; data: Float64Array };
}

export interface SelectContext {
  seed: number;
  /** Embeddings of the already labelled items (core-set and cold start treat them as covered). */
  labelled?: Features;
}

/** Every strategy honours this contract: choose k candidate ids, best first. */
export type Strategy = (pool: Pool, k: number, ctx: SelectContext) => number[];
