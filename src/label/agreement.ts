import {
  answersToMatrix,
  cohenKappa,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
  pairwiseKappa,
  percentAgreement,
  perLabelKappa,
  type AlphaMetric,
  type Answer,
  type KappaWeights,
} from '../consensus/index.ts';
import { boxAgreement, type Box } from '../consensus/boxes.ts';
import { ratingAgreement } from '../consensus/rating.ts';
import { segmentAgreement } from '../consensus/segments.ts';
import { spanAgreement, spanLayers, type Span, type SpanItem } from '../consensus/spans.ts';
import { textAgreement } from '../consensus/text.ts';
import { own } from '../core/dict.ts';
import { tokenise, TOKENISATION } from '../core/tokens.ts';
import type { LabelAnswer } from './consensus.ts';
import type { ItemAnswers } from './question-consensus.ts';
import { labelNames, type LabelDef, type Question } from './questions.ts';

/** JSON has no NaN: undefined coefficients (nothing to agree on) become null. */
export const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export interface AgreementOptions {
  level?: AlphaMetric;
  weights?: KappaWeights;
}

/**
 * Agreement of a project's annotators, per project, per label and per annotator pair.
 * Single-label: units = items. Multi-label: units = (item, label) pairs rated yes/no, so every
 * coefficient reads "how well do annotators agree on whether a label applies"; per label, the
 * same on that label's pairs only.
 */
export function agreementReport(answers: readonly LabelAnswer[], taxonomy: { kind: 'single' | 'multi'; labels?: readonly LabelDef[] }, opts: AgreementOptions = {}) {
  const names = labelNames(taxonomy);
  const flat: Answer[] =
    taxonomy.kind === 'single'
      ? answers.map((a) => ({ item: a.item, annotator: a.annotator, label: a.labels[0] }))
      : answers.flatMap((a) => names.map((l) => ({ item: `${a.item}\u001f${l}`, annotator: a.annotator, label: a.labels.includes(l) ? 'yes' : 'no' })));
  const annotators = [...new Set(answers.map((a) => a.annotator))].sort();
  const items = new Set(answers.map((a) => a.item)).size;
  const base = { kind: taxonomy.kind, items, annotators: annotators.length, answers: answers.length };
  if (flat.length === 0) return { ...base, overall: null, perLabel: [], pairwise: { annotators: [], kappa: [], n: [] } };
  const { coders, matrix } = answersToMatrix(flat);
  const categories = taxonomy.kind === 'single' ? names : ['no', 'yes'];
  const overall = {
    percent: finite(percentAgreement(matrix)),
    fleiss: finite(fleissKappa(matrix, { categories }).value),
    krippendorff: finite(krippendorffAlpha(matrix, { metric: opts.level ?? 'nominal', categories }).value),
    gwet: finite(gwetAC1(matrix, { categories }).value),
    cohen: coders.length === 2 ? finite(cohenKappa(matrix.map((r) => r[0]), matrix.map((r) => r[1]), { categories, weights: opts.weights ?? 'none' }).value) : null,
  };
  let perLabel: Array<{ label: string; kappa: number | null; prevalence: number | null }>;
  if (taxonomy.kind === 'single') {
    const per = perLabelKappa(matrix, { categories });
    perLabel = names.map((l) => ({ label: l, kappa: finite(per.get(l)!.kappa), prevalence: finite(per.get(l)!.prevalence) }));
  } else {
    perLabel = names.map((l) => {
      const sub = answersToMatrix(flat.filter((a) => a.item.endsWith(`\u001f${l}`))).matrix;
      const yes = flat.filter((a) => a.item.endsWith(`\u001f${l}`) && a.label === 'yes').length;
      return { label: l, kappa: finite(fleissKappa(sub, { categories }).value), prevalence: finite(yes / answers.length) };
    });
  }
  const pw = pairwiseKappa(matrix, { coders, categories, weights: opts.weights ?? 'none' });
  return { ...base, overall, perLabel, pairwise: { annotators: pw.coders, kappa: pw.kappa.map((r) => r.map(finite)), n: pw.n } };
}

/**
 * Agreement per question, one report per kind (the pure measures are in src/consensus/):
 * - single/multi: the coefficients above (`overall`);
 * - spans: pairwise F1, exact and overlap, and token-level κ over BIO tags (spans.ts);
 * - boxes: F1 at IoU ≥ 0.5 and the mean IoU of matched boxes (boxes.ts);
 * - segments: pairwise F1, exact and overlap (segments.ts);
 * - rating: Krippendorff's α (ordinal) and weighted κ (rating.ts);
 * - text: mean normalised edit distance and word error rate between annotators (text.ts).
 * `answers`: every current answer; `texts`: the texts of text items (spans).
 */
export function questionsAgreement(questions: readonly Question[], answers: readonly ItemAnswers[], texts: ReadonlyMap<string, string>, opts: AgreementOptions = {}) {
  return questions.map((q) => {
    const given = answers.filter((a) => own(a.answers, q.name) !== undefined);
    const base = { name: q.name, kind: q.kind, items: new Set(given.map((a) => a.item)).size, annotators: new Set(given.map((a) => a.annotator)).size, answers: given.length };
    const regions = <R>() => given.map((a) => ({ item: a.item, annotator: a.annotator, regions: a.answers[q.name] as unknown as R[] }));
    switch (q.kind) {
      case 'single':
      case 'multi': {
        const r = agreementReport(given.map((a) => ({ item: a.item, annotator: a.annotator, labels: a.answers[q.name] as string[] })), { kind: q.kind, labels: q.labels }, opts);
        return { ...base, overall: r.overall };
      }
      case 'spans': {
        const byItem = new Map<string, SpanItem & { answers: Array<{ annotator: string; spans: Span[] }> }>();
        for (const a of given) {
          let it = byItem.get(a.item);
          if (!it) byItem.set(a.item, (it = { item: a.item, tokens: tokenise(texts.get(a.item) ?? ''), answers: [] }));
          it.answers.push({ annotator: a.annotator, spans: a.answers[q.name] as unknown as Span[] });
        }
        const r = spanAgreement([...byItem.values()], spanLayers(labelNames(q), Boolean(q.overlapping)));
        return { ...base, pairs: r.pairs, f1: r.f1, tokenKappa: r.tokenKappa, tokenisation: TOKENISATION };
      }
      case 'boxes':
        return { ...base, ...boxAgreement(regions<Box>()) };
      case 'segments':
        return { ...base, ...segmentAgreement(regions<Span>()) };
      case 'rating':
        return { ...base, scale: q.scale, ...ratingAgreement(given.map((a) => ({ item: a.item, annotator: a.annotator, value: a.answers[q.name] as number })), q.scale!) };
      case 'text':
        return { ...base, ...textAgreement(given.map((a) => ({ item: a.item, annotator: a.annotator, text: a.answers[q.name] as string }))) };
    }
  });
}
