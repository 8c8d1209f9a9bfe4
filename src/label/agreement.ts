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
import type { LabelAnswer } from './consensus.ts';
import type { Taxonomy } from './taxonomy.ts';
import { labelNames } from './taxonomy.ts';

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
export function agreementReport(answers: readonly LabelAnswer[], taxonomy: Pick<Taxonomy, 'kind' | 'labels'>, opts: AgreementOptions = {}) {
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
