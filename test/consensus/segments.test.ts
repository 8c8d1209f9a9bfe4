import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentAgreement, segmentConsensus } from '../../src/consensus/segments.ts';

const near = (a: number | null, b: number, eps = 1e-12) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} vs ${b}`);
const seg = (start: number, end: number, label: string) => ({ start, end, label });

test('segments: F1 exact and overlap by hand', () => {
  // A: speech [0.10,0.50), speech [0.80,1.20); B: speech [0.10,0.50), speech [0.90,1.00), noise [1.5,1.7).
  // Exact: 1 match → 2/5. Overlap: speech–speech twice → 4/5.
  const r = segmentAgreement([
    { item: 'w', annotator: 'A', regions: [seg(0.1, 0.5, 'speech'), seg(0.8, 1.2, 'speech')] },
    { item: 'w', annotator: 'B', regions: [seg(0.1, 0.5, 'speech'), seg(0.9, 1.0, 'speech'), seg(1.5, 1.7, 'noise')] },
  ]);
  assert.equal(r.pairs, 1);
  near(r.f1.exact, 2 / 5);
  near(r.f1.overlap, 4 / 5);
});

test('segments: overlap matching maximises pairs, then total overlap', () => {
  // A's long segment overlaps both of B's; A's short one overlaps only B's first. Two matches:
  // long–second, short–first.
  const r = segmentAgreement([
    { item: 'w', annotator: 'A', regions: [seg(0, 10, 's'), seg(0, 1, 's')] },
    { item: 'w', annotator: 'B', regions: [seg(0, 2, 's'), seg(5, 6, 's')] },
  ]);
  near(r.f1.overlap, 1);
});

test('segments: consensus clusters by temporal IoU ≥ 0.5 and averages the boundaries', () => {
  const r = segmentConsensus([
    { annotator: 'A', regions: [seg(1.0, 2.0, 'word')] },
    { annotator: 'B', regions: [seg(1.2, 2.2, 'word')] },
    { annotator: 'C', regions: [seg(1.1, 1.9, 'word'), seg(3, 3.5, 'word')] },
  ]);
  assert.equal(r.regions.length, 1);
  near(r.regions[0].start, 1.1);
  near(r.regions[0].end, 2.0333333333333333, 1e-12);
  assert.equal(r.unanimous, false);
  assert.equal(r.clusters[1].kept, false);
});
