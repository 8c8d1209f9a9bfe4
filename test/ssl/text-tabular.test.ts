/**
 * Pretext tasks for text (MLM, SimCSE) and tabular data (SCARF, VIME): the loss falls on small
 * real subsets (SMS Spam, NSL-KDD), and training is reproducible from the seed.
 */
import { test, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/ml/engine.ts';
import { pretrain } from '../../src/ssl/index.ts';
import { nslKdd, smsSpam } from './real-data.ts';

before(async () => {
  await initEngine();
});

/** A small text encoder so the test stays fast (the defaults are larger). */
const SMALL_TEXT = { vocabSize: 600, dim: 48, maxLen: 32, cnn: { kernel: 3, dilations: [1, 2] } };
const SMALL_TAB = { widths: [64, 64] };

function falls(t: TestContext, losses: number[], what: string, factor = 0.97): void {
  t.diagnostic(`${what} loss per epoch: ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
  assert.ok(losses.every(Number.isFinite), `${what}: finite losses ${losses}`);
  assert.ok(losses.at(-1)! < losses[0] * factor, `${what}: loss should fall, got ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
}

test('mlm: masked-token loss falls below chance (ln V) on 256 SMS messages; same seed → same losses and embeddings', async (t) => {
  const { data } = smsSpam(256);
  const run = () => pretrain(data, { pretext: 'mlm', epochs: 4, batch: 16, seed: 7, config: { encoder: SMALL_TEXT, optim: { lr: 3e-3 } } });
  const a = await run();
  falls(t, a.losses, 'mlm', 0.95);
  assert.ok(a.losses.at(-1)! < Math.log(600) - 0.3, `mlm ends below the uniform-guess loss ln(600): ${a.losses}`);
  assert.equal(a.epochs, 4);
  assert.equal(a.encoder.modality, 'text');
  assert.equal(a.encoder.dim, 48);
  const b = await run();
  assert.deepEqual(b.losses, a.losses);
  const sub = { modality: 'text' as const, texts: data.texts.slice(0, 20) };
  assert.deepEqual(await b.encoder.embed(sub), await a.encoder.embed(sub));
  a.encoder.dispose();
  b.encoder.dispose();
});

test('simcse: contrastive loss falls on 256 SMS messages', async (t) => {
  const { data } = smsSpam(256);
  const r = await pretrain(data, { pretext: 'simcse', epochs: 3, batch: 32, seed: 1, config: { encoder: SMALL_TEXT, projection: 48 } });
  falls(t, r.losses, 'simcse', 0.9);
  const e = await r.encoder.embed(data);
  assert.equal(e.length, 256 * r.encoder.dim);
  assert.ok(e.every(Number.isFinite));
  r.encoder.dispose();
});

test('mlm with the transformer encoder: loss falls on 128 SMS messages', async (t) => {
  const { data } = smsSpam(128);
  const encoder = { ...SMALL_TEXT, arch: 'transformer', transformer: { layers: 1, heads: 4, ffn: 96 } };
  const r = await pretrain(data, { pretext: 'mlm', epochs: 4, batch: 16, seed: 7, config: { encoder, optim: { lr: 3e-3 } } });
  falls(t, r.losses, 'mlm (transformer)', 0.95);
  r.encoder.dispose();
});

test('scarf: contrastive loss falls on 1,024 NSL-KDD rows (3 categorical columns)', async (t) => {
  const { data } = nslKdd(1024);
  const r = await pretrain(data, { pretext: 'scarf', epochs: 4, batch: 128, seed: 3, config: { encoder: SMALL_TAB, projection: 64 } });
  falls(t, r.losses, 'scarf');
  assert.equal(r.encoder.dim, 64);
  r.encoder.dispose();
});

test('vime: mask-estimation + reconstruction loss falls on 1,024 NSL-KDD rows', async (t) => {
  const { data } = nslKdd(1024);
  const r = await pretrain(data, { pretext: 'vime', epochs: 4, batch: 128, seed: 3, config: { encoder: SMALL_TAB } });
  falls(t, r.losses, 'vime', 0.9);
  r.encoder.dispose();
});
