import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activeLearningVerdict, labelEconomics, labelsToReach } from '../../src/loop/economics.ts';
import { economicsWords } from '../../src/loop/loop.ts';

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
  assert.match(never.summary, /never reached it within 100 labelled items/);
});

test('economics words: labelled items vs answers, the unit, and what was actually compared', () => {
  const run = [{ labels: 40, accuracy: 0.9 }];
  // Random selection: 0.8 at 40, 0.95 at 120 → 0.9 at 40 + (0.1 / 0.15) × 80 = 93.3 → 94 labelled items.
  const base = [{ labels: 40, accuracy: 0.8 }, { labels: 120, accuracy: 0.95 }];
  // The probe sent the head to raw features and every round kept it: only the selection differs.
  const raw = labelEconomics(run, base, 0.3, economicsWords('raw', ['linear'], 3, 0.1, 'cost units'));
  assert.equal(raw.unit, 'cost units');
  assert.equal(
    raw.summary,
    'active selection with a linear head on raw features reached 90.0% test accuracy with 40 labelled items; random selection with the same head (true labels) needed 94 — 54 labelled items fewer, 16.20 cost units saved at 0.30 cost units per labelled item (3 answers × 0.10)',
  );
  assert.doesNotMatch(raw.summary, /SSL/);
  const ssl = labelEconomics(run, base, 0.3, economicsWords('ssl', ['linear'], 3, 0.1, 'EUR'));
  assert.match(ssl.summary, /^active selection with a linear head on the SSL embeddings reached .*; random selection with a linear head on raw features \(true labels\) needed 94 — 54 labelled items fewer, 16\.20 EUR saved at 0\.30 EUR per labelled item/);
  const tuned = economicsWords('raw', ['linear', 'fine-tune'], 2, 0.5, 'cost units');
  assert.match(tuned.run, /fine-tuned SSL encoder/);
  assert.equal(tuned.itemPrice, '2 answers × 0.50');
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
