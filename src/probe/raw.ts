import type { ModalityData } from '../core/modality.ts';
import type { Features } from './features.ts';

/**
 * The "raw features" baseline of the probe — what a careful engineer would try without SSL:
 * TF-IDF for text, pixels for images, MFCC statistics for audio, standardised numeric columns
 * plus one-hot categories for tabular rows. Unsupervised: fitted on all items, never on labels.
 */
export async function rawFeatures(data: ModalityData): Promise<Features> {
  switch (data.modality) {
    case 'text':
      return tfidf(data.texts);
    case 'image':
      return { rows: data.count, dim: data.height * data.width * data.channels, data: data.pixels };
    case 'tabular':
      return tabularFeatures(data.rows, data.columns);
    case 'audio':
      return (await import('./mfcc.ts')).mfccStatistics(data.waves, data.sampleRate);
  }
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? [];
}

/**
 * TF-IDF with sublinear tf (1 + log tf), smooth idf (ln((1+N)/(1+df)) + 1, as scikit-learn) and
 * L2-normalised rows, over the `maxTerms` terms with the highest document frequency (df ≥ 2).
 */
export function tfidf(texts: string[], maxTerms = 2000): Features {
  const df = new Map<string, number>();
  const docs = texts.map((t) => {
    const counts = new Map<string, number>();
    for (const w of tokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    for (const w of counts.keys()) df.set(w, (df.get(w) ?? 0) + 1);
    return counts;
  });
  const vocab = [...df.entries()]
    .filter(([, n]) => n >= 2)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxTerms);
  const index = new Map(vocab.map(([w], i) => [w, i]));
  const idf = vocab.map(([, n]) => Math.log((1 + texts.length) / (1 + n)) + 1);
  const dim = Math.max(1, vocab.length);
  const out = new Float32Array(texts.length * dim);
  docs.forEach((counts, r) => {
    let norm = 0;
    for (const [w, c] of counts) {
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
  const layout: Array<{ col: number; kind: 'num'; mean: number; std: number } | { col: number; kind: 'cat'; values: Map<string, number>; width: number }> = [];
  let dim = 0;
  columns.forEach((c, col) => {
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
      layout.push({ col, kind: 'num', mean, std: variance > 1e-12 ? Math.sqrt(variance) : 1 });
      dim += 1;
    } else {
      const freq = new Map<string, number>();
      for (const r of rows) if (r[col] !== null) freq.set(String(r[col]), (freq.get(String(r[col])) ?? 0) + 1);
      const top = [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 50);
      const values = new Map(top.map(([v], i) => [v, i]));
      const width = values.size + (freq.size > values.size ? 1 : 0);
      layout.push({ col, kind: 'cat', values, width });
      dim += width;
    }
  });
  dim = Math.max(dim, 1);
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    let o = i * dim;
    for (const l of layout) {
      const v = r[l.col];
      if (l.kind === 'num') {
        out[o++] = typeof v === 'number' ? (v - l.mean) / l.std : 0;
      } else {
        if (v !== null) {
          const k = l.values.get(String(v));
          out[o + (k ?? l.values.size)] = 1;
        }
        o += l.width;
      }
    }
  });
  return { rows: rows.length, dim, data: out };
}
