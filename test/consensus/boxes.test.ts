import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxAgreement, boxConsensus, boxIoU, fuseBoxes, type Box } from '../../src/consensus/boxes.ts';

const near = (a: number | null, b: number, eps = 1e-12) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} vs ${b}`);
const box = (x: number, y: number, w: number, h: number, label: string, score?: number): Box => ({ x, y, w, h, label, ...(score === undefined ? {} : { score }) });

test('boxes: IoU by hand', () => {
  near(boxIoU(box(0, 0, 10, 10, 'a'), box(0, 0, 10, 5, 'a')), 0.5);
  near(boxIoU(box(20, 20, 10, 10, 'a'), box(22, 20, 10, 10, 'a')), 80 / 120);
  near(boxIoU(box(0, 0, 10, 10, 'a'), box(10, 0, 10, 10, 'a')), 0); // touching edges
});

test('boxes: F1 at IoU ≥ 0.5 and mean IoU of matches by hand (0.8, 7/12)', () => {
  // A: cat (0,0,10,10), dog (20,20,10,10). B: cat (0,0,10,5) IoU 0.5 (matches: ≥), dog (22,20,10,10)
  // IoU 2/3, and a dog nobody else drew. Matches 2 → F1 = 2·2/(2+3) = 0.8; mean IoU (0.5 + 2/3)/2.
  const r = boxAgreement([
    { item: 'i', annotator: 'A', regions: [box(0, 0, 10, 10, 'cat'), box(20, 20, 10, 10, 'dog')] },
    { item: 'i', annotator: 'B', regions: [box(0, 0, 10, 5, 'cat'), box(22, 20, 10, 10, 'dog'), box(50, 50, 5, 5, 'dog')] },
  ]);
  assert.equal(r.pairs, 1);
  near(r.f1At50, 0.8);
  near(r.meanIoU, 7 / 12);
});

test('boxes: the matching is optimal, not greedy (two matches at 2/3 and 0.7 beat one at 0.9)', () => {
  // Same y and height, so IoU is the IoU of the x-intervals. a1=[10,20) b1=[10,19): 0.9;
  // a1–b2=[12,22): 8/12; a2=[9,17)–b1: 7/10; a2–b2: 5/13 < 0.5 (no match).
  const A = [box(10, 0, 10, 10, 'x'), box(9, 0, 8, 10, 'x')];
  const B = [box(10, 0, 9, 10, 'x'), box(12, 0, 10, 10, 'x')];
  const r = boxAgreement([{ item: 'i', annotator: 'A', regions: A }, { item: 'i', annotator: 'B', regions: B }]);
  near(r.f1At50, 1);
  near(r.meanIoU, (8 / 12 + 0.7) / 2);
  // Labels must agree: the same boxes under another label match nothing.
  const other = boxAgreement([{ item: 'i', annotator: 'A', regions: A }, { item: 'i', annotator: 'B', regions: B.map((b) => ({ ...b, label: 'y' })) }]);
  assert.deepEqual([other.f1At50, other.meanIoU], [0, null]);
});

test('boxes: meanIoU pools matched pairs over annotator pairs; F1 is the mean over pairs', () => {
  const r = boxAgreement([
    { item: 'i', annotator: 'A', regions: [box(0, 0, 10, 10, 'x')] },
    { item: 'i', annotator: 'B', regions: [box(0, 0, 10, 10, 'x')] },
    { item: 'i', annotator: 'C', regions: [box(0, 0, 10, 8, 'x'), box(40, 40, 4, 4, 'x')] },
  ]);
  // A–B: 1 match IoU 1, F1 1. A–C, B–C: 1 match IoU 0.8 of 3 boxes → F1 2/3 each.
  assert.equal(r.pairs, 3);
  near(r.f1At50, (1 + 2 / 3 + 2 / 3) / 3);
  near(r.meanIoU, (1 + 0.8 + 0.8) / 3);
});

test('boxes: weighted boxes fusion — the score-weighted mean of coordinates', () => {
  near(fuseBoxes([box(0, 0, 10, 10, 'x', 0.75), box(4, 0, 10, 14, 'x', 0.25)]).x, 1);
  near(fuseBoxes([box(0, 0, 10, 10, 'x', 0.75), box(4, 0, 10, 14, 'x', 0.25)]).h, 11);
  assert.deepEqual(fuseBoxes([box(0, 0, 10, 10, 'x'), box(2, 4, 12, 10, 'x')]), box(1, 2, 11, 10, 'x'));
});

test('boxes: consensus keeps a box at least half the annotators drew, fused; confidence = share × mean IoU', () => {
  // A and B drew the cat (IoU 2/3), C nothing: kept (2 of 3), fused (1,0,10,10); each member's IoU
  // with it is 90/110 → confidence 2/3 · 9/11. The dog only C drew is dropped (1 of 3 < half).
  const r = boxConsensus([
    { annotator: 'C', regions: [box(60, 60, 5, 5, 'dog')] },
    { annotator: 'A', regions: [box(0, 0, 10, 10, 'cat')] },
    { annotator: 'B', regions: [box(2, 0, 10, 10, 'cat')] },
  ]);
  assert.deepEqual(r.regions, [box(1, 0, 10, 10, 'cat')]);
  assert.equal(r.unanimous, false);
  near(r.confidence, Math.min((2 / 3) * (9 / 11), 1 - 1 / 3));
  assert.deepEqual(r.clusters.map((c) => [c.annotators, c.kept]), [[['A', 'B'], true], [['C'], false]]);
  // Two annotators: half is one, so every box is kept (and the item is not unanimous).
  const two = boxConsensus([{ annotator: 'A', regions: [box(0, 0, 4, 4, 'x')] }, { annotator: 'B', regions: [] }]);
  assert.deepEqual([two.regions.length, two.unanimous], [1, false]);
  // Nobody drew anything: nothing, unanimous, confidence 1.
  assert.deepEqual(boxConsensus([{ annotator: 'A', regions: [] }, { annotator: 'B', regions: [] }]), { regions: [], confidence: 1, unanimous: true, clusters: [] });
});
