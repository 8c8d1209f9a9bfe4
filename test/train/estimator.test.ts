/**
 * The estimator contract (src/train/estimator.ts, src/train/estimators.ts): a trained classifier
 * as an estimator predicts what trainClassifier's `proba` does, saves itself, and loads back to
 * the same probabilities — the linear head, the raw-feature head, the ensemble and the prior
 * correction around them; a loop-registered linear head's record reads as a head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/ssl/rng.ts';
import type { Features } from '../../src/probe/features.ts';
import { selectRows } from '../../src/probe/features.ts';
import { fitHead, headProba } from '../../src/train/linear-head.ts';
import { trainClassifier } from '../../src/train/train-classifier.ts';
import { Ensemble, LinearHead, PriorShifted, RawFeatureHead, headFields, headFromFields, loadEstimator } from '../../src/train/estimators.ts';

function skewed(n: number, seed: number) {
  const r = new Rng(seed);
  const y = Array.from({ length: n }, (_, i) => (i % 20 < 17 ? 0 : 1));
  const features: Features = { rows: n, dim: 2, data: Float32Array.from({ length: n * 2 }, (_, k) => (y[k >> 1] ? 1 : -1) * (k % 2 ? 0.5 : 1) + 1.2 * r.normal()) };
  return { y, features };
}

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-estimator-'));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('trainClassifier’s estimator predicts its proba, prior correction included; saved and loaded it predicts the same', async () => {
  const { y, features } = skewed(3000, 5);
  const zeros = y.map((c, i) => (c === 0 ? i : -1)).filter((i) => i >= 0);
  const ones = y.map((c, i) => (c === 1 ? i : -1)).filter((i) => i >= 0);
  const labelled = [...zeros.slice(0, 60), ...ones.slice(0, 60)];
  const taken = new Set(labelled);
  const unlabelled = y.map((_, i) => i).filter((i) => !taken.has(i));
  const t = await trainClassifier({ features, labelled, y: labelled.map((i) => y[i]), classes: ['a', 'b'] }, { method: 'linear', seed: 0, priorShift: { unlabelled } });
  assert.equal(t.priorShift?.applied, true);
  assert.equal(t.estimator.kind, 'prior-shift');
  const pos = unlabelled.slice(0, 200);
  const expected = await t.proba(pos);
  assert.deepEqual(await t.estimator.proba({ pos, features }), expected);
  await withDir(async (dir) => {
    await t.estimator.save(dir);
    const loaded = await loadEstimator(dir);
    assert.equal(loaded.kind, 'prior-shift');
    assert.deepEqual(loaded.classes, ['a', 'b']);
    assert.deepEqual(await loaded.proba({ pos, features }), expected);
  });
});

test('linear, raw-feature and ensemble estimators save and load; the ensemble is the mean of its members; registry fields round-trip', async () => {
  const { y, features } = skewed(400, 7);
  const names = y.map((c) => ['a', 'b'][c]);
  const train = Array.from({ length: 200 }, (_, i) => i);
  const a = fitHead(selectRows(features, train), train.map((i) => names[i]), ['a', 'b'], 0);
  const b = fitHead(selectRows(features, train.slice(0, 100)), train.slice(0, 100).map((i) => names[i]), ['a', 'b'], 1);
  const pos = Array.from({ length: 100 }, (_, i) => 200 + i);
  const items = { pos, features };
  const pa = headProba(a, selectRows(features, pos));
  const pb = headProba(b, selectRows(features, pos));
  const ens = new Ensemble([new LinearHead(a), new RawFeatureHead(b)]);
  const p = await ens.proba(items);
  assert.deepEqual(p, Float64Array.from(pa, (v, k) => v / 2 + pb[k] / 2));
  await withDir(async (dir) => {
    await ens.save(dir);
    const file = JSON.parse(await readFile(join(dir, 'estimator.json'), 'utf8'));
    assert.equal(file.kind, 'ensemble');
    const loaded = await loadEstimator(dir);
    assert.ok(loaded instanceof Ensemble);
    assert.deepEqual(loaded.members.map((m) => m.kind), ['linear', 'raw-linear']);
    assert.deepEqual(await loaded.proba(items), p);
  });
  const again = headFromFields({ classes: ['a', 'b'], ...headFields(a) } as Parameters<typeof headFromFields>[0]);
  assert.deepEqual(headProba(again, selectRows(features, pos)), pa);
  assert.throws(() => headFromFields({ classes: ['a', 'b'], W: [1, 2, 3], mean: [0, 0] }), /3 weights do not make 2 inputs × 2 classes/);
  const shifted = new PriorShifted(new LinearHead(a), [0.5, 0.5], [0.5, 0.5]);
  assert.deepEqual(await shifted.proba(items), pa.map((v, k) => v / (pa[k - (k % 2)] + pa[k - (k % 2) + 1])));
  await assert.rejects(new LinearHead(a, true).proba(items), /trained on test-time views, given none/);
});
