import type { Features } from '../../probe/features.ts';
import { wordProbability, wordVector, type SubwordEmbeddings } from './subword-skipgram.ts';

/**
 * SIF sentence vectors (Arora, Liang & Ma 2017, "A simple but tough-to-beat baseline for sentence
 * embeddings"): v_s = (1/|s|) Σ_w a/(a + p(w)) v_w, then the projection on the first principal
 * component of the fitting corpus's sentence vectors is removed (it carries common-discourse
 * directions — syntax, frequent words — shared by all sentences). a = 1e-3 as in the paper.
 */
export interface SifModel {
  a: number;
  /** The unit first principal direction of the fitting corpus's sentence vectors, removed by sifTransform. */
  pc: Float32Array;
}

export function sentenceVectors(emb: SubwordEmbeddings, sentences: string[][], a = 1e-3): Features {
  const d = emb.dim;
  const out = new Float32Array(sentences.length * d);
  const v = new Float32Array(d);
  sentences.forEach((s, i) => {
    if (s.length === 0) return;
    for (const w of s) {
      const weight = a / (a + wordProbability(emb, w));
      wordVector(emb, w, v);
      for (let t = 0; t < d; t++) out[i * d + t] += (weight * v[t]) / s.length;
    }
  });
  return { rows: sentences.length, dim: d, data: out };
}

/** First principal direction (uncentred, as the paper) by power iteration, seeded deterministically. */
export function firstPrincipalDirection(x: Features, iterations = 50): Float32Array {
  const d = x.dim;
  let u: Float64Array = new Float64Array(d).fill(1 / Math.sqrt(d));
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(d);
    for (let i = 0; i < x.rows; i++) {
      let p = 0;
      for (let t = 0; t < d; t++) p += x.data[i * d + t] * u[t];
      for (let t = 0; t < d; t++) next[t] += p * x.data[i * d + t];
    }
    const n = Math.sqrt(next.reduce((s, v) => s + v * v, 0));
    if (n === 0) break;
    for (let t = 0; t < d; t++) next[t] /= n;
    u = next;
  }
  return Float32Array.from(u);
}

export function fitSif(emb: SubwordEmbeddings, corpus: string[][], a = 1e-3): SifModel {
  return { a, pc: firstPrincipalDirection(sentenceVectors(emb, corpus, a)) };
}

/** SIF vectors of `sentences` with the fitted common component removed. */
export function sifTransform(emb: SubwordEmbeddings, model: SifModel, sentences: string[][]): Features {
  const x = sentenceVectors(emb, sentences, model.a);
  const d = x.dim;
  if (model.pc.length === d) {
    for (let i = 0; i < x.rows; i++) {
      let p = 0;
      for (let t = 0; t < d; t++) p += x.data[i * d + t] * model.pc[t];
      for (let t = 0; t < d; t++) x.data[i * d + t] -= p * model.pc[t];
    }
  }
  return x;
}
