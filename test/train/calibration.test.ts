import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedCalibrationError, fitTemperature, softmaxWithTemperature } from '../../src/train/calibration.ts';
import { mulberry32 } from '../../src/core/rng.ts';

test('ECE by hand: two bins', () => {
  // Confidences 0.9, 0.9 (one right) and 0.6, 0.6 (both right), 10 bins:
  // bin 9: acc 0.5 conf 0.9 → 0.4 × 2/4; bin 6: acc 1 conf 0.6 → 0.4 × 2/4 → ECE 0.4.
  const p = Float64Array.from([0.9, 0.1, 0.9, 0.1, 0.6, 0.4, 0.4, 0.6]);
  assert.ok(Math.abs(expectedCalibrationError(p, 2, [0, 1, 0, 1], 10) - 0.4) < 1e-12);
});

test('temperature scaling recovers the temperature that generated the labels and lowers ECE', () => {
  // Labels drawn from softmax(z / 2.5): logits are over-confident by a factor 2.5.
  const r = mulberry32(7);
  const n = 4000;
  const C = 4;
  const z = Float64Array.from({ length: n * C }, () => (r() - 0.5) * 12);
  const trueP = softmaxWithTemperature(z, C, 2.5);
  const y = Array.from({ length: n }, (_, i) => {
    let u = r();
    for (let c = 0; c < C; c++) if ((u -= trueP[i * C + c]) <= 0) return c;
    return C - 1;
  });
  const T = fitTemperature(z, C, y);
  assert.ok(Math.abs(T - 2.5) < 0.25, `fitted T ${T}`);
  const before = expectedCalibrationError(softmaxWithTemperature(z, C, 1), C, y);
  const after = expectedCalibrationError(softmaxWithTemperature(z, C, T), C, y);
  assert.ok(after < before / 3, `ECE ${before} → ${after}`);
});
