import { boxConsensus, type Box } from '../consensus/boxes.ts';
import { medianRating, posteriorMedian, scaleValues } from '../consensus/rating.ts';
import { segmentConsensus } from '../consensus/segments.ts';
import { spanConsensus, type SpanItem } from '../consensus/spans.ts';
import { textMedoid } from '../consensus/text.ts';
import type { Answer } from '../consensus/types.ts';
import { own } from '../core/dict.ts';
import { tokenise } from '../core/tokens.ts';
import { needsWholeProject, runMethod, type ConsensusSettings } from './consensus.ts';
import { labelNames, type AnswerValue, type Answers, type BoxValue, type Question, type SpanValue } from './questions.ts';

/**
 * Consensus for the questions beyond the single/multi one (which keeps consensus.ts), one kind at
 * a time, on top of the pure methods in src/consensus/:
 * - spans: a token-level vote over BIO tags by the project's method, decoded to spans (spans.ts);
 * - boxes, segments: IoU clustering, a region kept when at least half the annotators drew it,
 *   fused (boxes.ts: weighted boxes fusion; segments.ts: mean boundaries) — method-independent;
 * - rating: the median (majority vote) or the median of the method's posterior over the scale;
 * - text: the medoid under normalised edit distance — method-independent.
 * Methods that learn annotators (Dawid-Skene, one-coin, GLAD) are given `pool`: every current
 * answer to the question in the project, so they learn from all of them (spans, rating).
 */
export interface QuestionResult {
  name: string;
  kind: Question['kind'];
  /** The consensus answer; null when nobody answered (an optional question) or it is unresolved. */
  value: AnswerValue | null;
  /** The least confident decision behind it, in [0, 1]. */
  confidence: number;
  /** Every annotator gave the same answer (boxes and segments: every region matched by everyone). */
  unanimous: boolean;
  /** False when the method could not decide (a tie on a rating; spans: tied tokens). */
  resolved: boolean;
  /** What a reviewer may want to see (clusters, tied tokens, the medoid's author). */
  detail?: Record<string, unknown>;
}

export interface ItemAnswers {
  item: string;
  annotator: string;
  answers: Answers;
}

export interface QuestionContext {
  /** The item's text (spans). */
  text: string | null;
  settings: ConsensusSettings;
  /** Model-based methods: every current answer of the project (including the item's). */
  pool?: readonly ItemAnswers[];
  /** Texts of the pool's items (spans). */
  texts?: ReadonlyMap<string, string>;
}

const answered = (q: Question, list: readonly ItemAnswers[]) => list.filter((a) => own(a.answers, q.name) !== undefined);

export function questionConsensus(q: Question, item: string, itemAnswers: readonly ItemAnswers[], ctx: QuestionContext): QuestionResult {
  const given = answered(q, itemAnswers);
  const base = { name: q.name, kind: q.kind };
  // Some answered an optional question and some did not: they disagree about whether it applies.
  const allOrNone = given.length === 0 || given.length === itemAnswers.length;
  if (given.length === 0) return { ...base, value: null, confidence: 1, unanimous: true, resolved: true };
  const model = needsWholeProject(ctx.settings);
  switch (q.kind) {
    case 'spans': {
      const text = ctx.text ?? '';
      const labels = labelNames(q);
      const spanItems = (list: readonly ItemAnswers[], texts: (item: string) => string): SpanItem[] => {
        const by = new Map<string, SpanItem & { answers: Array<{ annotator: string; spans: SpanValue[] }> }>();
        for (const a of answered(q, list)) {
          let it = by.get(a.item);
          if (!it) by.set(a.item, (it = { item: a.item, tokens: tokenise(texts(a.item)), answers: [] }));
          it.answers.push({ annotator: a.annotator, spans: a.answers[q.name] as SpanValue[] });
        }
        return [...by.values()];
      };
      const items = model && ctx.pool ? spanItems(ctx.pool.filter((a) => a.item !== item).concat(given), (i) => (i === item ? text : (ctx.texts?.get(i) ?? ''))) : spanItems(given, () => text);
      const aggregate = (answers: readonly Answer[], labelSet: readonly string[]) => runMethod(answers, labelSet, ctx.settings);
      const c = spanConsensus(items, labels, Boolean(q.overlapping), aggregate).get(item)!;
      return { ...base, value: c.spans, confidence: c.confidence, unanimous: c.unanimous && allOrNone, resolved: c.unresolvedTokens === 0, detail: { unresolvedTokens: c.unresolvedTokens } };
    }
    case 'boxes':
    case 'segments': {
      const regions = given.map((a) => ({ annotator: a.annotator, regions: a.answers[q.name] as Array<Box | SpanValue> }));
      const c = q.kind === 'boxes' ? boxConsensus(regions as Array<{ annotator: string; regions: Box[] }>) : segmentConsensus(regions as Array<{ annotator: string; regions: SpanValue[] }>);
      const clusters = c.clusters.map((k) => ({ region: k.fused, annotators: k.annotators, meanIoU: k.meanIoU, kept: k.kept }));
      const value = q.kind === 'boxes' ? (c.regions as BoxValue[]).map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label: b.label })) : c.regions;
      return { ...base, value: value as AnswerValue, confidence: c.confidence, unanimous: c.unanimous && allOrNone, resolved: true, detail: { clusters } };
    }
    case 'rating': {
      const values = given.map((a) => a.answers[q.name] as number);
      const unanimous = allOrNone && values.every((v) => v === values[0]);
      if (!model) {
        const m = medianRating(values)!;
        return { ...base, value: m.value, confidence: m.confidence, unanimous, resolved: true };
      }
      const scale = scaleValues(q.scale!);
      const pool = answered(q, (ctx.pool ?? []).filter((a) => a.item !== item).concat(given));
      const r = runMethod(pool.map((a) => ({ item: a.item, annotator: a.annotator, label: String(a.answers[q.name]) })), scale.map(String), ctx.settings);
      const posterior = r.posteriors.get(item)!;
      const m = posteriorMedian(scale, scale.map((v) => posterior[String(v)]));
      return { ...base, value: m.value, confidence: m.confidence, unanimous, resolved: true, detail: { posterior } };
    }
    case 'text': {
      const m = textMedoid(given.map((a) => ({ annotator: a.annotator, text: a.answers[q.name] as string })))!;
      return { ...base, value: m.text, confidence: m.confidence, unanimous: m.unanimous && allOrNone, resolved: true, detail: { medoidOf: m.annotator } };
    }
    default:
      throw new Error(`questionConsensus: ${q.kind} questions are decided by consensus.ts`);
  }
}
