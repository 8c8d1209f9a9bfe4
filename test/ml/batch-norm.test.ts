import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initEngine, tf } from '../../src/ml/engine.ts';
import { buildSmallCnn } from '../../src/ml/models/small-cnn.ts';

before(async () => { await initEngine(); });

const small = (batchNorm: 'fast' | 'keras') =>
  buildSmallCnn(tf, { inputShape: [11, 11, 1], channels: [4, 6, 8], strides: [1, 2, 1], projection: { hidden: 5, out: 3 }, seed: 3, batchNorm });

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>) {
  let e = 0, s = 1e-12;
  for (let i = 0; i < a.length; i++) { e = Math.max(e, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return e / s;
}

test('FastBatchNormalization: same gradients, moving statistics and inference as tf.layers BN', () => {
  const fast = small('fast'), keras = small('keras');
  const x = tf.randomUniform([6, 11, 11, 1], 0, 1, 'float32', 5);
  const run = (m: typeof fast) => tf.tidy(() => {
    const vars = m.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.sin(tf.mul(m.model.apply(x, { training: true }) as tf.Tensor, 3))) as tf.Scalar, vars);
    return { loss: value.dataSync()[0]!, grads: vars.map((v) => grads[v.name]!.dataSync()), names: vars.map((v) => v.name) };
  });
  const a = run(fast), b = run(keras);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-4 * Math.abs(b.loss), `loss ${a.loss} vs ${b.loss}`);
  a.grads.forEach((g, i) => assert.ok(relDiff(g, b.grads[i]!) < 1e-4, `grad of ${a.names[i]}: ${relDiff(g, b.grads[i]!)}`));
  const stats = (m: typeof fast) => m.model.nonTrainableWeights.map((w) => w.read().dataSync());
  stats(fast).forEach((s, i) => assert.ok(relDiff(s, stats(keras)[i]!) < 1e-5, `moving statistic ${i}`));
  const infer = (m: typeof fast) => tf.tidy(() => (m.encoder.predict(x) as tf.Tensor).dataSync());
  assert.ok(relDiff(infer(fast), infer(keras)) < 1e-5, 'inference');
  x.dispose();
});

test('a model with FastBatchNormalization saves and loads (tfjs format)', async () => {
  const { encoder } = small('fast');
  let artifacts: tf.io.ModelArtifacts | undefined;
  await encoder.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const x = tf.randomUniform([3, 11, 11, 1], 0, 1, 'float32', 9);
  const want = (encoder.predict(x) as tf.Tensor).dataSync(), got = (loaded.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual(Array.from(got), Array.from(want));
  assert.ok(loaded.layers.some((l) => l.getClassName() === 'FastBatchNormalization'));
});
