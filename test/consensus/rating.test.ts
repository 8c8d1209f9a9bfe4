import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianRating, posteriorMedian, ratingAgreement, type RatingAnswer } from '../../src/consensus/rating.ts';

const near = (a: number | null, b: number, eps: number) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} vs ${b}`);

test("rating: Krippendorff's α ordinal on Krippendorff (2011) example C → 0.815 (published)", () => {
  const _ = null;
  const data = [
    [1, 1, _, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [_, 5, 5, 5], [_, _, 1, 1], [_, 3, _, _],
  ];
  const answers: RatingAnswer[] = data.flatMap((row, u) => row.flatMap((v, c) => (v === null ? [] : [{ item: `u${u}`, annotator: 'ABCD'[c], value: v }])));
  near(ratingAgreement(answers, { min: 1, max: 5 }).alphaOrdinal, 0.815, 5e-4);
});

test("rating: weighted κ on Gwet's 100 pregnancies × 2 abstractors → linear 0.843, quadratic 0.892 (irrCAC)", () => {
  const table = [[13, 0, 0], [0, 20, 7], [0, 4, 56]];
  const answers: RatingAnswer[] = [];
  let u = 0;
  table.forEach((row, i) => row.forEach((n, j) => {
    for (let k = 0; k < n; k++, u++) answers.push({ item: `p${u}`, annotator: 'A', value: i + 1 }, { item: `p${u}`, annotator: 'B', value: j + 1 });
  }));
  const r = ratingAgreement(answers, { min: 1, max: 3 });
  near(r.weightedKappa.linear, 0.843, 5e-4);
  near(r.weightedKappa.quadratic, 0.892, 5e-4);
  assert.equal(r.weightedKappa.pairs, 1);
});

test('rating: weighted κ with three raters is the mean over rater pairs (by hand)', () => {
  // Scale 1..3, items x, y. A: 1, 3. B: 1, 3. C: 3, 1. A–B: κ = 1. A–C and B–C: perfect
  // disagreement at the ends: p_o(linear) = 0, p_e(linear) = 0.5 → κ = −1.
  const answers: RatingAnswer[] = [
    { item: 'x', annotator: 'A', value: 1 }, { item: 'y', annotator: 'A', value: 3 },
    { item: 'x', annotator: 'B', value: 1 }, { item: 'y', annotator: 'B', value: 3 },
    { item: 'x', annotator: 'C', value: 3 }, { item: 'y', annotator: 'C', value: 1 },
  ];
  const r = ratingAgreement(answers, { min: 1, max: 3 });
  near(r.weightedKappa.linear, (1 - 1 - 1) / 3, 1e-12);
  assert.equal(r.weightedKappa.pairs, 3);
});

test('rating: consensus by the (lower) median, and by the median of a posterior', () => {
  assert.deepEqual(medianRating([4, 2, 4]), { value: 4, confidence: 2 / 3 });
  assert.deepEqual(medianRating([3, 4]), { value: 3, confidence: 0.5 });
  assert.equal(medianRating([]), null);
  assert.deepEqual(posteriorMedian([1, 2, 3], [0.4, 0.2, 0.4]), { value: 2, confidence: 0.2 });
  assert.deepEqual(posteriorMedian([1, 2, 3], [0.7, 0.2, 0.1]), { value: 1, confidence: 0.7 });
});
