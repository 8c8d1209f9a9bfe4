import {
  answersToMatrix,
  cohenKappa,
  confusionDictOf,
  empiricalConfusion,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
  percentAgreement,
  type AlphaMetric,
  type ConfusionDict,
  type KappaWeights,
  type TieRule,
} from '../consensus/index.ts';
import { dictOf } from '../core/dict.ts';
import { UserError } from '../core/errors.ts';
import { finite } from './agreement.ts';
import { runMethod, type MethodName } from './consensus.ts';
import type { RatingsFile } from './crowd-file.ts';
import { csvField } from './export.ts';

/** The logic of the two file CLIs, on parsed rating files (crowd-file.ts). Pure. */

export const AGREEMENT_METRICS = ['percent', 'cohen', 'fleiss', 'krippendorff', 'gwet'] as const;
export type AgreementMetric = (typeof AGREEMENT_METRICS)[number];
export const LEVELS = ['nominal', 'ordinal', 'interval', 'ratio'] as const;
export const WEIGHTS = ['none', 'linear', 'quadratic'] as const;

export interface AgreementFileOptions {
  metric: string;
  level?: string;
  weights?: string;
}

/** `{"metric", "value", "items", "annotators"}`; value null when undefined (no variation at all). */
export function agreementOfFile(f: RatingsFile, name: string, o: AgreementFileOptions): { metric: AgreementMetric; value: number | null; items: number; annotators: number } {
  const metric = o.metric as AgreementMetric;
  if (!AGREEMENT_METRICS.includes(metric)) throw new UserError(`--metric: expected ${AGREEMENT_METRICS.join('|')}, got "${o.metric}"`);
  if (o.level !== undefined && !(LEVELS as readonly string[]).includes(o.level)) throw new UserError(`--level: expected ${LEVELS.join('|')}, got "${o.level}"`);
  if (o.weights !== undefined && !(WEIGHTS as readonly string[]).includes(o.weights)) throw new UserError(`--weights: expected ${WEIGHTS.join('|')}, got "${o.weights}"`);
  if (o.level && o.level !== 'nominal' && metric !== 'krippendorff') throw new UserError(`--level ${o.level} applies to --metric krippendorff only (${metric} is nominal)`);
  if (o.weights && o.weights !== 'none' && metric !== 'cohen') throw new UserError(`--weights ${o.weights} applies to --metric cohen only`);

  const first = new Map<string, number>();
  for (const r of f.ratings) {
    const key = `${r.item}\u0000${r.annotator}`;
    const was = first.get(key);
    if (was !== undefined) throw new UserError(`${name}:${r.line}: annotator "${r.annotator}" rated item "${r.item}" again (first on line ${was}); agreement needs one rating per annotator and item`);
    first.set(key, r.line);
  }
  const annotators = new Set(f.ratings.map((r) => r.annotator));
  const items = new Set(f.ratings.map((r) => r.item));
  if (annotators.size < 2) throw new UserError(`${name}: agreement needs ratings from at least 2 annotators; the file has ${annotators.size} (${[...annotators].join(', ')})`);
  if (metric === 'cohen' && annotators.size !== 2) {
    throw new UserError(`${name}: Cohen's kappa compares exactly 2 annotators; the file has ${annotators.size}: use --metric fleiss, krippendorff or gwet for more`);
  }
  const { matrix: raw } = answersToMatrix(f.ratings.map((r) => ({ item: r.item, annotator: r.annotator, label: r.label })));
  if (!raw.some((row) => row.filter((v) => v !== null).length >= 2)) throw new UserError(`${name}: no item was rated by two or more annotators: there is nothing to compare`);
  // Numeric labels are compared as numbers (order for ordinal/weights, distance for interval/ratio).
  const numeric = f.ratings.every((r) => r.label.trim() !== '' && Number.isFinite(Number(r.label)));
  const matrix = numeric ? raw.map((row) => row.map((v) => (v === null ? null : Number(v)))) : raw;
  let value: number;
  switch (metric) {
    case 'percent':
      value = percentAgreement(matrix);
      break;
    case 'cohen':
      value = cohenKappa(matrix.map((r) => r[0]), matrix.map((r) => r[1]), { weights: (o.weights ?? 'none') as KappaWeights }).value;
      break;
    case 'fleiss':
      value = fleissKappa(matrix).value;
      break;
    case 'krippendorff':
      value = krippendorffAlpha(matrix, { metric: (o.level ?? 'nominal') as AlphaMetric }).value;
      break;
    case 'gwet':
      value = gwetAC1(matrix).value;
      break;
  }
  return { metric, value: finite(value), items: items.size, annotators: annotators.size };
}

/** --method name → method. No prototype: `--method constructor` is unknown, not Object's constructor. */
export const CONSENSUS_METHODS: Record<string, { method: MethodName; name: string }> = dictOf(Object.entries({
  mv: { method: 'majority', name: 'mv' },
  majority: { method: 'majority', name: 'mv' },
  'dawid-skene': { method: 'dawid-skene', name: 'dawid-skene' },
  ds: { method: 'dawid-skene', name: 'dawid-skene' },
  'one-coin': { method: 'one-coin', name: 'one-coin' },
  glad: { method: 'glad', name: 'glad' },
}));

export interface ConsensusFileOptions {
  method: string;
  tie?: string;
  seed?: number;
}

export interface ConsensusFileResult {
  method: string;
  labels: Array<{ item: string; label: string | null; confidence: number | null }>;
  /**
   * confusion: rows the true label, columns the answer (ConfusionDict). Dawid-Skene and one-coin:
   * the fitted model's (one-coin's has one accuracy on the diagonal); majority vote and GLAD,
   * which fit no matrix per annotator: the empirical matrix of the annotator's answers against
   * the consensus labels (unresolved items left out).
   */
  annotators: Array<{ annotator: string; accuracy: number | null; confusion: ConfusionDict }>;
}

/** Items and annotators in order of first appearance in the file; null label = unresolved tie. */
export function consensusOfFile(f: RatingsFile, o: ConsensusFileOptions): ConsensusFileResult {
  const m = CONSENSUS_METHODS[o.method];
  if (!m) throw new UserError(`--method: expected mv|dawid-skene|one-coin|glad, got "${o.method}"`);
  if (o.tie !== undefined && !['unresolved', 'random', 'first'].includes(o.tie)) throw new UserError(`--tie: expected unresolved|random|first, got "${o.tie}"`);
  if (o.tie !== undefined && o.tie !== 'unresolved' && m.method !== 'majority') throw new UserError(`--tie ${o.tie} applies to --method mv only (the other methods leave exact ties unresolved)`);
  const answers = f.ratings.map((r) => ({ item: r.item, annotator: r.annotator, label: r.label }));
  const labelSet = [...new Set(answers.map((a) => a.label))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const r = runMethod(answers, labelSet, { method: m.method, tie: (o.tie ?? 'unresolved') as TieRule, seed: o.seed ?? 0 });
  const items = [...new Set(answers.map((a) => a.item))];
  const annotators = [...new Set(answers.map((a) => a.annotator))];
  const empirical = empiricalConfusion(answers, r.labels, labelSet);
  const confusionOf = (a: string): ConfusionDict => {
    const model = r.annotatorStats.get(a)?.confusion;
    return model ? confusionDictOf(model, labelSet) : empirical.get(a)!;
  };
  return {
    method: m.name,
    labels: items.map((item) => ({ item, label: r.labels.get(item) ?? null, confidence: finite(r.confidence.get(item) ?? NaN) })),
    annotators: annotators.map((a) => ({ annotator: a, accuracy: finite(r.annotatorStats.get(a)?.accuracy ?? NaN), confusion: confusionOf(a) })),
  };
}

/** The CSV form: `item,label,confidence` (an unresolved item has an empty label). */
export function consensusCsv(r: ConsensusFileResult): string {
  return ['item,label,confidence', ...r.labels.map((l) => [l.item, l.label ?? '', l.confidence ?? ''].map(csvField).join(','))].join('\n') + '\n';
}
