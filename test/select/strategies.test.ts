import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGIES } from '../../src/select/index.ts';
import { coveringRadius } from '../../src/select/kcenter.ts';
import { kmeans } from '../../src/select/kmeans.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import type { Features } from '../../src/probe/features.ts';
import type { Pool } from '../../src/select/types.ts';

const probs = (rows: number[][]) => ({ rows: rows.length, classes: rows[0].length, data: Float64Array.from(rows.flat()) });
const feats = (rows: number[][]): Features => ({ rows: rows.length, dim: rows[0].length, data: Float32Array.from(rows.flat()) });
const ids = (n: number) => Array.from({ length: n }, (_, i) => 100 + i);

test('uncertainty strategies pick the known most-uncertain items', () => {
  const pool: Pool = { ids: ids(4), probs: probs([[0.9, 0.05, 0.05], [0.5, 0.45, 0.05], [0.34, 0.33, 0.33], [0.6, 0.2, 0.2]]) };
  // margin: gaps 0.85, 0.05, 0.01, 0.4 → closest to the boundary first
  assert.deepEqual(STRATEGIES.margin.fn(pool, 2, { seed: 0 }), [102, 101]);
  // least confidence: 1 − max = 0.1, 0.5, 0.66, 0.4
  assert.deepEqual(STRATEGIES['least-confidence'].fn(pool, 3, { seed: 0 }), [102, 101, 103]);
  // entropy: the near-uniform row is highest; [0.6,0.2,0.2] (0.950) beats [0.5,0.45,0.05] (0.834)
  assert.deepEqual(STRATEGIES.entropy.fn(pool, 3, { seed: 0 }), [102, 103, 101]);
});

test('k-center greedy: covering radius within 2× of the brute-forced optimum', () => {
  for (let seed = 0; seed < 5; seed++) {
    const r = mulberry32(seed);
    const x = feats(Array.from({ length: 12 }, () => [r() * 10, r() * 10]));
    const pool: Pool = { ids: ids(12), embeddings: x };
    const chosen = STRATEGIES['k-center'].fn(pool, 3, { seed }).map((id) => id - 100);
    let opt = Infinity;
    for (let a = 0; a < 12; a++) for (let b = a + 1; b < 12; b++) for (let c = b + 1; c < 12; c++) opt = Math.min(opt, coveringRadius(x, [a, b, c]));
    const got = coveringRadius(x, chosen);
    assert.ok(got <= 2 * opt + 1e-9, `seed ${seed}: greedy radius ${got} vs optimum ${opt}`);
    assert.equal(new Set(chosen).size, 3);
  }
});

test('k-center greedy treats labelled items as already covered', () => {
  const x = feats([[0, 0], [0.1, 0], [10, 0], [10.1, 0], [5, 5]]);
  const chosen = STRATEGIES['k-center'].fn({ ids: ids(5), embeddings: x }, 2, { seed: 0, labelled: feats([[0, 0]]) });
  // Farthest from the labelled point first (10.1 away), then the point 7.07 from everything chosen;
  // the blob around the labelled item gets no center.
  assert.deepEqual(chosen, [103, 104]);
});

function blobs(seed: number): { x: Features; truth: number[] } {
  const r = mulberry32(seed);
  const centers = [[0, 0], [20, 0], [0, 20]];
  const rows: number[][] = [];
  const truth: number[] = [];
  centers.forEach(([cx, cy], c) => {
    for (let i = 0; i < 30; i++) {
      rows.push([cx + (r() - 0.5) * 2, cy + (r() - 0.5) * 2]);
      truth.push(c);
    }
  });
  return { x: feats(rows), truth };
}

test('k-means recovers well-separated blobs', () => {
  const { x, truth } = blobs(1);
  const { assignment } = kmeans(x, 3, { seed: 0 });
  for (let c = 0; c < 3; c++) {
    const labels = new Set(truth.map((t, i) => (t === c ? assignment[i] : -1)).filter((v) => v >= 0));
    assert.equal(labels.size, 1, `blob ${c} split across clusters`);
  }
});

test('TypiClust cold start takes one typical point per blob', () => {
  const { x, truth } = blobs(2);
  const chosen = STRATEGIES.typiclust.fn({ ids: ids(90), embeddings: x }, 3, { seed: 0 }).map((id) => id - 100);
  assert.deepEqual(chosen.map((i) => truth[i]).sort(), [0, 1, 2]);
  // Typical = near its blob's centre, not on the rim.
  const centres = [[0, 0], [20, 0], [0, 20]];
  for (const i of chosen) {
    const [cx, cy] = centres[truth[i]];
    assert.ok(Math.hypot(x.data[2 * i] - cx, x.data[2 * i + 1] - cy) < 0.8);
  }
});

test('BADGE starts from the largest gradient and spreads over classes', () => {
  const x = feats([[1, 0], [1, 0.1], [0, 1], [0, 1.1], [3, 3]]);
  const p = probs([[0.55, 0.45], [0.56, 0.44], [0.45, 0.55], [0.44, 0.56], [0.99, 0.01]]);
  const chosen = STRATEGIES.badge.fn({ ids: ids(5), embeddings: x, probs: p }, 2, { seed: 0 });
  assert.equal(chosen.length, 2);
  assert.equal(new Set(chosen).size, 2);
  // ‖g‖ = ‖p − onehot‖·‖x‖ is largest for the uncertain rows; the confident far point is not first.
  assert.notEqual(chosen[0], 104);
  const side = (id: number) => (id <= 101 ? 'a' : id <= 103 ? 'b' : 'c');
  assert.notEqual(side(chosen[0]), side(chosen[1]), 'the second pick is diverse');
});

test('random is seeded and every strategy returns distinct pool ids', () => {
  const { x } = blobs(3);
  const P = probs(Array.from({ length: 90 }, (_, i) => [((i * 7) % 10) / 10, 1 - ((i * 7) % 10) / 10]));
  const pool: Pool = { ids: ids(90), embeddings: x, probs: P };
  assert.deepEqual(STRATEGIES.random.fn(pool, 5, { seed: 4 }), STRATEGIES.random.fn(pool, 5, { seed: 4 }));
  for (const [name, s] of Object.entries(STRATEGIES)) {
    const got = s.fn(pool, 10, { seed: 1 });
    assert.equal(got.length, 10, name);
    assert.equal(new Set(got).size, 10, name);
    assert.ok(got.every((id) => pool.ids.includes(id)), name);
  }
});

test('k-means fitted on a sample: same answer as the full fit when the sample is the whole pool, blobs recovered from a 10% sample', () => {
  const { x } = blobs(3);
  assert.deepEqual(kmeans(x, 3, { seed: 4, sample: 90 }), kmeans(x, 3, { seed: 4 }));
  const r = mulberry32(9);
  const centers = [[0, 0], [20, 0], [0, 20], [20, 20]];
  const rows: number[][] = [];
  const big: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const c = i % 4;
    rows.push([centers[c][0] + (r() - 0.5) * 2, centers[c][1] + (r() - 0.5) * 2]);
    big.push(c);
  }
  const res = kmeans(feats(rows), 4, { seed: 1, sample: 200 });
  assert.equal(res.assignment.length, 2000, 'every row is assigned, not only the sample');
  for (let c = 0; c < 4; c++) {
    const got = new Set(big.map((t, i) => (t === c ? res.assignment[i] : -1)).filter((v) => v >= 0));
    assert.equal(got.size, 1, `blob ${c} split across clusters`);
  }
  // The inertia is over all rows: each is within √2 of its blob centre.
  assert.ok(res.inertia > 0 && res.inertia < 2000 * 2);
});
