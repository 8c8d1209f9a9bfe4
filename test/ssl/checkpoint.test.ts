/**
 * Checkpoints and the public API: save → loadEncoder gives identical embeddings (every
 * modality), an aborted run resumed from its checkpoint reproduces the uninterrupted run,
 * randomEncoder, PRETEXTS/defaultPretext, and actionable errors.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../src/ml/engine.ts';
import { CancelledError, UserError } from '../../src/core/errors.ts';
import { MODALITIES } from '../../src/core/modality.ts';
import { PRETEXTS, defaultPretext, loadEncoder, pretrain, randomEncoder } from '../../src/ssl/index.ts';
import type { ModalityData, PretrainOptions } from '../../src/ssl/types.ts';
import { digits, fsdd, nslKdd, smsSpam } from './real-data.ts';

let dir: string;
before(async () => {
  await initEngine();
  dir = await mkdtemp(join(tmpdir(), 'tessera-ssl-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SMALL: Record<string, Record<string, unknown>> = {
  mlm: { encoder: { vocabSize: 400, dim: 32, maxLen: 24, cnn: { kernel: 3, dilations: [1, 2] } } },
  vime: { encoder: { widths: [32, 32] } },
  scarf: { encoder: { widths: [32, 32] }, projection: 32 },
  simclr: { encoder: { channels: [8, 8, 16, 16, 16, 16] }, projection: 16 },
  'masked-spec': { encoder: { channels: [8, 8, 8, 8, 16, 16], seconds: 0.5, nMels: 24 } },
};

async function roundTrip(name: string, data: ModalityData, opts: Omit<PretrainOptions, 'seed'>) {
  const r = await pretrain(data, { ...opts, seed: 11 });
  const out = join(dir, `save-${name}`);
  await r.encoder.save(out);
  for (const f of ['model.json', 'weights.bin', 'encoder.json']) assert.ok(existsSync(join(out, f)), `${f} written`);
  const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.equal(manifest.weightsManifest[0].paths[0], 'weights.bin');
  const loaded = await loadEncoder(out);
  assert.equal(loaded.modality, r.encoder.modality);
  assert.equal(loaded.pretext, opts.pretext);
  assert.equal(loaded.dim, r.encoder.dim);
  const a = await r.encoder.embed(data, { batch: 50 });
  const b = await loaded.embed(data, { batch: 50 });
  assert.equal(a.length, b.length);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  assert.ok(maxDiff <= 1e-6, `${name}: loaded encoder embeds differently (max |Δ| = ${maxDiff})`);
  assert.deepEqual(await r.encoder.embed(data, { batch: 50 }), a, `${name}: embed is deterministic`);
  r.encoder.dispose();
  loaded.dispose();
}

test('save → loadEncoder → identical embeddings: text (tokenizer saved with it)', async () => {
  await roundTrip('text', smsSpam(96).data, { pretext: 'mlm', epochs: 1, batch: 32, config: SMALL.mlm });
});

test('save → loadEncoder → identical embeddings: tabular (standardisation + category ids saved)', async () => {
  await roundTrip('tabular', nslKdd(300).data, { pretext: 'vime', epochs: 1, batch: 100, config: SMALL.vime });
});

test('save → loadEncoder → identical embeddings: image (batch-norm statistics saved)', async () => {
  await roundTrip('image', digits(120).data, { pretext: 'simclr', epochs: 1, batch: 40, config: SMALL.simclr });
});

test('save → loadEncoder → identical embeddings: audio (log-mel settings + statistics saved)', async () => {
  await roundTrip('audio', fsdd(40).data, { pretext: 'masked-spec', epochs: 1, batch: 20, config: SMALL['masked-spec'] });
});

test('an aborted run resumed from its checkpoint continues from the saved epoch and matches the uninterrupted run', async () => {
  const { data } = nslKdd(400);
  const base = { pretext: 'scarf', batch: 100, seed: 5, config: SMALL.scarf };
  const full = await pretrain(data, { ...base, epochs: 4 });

  const ckpt = join(dir, 'ckpt');
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    pretrain(data, {
      ...base,
      epochs: 4,
      checkpointDir: ckpt,
      signal: controller.signal,
      onEpoch: (e) => {
        seen.push(e.epoch);
        assert.ok(e.seconds >= 0 && Number.isFinite(e.loss));
        if (e.epoch === 2) controller.abort();
      },
    }),
    (e: Error) => e instanceof CancelledError && /epoch 3/.test(e.message),
  );
  assert.deepEqual(seen, [1, 2]);
  const state = JSON.parse(readFileSync(join(ckpt, 'train', 'state.json'), 'utf8'));
  assert.equal(state.epoch, 2);
  assert.equal(state.losses.length, 2);
  assert.equal(state.rng.length, 4);

  const resumedEpochs: number[] = [];
  const resumed = await pretrain(data, { ...base, config: undefined, epochs: 4, resumeFrom: ckpt, onEpoch: (e) => void resumedEpochs.push(e.epoch) });
  assert.deepEqual(resumedEpochs, [3, 4], 'continues with epoch 3');
  assert.equal(resumed.epochs, 4);
  assert.equal(resumed.losses.length, 4);
  resumed.losses.forEach((l, i) => assert.ok(Math.abs(l - full.losses[i]) <= 1e-6, `epoch ${i + 1}: ${l} vs uninterrupted ${full.losses[i]}`));
  const a = await full.encoder.embed(data);
  const b = await resumed.encoder.embed(data);
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  assert.ok(maxDiff <= 1e-5, `resumed encoder differs from the uninterrupted one by ${maxDiff}`);
  full.encoder.dispose();
  resumed.encoder.dispose();

  // A folder written by Encoder.save alone has no training state.
  const plain = join(dir, 'plain');
  const r = await pretrain(data, { ...base, epochs: 1 });
  await r.encoder.save(plain);
  r.encoder.dispose();
  await assert.rejects(pretrain(data, { ...base, epochs: 2, resumeFrom: plain }), /checkpointDir/);
  await assert.rejects(pretrain(data, { ...base, pretext: 'vime', epochs: 3, resumeFrom: ckpt }), /holds a scarf checkpoint/);
});

test('an already-aborted signal stops before the first step', async () => {
  const c = new AbortController();
  c.abort();
  await assert.rejects(pretrain(nslKdd(100).data, { pretext: 'vime', epochs: 2, batch: 50, seed: 1, signal: c.signal }), CancelledError);
});

test('randomEncoder: same architecture untrained, deterministic from its seed', async () => {
  const { data } = nslKdd(200);
  const a = await randomEncoder(data, { pretext: 'scarf', seed: 1, config: SMALL.scarf });
  const b = await randomEncoder(data, { pretext: 'scarf', seed: 1, config: SMALL.scarf });
  const c = await randomEncoder(data, { pretext: 'scarf', seed: 2, config: SMALL.scarf });
  assert.equal(a.dim, 32);
  const ea = await a.embed(data);
  assert.deepEqual(await b.embed(data), ea);
  assert.notDeepEqual(await c.embed(data), ea);
  const out = join(dir, 'random');
  await a.save(out);
  assert.equal(JSON.parse(readFileSync(join(out, 'encoder.json'), 'utf8')).init, 'random');
  assert.deepEqual(await (await loadEncoder(out)).embed(data), ea);
  for (const e of [a, b, c]) e.dispose();
});

test('PRETEXTS lists every task with its modality and defaults; defaultPretext covers every modality', () => {
  assert.deepEqual(Object.keys(PRETEXTS).sort(), ['audio-contrastive', 'masked-spec', 'mlm', 'rotation', 'scarf', 'simclr', 'simcse', 'vime']);
  for (const [name, p] of Object.entries(PRETEXTS)) {
    assert.ok(MODALITIES.includes(p.modality), name);
    assert.ok(p.description.length > 10);
    assert.ok(typeof p.defaults.encoder === 'object' && typeof p.defaults.optim === 'object', name);
  }
  assert.deepEqual(PRETEXTS.rotation.defaults.angles, [0, 90, 180, 270]);
  for (const m of MODALITIES) assert.equal(PRETEXTS[defaultPretext(m)].modality, m);
});

test('bad requests fail with actionable errors', async () => {
  const { data } = nslKdd(50);
  await assert.rejects(pretrain(data, { pretext: 'nope', epochs: 1, batch: 8, seed: 1 }), (e: Error) => e instanceof UserError && /known: .*scarf/.test(e.message));
  await assert.rejects(pretrain(data, { pretext: 'simclr', epochs: 1, batch: 8, seed: 1 }), (e: Error) => e instanceof UserError && /scarf, vime/.test(e.message));
  await assert.rejects(pretrain(data, { pretext: 'vime', epochs: 1, batch: 8, seed: 1, config: { maskRatio: 0.2 } }), /unknown setting config\.maskRatio; known: .*maskRate/);
  await assert.rejects(pretrain(data, { pretext: 'vime', epochs: 0, batch: 8, seed: 1 }), /epochs/);
  await assert.rejects(pretrain(data, { pretext: 'rotation', epochs: 1, batch: 8, seed: 1 }), UserError);
  await assert.rejects(
    pretrain(digits(10).data, { pretext: 'rotation', epochs: 1, batch: 8, seed: 1, config: { angles: [0, 360] } }),
    /duplicate angles/,
  );
});

test('pretrain → embed → dispose leaves no tensors behind (CNN via tfjs-layers, and the transformer text encoder)', async () => {
  const { tf } = await import('../../src/ml/engine.ts');
  const cases: Array<[string, ModalityData, Record<string, unknown>]> = [
    ['simclr', digits(48).data, SMALL.simclr],
    ['mlm', smsSpam(48).data, { encoder: { vocabSize: 200, dim: 16, maxLen: 16, arch: 'transformer', transformer: { layers: 1, heads: 2, ffn: 32 } } }],
  ];
  for (const [pretext, data, config] of cases) {
    (await pretrain(data, { pretext, epochs: 1, batch: 16, seed: 1, config })).encoder.dispose(); // first use may cache kernels' state
    const before = tf.memory().numTensors;
    const r = await pretrain(data, { pretext, epochs: 1, batch: 16, seed: 1, config });
    await r.encoder.embed(data);
    r.encoder.dispose();
    const rnd = await randomEncoder(data, { pretext, seed: 1, config });
    await rnd.embed(data);
    rnd.dispose();
    assert.equal(tf.memory().numTensors - before, 0, `${pretext}: tensors leaked`);
  }
});
