import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a, subwordRows, trainSkipgram, wordVector } from '../../../src/ssl/text/subword-skipgram.ts';
import { fitSif, sifTransform, sentenceVectors } from '../../../src/ssl/text/sif.ts';
import { mulberry32 } from '../../../src/core/rng.ts';

test('FNV-1a matches its published 32-bit test vectors', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
});

test("a word's rows: its own row plus the n-grams of <word> (the whole <word> excluded)", () => {
  const m = { vocab: new Map([['ab', 0]]), minn: 3, maxn: 4, buckets: 1000 };
  // <ab> has 3-grams <ab, ab> and the 4-gram <ab> is the word itself: 1 own row + 2 n-gram rows
  const rows = subwordRows(m, 'ab');
  assert.equal(rows.length, 3);
  assert.equal(rows[0], 0);
  assert.equal(rows[1], 1 + (fnv1a('<ab') % 1000));
  // An unseen word still gets n-gram rows only.
  assert.ok(subwordRows(m, 'abc').every((r) => r >= 1));
});

const cos = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
};

// Two topics with disjoint vocabularies: words of one topic share contexts.
function corpus(n: number, seed: number): string[][] {
  const rand = mulberry32(seed);
  const topics = [['cat', 'dog', 'pet', 'fur', 'paw', 'vet'], ['stock', 'bond', 'fund', 'bank', 'loan', 'rate']];
  return Array.from({ length: n }, () => {
    const t = topics[Math.floor(rand() * 2)];
    return Array.from({ length: 8 }, () => t[Math.floor(rand() * t.length)]);
  });
}

test('skip-gram: words sharing contexts end up closer than words that never co-occur; SIF removes the common direction', () => {
  const sents = corpus(400, 1);
  const m = trainSkipgram(sents, { dim: 16, epochs: 5, buckets: 2000, seed: 0, sample: 1 });
  const v = (w: string) => wordVector(m, w);
  assert.ok(cos(v('cat'), v('dog')) > cos(v('cat'), v('bond')) + 0.2, `${cos(v('cat'), v('dog'))} vs ${cos(v('cat'), v('bond'))}`);
  assert.ok(cos(v('fund'), v('loan')) > cos(v('fund'), v('paw')) + 0.2);
  const sif = fitSif(m, sents);
  const x = sifTransform(m, sif, sents.slice(0, 20));
  for (let i = 0; i < 20; i++) {
    let p = 0;
    for (let t = 0; t < 16; t++) p += x.data[i * 16 + t] * sif.pc[t];
    assert.ok(Math.abs(p) < 1e-4);
  }
  // Without removal the vectors are weighted means: an empty sentence is the zero vector.
  const e = sentenceVectors(m, [[]]);
  assert.ok(e.data.every((t) => t === 0));
});
