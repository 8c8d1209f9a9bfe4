import type { ModalityData } from '../core/modality.ts';
import type { Features } from './features.ts';

/**
 * The "raw features" baseline of the probe — what a careful engineer would try without SSL:
 * TF-IDF for text, pixels for images, MFCC statistics for audio, standardised numeric columns
 * plus one-hot categories for tabular rows. Unsupervised: fitted on all items, never on labels.
 */
export async function rawFeatures(data: ModalityData): Promise<Features> {
  return applyRawFeaturizer(fitRawFeaturizer(data), data);
}

/**
 * Everything the raw features of an item depend on besides the item itself, fitted once on a
 * corpus: a head trained on them stores it, so any subset of items (a shard) computes exactly
 * the features the whole corpus gave them.
 */
export type RawFeaturizer =
  | { modality: 'text'; vocabulary: string[]; idf: number[] }
  | { modality: 'image'; height: number; width: number; channels: number }
  | { modality: 'tabular'; columns: Array<{ name: string; type: 'num' | 'cat' }>; layout: TabularLayout[] }
  | { modality: 'audio'; sampleRate: number; nMfcc: number; nMels: number };

/** One tabular column's encoding: standardised, or one-hot over `values` (plus one "other" slot when `other`). */
export type TabularLayout = { kind: 'num'; mean: number; std: number } | { kind: 'cat'; values: string[]; other: boolean };

export function fitRawFeaturizer(data: ModalityData): RawFeaturizer {
  switch (data.modality) {
    case 'text':
      return { modality: 'text', ...fitTfidf(data.texts) };
    case 'image':
      return { modality: 'image', height: data.height, width: data.width, channels: data.channels };
    case 'tabular':
      return { modality: 'tabular', columns: data.columns.map((c) => ({ name: c.name, type: c.type })), layout: fitTabular(data.rows, data.columns) };
    case 'audio':
      return { modality: 'audio', sampleRate: data.sampleRate, nMfcc: 20, nMels: 40 };
  }
}

/** The raw features of `data` under a fitted featurizer; throws when the data is not of the kind it was fitted on. */
export async function applyRawFeaturizer(f: RawFeaturizer, data: ModalityData): Promise<Features> {
  if (f.modality !== data.modality) throw new Error(`raw features fitted on ${f.modality} items, given ${data.modality} items`);
  if (f.modality === 'text' && data.modality === 'text') return tfidfWith(f.vocabulary, f.idf, data.texts);
  if (f.modality === 'image' && data.modality === 'image') {
    if (f.height !== data.height || f.width !== data.width || f.channels !== data.channels) throw new Error(`raw features fitted on ${f.width}×${f.height}×${f.channels} images, given ${data.width}×${data.height}×${data.channels}`);
    return { rows: data.count, dim: data.height * data.width * data.channels, data: data.pixels };
  }
  if (f.modality === 'tabular' && data.modality === 'tabular') return tabularWith(f, data.rows, data.columns);
  if (f.modality === 'audio' && data.modality === 'audio') {
    if (f.sampleRate !== data.sampleRate) throw new Error(`raw features fitted on audio at ${f.sampleRate} Hz, given ${data.sampleRate} Hz`);
    return (await import('./mfcc.ts')).mfccStatistics(data.waves, data.sampleRate, f.nMfcc, f.nMels);
  }
  throw new Error(`raw features fitted on ${f.modality} items, given ${data.modality} items`);
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

const termCounts = (text: string) => {
  const counts = new Map<string, number>();
  for (const w of tokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
};

/**
 * TF-IDF with sublinear tf (1 + log tf), smooth idf (ln((1+N)/(1+df)) + 1, as scikit-learn) and
 * L2-normalised rows, over the `maxTerms` terms with the highest document frequency (df ≥ 2).
 */
export function tfidf(texts: string[], maxTerms = 2000): Features {
  const { vocabulary, idf } = fitTfidf(texts, maxTerms);
  return tfidfWith(vocabulary, idf, texts);
}

function fitTfidf(texts: string[], maxTerms = 2000): { vocabulary: string[]; idf: number[] } {
  const df = new Map<string, number>();
  for (const t of texts) for (const w of termCounts(t).keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const vocab = [...df.entries()]
    .filter(([, n]) => n >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxTerms);
  return { vocabulary: vocab.map(([w]) => w), idf: vocab.map(([, n]) => Math.log((1 + texts.length) / (1 + n)) + 1) };
}

function tfidfWith(vocabulary: string[], idf: number[], texts: string[]): Features {
  const index = new Map(vocabulary.map((w, i) => [w, i]));
  const dim = Math.max(1, vocabulary.length);
  const out = new Float32Array(texts.length * dim);
  texts.forEach((t, r) => {
    let norm = 0;
    for (const [w, c] of termCounts(t)) {
      const j = index.get(w);
      if (j === undefined) continue;
      const v = (1 + Math.log(c)) * idf[j];
      out[r * dim + j] = v;
      norm += v * v;
    }
    if (norm > 0) for (let j = 0; j < dim; j++) out[r * dim + j] /= Math.sqrt(norm);
  });
  return { rows: texts.length, dim, data: out };
}

/** Numeric columns standardised (missing → column mean → 0); categorical one-hot (top 50 values, rest share "other"). */
export function tabularFeatures(rows: Array<Array<number | string | null>>, columns: Array<{ name: string; type: 'num' | 'cat' }>): Features {
  return tabularWith({ columns, layout: fitTabular(rows, columns) }, rows, columns);
}

function fitTabular(rows: Array<Array<number | string | null>>, columns: Array<{ name: string; type: 'num' | 'cat' }>): TabularLayout[] {
  return columns.map((c, col): TabularLayout => {
    if (c.type === 'num') {
      let s = 0;
      let s2 = 0;
      let n = 0;
      for (const r of rows) {
        const v = r[col];
        if (typeof v === 'number') {
          s += v;
          s2 += v * v;
          n++;
        }
      }
      const mean = n ? s / n : 0;
      const variance = n ? s2 / n - mean * mean : 0;
      return { kind: 'num', mean, std: variance > 1e-12 ? Math.sqrt(variance) : 1 };
    }
    const freq = new Map<string, number>();
    for (const r of rows) if (r[col] !== null) freq.set(String(r[col]), (freq.get(String(r[col])) ?? 0) + 1);
    const top = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 50);
    return { kind: 'cat', values: top.map(([v]) => v), other: freq.size > top.length };
  });
}

/** Rows encoded by a fitted layout; the data's columns are matched to the fitted ones by name. */
function tabularWith(f: { columns: Array<{ name: string; type: 'num' | 'cat' }>; layout: TabularLayout[] }, rows: Array<Array<number | string | null>>, columns: Array<{ name: string }>): Features {
  const at = new Map(columns.map((c, i) => [c.name, i]));
  const source = f.columns.map((c) => {
    const i = at.get(c.name);
    if (i === undefined) throw new Error(`raw features need column "${c.name}", which the data does not have`);
    return i;
  });
  const layout = f.layout.map((l) => (l.kind === 'num' ? l : { ...l, index: new Map(l.values.map((v, i) => [v, i])), width: l.values.length + (l.other ? 1 : 0) }));
  const dim = Math.max(1, layout.reduce((a, l) => a + (l.kind === 'num' ? 1 : l.width), 0));
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    let o = i * dim;
    layout.forEach((l, k) => {
      const v = r[source[k]];
      if (l.kind === 'num') {
        out[o++] = typeof v === 'number' ? (v - l.mean) / l.std : 0;
      } else {
        if (v !== null) {
          // A value the fit never saw shares the "other" slot, or none when every value fitted had its own.
          const j = l.index.get(String(v)) ?? (l.other ? l.values.length : undefined);
          if (j !== undefined) out[o + j] = 1;
        }
        o += l.width;
      }
    });
  });
  return { rows: rows.length, dim, data: out };
}
