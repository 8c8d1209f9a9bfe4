/** Unit tests of the SSL parts: RNG, config, tokenizer, tabular preprocessing, transforms, losses, layers, optimiser. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/ml/engine.ts';
import { UserError } from '../../src/core/errors.ts';
import { Rng } from '../../src/ssl/rng.ts';
import { mergeConfig } from '../../src/ssl/config.ts';
import { BpeTokenizer, UNK } from '../../src/ssl/encoders/tokenizer.ts';
import { TABULAR_DEFAULTS, fitTabular, transformTabular } from '../../src/ssl/encoders/tabular.ts';
import { corruptFromMarginals } from '../../src/ssl/transforms/tabular.ts';
import { maskTokens } from '../../src/ssl/transforms/text.ts';
import { IDENTITY, compose, rotationMap, warp } from '../../src/ssl/transforms/image.ts';
import { augmentWave, changeSpeed, maskPatches } from '../../src/ssl/transforms/audio.ts';
import { waveAugment } from '../../src/ssl/methods/audio-contrastive.ts';
import { ntXent } from '../../src/ssl/losses/ntxent.ts';
import { AdamW, Params, gatherRows, mm, conv1d, addConv1d } from '../../src/ssl/nn.ts';
import { bucketByLength } from '../../src/ssl/methods/method.ts';
import { gridPool } from '../../src/ssl/encoders/cnn.ts';

const near = (a: number, b: number, eps: number, what = '') => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b} (±${eps})`);

before(async () => {
  await initEngine();
});

test('rng: same seed → same stream; saved state continues it; derived streams differ', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  const s = a.state();
  const cont = Array.from({ length: 5 }, () => a.uint32());
  assert.deepEqual(Array.from({ length: 5 }, () => new Rng(s).uint32()).length, 5);
  const r = new Rng(s);
  assert.deepEqual(Array.from({ length: 5 }, () => r.uint32()), cont);
  assert.notEqual(Rng.derive(1, 'init').uint32(), Rng.derive(1, 'train').uint32());
  const p = new Rng(3).permutation(100);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
});

test('config: deep merge, unknown keys and wrong types rejected with what is known', () => {
  const d = { a: 1, nested: { x: [1, 2], y: true }, aug: { p: 0.5 } };
  assert.deepEqual(mergeConfig(d, { nested: { y: false } }), { a: 1, nested: { x: [1, 2], y: false }, aug: { p: 0.5 } });
  assert.deepEqual(mergeConfig(d, { aug: false }).aug, false);
  assert.throws(() => mergeConfig(d, { b: 1 }), (e: Error) => e instanceof UserError && /config\.b.*known: a, nested, aug/.test(e.message));
  assert.throws(() => mergeConfig(d, { nested: { z: 1 } }), /config\.nested\.z/);
  assert.throws(() => mergeConfig(d, { a: 'x' }), /config\.a must be a number/);
  assert.equal((d.nested.x as number[]).length, 2, 'defaults are not mutated');
});

test('BPE tokenizer: deterministic training, merges frequent pairs, unknown characters → [UNK], round trip', () => {
  const corpus = ['free entry free prize', 'call now for free', 'free free free', 'see you later', 'call me later'];
  const t1 = BpeTokenizer.train(corpus, { vocabSize: 60 });
  const t2 = BpeTokenizer.train([...corpus], { vocabSize: 60 });
  assert.deepEqual(t1.toJSON(), t2.toJSON());
  assert.ok(t1.vocab.includes('▁free'), 'the frequent word becomes one piece');
  assert.deepEqual(t1.encode('free'), [t1.vocab.indexOf('▁free')]);
  assert.equal(t1.decode(t1.encode('free call later')), 'free call later');
  assert.ok(t1.encode('free ☃').includes(UNK));
  const back = BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(t1.toJSON())));
  assert.deepEqual(back.encode('free call later'), t1.encode('free call later'));
  assert.equal(t1.encode('free free free free', 2).length, 2);
});

test('MLM masking: ≥ 1 target per text, targets hold the original ids, only real tokens chosen', () => {
  const tb = { ids: Int32Array.from([5, 6, 7, 0, 8, 9, 10, 11]), B: 2, L: 4, lengths: Int32Array.from([3, 4]) };
  const m = maskTokens(tb, 0.15, 50, new Rng(1));
  const rows = new Set(Array.from(m.positions, (p) => Math.floor(p / 4)));
  assert.deepEqual([...rows].sort(), [0, 1]);
  m.positions.forEach((p, i) => {
    assert.equal(m.targets[i], tb.ids[p]);
    assert.notEqual(p, 3, 'padding never chosen');
  });
});

test('tabular preprocessing: log1p for skewed columns, standardisation, unknown category → 0, missing indicator', () => {
  const rows = [
    [1, 'a', 0],
    [2, 'b', 0],
    [3, 'a', 0],
    [1000, 'a', null],
    [4, 'c', 1],
    [2, 'a', 0],
    [1, 'b', 1],
    [0, 'a', 0],
  ];
  const columns = [
    { name: 'bytes', type: 'num' as const },
    { name: 'proto', type: 'cat' as const },
    { name: 'flag', type: 'num' as const },
  ];
  const prep = fitTabular({ modality: 'tabular', rows, columns }, TABULAR_DEFAULTS);
  assert.equal(prep.num[0].log, true, 'skewed non-negative column is log-transformed');
  assert.deepEqual(prep.cat[0].values, ['a', 'b', 'c'], 'by frequency');
  assert.equal(prep.num[1].indicator, true);
  const m = transformTabular(prep, { modality: 'tabular', rows: [...rows, [1, 'zzz', 0]], columns });
  const F = 3; // 2 numeric + 1 indicator
  let mean = 0;
  for (let i = 0; i < 8; i++) mean += m.num[i * F];
  near(mean / 8, 0, 1e-5, 'standardised mean');
  assert.equal(m.num[3 * F + 2], 1, 'indicator set for the missing value');
  assert.equal(m.num[3 * F + 1], 0, 'missing value imputed at the mean');
  assert.equal(m.cat[8], 0, 'unseen category');
  assert.equal(m.cat[0], 1);
  assert.throws(() => transformTabular(prep, { modality: 'tabular', rows, columns: columns.slice(0, 2) }), UserError);
});

test('marginal corruption: SCARF replaces exactly round(rate·M) features per row, values from the same column', () => {
  const n = 50;
  const F = 4;
  const C = 2;
  const table = { n, num: Float32Array.from({ length: n * F }, (_, i) => (i % F) * 1000 + Math.floor(i / F)), cat: Int32Array.from({ length: n * C }, (_, i) => (i % C) * 100 + Math.floor(i / C)) };
  const x = { num: table.num.slice(0, 3 * F), cat: table.cat.slice(0, 3 * C) };
  const c = corruptFromMarginals(x, 3, table, F, C, 0.5, new Rng(2), 'exact');
  for (let b = 0; b < 3; b++) {
    let k = 0;
    for (let j = 0; j < F + C; j++) k += c.mask[b * (F + C) + j];
    assert.equal(k, 3);
    for (let j = 0; j < F; j++) assert.equal(Math.floor(c.num[b * F + j] / 1000), j, 'numeric value stays in its column');
    for (let j = 0; j < C; j++) assert.equal(Math.floor(c.cat[b * C + j] / 100), j, 'category stays in its column');
  }
  const v = corruptFromMarginals(x, 3, table, F, C, 0, new Rng(2), 'bernoulli');
  assert.deepEqual(v.num, x.num);
});

test('image geometry: 90° rotation is an exact pixel permutation and four of them are the identity', () => {
  const H = 3;
  const W = 3;
  const img = Float32Array.from({ length: 9 }, (_, i) => i + 1);
  const out = new Float32Array(9);
  warp(img, 0, H, W, 1, H, W, rotationMap(H, W, 90), out, 0);
  assert.deepEqual([...out].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual([...out], [...img]);
  let m = IDENTITY;
  for (let k = 0; k < 4; k++) m = compose(m, rotationMap(H, W, 90));
  warp(img, 0, H, W, 1, H, W, m, out, 0);
  assert.deepEqual([...out], [...img]);
  warp(img, 0, H, W, 1, H, W, rotationMap(H, W, 180), out, 0);
  assert.deepEqual([...out], [...img].reverse());
});

test('patch masking covers whole patches and returns the per-patch mask', () => {
  const M = 10;
  const T = 12;
  const spec = new Float32Array(M * T).fill(1);
  const mask = maskPatches(spec, 0, M, T, 4, 0.5, new Rng(5));
  assert.equal(mask.length, 3 * 3);
  for (let m = 0; m < M; m++) {
    for (let t = 0; t < T; t++) assert.equal(spec[m * T + t], mask[Math.floor(m / 4) * 3 + Math.floor(t / 4)] ? 0 : 1);
  }
});

test('speed perturbation: a 440 Hz tone played 1.1× fast is 484 Hz and 1/1.1 as long; 0.9× is 396 Hz', () => {
  const sr = 8000;
  const tone = Float32Array.from({ length: sr }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / sr));
  // Frequency from upward zero crossings over the whole clip.
  const hz = (x: Float32Array) => {
    let ups = 0;
    for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) ups++;
    return (ups * sr) / x.length;
  };
  const fast = changeSpeed(tone, 1.1);
  assert.equal(fast.length, Math.round(sr / 1.1));
  near(hz(fast), 484, 3, 'fast');
  const slow = changeSpeed(tone, 0.9);
  assert.equal(slow.length, Math.round(sr / 0.9));
  near(hz(slow), 396, 3, 'slow');
  // Interpolated samples stay on the tone (the error of linear interpolation at 440 Hz / 8 kHz is < 2%).
  for (let i = 0; i < fast.length; i += 97) near(fast[i], Math.sin((2 * Math.PI * 440 * i * 1.1) / sr), 0.02, `sample ${i}`);
  assert.equal(changeSpeed(tone, 1), tone);
  assert.throws(() => changeSpeed(tone, 0), /factor must be positive/);
});

test('augmentWave: speed changes the clip length within its range; speed 0 draws nothing (same stream as before it existed)', () => {
  const clip = new Float32Array(4000).fill(1);
  const base = { shift: 0, gainDb: 0, noise: false as const };
  const lengths = Array.from({ length: 200 }, (_, k) => augmentWave(clip, 8000, 8000, { ...base, speed: 0.1 }, new Rng(k)).filter((v) => v !== 0).length);
  assert.ok(lengths.every((n) => n >= Math.floor(4000 / 1.1) && n <= Math.ceil(4000 / 0.9)), `lengths ${Math.min(...lengths)}–${Math.max(...lengths)}`);
  assert.ok(Math.min(...lengths) < 3750 && Math.max(...lengths) > 4250, 'both faster and slower views occur');
  const noisy = { shift: 0.1, gainDb: 6, noise: { p: 1, snrDb: [10, 20] as [number, number] } };
  assert.deepEqual(augmentWave(clip, 8000, 8000, { ...noisy, speed: 0 }, new Rng(3)), augmentWave(clip, 8000, 8000, noisy, new Rng(3)));
  // Saved pretext configs from before the option read as off; out-of-range values are refused.
  assert.equal(waveAugment({ shift: 0.1, gainDb: 3, noise: false }).speed, 0);
  assert.equal(waveAugment({ speed: 0.1, shift: 0.1, gainDb: 3, noise: false }).speed, 0.1);
  assert.throws(() => waveAugment({ speed: 0.8, shift: 0.1, gainDb: 3, noise: false }), /config\.augment\.speed must be ≤ 0\.5/);
});

test('length bucketing keeps every item exactly once', () => {
  const perm = new Rng(1).permutation(103);
  const out = bucketByLength(perm, (i) => (i * 7) % 13, 8, new Rng(2));
  assert.deepEqual([...out].sort((a, b) => a - b), Array.from({ length: 103 }, (_, i) => i));
});

test('NT-Xent equals its definition computed directly', () => {
  const r = new Rng(9);
  const B = 3;
  const d = 4;
  const z1 = Array.from({ length: B * d }, () => r.normal());
  const z2 = Array.from({ length: B * d }, () => r.normal());
  const tau = 0.5;
  const got = tf.tidy(() => ntXent(tf.tensor2d(z1, [B, d]), tf.tensor2d(z2, [B, d]), tau).dataSync()[0]);
  const z = [...z1, ...z2];
  const n = 2 * B;
  const unit = Array.from({ length: n }, (_, i) => {
    const v = z.slice(i * d, (i + 1) * d);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const sim = (i: number, j: number) => unit[i].reduce((s, x, k) => s + x * unit[j][k], 0) / tau;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const pos = (i + B) % n;
    let den = 0;
    for (let k = 0; k < n; k++) if (k !== i) den += Math.exp(sim(i, k));
    loss += -Math.log(Math.exp(sim(i, pos)) / den);
  }
  near(got, loss / n, 1e-5);
});

test('gatherRows and mm have the gradients of gather and matMul (duplicates add up)', () => {
  tf.tidy(() => {
    const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const ids = tf.tensor1d([2, 0, 2], 'int32');
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t, ids), tf.tensor2d([1, 1, 2, 2, 3, 3], [3, 2]))))(table);
    assert.deepEqual(Array.from(g.dataSync()), [2, 2, 0, 0, 4, 4]);
    const a = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
    const b = tf.randomNormal([3, 4], 0, 1, 'float32', 2);
    const w = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const f1 = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x, y), w));
    const f2 = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), w));
    const [ga, gb] = tf.grads(f1)([a, b]);
    const [ea, eb] = tf.grads(f2)([a, b]);
    ga.dataSync().forEach((v, i) => near(v, ea.dataSync()[i], 1e-5));
    gb.dataSync().forEach((v, i) => near(v, eb.dataSync()[i], 1e-5));
    const bt = tf.transpose(b);
    const [gt] = tf.grads((y: tf.Tensor) => tf.sum(tf.mul(mm(a, y, true), w)))([bt]);
    const ebt = tf.transpose(eb).dataSync();
    gt.dataSync().forEach((v, i) => near(v, ebt[i], 1e-5));
  });
});

test('conv1d (im2col) equals a direct 1-D convolution with zero padding and dilation', () => {
  const p = new Params();
  const rng = new Rng(4);
  addConv1d(p, 'c', 3, 2, 1, rng);
  const x = Float32Array.from({ length: 1 * 6 * 2 }, (_, i) => Math.sin(i));
  const got = tf.tidy(() => conv1d(p, 'c', tf.tensor3d(x, [1, 6, 2]), 3, 2).dataSync());
  const w = p.get('c/w').dataSync();
  const b = p.get('c/b').dataSync()[0];
  for (let t = 0; t < 6; t++) {
    let s = b;
    for (let k = 0; k < 3; k++) {
      const src = t + (k - 1) * 2;
      if (src < 0 || src >= 6) continue;
      for (let c = 0; c < 2; c++) s += x[src * 2 + c] * w[k * 2 + c];
    }
    near(got[t], s, 1e-5, `t=${t}`);
  }
  p.dispose();
});

test('AdamW: first step moves each weight by lr·sign(g) (bias-corrected), decay only on matrices', () => {
  const p = new Params();
  const rng = new Rng(1);
  const w = p.add('w', [2, 2], 'ones', rng);
  const b = p.add('b', [2], 'ones', rng);
  const opt = new AdamW(p.trainable(), { lr: 0.1, weightDecay: 0.5, beta1: 0.9, beta2: 0.999, eps: 1e-12, clip: 0 });
  opt.apply(new Map<string, tf.Tensor>([['w', tf.tensor2d([1, -2, 3, -4], [2, 2])], ['b', tf.tensor1d([0.5, -0.5])]]), 0.1);
  // w: 1 − 0.1·(sign(g) + 0.5·1); b: 1 − 0.1·sign(g)
  Array.from(w.dataSync()).forEach((v, i) => near(v, 1 - 0.1 * ([1, -1, 1, -1][i] + 0.5), 1e-5));
  Array.from(b.dataSync()).forEach((v, i) => near(v, 1 - 0.1 * [1, -1][i], 1e-5));
  assert.equal(opt.step, 1);
  opt.dispose();
  p.dispose();
});

test('grid pooling: means over a 2×2 grid of the final map, odd sides split with a shared middle row', () => {
  // 4×4 map, 2 channels: channel 0 = row·4 + col, channel 1 = 1.
  const v = Float32Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? i / 2 : 1));
  const out = Array.from(gridPool(tf.tensor4d(v, [1, 4, 4, 2])).dataSync());
  // Cells top-left, top-right, bottom-left, bottom-right; each [c0, c1].
  assert.deepEqual(out, [2.5, 1, 4.5, 1, 10.5, 1, 12.5, 1]);
  // 3×3: rows/cols [0,1] and [1,2] (the middle one in both halves).
  const odd = Array.from(gridPool(tf.tensor4d(Float32Array.from({ length: 9 }, (_, i) => i), [1, 3, 3, 1])).dataSync());
  assert.deepEqual(odd, [2, 3, 5, 6]);
  // 1×1 maps (8×8 digits after the strides end at 2×2; smaller ones at 1×1) repeat the only cell.
  assert.deepEqual(Array.from(gridPool(tf.tensor4d([7], [1, 1, 1, 1])).dataSync()), [7, 7, 7, 7]);
});
