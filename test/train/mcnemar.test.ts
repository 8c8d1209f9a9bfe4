/**
 * McNemar's exact test (src/train/mcnemar.ts) against published values: Fagerland, Lydersen &
 * Laake (2013), BMC Med Res Methodol 13:91, worked example (b = 1, c = 7 discordant pairs):
 * exact conditional p 0.070, mid-p 0.039 (two-sided) — and against binomial tails by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binomialUpperTail, mcnemarExact, mcnemarPaired } from '../../src/train/mcnemar.ts';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('the published example: b = 1, c = 7 → exact two-sided p 0.070, mid-p 0.039', () => {
  const r = mcnemarExact(1, 7);
  close(r.pTwoSided, 0.070, 0.0005, 'exact conditional');
  close(r.midP, 0.039, 0.0005, 'mid-p');
  close(r.pTwoSided, 18 / 256, 1e-12, '2 · P(X ≤ 1), X ~ Bin(8, ½) = 2 · 9/256');
  close(r.midP, 10 / 256, 1e-12, 'r.midP');
  // One-sided in the challenger's favour: it was right on 1 item the incumbent missed, wrong on 7.
  close(r.pOneSided, 255 / 256, 1e-12, 'P(X ≥ 1)');
  close(mcnemarExact(7, 1).pOneSided, 9 / 256, 1e-12, 'the other way round: P(X ≥ 7)');
});

test('binomial tails and edge cases', () => {
  close(binomialUpperTail(3, 3), 1 / 8, 1e-12, 'binomialUpperTail(3, 3)');
  close(binomialUpperTail(5, 5), 1 / 32, 1e-12, 'five wins, no losses: p 0.031 — the least that passes 0.05 on a clean sweep');
  close(binomialUpperTail(4, 4), 1 / 16, 1e-12, 'four clean wins do not');
  assert.equal(binomialUpperTail(10, 0), 1);
  assert.equal(binomialUpperTail(10, 11), 0);
  close(binomialUpperTail(10, 8), 56 / 1024, 1e-15, 'P(X ≥ 8 | 10)');
  // Large n stays finite and symmetric: P(X ≥ 501 | 1000) + P(X ≥ 500 | 1000) = 1.
  close(binomialUpperTail(1000, 501) + binomialUpperTail(1000, 500), 1, 1e-12, 'symmetry at n = 1000');
  assert.deepEqual(mcnemarExact(0, 0), { b: 0, c: 0, pOneSided: 1, pTwoSided: 1, midP: 1 });
  const tie = mcnemarExact(3, 3);
  assert.equal(tie.pTwoSided, 1);
  assert.equal(tie.midP, 1);
  close(tie.pOneSided, 42 / 64, 1e-12, 'P(X ≥ 3 | 6)');
  assert.throws(() => mcnemarExact(-1, 2), /whole numbers ≥ 0, got b -1, c 2/);
  assert.throws(() => mcnemarExact(1.5, 2), /whole numbers/);
});

test('paired correctness → discordant counts; concordant items do not count', () => {
  const challenger = [true, true, true, false, true, false];
  const incumbent = [true, false, false, false, true, true];
  const r = mcnemarPaired(challenger, incumbent);
  assert.equal(r.b, 2);
  assert.equal(r.c, 1);
  close(r.pOneSided, 4 / 8, 1e-12, 'P(X ≥ 2 | 3)');
  assert.throws(() => mcnemarPaired([true], [true, false]), /1 vs 2 items/);
});
