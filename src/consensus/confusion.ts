import { dict, type Dict } from '../core/dict.ts';
import type { Answer } from './types.ts';

/**
 * One annotator's confusion matrix as nested dicts: `m[reference][answered]` = the share of the
 * annotator's answers on items whose reference label is `reference` that said `answered`. Keyed
 * by label name (no prototype: any label is a key), so a reader needs no separate label order.
 * A row is null when the annotator answered no item of that reference label: no evidence.
 */
export type ConfusionDict = Dict<Dict<number> | null>;

/** Dense rows (rows: true class, columns: answered, in `labelSet` order) as a ConfusionDict. */
export function confusionDictOf(rows: readonly (readonly number[])[], labelSet: readonly string[]): ConfusionDict {
  const out = dict<Dict<number> | null>();
  labelSet.forEach((t, k) => {
    const row = dict<number>();
    labelSet.forEach((a, l) => (row[a] = rows[k][l]));
    out[t] = row;
  });
  return out;
}

/**
 * Every annotator's empirical confusion against reference labels (consensus or gold): for each
 * of their answers on an item with a reference label, one count in row reference, column
 * answer; rows normalised to sum to 1. Items without a reference (unresolved, not gold) do not
 * count. Each answer counts once per (item, annotator, label), as in every consensus method.
 */
export function empiricalConfusion(answers: readonly Answer[], reference: ReadonlyMap<string, string | null>, labelSet: readonly string[]): Map<string, ConfusionDict> {
  const index = new Map(labelSet.map((l, i) => [l, i] as const));
  const K = labelSet.length;
  const counts = new Map<string, Float64Array>();
  const seen = new Set<string>();
  for (const a of answers) {
    if (!counts.has(a.annotator)) counts.set(a.annotator, new Float64Array(K * K));
    const ref = reference.get(a.item);
    const t = ref === null || ref === undefined ? undefined : index.get(ref);
    const l = index.get(a.label);
    const key = JSON.stringify([a.item, a.annotator, a.label]);
    if (t === undefined || l === undefined || seen.has(key)) continue;
    seen.add(key);
    counts.get(a.annotator)![t * K + l]++;
  }
  const out = new Map<string, ConfusionDict>();
  for (const [w, c] of counts) {
    const m = dict<Dict<number> | null>();
    labelSet.forEach((t, k) => {
      let n = 0;
      for (let l = 0; l < K; l++) n += c[k * K + l];
      if (n === 0) {
        m[t] = null;
        return;
      }
      const row = dict<number>();
      labelSet.forEach((a, l) => (row[a] = c[k * K + l] / n));
      m[t] = row;
    });
    out.set(w, m);
  }
  return out;
}
