import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knnGraph, labelSpreading } from '../../src/train/label-spreading.ts';
import { l2Normalize } from '../../src/probe/features.ts';
import { mulberry32 } from '../../src/core/rng.ts';

test('label spreading carries one label per cluster to the whole cluster', () => {
  // Two groups of directions on the circle, 60° apart at most within a group, ≥ 120° across.
  const rand = mulberry32(2);
  const pts: number[] = [];
  const truth: number[] = [];
  for (let i = 0; i < 40; i++) {
    const c = i < 20 ? 0 : 1;
    const a = (c === 0 ? 0 : Math.PI) + (rand() - 0.5) * 1.0;
    pts.push(Math.cos(a), Math.sin(a));
    truth.push(c);
  }
  const x = l2Normalize({ rows: 40, dim: 2, data: Float32Array.from(pts) });
  const g = knnGraph(x, 5);
  // Symmetric: every edge i→j has j→i with the same weight.
  for (let i = 0; i < g.rows; i++) {
    for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) {
      const j = g.indices[p];
      const back = [...g.indices.subarray(g.indptr[j], g.indptr[j + 1])].indexOf(i);
      assert.ok(back >= 0 && g.weights[g.indptr[j] + back] === g.weights[p]);
    }
  }
  const r = labelSpreading(g, [3, 25], [0, 1], 2);
  for (let i = 0; i < 40; i++) {
    const pred = r.probs[i * 2 + 1] > r.probs[i * 2] ? 1 : 0;
    assert.equal(pred, truth[i], `row ${i}`);
    assert.ok(r.certainty[i] > 0 && r.certainty[i] <= 1);
  }
});
