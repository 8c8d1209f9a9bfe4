import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldAccuracy, wilsonInterval } from '../../src/consensus/gold.ts';
import { dawidSkene } from '../../src/consensus/dawid-skene.ts';
import { UserError } from '../../src/core/errors.ts';
import type { Answer } from '../../src/consensus/types.ts';
import { bluebirds } from './crowd-data.ts';

const A = (item: string, annotator: string, label: string): Answer => ({ item, annotator, label });

test('gold: per-annotator accuracy on gold items only, alerts need enough gold answers', () => {
  const gold = { g1: 'x', g2: 'y', g3: 'x' };
  const answers = [
    // bad: 0/3 on gold (alerted at minGoldAnswers 3), plus a non-gold answer that is ignored
    A('g1', 'bad', 'y'), A('g2', 'bad', 'x'), A('g3', 'bad', 'y'), A('n1', 'bad', 'x'),
    // new: 0/1 — below threshold but too little evidence: watched, not alerted
    A('g1', 'new', 'y'),
    // good: 3/3
    A('g1', 'good', 'x'), A('g2', 'good', 'y'), A('g3', 'good', 'x'),
  ];
  const r = goldAccuracy(answers, gold, { threshold: 0.7, minGoldAnswers: 3 });
  assert.deepEqual(
    [...r.perAnnotator].map(([w, s]) => [w, s.correct, s.total, s.accuracy]),
    [['bad', 0, 3, 0], ['good', 3, 3, 1], ['new', 0, 1, 0]],
  );
  assert.deepEqual(r.alerts, [{ annotator: 'bad', accuracy: 0, correct: 0, total: 3 }]);
  assert.deepEqual(r.watch.map((a) => a.annotator), ['new']);
  assert.equal(r.goldItemsAnswered, 3);
  // A Map works as well as a record.
  assert.deepEqual(goldAccuracy(answers, new Map(Object.entries(gold)), { minGoldAnswers: 3 }).alerts, r.alerts);
  assert.throws(() => goldAccuracy(answers, gold, { threshold: 70 }), UserError);
});

test('gold: Wilson intervals match Newcombe (1998, Stat. Med. 17:857, Table II, method 3)', () => {
  // 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0–0.1611; 1/29 → 0.0061–0.1718.
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [c, n, lo, hi] of cases) {
    const [l, h] = wilsonInterval(c, n);
    assert.ok(Math.abs(l - lo) < 5e-5 && Math.abs(h - hi) < 5e-5, `${c}/${n}: ${l}–${h}`);
  }
});

test('gold on bluebirds: counts agree with the raw data, and DS recovers who is reliable', () => {
  const d = bluebirds();
  const r = goldAccuracy(d.answers, d.truth, { threshold: 0.6, minGoldAnswers: 10 });
  // Every worker answered all 108 items in this set.
  assert.equal(r.perAnnotator.size, 39);
  let correct = 0;
  for (const a of d.answers) if (d.truth.get(a.item) === a.label) correct++;
  assert.equal([...r.perAnnotator.values()].reduce((s, x) => s + x.correct, 0), correct);
  for (const s of r.perAnnotator.values()) assert.equal(s.total, 108);
  const sorted = r.alerts.map((a) => a.accuracy);
  assert.deepEqual(sorted, [...sorted].sort((x, y) => x - y));
  assert.ok(r.alerts.every((a) => a.accuracy < 0.6));
  // Without gold, Dawid-Skene's estimate of each worker's accuracy should track the
  // gold-measured one closely (Pearson r over the 39 workers).
  const ds = dawidSkene(d.answers).annotatorStats;
  const xs = [...r.perAnnotator].map(([w, s]) => [s.accuracy, ds.get(w)!.accuracy]);
  const mean = (k: number) => xs.reduce((s, p) => s + p[k], 0) / xs.length;
  const [mx, my] = [mean(0), mean(1)];
  const cov = xs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const vx = xs.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const vy = xs.reduce((s, [, y]) => s + (y - my) ** 2, 0);
  const pearson = cov / Math.sqrt(vx * vy);
  assert.ok(pearson > 0.9, `r = ${pearson}`);
});
