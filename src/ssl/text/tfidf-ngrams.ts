import { tokenize } from '../../probe/raw.ts';
import { hstack, type Csr } from './sparse.ts';

export interface NgramTfidfOptions {
  /** Word n-gram lengths, inclusive (default [1, 2]); null for none. */
  word?: [number, number] | null;
  /** Character n-gram lengths inside word boundaries, inclusive (default [2, 5]); null for none. */
  char?: [number, number] | null;
  /** Terms must occur in at least this many documents of the fitting corpus (default 2). */
  minDf?: number;
}

export interface NgramTfidf {
  vocab: Map<string, number>;
  idf: Float32Array;
  opts: Required<NgramTfidfOptions>;
}

const DEFAULTS: Required<NgramTfidfOptions> = { word: [1, 2], char: [2, 5], minDf: 2 };

/**
 * The n-gram terms of one text: lower-cased word n-grams (`w:` prefix) and character n-grams
 * of each word padded with spaces (`c:` prefix, scikit-learn's `char_wb` analyser), with counts.
 * Character n-grams carry morphology and survive misspellings and the digit-and-slang spelling of
 * SMS, where word features alone are too sparse at tens of labels.
 */
export function ngramTerms(text: string, opts: Required<NgramTfidfOptions>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (t: string) => counts.set(t, (counts.get(t) ?? 0) + 1);
  const words = tokenize(text);
  if (opts.word) for (let n = opts.word[0]; n <= opts.word[1]; n++) for (let i = 0; i + n <= words.length; i++) add('w:' + words.slice(i, i + n).join(' '));
  if (opts.char) {
    for (const w of words) {
      const padded = ` ${w} `;
      for (let n = opts.char[0]; n <= opts.char[1]; n++) for (let i = 0; i + n <= padded.length; i++) add('c:' + padded.slice(i, i + n));
    }
  }
  return counts;
}

/**
 * Fits the vocabulary (terms with document frequency ≥ minDf) and smooth idf
 * ln((1+N)/(1+df)) + 1 on a corpus without labels — scikit-learn's TfidfVectorizer with
 * `sublinear_tf`, `analyzer` word 1–2 plus `char_wb` 2–5.
 */
export function fitNgramTfidf(texts: string[], options: NgramTfidfOptions = {}): NgramTfidf {
  const opts = { ...DEFAULTS, ...options };
  const df = new Map<string, number>();
  for (const t of texts) for (const term of ngramTerms(t, opts).keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const terms = [...df.entries()].filter(([, n]) => n >= opts.minDf).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const vocab = new Map(terms.map(([t], i) => [t, i]));
  const idf = Float32Array.from(terms, ([, n]) => Math.log((1 + texts.length) / (1 + n)) + 1);
  return { vocab, idf, opts };
}

/** Rows (1 + ln tf)·idf over the fitted vocabulary, L2-normalised; unseen terms are dropped. */
export function transformNgramTfidf(model: NgramTfidf, texts: string[]): Csr {
  const indptr = new Int32Array(texts.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  texts.forEach((t, r) => {
    const row: Array<[number, number]> = [];
    for (const [term, c] of ngramTerms(t, model.opts)) {
      const j = model.vocab.get(term);
      if (j !== undefined) row.push([j, (1 + Math.log(c)) * model.idf[j]]);
    }
    row.sort((a, b) => a[0] - b[0]);
    const norm = Math.sqrt(row.reduce((s, [, v]) => s + v * v, 0));
    for (const [j, v] of row) {
      idx.push(j);
      val.push(norm > 0 ? v / norm : 0);
    }
    indptr[r + 1] = idx.length;
  });
  return { rows: texts.length, dim: model.idf.length, indptr, indices: Int32Array.from(idx), values: Float32Array.from(val) };
}

/** Weight of the character block against the word block in `wordCharTfidf` (dev split: 0.5). */
export const CHAR_BLOCK_WEIGHT = 0.5;

/**
 * The text representation the dev split chose: word 1–2-gram TF-IDF and char_wb 2–5-gram TF-IDF
 * as two unit-norm blocks side by side, the character block weighted by `charWeight`. Word
 * n-grams alone did better on question types (TREC), word + char at equal weight better on SMS;
 * the two blocks at 1 : 0.5 were the best or near it on both. Fitted on `fitTexts` (unlabelled).
 */
export function wordCharTfidf(fitTexts: string[], texts: string[], charWeight = CHAR_BLOCK_WEIGHT): Csr {
  const w = transformNgramTfidf(fitNgramTfidf(fitTexts, { char: null }), texts);
  const c = transformNgramTfidf(fitNgramTfidf(fitTexts, { word: null }), texts);
  return hstack([{ m: w }, { m: c, weight: charWeight }]);
}
