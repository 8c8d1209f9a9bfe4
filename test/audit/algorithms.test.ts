// Pure audit algorithms: MinHash + LSH, perceptual hashes with multi-index Hamming search, star
// clustering, robust outliers, class balance, the ANN backends (usearch, hnswlib, exact).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../../src/core/rng.ts';
import { jaccard, minhashNearDuplicates, shingleHashes, starClusters } from '../../src/audit/minhash.ts';
import { dHash, hamming, hammingNearDuplicates, pHash, resizeArea, type Hash64 } from '../../src/audit/phash.ts';
import { quantileSorted, robustOutliers } from '../../src/audit/outliers.ts';
import { classBalance } from '../../src/audit/balance.ts';
import { ANN_BACKENDS, buildAnnIndex, selfKnn } from '../../src/audit/ann.ts';

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(' ');
function sentence(rand: () => number, n: number): string {
  return Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)] + Math.floor(rand() * 100)).join(' ');
}

test('shingles and Jaccard: normalisation makes case and spacing variants identical', () => {
  const a = shingleHashes('Win a FREE   prize now!');
  const b = shingleHashes('win a free prize now!');
  assert.equal(jaccard(a, b), 1);
  assert.equal(jaccard(shingleHashes('abcdef'), shingleHashes('uvwxyz')), 0);
  // "abcdefg" has 5-grams abcde, bcdef, cdefg; "abcdefh" shares 2 of 4 distinct → 2/4.
  assert.equal(jaccard(shingleHashes('abcdefg'), shingleHashes('abcdefh')), 2 / 4);
  assert.equal(shingleHashes('   ').length, 0);
});

test('MinHash + LSH finds every planted near-duplicate pair and verifies candidates exactly', () => {
  const rand = mulberry32(7);
  const texts = Array.from({ length: 2000 }, () => sentence(rand, 30));
  const planted: Array<[number, number]> = [];
  for (let i = 0; i < 100; i++) {
    const src = i * 20;
    const words = texts[src].split(' ');
    words[Math.floor(rand() * words.length)] = 'changed'; // one word of 30 replaced
    texts.push(words.join(' '));
    planted.push([src, texts.length - 1]);
  }
  const r = minhashNearDuplicates(texts, { threshold: 0.8, seed: 1 });
  const found = new Set(r.pairs.map((p) => `${p.a}-${p.b}`));
  for (const [a, b] of planted) assert.ok(found.has(`${a}-${b}`), `planted pair ${a}-${b}`);
  assert.equal(r.pairs.length, planted.length, 'no false pairs among random texts');
  for (const p of r.pairs) assert.ok(p.similarity >= 0.8 && p.similarity < 1);
  assert.ok(r.candidates < 0.001 * ((2100 * 2099) / 2), `few candidates (${r.candidates}), not all ${(2100 * 2099) / 2} pairs`);
});

test('star clustering does not chain: a–b–c with a ≁ c keeps c', () => {
  const { clusters, leaderOf } = starClusters(4, [
    { a: 0, b: 1 },
    { a: 1, b: 2 },
  ]);
  assert.deepEqual(clusters, [[0, 1]]);
  assert.deepEqual([...leaderOf], [0, 0, -1, -1]);
});

function gradientImage(size: number, seed: number): { width: number; height: number; pixels: Uint8Array } {
  const r = mulberry32(seed);
  const blobs = Array.from({ length: 6 }, () => ({ x: r() * size, y: r() * size, s: 4 + r() * size * 0.3, v: r() * 255 }));
  const pixels = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let v = 0;
      for (const b of blobs) v += b.v * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
      pixels[y * size + x] = Math.min(255, v);
    }
  return { width: size, height: size, pixels };
}

test('perceptual hashes: stable under brightness, scale and light noise; far apart for other images', () => {
  const img = gradientImage(64, 1);
  const brighter = { ...img, pixels: img.pixels.map((v) => Math.min(255, v * 0.9 + 20)) };
  const r = mulberry32(3);
  const noisy = { ...img, pixels: img.pixels.map((v) => Math.max(0, Math.min(255, v + (r() - 0.5) * 6))) };
  const half = { width: 32, height: 32, pixels: Uint8Array.from(resizeArea(img, 32, 32), Math.round) };
  const other = gradientImage(64, 2);
  for (const h of [pHash, dHash]) {
    assert.ok(hamming(h(img), h(brighter)) <= 4, `${h.name} brightness`);
    assert.ok(hamming(h(img), h(noisy)) <= 4, `${h.name} noise`);
    assert.ok(hamming(h(img), h(half)) <= 4, `${h.name} scale`);
    assert.ok(hamming(h(img), h(other)) > 10, `${h.name} other image: ${hamming(h(img), h(other))}`);
  }
  assert.deepEqual(Array.from(resizeArea({ width: 2, height: 2, pixels: [0, 10, 20, 30] }, 1, 1)), [15]);
});

test('multi-index Hamming search returns exactly the pairs within distance t (checked against all pairs)', () => {
  const rand = mulberry32(11);
  const u32 = () => Math.floor(rand() * 2 ** 32) >>> 0;
  const hashes: Hash64[] = Array.from({ length: 600 }, () => ({ hi: u32(), lo: u32() }));
  // Plant close copies: flip 0–4 random bits.
  for (let i = 0; i < 60; i++) {
    const h = { ...hashes[i * 7] };
    for (let f = 0; f < i % 5; f++) {
      const bit = Math.floor(rand() * 64);
      if (bit < 32) h.lo = (h.lo ^ (1 << bit)) >>> 0;
      else h.hi = (h.hi ^ (1 << (bit - 32))) >>> 0;
    }
    hashes.push(h);
  }
  const t = 4;
  const brute: string[] = [];
  for (let a = 0; a < hashes.length; a++) for (let b = a + 1; b < hashes.length; b++) if (hamming(hashes[a], hashes[b]) <= t) brute.push(`${a}-${b}`);
  const r = hammingNearDuplicates(hashes, t);
  assert.deepEqual(r.pairs.map((p) => `${p.a}-${p.b}`), brute.sort((x, y) => Number(x.split('-')[0]) - Number(y.split('-')[0]) || Number(x.split('-')[1]) - Number(y.split('-')[1])));
  assert.ok(brute.length >= 60);
  assert.ok(r.candidates < 5000, `candidates ${r.candidates} ≪ ${(660 * 659) / 2}`);
});

test('robust outliers: median/MAD z-scores, and Tukey fences when MAD is 0', () => {
  const v = [10, 11, 9, 10, 12, 10, 9, 11, 10, 100];
  const r = robustOutliers(v);
  assert.equal(r.method, 'robust_z');
  assert.equal(r.median, 10);
  assert.equal(r.mad, 1);
  assert.deepEqual(r.outliers.map((o) => [o.index, Math.round(o.score * 1000) / 1000]), [[9, 60.705]]); // 0.6745·90/1
  const same = robustOutliers([5, 5, 5, 5, 5, 5, 6, 5, 40]);
  assert.equal(same.method, 'iqr');
  assert.deepEqual(same.outliers.map((o) => o.index), [6, 8]);
  assert.deepEqual(robustOutliers(v, { side: 'low' }).outliers, []);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
});

test('class balance: imbalance ratio, normalised entropy, minority classes', () => {
  const b = classBalance({ ham: 4827, spam: 747 });
  assert.equal(b.total, 5574);
  assert.ok(Math.abs(b.imbalanceRatio! - 4827 / 747) < 1e-12);
  assert.deepEqual(b.minority, ['spam']);
  assert.equal(classBalance({ a: 5, b: 5 }).normalizedEntropy, 1);
  assert.equal(classBalance({}).classes, 0);
});

test('ANN backends: usearch and hnswlib find the exact nearest neighbours on a small set; selfKnn drops the query', () => {
  const rand = mulberry32(5);
  const n = 500;
  const d = 16;
  const v = Float32Array.from({ length: n * d }, () => rand() - 0.5);
  const exact = selfKnn(buildAnnIndex('exact', v, d), v, d, 5);
  for (const backend of ANN_BACKENDS) {
    const knn = selfKnn(buildAnnIndex(backend, v, d, { seed: 1 }), v, d, 5);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const truth = new Set(exact.indices.subarray(i * 5, i * 5 + 5));
      for (let j = 0; j < 5; j++) {
        assert.notEqual(knn.indices[i * 5 + j], i, `${backend}: row ${i} is not its own neighbour`);
        if (truth.has(knn.indices[i * 5 + j])) hits++;
      }
      assert.ok(Math.abs(knn.distances[i * 5] - exact.distances[i * 5]) < 1e-4 || knn.indices[i * 5] !== exact.indices[i * 5], `${backend}: cosine distance`);
    }
    assert.ok(hits / (n * 5) > 0.97, `${backend} recall@5 ${hits / (n * 5)}`);
  }
});
