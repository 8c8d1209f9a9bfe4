/**
 * Pretext tasks for images (SimCLR, rotation) and audio (masked spectrogram, contrastive) on
 * small real subsets (UCI digits, FSDD), and a kNN check that SimCLR embeddings of digits beat
 * the same network's random-init embeddings.
 *
 * CNN training needs the wasm `Conv2DBackpropFilter` kernel that src/ml registers in
 * initEngine(); without it these tests are skipped with that reason.
 */
import { test, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/ml/engine.ts';
import { pretrain, randomEncoder } from '../../src/ssl/index.ts';
import { digits, fsdd } from './real-data.ts';
import { fewShotKnn } from './knn.ts';

await initEngine();
const skip = tf.getKernel('Conv2DBackpropFilter', 'wasm') ? false : 'the wasm backend has no Conv2DBackpropFilter kernel yet (src/ml registers it in initEngine)';

before(async () => {
  await initEngine();
});

const SMALL_CNN = { channels: [16, 16, 32, 32, 64, 64] };
const TINY_AUDIO = { channels: [8, 8, 16, 16, 32, 32], seconds: 0.75, nMels: 32 };

function falls(t: TestContext, losses: number[], what: string, factor = 0.97): void {
  t.diagnostic(`${what} loss per epoch: ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
  assert.ok(losses.every(Number.isFinite), `${what}: finite losses ${losses}`);
  assert.ok(losses.at(-1)! < losses[0] * factor, `${what}: loss should fall, got ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
}

test('simclr: NT-Xent falls on 512 digits', { skip }, async (t) => {
  const { data } = digits(512);
  const r = await pretrain(data, { pretext: 'simclr', epochs: 3, batch: 64, seed: 2, config: { encoder: SMALL_CNN, projection: 64 } });
  falls(t, r.losses, 'simclr');
  assert.equal(r.encoder.dim, 4 * 64, "2×2 grid pooling of the last 64-channel map (the image default)");
  r.encoder.dispose();
});

test('rotation: angle cross-entropy falls on 256 digits, with the configurable angle set [0, 180]', { skip }, async (t) => {
  const { data } = digits(256);
  const r = await pretrain(data, { pretext: 'rotation', epochs: 3, batch: 32, seed: 2, config: { encoder: SMALL_CNN, angles: [0, 180] } });
  falls(t, r.losses, 'rotation', 0.9);
  assert.ok(r.losses[0] < Math.log(2) + 0.3, 'starts near chance for 2 angles');
  r.encoder.dispose();
});

test('masked-spec: reconstruction MSE on hidden patches falls on 96 FSDD clips', { skip }, async (t) => {
  const { data } = fsdd(96);
  const r = await pretrain(data, { pretext: 'masked-spec', epochs: 3, batch: 32, seed: 4, config: { encoder: TINY_AUDIO } });
  falls(t, r.losses, 'masked-spec');
  r.encoder.dispose();
});

test('audio-contrastive: NT-Xent falls on 96 FSDD clips', { skip }, async (t) => {
  const { data } = fsdd(96);
  const r = await pretrain(data, { pretext: 'audio-contrastive', epochs: 3, batch: 32, seed: 4, config: { encoder: TINY_AUDIO, projection: 32 } });
  falls(t, r.losses, 'audio-contrastive');
  r.encoder.dispose();
});

test('kNN (k=5, cosine, 10 labels per class): SimCLR embeddings of digits beat the random-init encoder', { skip }, async (t) => {
  // Pretrain on the first 1,200 digits (labels unused); evaluate on the other 597 with a fixed
  // split: 10 labelled per class, the rest queried, averaged over 3 draws.
  const all = digits();
  const n = 1200;
  const train = { ...all.data, count: n, pixels: all.data.pixels.subarray(0, n * 64) };
  const held = { ...all.data, count: all.data.count - n, pixels: all.data.pixels.subarray(n * 64) };
  const heldLabels = all.labels.slice(n);
  const config = { encoder: SMALL_CNN, projection: 64 };
  const ssl = await pretrain(train, { pretext: 'simclr', epochs: 4, batch: 128, seed: 1, config });
  const rnd = await randomEncoder(train, { pretext: 'simclr', seed: 1, config });
  const a = fewShotKnn(await ssl.encoder.embed(held), ssl.encoder.dim, heldLabels, 10, 3);
  const b = fewShotKnn(await rnd.embed(held), rnd.dim, heldLabels, 10, 3);
  t.diagnostic(`digits kNN balanced accuracy: simclr ${a.balanced.toFixed(3)} vs random-init ${b.balanced.toFixed(3)}`);
  assert.ok(a.balanced > b.balanced + 0.03, `SimCLR ${a.balanced.toFixed(3)} should beat random-init ${b.balanced.toFixed(3)}`);
  ssl.encoder.dispose();
  rnd.dispose();
});
