/**
 * selectActiveBatch: which probabilities ssl_active's uncertainty strategies read. 'head' fits a
 * linear head on the frozen embeddings of the labels so far; 'model' reads what the previous
 * round's trained classifier predicted for exactly these candidates. Small fixed inputs where the
 * two disagree on purpose, so each answer is known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectActiveBatch, type PreviousPrediction } from '../../bench/label-efficiency/select.ts';
import type { Features } from '../../src/probe/features.ts';

// Ten 2-D points on a line; positions 0 (x = −1, class a) and 9 (x = +1, class b) are labelled.
const xs = [-1, -0.8, -0.5, 0.05, -0.3, 0.4, 0.7, 0.9, 2, 1];
const embeddings: Features = { rows: xs.length, dim: 2, data: Float32Array.from(xs.flatMap((x) => [x, 0])) };
const pool = xs.map((_, i) => i);
const active = [0, 9];
const classes = ['a', 'b'];
const candidates = pool.filter((p) => !active.includes(p));
const base = { pool, active, embeddings, labelNames: ['a', 'b'], classes, seed: 0, round: 1 };

/** The previous round's classifier: confident everywhere except position 8 (x = 2, far from the head's boundary). */
function previous(positions = candidates): PreviousPrediction {
  const proba = new Float64Array(positions.length * 2);
  positions.forEach((p, i) => {
    const pa = p === 8 ? 0.5 : p < 5 ? 0.99 : 0.01;
    proba[i * 2] = pa;
    proba[i * 2 + 1] = 1 - pa;
  });
  return { method: 'fine-tune', positions, proba };
}

test("selectWith head: margin picks the candidate nearest the linear head's boundary", () => {
  const r = selectActiveBatch({ ...base, strategy: 'margin', k: 1, selectWith: 'head', previous: previous() });
  assert.deepEqual(r.picked, [3], 'x = 0.05 is the closest to the boundary at x = 0');
  assert.equal(r.uncertaintyFrom, 'head');
});

test("selectWith model: margin picks what the previous round's classifier was least sure of", () => {
  const r = selectActiveBatch({ ...base, strategy: 'margin', k: 1, selectWith: 'model', previous: previous() });
  assert.deepEqual(r.picked, [8]);
  assert.equal(r.uncertaintyFrom, 'fine-tune');
  // Never a labelled position, k of them.
  const three = selectActiveBatch({ ...base, strategy: 'entropy', k: 3, selectWith: 'model', previous: previous() });
  assert.equal(three.picked.length, 3);
  assert.equal(three.picked[0], 8);
  for (const p of three.picked) assert.ok(!active.includes(p));
});

test('selectWith model: probabilities of other candidates are refused, not misaligned', () => {
  assert.throws(() => selectActiveBatch({ ...base, strategy: 'margin', k: 1, selectWith: 'model', previous: null }), /round 1: selecting with the model needs the previous round's probabilities of exactly this round's 8 candidates/);
  const shuffledOrder = [...candidates].reverse();
  assert.throws(() => selectActiveBatch({ ...base, strategy: 'margin', k: 1, selectWith: 'model', previous: previous(shuffledOrder) }), /exactly this round's 8 candidates/);
  assert.throws(() => selectActiveBatch({ ...base, strategy: 'margin', k: 1, selectWith: 'model', previous: previous(candidates.slice(1)) }), /exactly this round's 8 candidates/);
});

test('round 0 and geometry-only strategies read no probabilities', () => {
  const cold = selectActiveBatch({ ...base, active: [], labelNames: [], round: 0, strategy: 'typiclust', k: 2, selectWith: 'model', previous: null });
  assert.equal(cold.picked.length, 2);
  assert.equal(cold.uncertaintyFrom, null);
  // k-center: the farthest candidate from the labelled points is x = 2 (position 8), with or without a model.
  const kc = selectActiveBatch({ ...base, strategy: 'k-center', k: 1, selectWith: 'model', previous: null });
  assert.deepEqual(kc.picked, [8]);
  assert.equal(kc.uncertaintyFrom, null);
});
