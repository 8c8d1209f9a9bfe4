import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxMatching, minCostAssignment } from '../../src/consensus/hungarian.ts';
import { mulberry32 } from '../../src/core/rng.ts';

const costOf = (c: number[][], a: number[]) => a.reduce((s, j, i) => s + c[i][j], 0);

function permutations(n: number, m: number): number[][] {
  // Injective maps of n rows into m columns.
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1, m)) for (let j = 0; j < m; j++) if (!p.includes(j)) out.push([...p, j]);
  return out;
}

test('hungarian: the classic 4×4 example (82 83 69 92 / 77 37 49 92 / 11 69 5 86 / 8 9 98 23) → 140', () => {
  const c = [[82, 83, 69, 92], [77, 37, 49, 92], [11, 69, 5, 86], [8, 9, 98, 23]];
  const a = minCostAssignment(c);
  assert.deepEqual(a, [2, 1, 0, 3]);
  assert.equal(costOf(c, a), 140);
});

test('hungarian: equals brute force on seeded random rectangular matrices', () => {
  const rand = mulberry32(7);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 5);
    const m = n + Math.floor(rand() * 3);
    const c = Array.from({ length: n }, () => Array.from({ length: m }, () => Math.floor(rand() * 20)));
    const best = Math.min(...permutations(n, m).map((p) => costOf(c, p)));
    const a = minCostAssignment(c);
    assert.equal(new Set(a).size, n, 'distinct columns');
    assert.equal(costOf(c, a), best, JSON.stringify(c));
  }
});

test('maxMatching: most pairs first, then the largest total weight (brute force, with forbidden pairs)', () => {
  const rand = mulberry32(11);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 4);
    const m = 1 + Math.floor(rand() * 4);
    const w = Array.from({ length: n }, () => Array.from({ length: m }, () => (rand() < 0.4 ? null : Math.round(rand() * 100) / 100)));
    // Brute force over every partial one-to-one matching.
    let bestCount = 0;
    let bestTotal = 0;
    const walk = (i: number, used: Set<number>, count: number, total: number) => {
      if (i === n) {
        if (count > bestCount || (count === bestCount && total > bestTotal + 1e-12)) [bestCount, bestTotal] = [count, total];
        return;
      }
      walk(i + 1, used, count, total);
      for (let j = 0; j < m; j++) {
        const x = w[i][j];
        if (x === null || used.has(j)) continue;
        used.add(j);
        walk(i + 1, used, count + 1, total + x);
        used.delete(j);
      }
    };
    walk(0, new Set(), 0, 0);
    const r = maxMatching(w);
    assert.equal(r.length, bestCount, JSON.stringify(w));
    assert.ok(Math.abs(r.reduce((s, e) => s + e.w, 0) - bestTotal) < 1e-9, JSON.stringify(w));
    for (const e of r) assert.equal(w[e.i][e.j], e.w);
    assert.equal(new Set(r.map((e) => e.j)).size, r.length);
  }
});

test('maxMatching: prefers two matches over one better one (greedy by weight would take 0.9 and stop)', () => {
  // Row 0 matches column 0 (0.9) and column 1 (0.6); row 1 matches column 0 only (0.7).
  const r = maxMatching([[0.9, 0.6], [0.7, null]]);
  assert.deepEqual(r, [{ i: 0, j: 1, w: 0.6 }, { i: 1, j: 0, w: 0.7 }]);
});
