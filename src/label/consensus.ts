import { dawidSkene, glad, majority, oneCoin, type Answer, type ConsensusResult, type DenseConsensus, type TieRule } from '../consensus/index.ts';
import { dawidSkeneDense } from '../consensus/dawid-skene.ts';
import type { Encoded } from '../consensus/encode.ts';
import { gladDense } from '../consensus/glad.ts';
import { majorityDense } from '../consensus/majority.ts';
import { oneCoinDense } from '../consensus/one-coin.ts';
import { dict } from '../core/dict.ts';
import { UserError } from '../core/errors.ts';

/**
 * Consensus for labelling projects, on top of the pure methods in src/consensus/: picks the
 * method, reduces multi-label answers to one yes/no question per label, and judges whether an
 * item's result is final or needs a reviewer.
 */
export const METHOD_NAMES = ['majority', 'dawid-skene', 'one-coin', 'glad'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface ConsensusSettings {
  method: MethodName;
  /** Majority vote only (model-based methods leave exact ties unresolved). */
  tie: TieRule;
  seed: number;
}

/** One annotator's label set for one item. */
export interface LabelAnswer {
  item: string;
  annotator: string;
  labels: string[];
}

export interface ItemConsensus {
  /** null = unresolved (a tie): a reviewer decides. */
  labels: string[] | null;
  /** Single-label: the top posterior; multi-label: the lowest over the per-label decisions. */
  confidence: number;
  /** Single-label: P(label); multi-label: P(label applies). No prototype: any label name is a key (src/core/dict.ts). */
  posterior: Record<string, number>;
}

export function runMethod(answers: readonly Answer[], labelSet: readonly string[], s: ConsensusSettings): ConsensusResult {
  const opts = { labels: labelSet };
  switch (s.method) {
    case 'majority':
      return majority(answers, { ...opts, ties: s.tie, seed: s.seed });
    case 'dawid-skene':
      return dawidSkene(answers, opts);
    case 'one-coin':
      return oneCoin(answers, opts);
    case 'glad':
      return glad(answers, opts);
    default:
      throw new UserError(`unknown consensus method "${String(s.method)}": expected ${METHOD_NAMES.join('|')}`);
  }
}

/** As runMethod, over answers already encoded (src/label/recompute.ts): posteriors and choices, no Maps. */
export function runMethodDense(e: Encoded, s: ConsensusSettings): DenseConsensus {
  const opts = { labels: e.labels };
  switch (s.method) {
    case 'majority':
      return majorityDense(e, { ...opts, ties: s.tie, seed: s.seed });
    case 'dawid-skene':
      return dawidSkeneDense(e, opts);
    case 'one-coin':
      return oneCoinDense(e, opts);
    case 'glad':
      return gladDense(e, opts);
    default:
      throw new UserError(`unknown consensus method "${String(s.method)}": expected ${METHOD_NAMES.join('|')}`);
  }
}

/** Majority vote needs only the item's own answers; the other methods learn annotators from all. */
export const needsWholeProject = (s: ConsensusSettings) => s.method !== 'majority';

/**
 * Consensus for every item in `answers`. Single-label: the method over the label set.
 * Multi-label: one binary question per label ("does label L apply?", answers yes/no), each
 * aggregated by the method; the item's labels are those decided "yes", unresolved if any
 * question is tied, confidence = the least confident of the decisions.
 */
export function consensusFor(
  answers: readonly LabelAnswer[],
  taxonomy: { kind: 'single' | 'multi'; labels: readonly string[] },
  s: ConsensusSettings,
): Map<string, ItemConsensus> {
  const out = new Map<string, ItemConsensus>();
  if (answers.length === 0) return out;
  if (taxonomy.kind === 'single') {
    const r = runMethod(
      answers.map((a) => ({ item: a.item, annotator: a.annotator, label: a.labels[0] })),
      taxonomy.labels,
      s,
    );
    for (const [item, label] of r.labels) {
      out.set(item, { labels: label === null ? null : [label], confidence: r.confidence.get(item)!, posterior: r.posteriors.get(item)! });
    }
    return out;
  }
  for (const item of new Set(answers.map((a) => a.item))) out.set(item, { labels: [], confidence: 1, posterior: dict() });
  for (const label of taxonomy.labels) {
    const r = runMethod(
      answers.map((a) => ({ item: a.item, annotator: a.annotator, label: a.labels.includes(label) ? 'yes' : 'no' })),
      ['no', 'yes'],
      s,
    );
    for (const [item, c] of out) {
      const decided = r.labels.get(item);
      c.posterior[label] = r.posteriors.get(item)!.yes;
      c.confidence = Math.min(c.confidence, r.confidence.get(item)!);
      if (decided === null || c.labels === null) c.labels = null;
      else if (decided === 'yes') c.labels.push(label);
    }
  }
  return out;
}

export type Judgement =
  | { kind: 'final'; labels: string[]; confidence: number }
  | { kind: 'review'; reason: 'disagreement' | 'low_confidence'; proposal: string[] | null; confidence: number };

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Final, or review? A tie (no consensus label) and — with reviewOnDisagreement — any
 * disagreement among the annotators go to review as 'disagreement'; a consensus whose
 * confidence is below the threshold goes as 'low_confidence'. The proposal is what a
 * reviewer's "accept" makes final (the consensus label; none for a tie).
 */
export function judge(
  itemAnswers: readonly LabelAnswer[],
  c: ItemConsensus,
  rules: { reviewThreshold: number; reviewOnDisagreement: boolean },
): Judgement {
  if (c.labels === null) return { kind: 'review', reason: 'disagreement', proposal: null, confidence: c.confidence };
  const unanimous = itemAnswers.every((a) => sameSet(a.labels, itemAnswers[0].labels));
  if (rules.reviewOnDisagreement && !unanimous) return { kind: 'review', reason: 'disagreement', proposal: c.labels, confidence: c.confidence };
  if (c.confidence < rules.reviewThreshold) return { kind: 'review', reason: 'low_confidence', proposal: c.labels, confidence: c.confidence };
  return { kind: 'final', labels: c.labels, confidence: c.confidence };
}
