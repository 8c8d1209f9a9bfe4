/**
 * trainClassifier (src/train/train-classifier.ts), shared by the loop and the label-efficiency
 * benchmark: `auto` picks by validation — constructed cases force each outcome — and `linear` /
 * `fine-tune` do what they are asked whatever the validation says.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/ml/engine.ts';
import { randomEncoder } from '../../src/ssl/index.ts';
import type { ModalityData } from '../../src/ssl/types.ts';
import { Rng } from '../../src/ssl/rng.ts';
import { selectRows, type Features } from '../../src/probe/features.ts';
import { fitHead, headProba, metricsFromProba } from '../../src/train/linear-head.ts';
import { embedViews } from '../../bench/label-efficiency/encoder-cache.ts';
import { averageProba, trainClassifier, type TrainMethod } from '../../src/train/train-classifier.ts';
import { mcnemarExact } from '../../src/train/mcnemar.ts';
import { loadDigits } from '../helpers/digits.ts';
import { shiftedImages } from '../helpers/images.ts';

before(async () => {
  await initEngine();
});

const N = 400;
const r = new Rng(11);
const hidden = Array.from({ length: N }, () => [r.normal(), r.normal()]);
const y = hidden.map(([a, b]) => (a + 0.3 * b > 0 ? 1 : 0));
/** Tabular rows: the two hidden variables, or noise. */
const rows = (informative: boolean): ModalityData => ({
  modality: 'tabular',
  rows: hidden.map(([a, b]) => (informative ? [a, b] : [r.normal(), r.normal()])),
  columns: [{ name: 'a', type: 'num' }, { name: 'b', type: 'num' }],
});
/** Frozen features for the linear head: the deciding value a + 0.3·b (and noise), or noise. */
const feats = (informative: boolean): Features => ({ rows: N, dim: 2, data: Float32Array.from(hidden.flatMap(([a, b]) => [informative ? a + 0.3 * b : r.normal(), r.normal()])) });
const labelled = Array.from({ length: 200 }, (_, i) => i);

async function train(method: TrainMethod, o: { linearSees: boolean; encoderSees: boolean; featuresAreEmbeddings?: boolean; epochs?: number; significance?: number; labels?: number }) {
  const data = rows(o.encoderSees);
  const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
  try {
    const some = labelled.slice(0, o.labels ?? labelled.length);
    const t = await trainClassifier(
      { features: feats(o.linearSees), labelled: some, y: some.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data },
      { method, seed: 0, epochs: o.epochs ?? 10, encoderLr: 3e-3, featuresAreEmbeddings: o.featuresAreEmbeddings, significance: o.significance },
    );
    const test = Array.from({ length: 200 }, (_, i) => 200 + i);
    const m = await t.evaluate(test, test.map((i) => y[i]));
    t.dispose();
    return { t, accuracy: m.accuracy };
  } finally {
    encoder.dispose();
  }
}

test('auto: fine-tuning wins when only the encoder’s input carries the signal', async () => {
  const { t, accuracy } = await train('auto', { linearSees: false, encoderSees: true });
  assert.equal(t.method, 'fine-tune');
  assert.ok(t.fineTune && t.head === null);
  assert.equal(t.valCount, 40, '20% stratified validation split');
  assert.equal(t.trainCount, 160, 'the fine-tuned model never saw its validation items');
  assert.ok(t.valFineTune! > t.valLinear!, `validation: fine-tune ${t.valFineTune} vs linear ${t.valLinear}`);
  assert.ok(t.fineTuneBestEpoch! > 0);
  assert.ok(accuracy > 0.8, `test accuracy ${accuracy}`);
});

test('auto: the linear head wins when only its features carry the signal, and is refitted on every label', async () => {
  const { t, accuracy } = await train('auto', { linearSees: true, encoderSees: false });
  assert.equal(t.method, 'linear');
  assert.ok(t.head && t.fineTune === null);
  assert.equal(t.trainCount, 200);
  assert.ok(t.valLinear! > t.valFineTune!, `validation: linear ${t.valLinear} vs fine-tune ${t.valFineTune}`);
  assert.ok(accuracy > 0.9, `test accuracy ${accuracy}`);
});

test('forced methods: linear never fine-tunes; fine-tune keeps the fine-tuned model even when it validates worse', async () => {
  const lin = await train('linear', { linearSees: false, encoderSees: true });
  assert.equal(lin.t.method, 'linear');
  assert.equal(lin.t.fineTuneEpochs, null);
  assert.equal(lin.t.valFineTune, null);
  assert.ok(lin.t.valLinear !== null, 'its validation score is still reported');
  const ft = await train('fine-tune', { linearSees: true, encoderSees: false });
  assert.equal(ft.t.method, 'fine-tune');
  assert.ok(ft.t.valFineTune! < ft.t.valLinear!);
});

test('auto with features that are not the encoder’s (the loop on raw features): fine-tuning may win from its linear-probe start', async () => {
  // 0 epochs: fine-tuning cannot move off its start, a linear probe on the encoder's features,
  // which here validates better than the linear head on noise features.
  const same = await train('auto', { linearSees: false, encoderSees: true, epochs: 0 });
  assert.equal(same.t.fineTuneBestEpoch, 0);
  assert.equal(same.t.method, 'linear', 'features are the embeddings: the start is a linear head on fewer labels');
  const other = await train('auto', { linearSees: false, encoderSees: true, epochs: 0, featuresAreEmbeddings: false });
  assert.equal(other.t.fineTuneBestEpoch, 0);
  assert.ok(other.t.valFineTune! > other.t.valLinear!);
  assert.equal(other.t.method, 'fine-tune');
});

test('significance: fine-tuning must beat the head by McNemar’s exact test on validation — 4 validation items cannot show it, 40 can', async () => {
  // The loop's raw-feature case: the head reads noise, fine-tuning starts from a linear probe on the signal.
  const o = { linearSees: false, encoderSees: true, epochs: 0, featuresAreEmbeddings: false };
  for (const [labels, expected] of [[20, 'linear'], [200, 'fine-tune']] as const) {
    const free = await train('auto', { ...o, labels });
    assert.equal(free.t.method, 'fine-tune', `${labels} labels: without significance fine-tuning wins validation (${free.t.valFineTune} vs ${free.t.valLinear})`);
    assert.deepEqual(free.t.challenges, [], 'no test unless asked for');
    const strict = await train('auto', { ...o, labels, significance: 0.05 });
    assert.equal(strict.t.valFineTune, free.t.valFineTune, 'the same fine-tuning run');
    assert.equal(strict.t.challenges.length, 1);
    const [ch] = strict.t.challenges;
    assert.equal(ch.challenger, 'fine-tune');
    // b − c is the accuracy difference in items; p is the binomial tail of the discordant split.
    assert.equal(ch.b - ch.c, Math.round((strict.t.valFineTune! - strict.t.valLinear!) * strict.t.valCount));
    assert.equal(ch.pOneSided, mcnemarExact(ch.b, ch.c).pOneSided);
    assert.equal(ch.passed, ch.pOneSided <= 0.05);
    assert.equal(strict.t.method, expected, `${labels} labels, validation on ${strict.t.valCount}: ${JSON.stringify(ch)}`);
    if (expected === 'linear') assert.ok(strict.t.head && !strict.t.fineTune, 'the head kept, refitted on every label');
  }
  await assert.rejects(train('auto', { ...o, significance: 1 }), /significance is a level between 0 and 1, got 1/);
  const forced = await train('fine-tune', { ...o, labels: 20, significance: 0.05 });
  assert.equal(forced.t.method, 'fine-tune', 'a method asked for is not contested');
  assert.deepEqual(forced.t.challenges, []);
});

test('refit: the fine-tuned winner is trained again on every label, its validation items too, replaying its schedule to the validated step', async () => {
  const data = rows(true);
  const noise = feats(false);
  const run = async (refit: boolean) => {
    const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
    try {
      const t = await trainClassifier(
        { features: noise, labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data },
        { method: 'auto', seed: 0, epochs: 10, encoderLr: 3e-3, refit },
      );
      const test = Array.from({ length: 200 }, (_, i) => 200 + i);
      const proba = await t.proba(test);
      const m = await t.evaluate(test, test.map((i) => y[i]));
      t.dispose();
      return { t, proba, accuracy: m.accuracy };
    } finally {
      encoder.dispose();
    }
  };
  const plain = await run(false);
  const refit = await run(true);
  assert.equal(plain.t.refit, null);
  assert.equal(refit.t.method, 'fine-tune');
  assert.ok(refit.t.refit, 'refitted');
  assert.equal(refit.t.trainCount, 200, 'every label trained the refit');
  assert.equal(refit.t.fineTune!.trainCount, 200);
  assert.equal(refit.t.valCount, 40, 'the validation split that chose the method is still reported');
  // The first run is the same as without refit: same validation scores, same best epoch.
  assert.equal(refit.t.valFineTune, plain.t.valFineTune);
  assert.equal(refit.t.fineTuneBestEpoch, plain.t.fineTuneBestEpoch);
  const validatedSteps = plain.t.fineTune!.history[plain.t.fineTuneBestEpoch!].steps;
  assert.equal(refit.t.refit.validatedSteps, validatedSteps);
  // The first run's learning-rate schedule replayed up to the validated step, on 200 labels instead of 160.
  assert.equal(refit.t.refit.steps, validatedSteps);
  assert.equal(refit.t.fineTune!.schedule.totalSteps, plain.t.fineTune!.schedule.totalSteps);
  assert.ok(validatedSteps < plain.t.fineTune!.schedule.totalSteps, 'this case stops before the end of the schedule');
  assert.equal(refit.t.fineTune!.stoppedEarly, false);
  assert.equal(refit.t.fineTune!.model.temperature, plain.t.fineTune!.model.temperature, "the first run's temperature");
  assert.ok(plain.proba.some((p, i) => Math.abs(p - refit.proba[i]) > 1e-4), 'a different model');
  assert.ok(refit.accuracy > 0.8, `test accuracy ${refit.accuracy}`);
});

test("keep 'final' with refit: the first run ends at its schedule's last step, and the refit replays the whole schedule on every label", async () => {
  const data = rows(false);
  const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
  try {
    const t = await trainClassifier(
      { features: feats(false), labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data },
      { method: 'fine-tune', seed: 0, epochs: 10, encoderLr: 3e-3, refit: true, keep: 'final' },
    );
    t.dispose();
    assert.equal(t.method, 'fine-tune');
    assert.equal(t.fineTuneBestEpoch, t.fineTuneEpochs, 'the first run kept its last epoch');
    assert.ok(t.refit);
    assert.equal(t.fineTune!.settings.keep, 'final');
    assert.equal(t.fineTune!.schedule.totalSteps, t.refit.validatedSteps, "the first run's whole schedule");
    assert.equal(t.refit.steps, t.refit.validatedSteps, 'the refit ran all of it');
    assert.equal(t.trainCount, 200, 'on every label');
  } finally {
    encoder.dispose();
  }
});

test('refit leaves a linear winner alone (it is already refitted on every label) and refuses noisy student', async () => {
  const data = rows(false);
  const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
  try {
    const t = await trainClassifier(
      { features: feats(true), labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data },
      { method: 'auto', seed: 0, epochs: 10, encoderLr: 3e-3, refit: true },
    );
    assert.equal(t.method, 'linear');
    assert.equal(t.refit, null);
    assert.equal(t.trainCount, 200);
    await assert.rejects(
      trainClassifier(
        { features: feats(true), labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data },
        { method: 'auto', seed: 0, epochs: 10, refit: true, noisyStudent: { unlabelled: [300, 301] } },
      ),
      /refit and noisyStudent/,
    );
  } finally {
    encoder.dispose();
  }
});

test('ensemble: when the head and the network each see half of the signal, their averaged probabilities win validation and test', async () => {
  // The class is the sign of a + b; the head's features hold a, the encoder's input holds b. Each
  // model alone is ~75% right; averaging their calibrated probabilities recovers the sign of a + b.
  const ySum = hidden.map(([a, b]) => (a + b > 0 ? 1 : 0));
  const data: ModalityData = { modality: 'tabular', rows: hidden.map(([, b]) => [b, r.normal()]), columns: [{ name: 'b', type: 'num' }, { name: 'noise', type: 'num' }] };
  const features: Features = { rows: N, dim: 2, data: Float32Array.from(hidden.flatMap(([a]) => [a, r.normal()])) };
  const test = Array.from({ length: 200 }, (_, i) => 200 + i);
  const truth = test.map((i) => ySum[i]);
  const run = async (ensemble: number, refit = false) => {
    const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
    try {
      const t = await trainClassifier(
        { features, labelled, y: labelled.map((i) => ySum[i]), classes: ['neg', 'pos'], encoder, data },
        { method: 'auto', seed: 0, epochs: 20, encoderLr: 3e-3, keep: 'final', ensemble, refit },
      );
      const proba = await t.proba(test);
      const again = await t.proba(test);
      const accuracy = (await t.evaluate(test, truth)).accuracy;
      // The first fine-tuned model alone, as the encoder holds it after predicting.
      const parts = t.method === 'ensemble' ? { head: headProba(t.head!, selectRows(features, test)), net: await t.fineTune!.model.proba(data, test) } : null;
      t.dispose();
      return { t, proba, again, accuracy, parts };
    } finally {
      encoder.dispose();
    }
  };
  const acc = (p: Float64Array) => metricsFromProba(p, ['neg', 'pos'], truth).accuracy;
  const alone = await run(0);
  assert.notEqual(alone.t.method, 'ensemble');
  assert.equal(alone.t.valEnsemble, null, 'not computed unless asked for');

  const both = await run(1);
  assert.equal(both.t.method, 'ensemble');
  assert.equal(both.t.fineTunedModels, 1);
  assert.ok(both.t.head && both.t.fineTune, 'both models are kept');
  assert.equal(both.t.valFineTune, alone.t.valFineTune, 'the same fine-tuning run');
  assert.ok(both.t.valEnsemble! > Math.max(both.t.valLinear!, both.t.valFineTune!), `validation: ensemble ${both.t.valEnsemble} vs linear ${both.t.valLinear}, fine-tune ${both.t.valFineTune}`);
  // Its probabilities are the mean of the head's (refitted on every label) and the network's.
  const { head, net } = both.parts!;
  both.proba.forEach((p, i) => assert.ok(Math.abs(p - (head[i] + net[i]) / 2) < 1e-9, `row ${i >> 1}`));
  assert.ok(both.accuracy > acc(head) + 0.05 && both.accuracy > acc(net) + 0.05, `test: ensemble ${both.accuracy}, head ${acc(head)}, network ${acc(net)}`);
  assert.ok(both.accuracy > alone.accuracy, `test: ensemble ${both.accuracy} vs ${alone.t.method} alone ${alone.accuracy}`);

  // Three fine-tuned models: the first is the same run as above; two more with seeds 1 and 2 join the average.
  const three = await run(3);
  assert.equal(three.t.method, 'ensemble');
  assert.equal(three.t.fineTunedModels, 3);
  assert.equal(three.t.valFineTune, both.t.valFineTune, 'the first model is the same run');
  assert.deepEqual(three.parts!.net, net, "after predicting, the encoder holds the first model's weights again");
  assert.deepEqual(three.again, three.proba, 'swapping weights in and out predicts the same twice');
  assert.ok(three.proba.some((p, i) => Math.abs(p - both.proba[i]) > 1e-4), 'the other two models change the average');
  // head/2 + (first + second + third)/6: what the other two add must be a probability too.
  const rest = three.proba.map((p, i) => 3 * p - 1.5 * head[i] - 0.5 * net[i]);
  for (let i = 0; i < rest.length; i += 2) assert.ok(Math.abs(rest[i] + rest[i + 1] - 1) < 1e-9 && rest[i] >= -1e-9 && rest[i] <= 1 + 1e-9, `row ${i >> 1}: ${rest[i]}, ${rest[i + 1]}`);
  assert.ok(three.accuracy > acc(head) + 0.05 && three.accuracy > acc(net) + 0.05, `test: three-model ensemble ${three.accuracy}`);

  // With refit every fine-tuned model is trained again on every label.
  const refitted = await run(2, true);
  assert.equal(refitted.t.method, 'ensemble');
  assert.equal(refitted.t.fineTunedModels, 2);
  assert.ok(refitted.t.refit && refitted.t.fineTune!.trainCount === 200, 'the first model refitted on all 200 labels');
  assert.deepEqual(refitted.again, refitted.proba);
  assert.ok(refitted.accuracy > acc(head) + 0.05, `test: refitted ensemble ${refitted.accuracy}`);
});

test('ensemble with a scratch member: a network grown from another start joins head and SSL network, a third each, refitted too', async () => {
  // As above: the head's features hold a, the encoders' input holds b; the class is the sign of a + b.
  // Its own noise draws, so that the data do not depend on which tests ran before.
  const rr = new Rng(23);
  const ySum = hidden.map(([a, b]) => (a + b > 0 ? 1 : 0));
  const data: ModalityData = { modality: 'tabular', rows: hidden.map(([, b]) => [b, rr.normal()]), columns: [{ name: 'b', type: 'num' }, { name: 'noise', type: 'num' }] };
  const features: Features = { rows: N, dim: 2, data: Float32Array.from(hidden.flatMap(([a]) => [a, rr.normal()])) };
  const test = Array.from({ length: 200 }, (_, i) => 200 + i);
  const truth = test.map((i) => ySum[i]);
  const acc = (p: Float64Array) => metricsFromProba(p, ['neg', 'pos'], truth).accuracy;
  const run = async (withScratch: boolean, refit = false) => {
    const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
    const scratchEncoder = await randomEncoder(data, { pretext: 'scarf', seed: 1, config: { encoder: { widths: [16] } } });
    const before = await scratchEncoder.embed(data);
    try {
      const t = await trainClassifier(
        { features, labelled, y: labelled.map((i) => ySum[i]), classes: ['neg', 'pos'], encoder, data, scratchEncoder: withScratch ? scratchEncoder : undefined },
        { method: 'auto', seed: 0, epochs: 20, encoderLr: 3e-3, scratchEncoderLr: 3e-3, keep: 'final', ensemble: 1, refit },
      );
      const proba = await t.proba(test);
      const again = await t.proba(test);
      const parts = t.method === 'ensemble' ? { head: headProba(t.head!, selectRows(features, test)), net: await t.fineTune!.model.proba(data, test), scratch: t.scratchFineTune ? await t.scratchFineTune.model.proba(data, test) : null } : null;
      const after = await scratchEncoder.embed(data);
      const moved = after.some((v, k) => v !== before[k]);
      t.dispose();
      return { t, proba, again, accuracy: acc(proba), parts, moved };
    } finally {
      encoder.dispose();
      scratchEncoder.dispose();
    }
  };
  const two = await run(false);
  assert.equal(two.t.method, 'ensemble');
  assert.equal(two.t.valScratch, null, 'no scratch member unless given');
  assert.equal(two.t.scratchFineTune, null);
  assert.equal(two.moved, false, 'an encoder not given is not trained');

  const three = await run(true);
  assert.equal(three.t.method, 'ensemble');
  assert.equal(three.t.fineTunedModels, 2, 'the SSL network and the scratch one');
  assert.equal(three.t.valFineTune, two.t.valFineTune, 'the SSL network is the same run');
  assert.ok(three.t.valScratch !== null && three.t.valScratch > 0.6, `the scratch network learnt b alone: validation ${three.t.valScratch}`);
  assert.ok(three.moved, 'the scratch encoder was fine-tuned in place');
  const { head, net, scratch } = three.parts!;
  assert.deepEqual(net, two.parts!.net, 'the SSL network predicts as without the scratch member');
  assert.ok(scratch!.some((p, i) => Math.abs(p - net[i]) > 1e-6), 'the scratch network is another model (here, fitting the same b, a close one)');
  three.proba.forEach((p, i) => assert.ok(Math.abs(p - (head[i] + net[i] + scratch![i]) / 3) < 1e-9, `row ${i >> 1}: a third each`));
  assert.deepEqual(three.again, three.proba, 'predicting twice gives the same');
  assert.ok(three.accuracy > acc(head) + 0.05 && three.accuracy > acc(net) + 0.03, `test: ensemble ${three.accuracy}, head ${acc(head)}, network ${acc(net)}`);

  const refitted = await run(true, true);
  assert.equal(refitted.t.method, 'ensemble');
  assert.equal(refitted.t.scratchFineTune!.trainCount, 200, 'the scratch member refitted on all 200 labels');
  assert.equal(refitted.t.fineTune!.trainCount, 200);
  assert.deepEqual(refitted.again, refitted.proba);

  // Refused without an ensemble to join.
  const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
  try {
    await assert.rejects(
      trainClassifier({ features, labelled, y: labelled.map((i) => ySum[i]), classes: ['neg', 'pos'], encoder, data, scratchEncoder: encoder }, { method: 'auto', seed: 0 }),
      /scratchEncoder is an ensemble member: it needs ensemble ≥ 1/,
    );
  } finally {
    encoder.dispose();
  }
});

test('ensemble: refused outside auto, with noisy student, or out of range; averageProba weights every matrix alike and checks shapes', async () => {
  const data = rows(true);
  const encoder = await randomEncoder(data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [16] } } });
  try {
    const input = { features: feats(true), labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder, data };
    await assert.rejects(trainClassifier(input, { method: 'fine-tune', seed: 0, ensemble: 1 }), /ensemble needs method auto .* got fine-tune/);
    await assert.rejects(trainClassifier(input, { method: 'auto', seed: 0, ensemble: 1, noisyStudent: { unlabelled: [300] } }), /ensemble and noisyStudent do not combine/);
    await assert.rejects(trainClassifier(input, { method: 'auto', seed: 0, ensemble: 9 }), /ensemble expects 0–8 fine-tuned models, got 9/);
    await assert.rejects(trainClassifier(input, { method: 'auto', seed: 0, ensemble: 1.5 }), /ensemble expects 0–8/);
  } finally {
    encoder.dispose();
  }
  assert.deepEqual(Array.from(averageProba([Float64Array.of(1, 0, 0.25, 0.75), Float64Array.of(0.5, 0.5, 0.75, 0.25)])), [0.75, 0.25, 0.5, 0.5]);
  assert.deepEqual(Array.from(averageProba([Float64Array.of(1, 0), Float64Array.of(0.5, 0.5), Float64Array.of(0, 1), Float64Array.of(0.5, 0.5)])), [0.5, 0.5]);
  assert.throws(() => averageProba([new Float64Array(4), new Float64Array(6)]), /4 vs 6 values/);
  assert.throws(() => averageProba([]), /nothing to average/);
});

test('tta reaches the fine-tuned models, the refit included; a non-image encoder is refused', async () => {
  const d = loadDigits();
  const n = 160;
  const data: ModalityData = { modality: 'image', pixels: d.x.slice(0, n * 64), count: n, height: 8, width: 8, channels: 1 };
  const encoder = await randomEncoder(data, { pretext: 'simclr', seed: 1, config: { encoder: { channels: [8, 8, 16, 16, 16, 16] } } });
  const emb = await encoder.embed(data);
  const features: Features = { rows: n, dim: emb.length / n, data: emb };
  const lab = [...Array(120).keys()];
  const rest = Array.from({ length: 40 }, (_, i) => 120 + i);
  const classes = [...Array(10).keys()].map(String);
  try {
    const input = { features, labelled: lab, y: lab.map((i) => d.y[i]), classes, encoder, data };
    const refit = await trainClassifier(input, { method: 'fine-tune', seed: 0, epochs: 2, keep: 'final', refit: true, tta: true });
    assert.ok(refit.refit, 'the refit ran');
    assert.equal(refit.fineTune!.model.tta, true, 'the refitted model predicts with the views');
    assert.deepEqual(await refit.proba(rest), await refit.fineTune!.model.proba(data, rest));
    refit.dispose();
    const plain = await trainClassifier(input, { method: 'fine-tune', seed: 0, epochs: 2, keep: 'final', refit: true });
    assert.equal(plain.fineTune!.model.tta, false);
    plain.dispose();
  } finally {
    encoder.dispose();
  }
  const tab = rows(true);
  const tabEnc = await randomEncoder(tab, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [8] } } });
  try {
    await assert.rejects(trainClassifier({ features: feats(true), labelled, y: labelled.map((i) => y[i]), classes: ['neg', 'pos'], encoder: tabEnc, data: tab }, { method: 'fine-tune', seed: 0, epochs: 1, tta: true }), /defined for image encoders only/);
  } finally {
    tabEnc.dispose();
  }
});

test('tta with ttaFeatures (embedViews): the linear head trains on every view of the frozen embeddings and averages its logits over them; mismatched or unasked-for views are refused', async () => {
  const d = loadDigits();
  const n = 160;
  const data: ModalityData = { modality: 'image', pixels: d.x.slice(0, n * 64), count: n, height: 8, width: 8, channels: 1 };
  const encoder = await randomEncoder(data, { pretext: 'simclr', seed: 1, config: { encoder: { channels: [8, 8, 16, 16, 16, 16] } } });
  try {
    const emb = await encoder.embed(data);
    const features: Features = { rows: n, dim: emb.length / n, data: emb };
    const views = await embedViews(encoder, data);
    // Views 1…4: the image moved one pixel right, left, down, up (zero fill), embedded independently.
    const moves: Array<[number, number]> = [[1, 0], [-1, 0], [0, 1], [0, -1]];
    assert.equal(views.length, moves.length);
    for (const [v, [dx, dy]] of moves.entries()) {
      const moved = await encoder.embed({ ...data, pixels: shiftedImages(data, (x, y) => [x - dx, y - dy]) });
      assert.equal(views[v].rows, n);
      const diff = views[v].data.reduce((m, a, k) => Math.max(m, Math.abs(a - moved[k])), 0);
      assert.ok(diff < 1e-4, `view ${v + 1}: max |difference| ${diff}`);
    }
    const lab = [...Array(120).keys()];
    const rest = Array.from({ length: 40 }, (_, i) => 120 + i);
    const classes = [...Array(10).keys()].map(String);
    const input = { features, ttaFeatures: views, labelled: lab, y: lab.map((i) => d.y[i]), classes, encoder, data };
    const all = [features, ...views];
    const t = await trainClassifier(input, { method: 'linear', seed: 0, tta: true });
    const expected = fitHead(all.map((f) => selectRows(f, lab)), lab.map((i) => String(d.y[i])), classes, 0);
    assert.deepEqual(t.head!.model.W, expected.model.W, 'the head fitted on every view of every label');
    assert.deepEqual(await t.proba(rest), headProba(expected, all.map((f) => selectRows(f, rest))));
    const plain = await trainClassifier({ ...input, ttaFeatures: undefined }, { method: 'linear', seed: 0, tta: true });
    assert.notDeepEqual(await plain.proba(rest), await t.proba(rest), 'without views the head reads the image alone');
    await assert.rejects(trainClassifier(input, { method: 'linear', seed: 0 }), /ttaFeatures given without tta/);
    await assert.rejects(trainClassifier({ ...input, ttaFeatures: [selectRows(features, [0, 1])] }, { method: 'linear', seed: 0, tta: true }), /row for row/);
  } finally {
    encoder.dispose();
  }
});
