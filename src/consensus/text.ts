import { byCodeUnit } from './encode.ts';

/**
 * Free text (transcriptions, notes).
 *
 * Distances
 * - Levenshtein distance (Levenshtein 1966): the fewest insertions, deletions and substitutions of
 *   code points turning one text into the other (Wagner & Fischer 1974 dynamic programme).
 * - Normalised edit distance: d(a, b) / max(|a|, |b|), in [0, 1] (0 for two empty texts).
 * - Word error rate (the ASR measure; e.g. Jurafsky & Martin, Speech and Language Processing,
 *   "Word Error Rate"): the Levenshtein distance over words (split on white space) divided by
 *   the number of words in the reference. Between two annotators neither is the reference, so
 *   agreement uses the mean of the two directions.
 * Texts are compared after normalisation: Unicode NFC, white space runs collapsed to one space,
 * trimmed; case and punctuation count.
 *
 * Agreement: the mean over items of the mean over annotator pairs.
 * Consensus: the medoid — the answer with the least total normalised edit distance to the
 * others (ties: the earliest annotator in name order); confidence = 1 − its mean normalised
 * distance to the others.
 */
export const normaliseText = (s: string): string => s.normalize('NFC').replace(/\s+/gu, ' ').trim();

/** Levenshtein distance between two sequences. */
export function levenshtein<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** Edit distance of two texts in code points, over the longer length. */
export function normalisedEditDistance(a: string, b: string): number {
  const x = Array.from(normaliseText(a));
  const y = Array.from(normaliseText(b));
  const n = Math.max(x.length, y.length);
  return n === 0 ? 0 : levenshtein(x, y) / n;
}

export const words = (s: string): string[] => {
  const t = normaliseText(s);
  return t === '' ? [] : t.split(' ');
};

/** Word error rate of `hypothesis` against `reference` (Infinity if the reference has no word but the hypothesis has). */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const r = words(reference);
  const h = words(hypothesis);
  if (r.length === 0) return h.length === 0 ? 0 : Infinity;
  return levenshtein(r, h) / r.length;
}

export interface TextAnswer {
  item: string;
  annotator: string;
  text: string;
}

export interface TextAgreement {
  /** Items with at least two answers. */
  items: number;
  /** Mean normalised edit distance between annotators (0: identical). */
  editDistance: number | null;
  /** Mean word error rate between annotators (both directions); null when some pair has a wordless side. */
  wer: number | null;
}

export function textAgreement(answers: readonly TextAnswer[]): TextAgreement {
  const byItem = new Map<string, TextAnswer[]>();
  for (const a of answers) byItem.set(a.item, [...(byItem.get(a.item) ?? []), a]);
  let items = 0;
  let ed = 0;
  let wer = 0;
  let werOk = true;
  for (const list of byItem.values()) {
    if (list.length < 2) continue;
    items++;
    let e = 0;
    let w = 0;
    let pairs = 0;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        pairs++;
        e += normalisedEditDistance(list[i].text, list[j].text);
        w += (wordErrorRate(list[i].text, list[j].text) + wordErrorRate(list[j].text, list[i].text)) / 2;
      }
    }
    ed += e / pairs;
    wer += w / pairs;
    if (!Number.isFinite(w)) werOk = false;
  }
  return { items, editDistance: items ? ed / items : null, wer: items && werOk ? wer / items : null };
}

export interface TextConsensus {
  text: string;
  annotator: string;
  confidence: number;
  /** Every answer is the same text after normalisation. */
  unanimous: boolean;
}

export function textMedoid(answers: ReadonlyArray<{ annotator: string; text: string }>): TextConsensus | null {
  if (answers.length === 0) return null;
  const list = [...answers].sort((a, b) => byCodeUnit(a.annotator, b.annotator));
  const d = list.map((a) => list.map((b) => normalisedEditDistance(a.text, b.text)));
  let best = 0;
  let bestSum = Infinity;
  d.forEach((row, i) => {
    const s = row.reduce((x, y) => x + y, 0);
    if (s < bestSum) {
      bestSum = s;
      best = i;
    }
  });
  const unanimous = list.every((a) => normaliseText(a.text) === normaliseText(list[0].text));
  return { text: list[best].text, annotator: list[best].annotator, confidence: list.length > 1 ? 1 - bestSum / (list.length - 1) : 1, unanimous };
}
