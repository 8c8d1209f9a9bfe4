// The model registry's formats (src/train/registry.ts): each kind is written and read back typed;
// rows in the format the loop and `tessera pretrain` write today read as they did; a row that
// does not fit is refused naming the model and the field.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getModel, registerModel, type ModelRecord } from '../../src/store/models.ts';
import { ensureProject } from '../../src/store/projects.ts';
import { encoderParams, readClassifier, registerEncoder, roundMetrics, wasPromoted } from '../../src/train/registry.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

const row = (params: Record<string, unknown>, over: Partial<ModelRecord> = {}): ModelRecord => ({
  id: 9,
  projectId: 1,
  kind: 'classifier',
  pretext: 'mlm',
  parentId: 4,
  datasetId: 5,
  taxonomyVersion: 1,
  checkpointPath: '/models/enc',
  params,
  metrics: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const head = { classes: ['ham', 'spam'], lambda: 0.01, temperature: 1.5, W: [1, -1, 0.5, -0.5, 2, -2], b: [0.1, -0.1], mean: [0, 1, 2], std: [1, 1, 2] };
const promotion = { promoted: false, reason: 'clearly below model 3', incumbent: 3, items: 5, newRight: 1, incumbentRight: 5, incumbentOnly: 4, newOnly: 0, pWorse: 0.0625, alpha: 0.05 };
// What the loop writes today for a linear head (src/loop/register.ts), key for key.
const today = { method: 'linear', requested: 'auto', seed: 0, classes: head.classes, validation: { rule: 'stratified 20%', fraction: 0.2, items: [3, 8], linear: 0.5, fineTune: null }, fineTune: null, promotion, head: 'linear (frozen encoder)', features: 'ssl', lambda: head.lambda, temperature: head.temperature, W: head.W, b: head.b, mean: head.mean, std: head.std };

describe('model registry: reading classifier rows', () => {
  test('a linear head on the SSL encoder: its head as fitted, its encoder, promotion as recorded', () => {
    const r = readClassifier(row(today));
    assert.equal(r.features, 'ssl');
    if (r.features !== 'ssl') return;
    assert.equal(r.encoderId, 4);
    assert.deepEqual({ dim: r.head.model.dim, classes: r.head.model.classes, temperature: r.head.temperature, lambda: r.head.model.lambda }, { dim: 3, classes: 2, temperature: 1.5, lambda: 0.01 });
    assert.deepEqual(Array.from(r.head.model.W), head.W);
    assert.equal(r.promoted, false);
    assert.equal(r.priorShift, null);
    assert.equal(wasPromoted(row(today)), false);
  });

  test('older rows: no temperature (1), no promotion (promoted), prior shift without the applied flag (applied); applied: false is not applied', () => {
    const { temperature: _t, promotion: _p, ...old } = today;
    const shift = { labelPrior: [0.7, 0.3], poolPrior: [0.9, 0.1] };
    const r = readClassifier(row({ ...old, priorShift: shift }));
    assert.equal(r.features === 'ssl' && r.head.temperature, 1);
    assert.equal(r.promoted, true);
    assert.equal(wasPromoted(row(old)), true);
    assert.deepEqual(r.priorShift, shift);
    assert.equal(readClassifier(row({ ...today, priorShift: { ...shift, applied: false } })).priorShift, null);
  });

  test('a raw-feature head with and without its featurizer; a fine-tuned model needs its checkpoint', () => {
    const featurizer = { modality: 'text', vocabulary: ['free', 'call'], idf: [1.5, 2] };
    const raw = readClassifier(row({ ...today, features: 'raw', featurizer }));
    assert.equal(raw.features, 'raw');
    assert.deepEqual(raw.features === 'raw' && raw.featurizer, featurizer);
    const legacy = readClassifier(row({ ...today, features: 'raw' }));
    assert.equal(legacy.features === 'raw' && legacy.featurizer, null);
    const ft = readClassifier(row({ ...today, features: 'encoder', W: undefined }, { checkpointPath: '/models/classifier-r1' }));
    assert.equal(ft.features === 'encoder' && ft.checkpointPath, '/models/classifier-r1');
    assert.throws(() => readClassifier(row({ ...today, features: 'encoder' }, { checkpointPath: null })), /classifier 9: a fine-tuned classifier needs its checkpoint folder/);
  });

  test('refused, naming the model and the field', () => {
    assert.throws(() => readClassifier(row({ ...today, b: 'zero' })), /^UserError: classifier 9: params\.b: Expected array/);
    assert.throws(() => readClassifier(row({ ...today, classes: ['only'] })), /classifier 9: params\.classes: Expected array length to be greater or equal to 2/);
    assert.throws(() => readClassifier(row({ ...today, features: 'raw', featurizer: { modality: 'text', vocabulary: ['a'] } })), /classifier 9: params\.featurizer/);
    assert.throws(() => readClassifier(row({ ...today, std: [1] })), /classifier 9: params\.std has 1 values, a head of 3 inputs × 2 classes needs 3/);
    assert.throws(() => readClassifier(row({ ...today, priorShift: { labelPrior: [1], poolPrior: [1] } })), /classifier 9: params\.priorShift needs labelPrior and poolPrior of 2 classes each/);
    assert.throws(() => readClassifier(row(today, { kind: 'encoder' })), /model 9 is of kind encoder, not a classifier/);
    assert.throws(() => readClassifier(row({ ...today, parentId: null }, { parentId: null })), /classifier 9 has no encoder \(parent model\) recorded/);
    assert.throws(() => wasPromoted(row({ ...today, promotion: { promoted: 'yes' } })), /classifier 9: params\.promotion\.promoted: Expected boolean/);
  });

  test('round metrics: a loop round\'s, or none', () => {
    const m = { test: { accuracy: 0.9, macroF1: 0.8, perClassF1: {}, confusion: [], ece: 0.05 }, validation: { items: 2, linear: 1, fineTune: null }, method: 'linear', labelledItems: 40, round: 2, promoted: true };
    assert.deepEqual(roundMetrics(m), m);
    assert.equal(roundMetrics({}), null);
    assert.equal(roundMetrics({ round: 1, test: {} }), null);
  });
});

for (const kind of STORE_KINDS) {
  describe(`model registry: encoders (${kind})`, () => {
    let t: TestStore;
    let projectId: number;
    before(async () => {
      t = await freshStore(kind);
      projectId = (await ensureProject(t.store.db, 'reg')).project.id;
    });
    after(() => t.cleanup());

    test('written and read back; today\'s pretrain row reads; a bad one is refused at write and at read', async () => {
      const params = { epochs: 3, batch: 64, seed: 0, config: { maskRate: 0.15 }, modality: 'text', items: 120 };
      const id = await registerEncoder(t.store.db, { projectId, pretext: 'mlm', datasetId: null, checkpointPath: '/models/enc', params, metrics: { finalLoss: 1.2 } });
      const m = await getModel(t.store.db, projectId, id);
      assert.deepEqual({ kind: m.kind, parentId: m.parentId, taxonomyVersion: m.taxonomyVersion }, { kind: 'encoder', parentId: null, taxonomyVersion: null });
      assert.deepEqual(encoderParams(m), params);
      await assert.rejects(registerEncoder(t.store.db, { projectId, pretext: 'mlm', datasetId: null, checkpointPath: null, params: { epochs: 'three' } as never, metrics: {} }), /encoder to register: params\.epochs: Expected number/);
      const bad = await registerModel(t.store.db, { projectId, kind: 'encoder', pretext: 'mlm', parentId: null, datasetId: null, taxonomyVersion: null, checkpointPath: null, params: { config: [1] }, metrics: {} });
      assert.throws(() => encoderParams({ ...m, id: bad, params: { config: [1] } }), new RegExp(`encoder ${bad}: params\\.config: Expected object`));
    });
  });
}
