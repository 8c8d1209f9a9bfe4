// The dashboard's learning curve reads the loop's classifier rows through the model registry
// (src/train/registry.ts roundMetrics): one point per loop round, in registration order; rows that
// are not a round's (an encoder, a classifier registered without round metrics) are left out.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { registerModel } from '../../src/store/models.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';

for (const kind of STORE_KINDS) {
  describe(`dashboard learning curve (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let token: string;
    const ids: number[] = [];

    before(async () => {
      t = await freshStore(kind);
      const project = await projectWithItems(t.store, 'curve', ['a', 'b', 'c']);
      token = (await usersWithRoles(t.store, project, { 'curve-viewer': 'viewer' }))['curve-viewer'];
      const row = (k: string, metrics: Record<string, unknown>) => registerModel(t.store.db, { projectId: project.id, kind: k, pretext: 'mlm', parentId: null, datasetId: null, taxonomyVersion: null, checkpointPath: null, params: {}, metrics });
      const test1 = { accuracy: 0.75, macroF1: 0.7, perClassF1: {}, confusion: [], ece: 0.1 };
      ids.push(await row('encoder', { finalLoss: 1 }));
      ids.push(await row('classifier', { test: test1, validation: { items: 4, linear: 0.5, fineTune: null }, method: 'linear', labelledItems: 20, round: 1, promoted: true }));
      ids.push(await row('classifier', {}));
      ids.push(await row('classifier', { test: { accuracy: 0.8 }, labelledItems: 40, round: 2 }));
      api = await startApi(t.store);
    });
    after(async () => {
      await api?.close();
      await t.cleanup();
    });

    test('one point per loop round; missing macro-F1 and ECE are null', async () => {
      const r = await api.call('GET', '/api/projects/curve/dashboard', token);
      assert.equal(r.status, 200, r.text);
      const curve = r.json.learningCurve.map(({ at, ...p }: { at: string }) => (assert.equal(typeof at, 'string'), p));
      assert.deepEqual(curve, [
        { round: 1, model: ids[1], labelledItems: 20, accuracy: 0.75, macroF1: 0.7, ece: 0.1 },
        { round: 2, model: ids[3], labelledItems: 40, accuracy: 0.8, macroF1: null, ece: null },
      ]);
    });
  });
}
