import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answersToMatrix,
  cohenKappa,
  cohenKappaTable,
  fleissKappa,
  fleissKappaCounts,
  gwetAC1,
  gwetAC1Table,
  krippendorffAlpha,
  pairwiseKappa,
  percentAgreement,
  perLabelKappa,
} from '../../src/consensus/agreement/index.ts';
import { UserError } from '../../src/core/errors.ts';
import { snow } from './crowd-data.ts';

const near = (actual: number, expected: number, eps: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= eps, `${what} ${actual} vs ${expected} (±${eps})`);
const _ = null;

// ---- Cohen's kappa ------------------------------------------------------------------------

test("cohen: Wikipedia's 50 grant proposals (20 yes/yes, 5, 10, 15 no/no) → κ = 0.4", () => {
  // Wikipedia, "Cohen's kappa", worked example: p_o = 0.7, p_e = 0.5, κ = 0.4.
  const r = cohenKappaTable([[20, 5], [10, 15]]);
  near(r.observed, 0.7, 1e-12);
  near(r.expected, 0.5, 1e-12);
  near(r.value, 0.4, 1e-12);
});

test('cohen: SAS example table (statsmodels test_inter_rater.py): κ = 0.4842, linear κ_w = 0.4701', () => {
  // statsmodels compares with SAS PROC FREQ output on this 3×3 table (19 subjects); SAS's
  // default weighted kappa uses Cicchetti-Allison weights 1 − |i−j|/(K−1), i.e. linear.
  const t = [[0, 4, 1], [0, 8, 0], [0, 1, 5]];
  near(cohenKappaTable(t).value, 0.4842, 5e-5);
  near(cohenKappaTable(t, { weights: 'linear' }).value, 0.4701, 5e-5);
});

test("cohen: R irr kappa2(anxiety[,2:3]) — unweighted, 'equal' and 'squared' weights", () => {
  // irr's `anxiety` data (20 subjects, raters 2 and 3, ratings 1–6; 5 is never used, so
  // irr's factor levels are 1,2,3,4,6 and weights follow those positions). Values from R as
  // recorded in statsmodels' test_inter_rater.py: −0.006289308, 0.1459075, 0.2520325.
  const r2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4];
  const r3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2];
  near(cohenKappa(r2, r3).value, -0.006289308, 1e-9);
  near(cohenKappa(r2, r3, { weights: 'linear' }).value, 0.1459075, 1e-7);
  near(cohenKappa(r2, r3, { weights: 'quadratic' }).value, 0.2520325, 1e-7);
  assert.deepEqual(cohenKappa(r2, r3).categories, [1, 2, 3, 4, 6]);
});

test("cohen: Gwet's 100 pregnancies × 2 abstractors (irrCAC cont3x3abstractors) → 0.796 / 0.843 / 0.892", () => {
  // Gwet (2014) Handbook of Inter-Rater Reliability; values from the irrCAC test suite.
  const t = [[13, 0, 0], [0, 20, 7], [0, 4, 56]];
  near(cohenKappaTable(t).value, 0.796, 5e-4);
  near(cohenKappaTable(t, { weights: 'linear' }).value, 0.843, 5e-4);
  near(cohenKappaTable(t, { weights: 'quadratic' }).value, 0.892, 5e-4);
});

test('cohen: units rated by only one coder are skipped; constant raters give NaN', () => {
  const r = cohenKappa(['a', 'b', null, 'a'], ['a', 'b', 'b', undefined]);
  assert.equal(r.n, 2);
  near(r.value, 1, 1e-12);
  assert.ok(Number.isNaN(cohenKappa(['a', 'a'], ['a', 'a']).value));
  assert.throws(() => cohenKappa(['a'], ['a', 'b']), UserError);
});

// ---- Fleiss' kappa ------------------------------------------------------------------------

const wikipediaFleiss = [
  [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
  [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
];

test("fleiss: Wikipedia's worked example (10 subjects × 14 raters, 5 categories) → κ = 0.210", () => {
  // Wikipedia, "Fleiss' kappa": P̄ = 0.378, P̄_e = 0.213, κ = 0.210 (also statsmodels' test).
  const r = fleissKappaCounts(wikipediaFleiss);
  near(r.observed, 0.378, 5e-4);
  near(r.expected, 0.213, 5e-4);
  near(r.value, 0.21, 5e-4);
});

// Fleiss (1971) Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses (1 depression,
// 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other); the raw ratings as in R's
// irr::diagnoses (copied in statsmodels' test_inter_rater.py).
const diagnoses = [
  [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
  [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
  [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
  [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
  [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
  [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
];

test('fleiss: Fleiss (1971) psychiatric diagnoses → κ = 0.430 (irr::kappam.fleiss 0.4302445)', () => {
  near(fleissKappa(diagnoses).value, 0.4302445, 1e-7);
});

test('fleiss / per-label: category-wise kappas and their weighted mean (Fleiss 1971)', () => {
  // Fleiss (1971) reports category-wise κ_j of .245 .245 .520 .471 .566 for this table, and
  // κ = Σ p_j q_j κ_j / Σ p_j q_j (his eq. 15) — checked here to 1e-12.
  const per = perLabelKappa(diagnoses);
  const expected = [0.245, 0.245, 0.52, 0.471, 0.566];
  [1, 2, 3, 4, 5].forEach((c, k) => near(per.get(c)!.kappa, expected[k], 5e-4, `κ_${c}`));
  let num = 0;
  let den = 0;
  for (const { kappa, prevalence: p } of per.values()) {
    num += p * (1 - p) * kappa;
    den += p * (1 - p);
  }
  near(num / den, fleissKappa(diagnoses).value, 1e-12);
});

// Gwet (2014), Handbook of Inter-Rater Reliability p. 120: 4 raters × 12 units, missing
// ratings (irrCAC's raw_4raters). irrCAC: Fleiss p_a 0.818, p_e 0.239, κ 0.761;
// AC1 p_a 0.818, p_e 0.190, AC1 0.775 (0.77544).
const gwet4 = [
  [1, 1, _, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
  [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [_, 5, 5, 5], [_, _, 1, 1], [_, _, 3, _],
];

test('fleiss with missing ratings: Gwet (2014) 4 raters × 12 units → 0.761 (irrCAC)', () => {
  const r = fleissKappa(gwet4);
  near(r.observed, 0.818, 5e-4);
  near(r.expected, 0.239, 5e-4);
  near(r.value, 0.761, 5e-4);
  assert.equal(r.n, 11); // unit 12 has one rating: not pairable
});

// ---- Gwet's AC1 ---------------------------------------------------------------------------

test("gwet AC1: Gwet's abstractors table → 0.849; 4 raters with missing → 0.775 (irrCAC)", () => {
  near(gwetAC1Table([[13, 0, 0], [0, 20, 7], [0, 4, 56]]).value, 0.849, 5e-4);
  const r = gwetAC1(gwet4);
  near(r.observed, 0.818, 5e-4);
  near(r.expected, 0.19, 5e-4);
  near(r.value, 0.77544, 5e-6);
});

test('gwet AC1: stays high where kappa collapses (the paradox it was made for)', () => {
  // 2 raters, 100 units, 95 agreed "no", 5 disagreements: p_a = 0.95 but κ ≈ 0 (< 0).
  const t = [[0, 3], [2, 95]];
  assert.ok(cohenKappaTable(t).value < 0.01);
  assert.ok(gwetAC1Table(t).value > 0.9);
  // Two coders, no missing ratings: the matrix form equals the table form.
  const a = [...Array(3).fill(['yes', 'no']), ...Array(2).fill(['no', 'yes']), ...Array(95).fill(['no', 'no'])];
  near(gwetAC1(a).value, gwetAC1Table(t).value, 1e-12);
});

// ---- Krippendorff's alpha -----------------------------------------------------------------

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers
// × 12 units with missing values (here units × coders). Published: nominal 0.743,
// ordinal 0.815, interval 0.849, ratio 0.797 (the same values are asserted by the
// fast-krippendorff and krippendorffs_alpha Python packages' tests).
const kripp2011 = [
  [1, 1, _, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
  [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [_, 5, 5, 5], [_, _, 1, 1], [_, 3, _, _],
];

test('krippendorff: the 2011 paper example, all four metrics', () => {
  near(krippendorffAlpha(kripp2011, { metric: 'nominal' }).value, 0.743, 5e-4, 'nominal');
  near(krippendorffAlpha(kripp2011, { metric: 'ordinal' }).value, 0.815, 5e-4, 'ordinal');
  near(krippendorffAlpha(kripp2011, { metric: 'interval' }).value, 0.849, 5e-4, 'interval');
  near(krippendorffAlpha(kripp2011, { metric: 'ratio' }).value, 0.797, 5e-4, 'ratio');
  assert.equal(krippendorffAlpha(kripp2011).pairable, 40); // n.. in the paper
});

test("krippendorff: Wikipedia's 3 coders × 15 units → nominal 0.691358, interval 0.810845", () => {
  // Wikipedia, "Krippendorff's alpha", computational example; the 6-digit values are those
  // asserted in fast-krippendorff's tests.
  const rows = [
    [_, _, _, _, _, 3, 4, 1, 2, 1, 1, 3, 3, _, 3],
    [1, _, 2, 1, 3, 3, 4, 3, _, _, _, _, _, _, _],
    [_, _, 2, 1, 3, 4, 4, _, 2, 1, 1, 3, 3, _, 4],
  ];
  const units = rows[0].map((_, u) => rows.map((r) => r[u]));
  near(krippendorffAlpha(units).value, 0.691358, 5e-7);
  near(krippendorffAlpha(units, { metric: 'interval' }).value, 0.810845, 5e-7);
});

test('krippendorff: string categories need a given order for ordinal, numbers for interval', () => {
  const words = ['lo', 'mid', 'hi', 'top', 'max'];
  const m = kripp2011.map((r) => r.map((v) => (v === null ? null : words[v - 1])));
  near(krippendorffAlpha(m, { metric: 'ordinal', categories: words }).value, 0.815, 5e-4);
  assert.throws(() => krippendorffAlpha(m, { metric: 'interval' }), UserError);
  assert.ok(Number.isNaN(krippendorffAlpha([[1, 1], [1, 1]]).value)); // nothing to disagree about
});

// ---- percent agreement, pairwise matrix, answers → matrix -----------------------------------

test('percent agreement: share of agreeing pairs per unit, averaged', () => {
  near(percentAgreement([['a', 'a'], ['a', 'b'], ['b', 'b'], ['a', null]]), 2 / 3, 1e-12);
  near(percentAgreement([['a', 'a', 'b']]), 1 / 3, 1e-12);
  // Equals Fleiss' observed agreement.
  near(percentAgreement(diagnoses), fleissKappa(diagnoses).observed, 1e-12);
});

test('pairwise: Cohen κ per coder pair over co-rated units, with n', () => {
  const m = [
    ['a', 'a', 'b'],
    ['b', 'b', 'b'],
    ['a', 'a', null],
    ['b', 'b', 'a'],
  ];
  const r = pairwiseKappa(m, { coders: ['x', 'y', 'z'] });
  assert.deepEqual(r.n, [[4, 4, 3], [4, 4, 3], [3, 3, 3]]);
  near(r.kappa[0][1], 1, 1e-12);
  near(r.kappa[0][2], cohenKappa(['a', 'b', 'b'], ['b', 'b', 'a']).value, 1e-12);
  assert.equal(r.kappa[2][0], r.kappa[0][2]);
  assert.ok(Number.isNaN(pairwiseKappa(m, { minOverlap: 4 }).kappa[0][2]));
});

test('answersToMatrix + agreement on RTE: 164 workers, κ over the 10 ratings per item', () => {
  const { units, coders, matrix } = answersToMatrix(snow('rte').answers);
  assert.equal(units.length, 800);
  assert.equal(coders.length, 164);
  const k = fleissKappa(matrix).value;
  const alpha = krippendorffAlpha(matrix).value;
  // With 10 ratings on every unit, Fleiss' κ and nominal α differ only by the small-sample
  // correction of α: α = 1 − (1 − κ)(n−1)/n with n = 8000 pairable values.
  near(alpha, 1 - ((1 - k) * 7999) / 8000, 1e-9);
  // Crowd workers on RTE agree only fairly beyond chance (κ ≈ 0.24; no published figure).
  near(k, 0.2414, 1e-4);
  assert.throws(
    () => answersToMatrix([{ item: 'i', annotator: 'w', label: 'a' }, { item: 'i', annotator: 'w', label: 'b' }]),
    UserError,
  );
});
