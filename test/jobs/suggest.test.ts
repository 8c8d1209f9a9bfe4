// The suggest job (pre-annotation): a registered classifier predicts every item; each item
// without a final label gets the predicted label and its calibrated confidence. In-process here
// (both stores); shared by cluster workers in test/jobs/cluster.test.ts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { loadItemClassifier } from '../../src/jobs/suggest-shard.ts';
import { loadModalityData } from '../../src/ssl/data.ts';
import { getModel, registerModel } from '../../src/store/models.ts';
import { nowIso } from '../../src/core/json.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { smallClassifier, smallEncoder, tabularProject } from './cluster-fixture.ts';

const ITEMS = 2500;

for (const kind of STORE_KINDS) {
  describe(`suggest job (${kind})`, () => {
    let t: TestStore;
    let projectId: number;
    let encoderId: number;
    let classifierId: number;
    const prev = process.env.TESSERA_SHARD_ITEMS;

    before(async () => {
      process.env.TESSERA_SHARD_ITEMS = '1000'; // three shards in-process too
      t = await freshStore(kind);
      projectId = (await tabularProject(t.store, 'sug', ITEMS)).projectId;
      const enc = await smallEncoder(t.store, projectId);
      encoderId = enc.modelId;
      classifierId = await smallClassifier(t.store, projectId, enc.modelId, enc.dir);
    });
    after(async () => {
      if (prev === undefined) delete process.env.TESSERA_SHARD_ITEMS;
      else process.env.TESSERA_SHARD_ITEMS = prev;
      await t.cleanup();
    });

    const run = (params: Record<string, unknown>) => new InProcessRunner(t.store, jobHandlers(t.store)).submitAndRun('suggest', params, projectId);

    test('every undecided item gets the classifier\'s label and calibrated confidence; decided items get none', async () => {
      // The first 25 items already have a final label.
      const ids = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', projectId).orderBy('id').execute()).map((r) => r.id);
      const decided = ids.slice(0, 25);
      await t.store.db.insertInto('label_items').values(decided.map((item_id) => ({ item_id, project_id: projectId, round: 0, status: 'done' as const, priority: null, final_labels: '["x"]', final_source: 'review', final_confidence: 1, final_taxonomy_version: 1, final_provenance: null, decided_at: nowIso(), updated_at: nowIso() }))).execute();

      const job = await run({ project: 'sug', model: classifierId });
      assert.equal(job.status, 'succeeded', job.error ?? '');
      const r = job.result as { model: number; items: number; suggested: number; shards: number };
      assert.deepEqual({ model: r.model, items: r.items, suggested: r.suggested, shards: r.shards }, { model: classifierId, items: ITEMS, suggested: ITEMS - 25, shards: 3 });

      const rows = await t.store.db.selectFrom('suggestions').select(['item_id', 'labels', 'source', 'confidence']).where('project_id', '=', projectId).orderBy('item_id').execute();
      assert.equal(rows.length, ITEMS - 25);
      assert.ok(rows.every((s) => s.source === `model:${classifierId}`));
      assert.ok(!rows.some((s) => decided.includes(s.item_id)), 'no suggestion for a decided item');

      // The same classifier over the whole project at once: the shards changed nothing.
      const c = await loadItemClassifier(t.store, await getModel(t.store.db, projectId, classifierId, 'classifier'));
      const { data } = await loadModalityData(t.store, projectId, 'tabular');
      const p = await c.proba(data);
      c.dispose();
      const byItem = new Map(rows.map((s) => [s.item_id, s]));
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        const s = byItem.get(id);
        if (!s) return;
        const row = Array.from(p.slice(i * 3, i * 3 + 3));
        const best = row.indexOf(Math.max(...row));
        assert.deepEqual(JSON.parse(s.labels), [['x', 'y', 'z'][best]], `item ${id}`);
        assert.ok(Math.abs((s.confidence ?? 0) - row[best]) < 1e-6, `item ${id}: ${s.confidence} vs ${row[best]}`);
        seen.add(JSON.parse(s.labels)[0]);
      });
      assert.ok(seen.size >= 2, 'the classifier predicts more than one class');

      // Run again: suggestions are replaced, never duplicated.
      assert.equal((await run({ project: 'sug', model: classifierId })).status, 'succeeded');
      const again = await t.store.db.selectFrom('suggestions').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow();
      assert.equal(Number(again.n), ITEMS - 25);
    });

    test('refused with the reason: an encoder is not a classifier; a head whose row lacks its weights names the field', async () => {
      const notClassifier = await run({ project: 'sug', model: encoderId });
      assert.equal(notClassifier.status, 'failed');
      assert.match(notClassifier.error ?? '', /is of kind encoder, not a classifier/);
      const raw = await registerModel(t.store.db, { projectId, kind: 'classifier', pretext: null, parentId: null, datasetId: null, taxonomyVersion: 1, checkpointPath: null, params: { features: 'raw', classes: ['x', 'y', 'z'] }, metrics: {} });
      const refused = await run({ project: 'sug', model: raw });
      assert.equal(refused.status, 'failed');
      assert.match(refused.error ?? '', new RegExp(`classifier ${raw}: params\\.W: Expected required property`));
    });
  });
}
