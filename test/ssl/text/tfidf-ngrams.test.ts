import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitNgramTfidf, ngramTerms, transformNgramTfidf, wordCharTfidf } from '../../../src/ssl/text/tfidf-ngrams.ts';
import { csrFromDense, csrL2Normalize, csrRows, hstack, randomProject } from '../../../src/ssl/text/sparse.ts';
import { mulberry32 } from '../../../src/core/rng.ts';

test("character n-grams follow scikit-learn's char_wb analyser (padded words)", () => {
  // CountVectorizer(analyzer='char_wb', ngram_range=(2, 3)).build_analyzer()('Hi yo') gives
  // [' h', 'hi', 'i ', ' hi', 'hi ', ' y', 'yo', 'o ', ' yo', 'yo '].
  const t = ngramTerms('Hi yo', { word: [1, 2], char: [2, 3], minDf: 1 });
  const chars = [...t.keys()].filter((k) => k.startsWith('c:')).map((k) => k.slice(2)).sort();
  assert.deepEqual(chars, [' h', ' hi', ' y', ' yo', 'hi', 'hi ', 'i ', 'o ', 'yo', 'yo '].sort());
  assert.deepEqual([...t.keys()].filter((k) => k.startsWith('w:')).sort(), ['w:hi', 'w:hi yo', 'w:yo']);
});

test('TF-IDF values: sublinear tf, smooth idf, unit rows, min_df', () => {
  const docs = ['a a b', 'a c', 'b c', 'd'];
  const m = fitNgramTfidf(docs, { word: [1, 1], char: null, minDf: 2 });
  assert.deepEqual([...m.vocab.keys()], ['w:a', 'w:b', 'w:c']); // d occurs once: dropped
  // idf = ln((1+4)/(1+2)) + 1 for every kept term (each in 2 documents)
  const idf = Math.log(5 / 3) + 1;
  for (const v of m.idf) assert.ok(Math.abs(v - idf) < 1e-6);
  const x = transformNgramTfidf(m, docs);
  // doc 0: a → (1 + ln 2)·idf, b → idf; normalised
  const a = 1 + Math.log(2);
  const n = Math.hypot(a, 1);
  assert.deepEqual([...x.indices.subarray(x.indptr[0], x.indptr[1])], [0, 1]);
  assert.ok(Math.abs(x.values[0] - a / n) < 1e-6 && Math.abs(x.values[1] - 1 / n) < 1e-6);
  assert.equal(x.indptr[4] - x.indptr[3], 0); // "d" has no kept term: an empty row
});

test('CSR helpers: rows, weighted hstack, normalisation, random projection keeps inner products', () => {
  const a = csrFromDense({ rows: 2, dim: 3, data: Float32Array.from([1, 0, 2, 0, 3, 0]) });
  const b = csrFromDense({ rows: 2, dim: 2, data: Float32Array.from([0, 4, 5, 0]) });
  const h = hstack([{ m: a }, { m: b, weight: 0.5 }]);
  assert.equal(h.dim, 5);
  assert.deepEqual([...h.indices], [0, 2, 4, 1, 3]);
  assert.deepEqual([...h.values], [1, 2, 2, 3, 2.5]);
  const r = csrRows(h, [1]);
  assert.deepEqual([...r.values], [3, 2.5]);
  const u = csrL2Normalize(a);
  assert.ok(Math.abs(u.values[0] ** 2 + u.values[1] ** 2 - 1) < 1e-6);
  // Two random sparse unit vectors in 5,000 dimensions: projected to 1,024, their norms stay near 1.
  const rand = mulberry32(3);
  const dense = Float32Array.from({ length: 2 * 5000 }, () => (rand() < 0.02 ? rand() : 0));
  const m = csrL2Normalize(csrFromDense({ rows: 2, dim: 5000, data: dense }));
  const p = randomProject(m, 1024, 7);
  for (let i = 0; i < 2; i++) {
    let s = 0;
    for (let t = 0; t < 1024; t++) s += p.data[i * 1024 + t] ** 2;
    assert.ok(Math.abs(s - 1) < 0.25, `norm² ${s}`);
  }
});

test('wordCharTfidf: a unit word block beside a char block of norm 0.5', () => {
  const docs = ['free prize now', 'free call now', 'see you soon', 'see you now'];
  const x = wordCharTfidf(docs, docs);
  const words = fitNgramTfidf(docs, { char: null }).vocab.size;
  for (let r = 0; r < x.rows; r++) {
    let w = 0;
    let c = 0;
    for (let p = x.indptr[r]; p < x.indptr[r + 1]; p++) (x.indices[p] < words ? (w += x.values[p] ** 2) : (c += x.values[p] ** 2));
    assert.ok(Math.abs(w - 1) < 1e-5 && Math.abs(c - 0.25) < 1e-5, `row ${r}: ${w}, ${c}`);
  }
});
