import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createParallelTrainer, shardBounds, type Batch, type ParallelTrainer } from '../../src/ml/parallel.ts';

const fixture = fileURLToPath(new URL('./fixtures/tiny-replica.ts', import.meta.url));

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}
function images(n: number, r: () => number) {
  return { data: Float32Array.from({ length: n * 81 }, r), shape: [n, 9, 9, 1] };
}
function maxDiff(a: Float32Array[], b: Float32Array[]) {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => { m = Math.max(m, Math.abs(v - b[i]![j]!)); }));
  return m;
}

let t0: ParallelTrainer, t1: ParallelTrainer, t2: ParallelTrainer;
before(async () => {
  [t0, t1, t2] = await Promise.all([0, 1, 2].map((workers) => createParallelTrainer({ module: fixture, config: { seed: 7 }, workers })));
});
after(async () => { await Promise.all([t0, t1, t2].map((t) => t?.close())); });

test('shardBounds splits contiguously, sizes differ by at most one', () => {
  assert.deepEqual(shardBounds(7, 3), [[0, 3], [3, 5], [5, 7]]);
  assert.deepEqual(shardBounds(4, 2), [[0, 2], [2, 4]]);
});

test('2 workers train the same parameters as 1 worker and as in-thread (mean loss)', async () => {
  const init = await t1.getWeights();
  assert.equal(maxDiff(init, await t2.getWeights()), 0, 'same seed → same initial weights');
  const r = rng(1);
  for (let s = 0; s < 3; s++) {
    const batch: Batch = { x: images(13, r), y: { data: Int32Array.from({ length: 13 }, () => Math.floor(r() * 5)), shape: [13] } };
    const [l0, l1, l2] = await Promise.all([t0.step(batch), t1.step(batch), t2.step(batch)]);
    assert.ok(Math.abs(l1.loss - l2.loss) < 1e-5 && Math.abs(l0.loss - l1.loss) < 1e-5, `losses ${l0.loss} ${l1.loss} ${l2.loss}`);
  }
  const [w0, w1, w2] = await Promise.all([t0.getWeights(), t1.getWeights(), t2.getWeights()]);
  assert.ok(maxDiff(w1, init) > 1e-3, 'weights moved');
  assert.ok(maxDiff(w1, w2) < 1e-5, `1 vs 2 workers differ by ${maxDiff(w1, w2)}`);
  assert.ok(maxDiff(w0, w1) < 1e-6, `in-thread vs 1 worker differ by ${maxDiff(w0, w1)}`);
  assert.equal(await t2.replicasIdentical(), true, 'replicas bit-identical');
});

test('a batch-coupled loss (NT-Xent over allGather) matches 1 worker', async () => {
  await Promise.all([t1, t2].map((t) => t.call('setLoss', ['ntxent'])));
  const r = rng(2);
  let last = [0, 0];
  for (let s = 0; s < 3; s++) {
    const batch: Batch = { a: images(10, r), b: images(10, r) };
    const [l1, l2] = await Promise.all([t1.step(batch), t2.step(batch)]);
    assert.ok(Math.abs(l1.loss - l2.loss) < 1e-4, `losses ${l1.loss} vs ${l2.loss}`);
    last = [l1.loss, l2.loss];
  }
  assert.ok(last[0]! > 0);
  const [w1, w2] = await Promise.all([t1.getWeights(), t2.getWeights()]);
  assert.ok(maxDiff(w1, w2) < 1e-4, `1 vs 2 workers differ by ${maxDiff(w1, w2)}`);
  assert.equal(await t2.replicasIdentical(), true);
});

test('setWeights reaches every replica; a failing step stops the trainer', async () => {
  const w = await t2.getWeights();
  const zeroed = w.map((a) => new Float32Array(a.length));
  await t2.setWeights(zeroed);
  assert.equal(maxDiff(await t2.getWeights(), zeroed), 0);
  assert.equal(await t2.replicasIdentical(), true);
  await assert.rejects(t2.call('noSuchMethod'), /no method noSuchMethod/);
  await assert.rejects(t2.step({ x: images(1, rng(3)) }), /cannot be split/);
  await t2.call('setLoss', ['ce']);
  await assert.rejects(t2.step({ x: images(4, rng(3)) }), /worker \d: /); // no labels: the replica throws
  await assert.rejects(t2.getWeights(), /worker \d|stopped|closed/); // …and the trainer is stopped
});
