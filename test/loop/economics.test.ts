import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeLearningVerdict, labelEconomics, labelsToReach } from '../../src/loop/economics.ts';

test('labels to reach a target interpolate between rounds and never extrapolate', () => {
  const curve = [{ labels: 100, accuracy: 0.6 }, { labels: 200, accuracy: 0.7 }, { labels: 300, accuracy: 0.8 }];
  assert.equal(labelsToReach(curve, 0.75), 250);
  assert.equal(labelsToReach(curve, 0.5), 100);
  assert.equal(labelsToReach(curve, 0.81), null);
});

test('economics: labels and money saved against random selection without SSL', () => {
  const run = [{ labels: 50, accuracy: 0.7 }, { labels: 100, accuracy: 0.8 }];
  const base = [{ labels: 50, accuracy: 0.5 }, { labels: 100, accuracy: 0.6 }, { labels: 200, accuracy: 0.7 }, { labels: 300, accuracy: 0.85 }];
  const e = labelEconomics(run, base, 2);
  assert.equal(e.baselineLabels, 267); // 200 + (0.8 − 0.7)/(0.85 − 0.7) × 100 = 266.7 → 267
  assert.equal(e.labelsSaved, 167);
  assert.equal(e.moneySaved, 334);
  const never = labelEconomics(run, base.slice(0, 2), 2);
  assert.equal(never.baselineLabels, null);
  assert.match(never.summary, /never reached it within 100 labels/);
});

test('active-learning verdict: the 0.6× bar, and the cases where a curve never reached the target', () => {
  assert.deepEqual(
    [activeLearningVerdict(60, 100, 200).verdict, activeLearningVerdict(60, 100, 200).meetsBar, activeLearningVerdict(60, 100, 200).ratio],
    ['helped', true, 0.6],
  );
  const little = activeLearningVerdict(80, 100, 200);
  assert.equal(little.verdict, 'helped a little');
  assert.equal(little.meetsBar, false);
  assert.equal(activeLearningVerdict(120, 100, 200).verdict, 'did not help');
  // Random never got there within 200 labels: active at 110 (≤ 0.6 × 200 = 120) is at most 0.55× random.
  assert.equal(activeLearningVerdict(110, null, 200).meetsBar, true);
  assert.equal(activeLearningVerdict(130, null, 200).meetsBar, false);
  assert.match(activeLearningVerdict(null, 90, 200).summary, /did not help/);
  assert.equal(activeLearningVerdict(null, null, 200).verdict, 'neither reached it');
});
