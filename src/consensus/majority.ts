import { UserError } from '../core/errors.ts';
import { encodeAnswers, voteShares } from './encode.ts';
import { argmaxOrTie, buildResult } from './result.ts';
import { mulberry32, randomInt } from '../core/rng.ts';
import type { Encoded } from './encode.ts';
import type { Answer, ConsensusOptions, ConsensusResult, DenseConsensus } from './types.ts';

/**
 * How a tie for the most votes is settled.
 * - 'unresolved' (default): label null, confidence = the tied top share; the caller sends
 *   the item to review. Nothing is decided by chance.
 * - 'random': a uniformly random tied label from a seeded PRNG (mulberry32, `seed`,
 *   default 0). Items are visited in sorted id order, so the draw is reproducible.
 * - 'first': the tied label that comes first in the label order — `opts.labels` as given,
 *   else the sorted (UTF-16 code unit) order of the labels seen.
 */
export type TieRule = 'unresolved' | 'random' | 'first';

export interface MajorityOptions extends ConsensusOptions {
  ties?: TieRule;
  seed?: number;
}

/**
 * Majority vote (plurality): each item gets the label most of its annotators gave.
 *   posterior_i(k) = n_ik / Σ_c n_ic   (the vote shares), label_i = argmax_k n_ik.
 * Annotator accuracy = the share of their answers equal to the consensus label, counted
 * over resolved items only (no confusion matrix: majority vote has no annotator model).
 * Reported accuracies of majority vote depend on the tie rule: always state it.
 */
export function majority(answers: readonly Answer[], opts: MajorityOptions = {}): ConsensusResult {
  checkTies(opts);
  const e = encodeAnswers(answers, opts.labels);
  const { T, choice } = majorityDense(e, opts);
  const agree = new Float64Array(e.annotators.length);
  const counted = new Float64Array(e.annotators.length);
  const answered = new Int32Array(e.annotators.length);
  for (let a = 0; a < e.item.length; a++) {
    const w = e.annotator[a];
    answered[w]++;
    const c = choice[e.item[a]];
    if (c < 0) continue;
    counted[w]++;
    if (c === e.label[a]) agree[w]++;
  }
  return buildResult(e, T, choice, (w) => ({
    accuracy: counted[w] > 0 ? agree[w] / counted[w] : NaN,
    answered: answered[w],
  }));
}

function checkTies(opts: MajorityOptions): TieRule {
  const ties = opts.ties ?? 'unresolved';
  if (!['unresolved', 'random', 'first'].includes(ties)) {
    throw new UserError(`unknown tie rule "${ties}": expected 'unresolved', 'random' or 'first'`);
  }
  return ties;
}

/** Majority vote over encoded answers: vote shares and choices only (see majority). */
export function majorityDense(e: Encoded, opts: MajorityOptions = {}): DenseConsensus {
  const ties = checkTies(opts);
  const K = e.labels.length;
  const n = e.items.length;
  const T = voteShares(e);
  const rand = mulberry32(opts.seed ?? 0);
  const choice = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = argmaxOrTie(T, i, K);
    if (k >= 0 || ties === 'unresolved') {
      choice[i] = k;
      continue;
    }
    let top = 0;
    for (let c = 0; c < K; c++) top = Math.max(top, T[i * K + c]);
    const tied: number[] = [];
    for (let c = 0; c < K; c++) if (T[i * K + c] === top) tied.push(c);
    choice[i] = ties === 'first' ? tied[0] : tied[randomInt(rand, tied.length)];
  }
  return { T, choice };
}

export const aggregate = majority;
