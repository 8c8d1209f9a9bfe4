import { test } from 'node:test';
import assert from 'node:assert/strict';
import { majority } from '../../src/consensus/majority.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import { UserError } from '../../src/core/errors.ts';
import type { Answer, ConsensusResult } from '../../src/consensus/types.ts';
import { accuracy, bluebirds, snow, type CrowdSet } from './crowd-data.ts';

const A = (item: string, annotator: string, label: string): Answer => ({ item, annotator, label });
// i1: 2 × x vs 1 × y → x. i2: 1 × x vs 1 × y → tie.
const small = [A('i1', 'a', 'x'), A('i1', 'b', 'x'), A('i1', 'c', 'y'), A('i2', 'a', 'x'), A('i2', 'c', 'y')];

test('majority: plurality label, vote-share posteriors and confidence', () => {
  const r = majority(small);
  assert.equal(r.labels.get('i1'), 'x');
  assert.equal(r.confidence.get('i1'), 2 / 3);
  // A posterior has no prototype (a label may be named __proto__): compare its entries.
  assert.deepEqual({ ...r.posteriors.get('i1') }, { x: 2 / 3, y: 1 / 3 });
  assert.deepEqual(r.labelSet, ['x', 'y']);
});

test("majority: default tie rule 'unresolved' gives null and the tied share, for review", () => {
  const r = majority(small);
  assert.equal(r.labels.get('i2'), null);
  assert.equal(r.confidence.get('i2'), 0.5);
  // Annotator accuracy counts resolved items only: a and b agreed on i1, c did not.
  assert.deepEqual(r.annotatorStats.get('a'), { accuracy: 1, answered: 2 });
  assert.deepEqual(r.annotatorStats.get('c'), { accuracy: 0, answered: 2 });
});

test("majority: 'first' takes the first tied label in label order (given order, else sorted)", () => {
  assert.equal(majority(small, { ties: 'first' }).labels.get('i2'), 'x');
  assert.equal(majority(small, { ties: 'first', labels: ['y', 'x'] }).labels.get('i2'), 'y');
});

test("majority: 'random' is seeded, reproducible, and can pick either tied label", () => {
  const picks = new Set<string | null | undefined>();
  for (let seed = 0; seed < 20; seed++) {
    const one = majority(small, { ties: 'random', seed }).labels.get('i2');
    assert.equal(majority(small, { ties: 'random', seed }).labels.get('i2'), one);
    picks.add(one);
  }
  assert.deepEqual([...picks].sort(), ['x', 'y']);
});

test('majority: the result does not depend on the order of the answers', () => {
  const d = snow('temp');
  const shuffled = [...d.answers];
  const rand = mulberry32(7);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const a = majority(d.answers, { ties: 'random', seed: 3 });
  const b = majority(shuffled, { ties: 'random', seed: 3 });
  assert.deepEqual([...a.labels], [...b.labels]);
});

test('majority: rejects labels outside the given label set and unknown tie rules', () => {
  assert.throws(() => majority(small, { labels: ['x'] }), UserError);
  assert.throws(() => majority(small, { ties: 'coin' as never }), UserError);
});

test('mulberry32: deterministic, in [0, 1), roughly uniform', () => {
  const r1 = mulberry32(42);
  const r2 = mulberry32(42);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    const v = r1();
    assert.equal(v, r2());
    assert.ok(v >= 0 && v < 1);
    sum += v;
  }
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.01);
});

/**
 * Accuracy when ties are broken uniformly at random, in expectation: a tied item scores
 * 1/(number of tied labels) if the truth is among them. This is what the literature's
 * majority-vote error rates report.
 */
function expectedAccuracyRandomTies(r: ConsensusResult, d: CrowdSet): number {
  let s = 0;
  for (const [item, truth] of d.truth) {
    const post = r.posteriors.get(item)!;
    const top = Math.max(...Object.values(post));
    const tied = Object.keys(post).filter((l) => post[l] === top);
    if (tied.includes(truth)) s += 1 / tied.length;
  }
  return s / d.truth.size;
}

// Published majority-vote error rates on these three sets, random tie-breaking (widely
// reproduced, e.g. Zhang, Chen, Zhou & Jordan 2014 "Spectral methods meet EM", NIPS, and
// Li & Yu 2014 "Error rate bounds and iterative weighted majority voting"): bluebirds 24.07%,
// RTE 10.31%, TEMP 6.39%. Snow et al. (2008) report ≈ 0.90 for RTE with 10 annotators.
// The expected accuracy under random ties is deterministic, so the tolerance is 5e-4.
test('majority on RTE (Snow et al. 2008): 0.8969 with random ties (published error 10.31%)', () => {
  const d = snow('rte');
  const r = majority(d.answers);
  assert.equal(r.labels.size, 800);
  const unresolved = [...r.labels.values()].filter((l) => l === null).length;
  assert.equal(unresolved, 65); // 10 votes per item: 5–5 splits are common
  assert.ok(Math.abs(expectedAccuracyRandomTies(r, d) - (1 - 0.1031)) < 5e-4);
  // Tie rule matters (state it with any figure): unresolved counted wrong 0.856, a seeded
  // coin ≈ 0.897, 'first' (label "0" = no entailment) 0.919 — the latter is luck, not skill.
  assert.equal(accuracy(r.labels, d.truth), 685 / 800);
  assert.ok(Math.abs(accuracy(majority(d.answers, { ties: 'random', seed: 1 }).labels, d.truth) - 0.8969) < 0.01);
  assert.equal(accuracy(majority(d.answers, { ties: 'first' }).labels, d.truth), 735 / 800);
});

test('majority on TEMP (Snow et al. 2008): 0.9361 with random ties (published error 6.39%)', () => {
  const d = snow('temp');
  const r = majority(d.answers);
  assert.equal(r.labels.size, 462);
  assert.ok(Math.abs(expectedAccuracyRandomTies(r, d) - (1 - 0.0639)) < 5e-4);
});

test('majority on bluebirds (Welinder et al. 2010): 0.7593, no ties (published error 24.07%)', () => {
  const d = bluebirds();
  const r = majority(d.answers);
  assert.equal([...r.labels.values()].filter((l) => l === null).length, 0); // 39 votes per item
  assert.ok(Math.abs(accuracy(r.labels, d.truth) - (1 - 0.2407)) < 5e-4);
});
