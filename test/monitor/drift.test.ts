import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ks2 } from '../../src/monitor/ks.ts';
import { chiSquare, psi } from '../../src/monitor/categorical.ts';
import { gammaQ, kolmogorovQ, normalSf } from '../../src/monitor/special.ts';
import { mmdTest } from '../../src/monitor/mmd.ts';
import { c2stTest, ksPcaTest } from '../../src/monitor/tests.ts';
import { jacobiEigen } from '../../src/monitor/pca.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import type { Sample } from '../../src/monitor/types.ts';

// Reference values computed with SciPy 1.17.1 (an independent implementation):
// stats.ks_2samp(a, b, method='asymp'), stats.kstwobign.sf, stats.chi2_contingency(correction=False),
// special.gammaincc, stats.norm.sf.
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('special functions match SciPy', () => {
  for (const [l, ref] of [[0.5, 0.9639452436648751], [1.0, 0.26999967167735456], [1.36, 0.049485876755377876], [2.0, 0.0006709252557796953]]) close(kolmogorovQ(l), ref, 1e-9, `Q_KS(${l})`);
  for (const [a, x, ref] of [[0.5, 0.3, 0.4385780260809997], [2.5, 1.0, 0.8491450360846096], [3, 7.5, 0.020256715056664387], [10, 4, 0.9918677572030661]]) close(gammaQ(a, x), ref, 1e-9, `Q(${a},${x})`);
  close(normalSf(1.96), 0.024997895148220435, 1e-7, 'norm.sf(1.96)');
  close(normalSf(-0.5), 0.6914624612740131, 1e-7, 'norm.sf(-0.5)');
});

test('two-sample KS statistic matches SciPy; p-value uses the corrected Kolmogorov tail', () => {
  const a = [0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47];
  const b = [2.2, 1.66, 1.38, 0.2, 0.36, 0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, -0.37, 0.38, 0.7, 0.52, -0.72, 1.98, 0.15, 0.4, 1.62, 1.08, 0.6];
  const r = ks2(a, b);
  close(r.statistic, 0.24769230769230768, 1e-12, 'D');
  // SciPy's asymptotic p (no small-sample correction) is 0.3441; Stephens' correction is slightly more conservative.
  const ne = Math.sqrt((25 * 26) / 51);
  close(r.pValue, kolmogorovQ((ne + 0.12 + 0.11 / ne) * r.statistic), 1e-12, 'p');
  assert.ok(r.pValue > 0.3 && r.pValue < 0.4);
});

test('chi-square homogeneity and PSI on class counts', () => {
  const c = chiSquare({ reference: [120, 90, 40, 10], current: [100, 110, 70, 20] });
  close(c.statistic, 12.540170940170942, 1e-9, 'chi2');
  close(c.pValue, 0.005744287426250329, 1e-9, 'p');
  assert.equal(c.dof, 3);
  assert.equal(c.drift, true);
  // PSI by hand: shares (0.5,0.5) → (0.25,0.75): (0.25−0.5)ln(0.5) + (0.75−0.5)ln(1.5) = 0.2747
  close(psi({ reference: [50, 50], current: [25, 75] }).statistic, 0.25 * Math.log(2) + 0.25 * Math.log(1.5), 1e-12, 'psi');
  assert.equal(psi({ reference: [50, 50], current: [50, 50] }).drift, false);
});

test('Jacobi eigen-decomposition of a known symmetric matrix', () => {
  const { values } = jacobiEigen([Float64Array.from([2, 1]), Float64Array.from([1, 2])]);
  assert.deepEqual(values.map((v) => Math.round(v * 1e9) / 1e9).sort(), [1, 3]);
});

function gaussian(rows: number, dim: number, seed: number, shift = 0, scale = 1): Sample {
  const r = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return { rows, dim, data: Float64Array.from({ length: rows * dim }, (_, i) => g() * scale + (i % dim === 0 ? shift : 0)) };
}

test('each test: false alarms near α without shift, detection with a shift (exact and RFF MMD)', () => {
  const tests = {
    mmd: (a: Sample, b: Sample, seed: number) => mmdTest(a, b, { seed, permutations: 50 }),
    'mmd-rff': (a: Sample, b: Sample, seed: number) => mmdTest(a, b, { seed, permutations: 50, exactLimit: 0, features: 256 }),
    ks: (a: Sample, b: Sample, seed: number) => ksPcaTest(a, b, { seed }),
    c2st: (a: Sample, b: Sample, seed: number) => c2stTest(a, b, { seed }),
  };
  for (const [name, t] of Object.entries(tests)) {
    let alarms = 0;
    const runs = 20;
    for (let s = 0; s < runs; s++) if (t(gaussian(150, 8, 2 * s), gaussian(150, 8, 2 * s + 1), s).drift) alarms++;
    assert.ok(alarms <= 4, `${name}: ${alarms}/${runs} false alarms at α = 0.05`);
    const shifted = t(gaussian(150, 8, 100), gaussian(150, 8, 101, 1.0), 0);
    assert.equal(shifted.drift, true, `${name} misses a 1σ mean shift (p = ${shifted.pValue})`);
  }
});
