import { UserError } from '../core/errors.ts';
import type { Answer } from './types.ts';

/** Locale-independent string order (UTF-16 code units), used for every derived ordering. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Answers indexed into dense arrays, so the algorithms run over typed arrays only.
 * Items and annotators are sorted, which makes every result independent of answer order.
 */
export interface Encoded {
  /**
   * Item names in sorted order. encodeIndexed (callers that hold many items by number, e.g.
   * src/label/recompute.ts) leaves it a sparse array of that length: the methods read only its
   * length, the callers keep the names themselves.
   */
  items: string[];
  annotators: string[];
  labels: string[];
  /** Per answer: item, annotator and label index. */
  item: Int32Array;
  annotator: Int32Array;
  label: Int32Array;
  /** Answers of item i are byItem[itemStart[i] .. itemStart[i+1]) (indices into the arrays above). */
  itemStart: Int32Array;
  byItem: Int32Array;
}

export function encodeAnswers(answers: readonly Answer[], labelSet?: readonly string[]): Encoded {
  answers.forEach((a, n) => {
    if (typeof a?.item !== 'string' || typeof a.annotator !== 'string' || typeof a.label !== 'string') {
      throw new UserError(
        `answer #${n}: expected {item, annotator, label} strings, got ${JSON.stringify(a)}`,
      );
    }
  });
  const labels = labelSet ? [...labelSet] : [...new Set(answers.map((a) => a.label))].sort(byCodeUnit);
  if (new Set(labels).size !== labels.length) throw new UserError(`label set has duplicates: ${labels.join(', ')}`);
  const labelIdx = new Map(labels.map((l, k) => [l, k]));
  const items = [...new Set(answers.map((a) => a.item))].sort(byCodeUnit);
  const annotators = [...new Set(answers.map((a) => a.annotator))].sort(byCodeUnit);
  const itemIdx = new Map(items.map((x, k) => [x, k]));
  const annIdx = new Map(annotators.map((x, k) => [x, k]));
  const N = answers.length;
  const raw = answers.map((a, n) => {
    const l = labelIdx.get(a.label);
    if (l === undefined) {
      throw new UserError(
        `answer #${n} (item ${a.item}, annotator ${a.annotator}): label "${a.label}" is not in the label set [${labels.join(', ')}]`,
      );
    }
    return [itemIdx.get(a.item)!, annIdx.get(a.annotator)!, l] as const;
  });
  // Sorted by (item, annotator, label): every later sum runs in the same order whatever the
  // input order, so results are identical bit for bit.
  raw.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
  const item = Int32Array.from(raw, (r) => r[0]);
  const annotator = Int32Array.from(raw, (r) => r[1]);
  const label = Int32Array.from(raw, (r) => r[2]);
  // Counting sort of answers by item: a CSR layout for the per-item E-steps.
  const itemStart = new Int32Array(items.length + 1);
  for (let n = 0; n < N; n++) itemStart[item[n] + 1]++;
  for (let i = 0; i < items.length; i++) itemStart[i + 1] += itemStart[i];
  const fill = itemStart.slice(0, items.length);
  const byItem = new Int32Array(N);
  for (let n = 0; n < N; n++) byItem[fill[item[n]]++] = n;
  return { items, annotators, labels, item, annotator, label, itemStart, byItem };
}

/**
 * The same arrays as encodeAnswers, from answers already indexed: item indices in `[0, nItems)`
 * that follow the sorted item order, annotator indices into the sorted `annotators`, label
 * indices into `labels`. Answers are put in (item, annotator, label) order by three stable
 * counting sorts (linear time, typed arrays only), so the methods see exactly what
 * encodeAnswers would give them for the same answers.
 */
export function encodeIndexed(nItems: number, annotators: string[], labels: string[], item: Int32Array, annotator: Int32Array, label: Int32Array): Encoded {
  const N = item.length;
  let order = new Int32Array(N);
  for (let n = 0; n < N; n++) order[n] = n;
  // LSD: by label, then annotator, then item (each pass stable).
  for (const [key, range] of [[label, labels.length], [annotator, annotators.length], [item, nItems]] as const) {
    const start = new Int32Array(range + 1);
    for (let n = 0; n < N; n++) start[key[n] + 1]++;
    for (let k = 0; k < range; k++) start[k + 1] += start[k];
    const next = new Int32Array(N);
    for (let j = 0; j < N; j++) next[start[key[order[j]]]++] = order[j];
    order = next;
  }
  const it = new Int32Array(N);
  const an = new Int32Array(N);
  const la = new Int32Array(N);
  for (let j = 0; j < N; j++) {
    it[j] = item[order[j]];
    an[j] = annotator[order[j]];
    la[j] = label[order[j]];
  }
  const itemStart = new Int32Array(nItems + 1);
  for (let n = 0; n < N; n++) itemStart[it[n] + 1]++;
  for (let i = 0; i < nItems; i++) itemStart[i + 1] += itemStart[i];
  const fill = itemStart.slice(0, nItems);
  const byItem = new Int32Array(N);
  for (let n = 0; n < N; n++) byItem[fill[it[n]]++] = n;
  const items: string[] = [];
  items.length = nItems;
  return { items, annotators, labels, item: it, annotator: an, label: la, itemStart, byItem };
}

/** Per-item vote counts, n×K row-major. */
export function voteCounts(e: Encoded): Float64Array {
  const K = e.labels.length;
  const counts = new Float64Array(e.items.length * K);
  for (let n = 0; n < e.item.length; n++) counts[e.item[n] * K + e.label[n]]++;
  return counts;
}

/** Soft majority vote (vote shares per item), the usual EM starting point. */
export function voteShares(e: Encoded): Float64Array {
  const K = e.labels.length;
  const T = voteCounts(e);
  for (let i = 0; i < e.items.length; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += T[i * K + k];
    for (let k = 0; k < K; k++) T[i * K + k] /= s;
  }
  return T;
}
