import { mulberry32 } from '../../core/rng.ts';

/**
 * fastText-style skip-gram with negative sampling and subword vectors (Bojanowski et al. 2017),
 * trained on the project's own corpus in plain TypeScript over Float32Arrays: a word's input
 * vector is the mean of its own row (when frequent enough to be in the vocabulary) and the rows
 * of its character n-grams of `<word>` (minn…maxn), hashed into `buckets` rows (FNV-1a, as
 * fastText). Unseen and rare words still get vectors from their n-grams — what makes embeddings
 * trained on a few thousand utterances usable. Updates follow fastText's skip-gram: for each
 * (centre, context) pair, the context word is the positive target and `negatives` words drawn
 * from the unigram distribution^0.75 are negatives; the gradient is added to every subword row.
 * Learning rate decays linearly to 0 over all epochs; frequent words are subsampled
 * (Mikolov et al. 2013: keep with probability √(t/f) + t/f).
 */
export interface SkipgramOptions {
  dim?: number;
  window?: number;
  negatives?: number;
  epochs?: number;
  /** Words seen fewer times get no own row (their n-grams still represent them). */
  minCount?: number;
  minn?: number;
  maxn?: number;
  buckets?: number;
  lr?: number;
  /** Subsampling threshold t. */
  sample?: number;
  seed?: number;
}

export interface SubwordEmbeddings {
  dim: number;
  minn: number;
  maxn: number;
  buckets: number;
  /** Vocabulary word → row; n-gram rows follow at `vocab.size + bucket`. */
  vocab: Map<string, number>;
  /** Corpus count of each vocabulary word, by row. */
  counts: Float64Array;
  totalTokens: number;
  input: Float32Array;
}

export const SKIPGRAM_DEFAULTS: Required<SkipgramOptions> = { dim: 100, window: 5, negatives: 5, epochs: 10, minCount: 2, minn: 3, maxn: 6, buckets: 100_000, lr: 0.05, sample: 1e-3, seed: 0 };

/** FNV-1a over the UTF-16 code units of `s` (fastText hashes bytes; any fixed hash will do). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Rows whose mean is `word`'s input vector: its own row (if in the vocabulary) and its n-gram buckets. */
export function subwordRows(m: Pick<SubwordEmbeddings, 'vocab' | 'minn' | 'maxn' | 'buckets'>, word: string): number[] {
  const rows: number[] = [];
  const own = m.vocab.get(word);
  if (own !== undefined) rows.push(own);
  const w = `<${word}>`;
  for (let n = m.minn; n <= m.maxn; n++) {
    for (let i = 0; i + n <= w.length; i++) {
      // The whole `<word>` is the word's own row, not an n-gram.
      if (n === w.length) continue;
      rows.push(m.vocab.size + (fnv1a(w.slice(i, i + n)) % m.buckets));
    }
  }
  if (rows.length === 0) rows.push(m.vocab.size + (fnv1a(w) % m.buckets));
  return rows;
}

export function trainSkipgram(sentences: string[][], options: SkipgramOptions = {}): SubwordEmbeddings {
  const o = { ...SKIPGRAM_DEFAULTS, ...options };
  const rand = mulberry32(o.seed);
  const freq = new Map<string, number>();
  let totalTokens = 0;
  for (const s of sentences) for (const w of s) {
    freq.set(w, (freq.get(w) ?? 0) + 1);
    totalTokens++;
  }
  const words = [...freq.entries()].filter(([, n]) => n >= o.minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const vocab = new Map(words.map(([w], i) => [w, i]));
  const counts = Float64Array.from(words, ([, n]) => n);
  const V = vocab.size;
  const model: SubwordEmbeddings = { dim: o.dim, minn: o.minn, maxn: o.maxn, buckets: o.buckets, vocab, counts, totalTokens, input: new Float32Array((V + o.buckets) * o.dim) };
  if (V === 0) return model;
  const d = o.dim;
  for (let i = 0; i < model.input.length; i++) model.input[i] = (rand() * 2 - 1) / d;
  const output = new Float32Array(V * d);
  // Unigram^0.75 table for negatives.
  const TABLE = 1_000_000;
  const table = new Int32Array(TABLE);
  let z = 0;
  for (const c of counts) z += Math.pow(c, 0.75);
  for (let w = 0, k = 0, acc = 0; w < V; w++) {
    acc += Math.pow(counts[w], 0.75) / z;
    while (k < TABLE && k / TABLE < acc) table[k++] = w;
    if (w === V - 1) while (k < TABLE) table[k++] = w;
  }
  const keep = Float64Array.from(counts, (c) => {
    const f = c / totalTokens;
    return Math.min(1, Math.sqrt(o.sample / f) + o.sample / f);
  });
  const subwords = new Map<number, Int32Array>();
  const rowsOf = (w: number) => {
    let r = subwords.get(w);
    if (!r) subwords.set(w, (r = Int32Array.from(subwordRows(model, words[w][0]))));
    return r;
  };
  const encoded = sentences.map((s) => Int32Array.from(s.map((w) => vocab.get(w) ?? -1).filter((w) => w >= 0)));
  const hidden = new Float32Array(d);
  const grad = new Float32Array(d);
  const total = o.epochs * encoded.reduce((s, e) => s + e.length, 0);
  let processed = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (const sent of encoded) {
      const line: number[] = [];
      for (const w of sent) if (rand() < keep[w]) line.push(w);
      processed += sent.length;
      const lr = o.lr * Math.max(1e-4, 1 - processed / total);
      for (let pos = 0; pos < line.length; pos++) {
        const rows = rowsOf(line[pos]);
        hidden.fill(0);
        for (const r of rows) for (let t = 0; t < d; t++) hidden[t] += model.input[r * d + t];
        for (let t = 0; t < d; t++) hidden[t] /= rows.length;
        const b = 1 + Math.floor(rand() * o.window);
        for (let c = -b; c <= b; c++) {
          if (c === 0 || pos + c < 0 || pos + c >= line.length) continue;
          grad.fill(0);
          for (let n = 0; n <= o.negatives; n++) {
            let target: number;
            if (n === 0) target = line[pos + c];
            else {
              target = table[Math.floor(rand() * TABLE)];
              if (target === line[pos + c]) continue;
            }
            let score = 0;
            for (let t = 0; t < d; t++) score += hidden[t] * output[target * d + t];
            const g = lr * ((n === 0 ? 1 : 0) - sigmoid(score));
            for (let t = 0; t < d; t++) {
              grad[t] += g * output[target * d + t];
              output[target * d + t] += g * hidden[t];
            }
          }
          for (const r of rows) for (let t = 0; t < d; t++) model.input[r * d + t] += grad[t];
        }
      }
    }
  }
  return model;
}

function sigmoid(x: number): number {
  if (x > 8) return 1;
  if (x < -8) return 0;
  return 1 / (1 + Math.exp(-x));
}

/** A word's vector: the mean of its subword rows (works for words never seen in training). */
export function wordVector(m: SubwordEmbeddings, word: string, out = new Float32Array(m.dim)): Float32Array {
  const rows = subwordRows(m, word);
  out.fill(0);
  for (const r of rows) for (let t = 0; t < m.dim; t++) out[t] += m.input[r * m.dim + t];
  for (let t = 0; t < m.dim; t++) out[t] /= rows.length;
  return out;
}

/** Corpus probability of a word (0 when it is not in the vocabulary). */
export function wordProbability(m: SubwordEmbeddings, word: string): number {
  const w = m.vocab.get(word);
  return w === undefined ? 0 : m.counts[w] / m.totalTokens;
}
