/**
 * Noisy-student self-training (Xie et al. 2020, "Self-training with Noisy Student improves
 * ImageNet classification", §2 and Algorithm 1), the offline counterpart of FixMatch
 * (src/train/fixmatch.ts, which pseudo-labels batch by batch inside one run):
 *
 *  1. the teacher — the classifier trained on the labelled items (whichever of the linear head and
 *     fine-tuning won on validation), trained WITHOUT the validation items — predicts the unlabelled
 *     pool (clean views, no augmentation);
 *  2. confident pseudo-labels are taken class-balanced: per predicted class the `perClass` most
 *     confident items whose top probability is ≥ `tau` (§3 "data balancing", here by capping only:
 *     items are never duplicated);
 *  3. the student — fine-tuned again from the same starting encoder (SSL or random init), with a
 *     noised input (strong augmentation), on the labelled training items plus the pseudo-labelled
 *     ones — and the teacher are compared on the same validation split; the student is kept only
 *     when it validates strictly better.
 *
 * The unlabelled pool is whatever the caller passes (the benchmark: training items outside the
 * labelled set; never test items). This file holds the selection arithmetic and the defaults;
 * src/train/train-classifier.ts runs the teacher → student sequence.
 */
import { Rng } from '../ssl/rng.ts';
import type { AugLevel } from './views.ts';
import { rowArgmax } from '../ml/rows.ts';

export interface NoisyStudentOptions {
  /** Confidence threshold on the teacher's calibrated top probability (default 0.9). */
  tau?: number;
  /** Most pseudo-labels per predicted class (default 400). */
  perClass?: number;
  /** The teacher predicts at most this many pool items, a seeded random subset (default 20,000). */
  poolLimit?: number;
  /** The student's training length in optimiser steps (default 1,200; its schedule's floor is the teacher's `minSteps`). */
  steps?: number;
  /** The student's input noise (default 'strong'). */
  augment?: AugLevel;
}

export const NOISY_STUDENT_DEFAULTS = { tau: 0.9, perClass: 400, poolLimit: 20000, steps: 1200, augment: 'strong' as AugLevel };

export interface PseudoLabelled {
  /** Chosen positions (a subset of the candidates), ascending. */
  idx: number[];
  /** Pseudo-label (class id) of each, in `idx`'s order. */
  y: number[];
  /** Chosen per class. */
  perClass: number[];
  /** Candidates whose top probability passed τ (before the per-class cap). */
  passed: number;
}

/**
 * Class-balanced confident pseudo-labels: `probs` holds one row of K class probabilities per
 * candidate (in `candidates`' order). Per arg-max class, the candidates with top probability ≥ τ,
 * most confident first (ties: lower position first), at most `perClass` of them. Candidates in
 * `exclude` are never chosen (the caller's labelled, validation and test positions: a guard
 * on top of passing only unlabelled training positions).
 */
export function selectPseudoLabels(
  probs: ArrayLike<number>,
  K: number,
  candidates: ArrayLike<number>,
  o: { tau: number; perClass: number; exclude?: ReadonlySet<number> },
): PseudoLabelled {
  if (probs.length !== candidates.length * K) throw new Error(`selectPseudoLabels: ${probs.length} probabilities for ${candidates.length} candidates × ${K} classes`);
  const byClass: Array<Array<{ pos: number; p: number }>> = Array.from({ length: K }, () => []);
  let passed = 0;
  for (let i = 0; i < candidates.length; i++) {
    const pos = candidates[i];
    if (o.exclude?.has(pos)) continue;
    const best = rowArgmax(probs, i, K);
    const p = probs[i * K + best];
    if (!(p >= o.tau)) continue;
    passed++;
    byClass[best].push({ pos, p });
  }
  const chosen: Array<{ pos: number; c: number }> = [];
  const perClass = byClass.map((rows, c) => {
    rows.sort((a, b) => b.p - a.p || a.pos - b.pos);
    const take = rows.slice(0, Math.max(0, o.perClass));
    for (const r of take) chosen.push({ pos: r.pos, c });
    return take.length;
  });
  chosen.sort((a, b) => a.pos - b.pos);
  return { idx: chosen.map((r) => r.pos), y: chosen.map((r) => r.c), perClass, passed };
}

/** A seeded subset of at most `limit` positions, in their original order. */
export function limitPool(pool: number[], limit: number, seed: number): number[] {
  if (pool.length <= limit) return pool.slice();
  const rng = Rng.derive(seed, 'noisy-student/pool');
  const keep = rng.permutation(pool.length).subarray(0, limit);
  return Array.from(keep)
    .sort((a, b) => a - b)
    .map((i) => pool[i]);
}
