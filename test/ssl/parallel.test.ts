/**
 * Data-parallel pretraining (`workers` > 1, src/ssl/replica.ts over src/ml/parallel.ts): the
 * sharded NT-Xent gives exactly the full-batch loss and, summed over shards, the full-batch
 * gradient; pretraining on worker threads trains (loss falls) for a contrastive and a
 * non-contrastive pretext, writes checkpoints that resume, and returns the trained weights.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../src/ml/engine.ts';
import { ntXent, ntXentSharded } from '../../src/ssl/losses/ntxent.ts';
import { loadEncoder, pretrain } from '../../src/ssl/index.ts';
import { digits } from './real-data.ts';

let dir: string;
before(async () => {
  await initEngine();
  dir = await mkdtemp(join(tmpdir(), 'tessera-ssl-par-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('sharded NT-Xent: same loss as the whole batch; the shards’ gradients sum to the full-batch gradient', () => {
  const B = 6, d = 5, cut = [0, 2, 6]; // shards of 2 and 4 rows
  const rnd = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 1.7);
  const z1 = tf.variable(tf.tensor2d(rnd(B * d, 1), [B, d]));
  const z2 = tf.variable(tf.tensor2d(rnd(B * d, 2), [B, d]));
  const full = tf.variableGrads(() => ntXent(z1, z2, 0.5), [z1, z2]);
  const parts = [0, 1].map((k) => {
    const a = tf.slice(z1, [cut[k], 0], [cut[k + 1] - cut[k], d]);
    const b = tf.slice(z2, [cut[k], 0], [cut[k + 1] - cut[k], d]);
    return { a, b, flat: Float32Array.from([...a.dataSync(), ...b.dataSync()]) };
  });
  const gathered = parts.map((p) => p.flat);
  const sum1 = new Float32Array(B * d), sum2 = new Float32Array(B * d);
  for (const k of [0, 1]) {
    const a = tf.variable(parts[k].a), b = tf.variable(parts[k].b);
    const g = tf.variableGrads(() => ntXentSharded(a, b, 0.5, { rank: k, allGather: () => gathered }), [a, b]);
    assert.ok(Math.abs(g.value.dataSync()[0] - full.value.dataSync()[0]) < 1e-5, 'shard loss = full-batch loss');
    // This shard's rows carry its share of the gradient; rows of other shards get none here.
    sum1.set(g.grads[a.name].dataSync(), cut[k] * d);
    sum2.set(g.grads[b.name].dataSync(), cut[k] * d);
  }
  const f1 = full.grads[z1.name].dataSync(), f2 = full.grads[z2.name].dataSync();
  for (let i = 0; i < B * d; i++) {
    assert.ok(Math.abs(sum1[i] - f1[i]) < 1e-5, `dL/dz1[${i}]: ${sum1[i]} vs ${f1[i]}`);
    assert.ok(Math.abs(sum2[i] - f2[i]) < 1e-5, `dL/dz2[${i}]: ${sum2[i]} vs ${f2[i]}`);
  }
});

const SMALL_CNN = { encoder: { channels: [8, 8, 16, 16, 16, 16] } };

for (const [pretext, config] of [['simclr', { ...SMALL_CNN, projection: 16 }], ['rotation', SMALL_CNN]] as const) {
  test(`${pretext} on 2 worker threads: loss falls, checkpoint resumes, trained weights come back`, async () => {
    const { data } = digits(600);
    const ckpt = join(dir, pretext);
    const first = await pretrain(data, { pretext, epochs: 2, batch: 100, seed: 3, workers: 2, config, checkpointDir: ckpt });
    const cont = await pretrain(data, { pretext, epochs: 4, batch: 100, seed: 3, workers: 2, resumeFrom: ckpt, checkpointDir: ckpt });
    assert.equal(cont.epochs, 4);
    assert.deepEqual(cont.losses.slice(0, 2), first.losses, 'resume keeps the first epochs’ losses');
    assert.ok(cont.losses[3] < cont.losses[0], `loss falls: ${cont.losses.map((l) => l.toFixed(3)).join(' → ')}`);
    // The returned encoder holds the workers' final weights: same embeddings as the epoch-4 checkpoint.
    const saved = await loadEncoder(ckpt);
    const a = await cont.encoder.embed(data), b = await saved.embed(data);
    assert.deepEqual(Array.from(a.subarray(0, 64)), Array.from(b.subarray(0, 64)));
    const before = await first.encoder.embed(data);
    assert.notDeepEqual(Array.from(before.subarray(0, 64)), Array.from(a.subarray(0, 64)), 'training moved the weights');
    for (const e of [first.encoder, cont.encoder, saved]) e.dispose();
  });
}
