// Items held out as a test split (a dataset marked held_out 'test', like the loop's `loop-test`)
// never reach people: every path that queues, labels or serves refuses them (409 naming the
// items, nothing written) or skips them. An evaluation set (held_out 'evaluation') is served and
// labelled like any item, and only kept from training.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { setPriorities, updateSettings } from '../../src/label/results.ts';
import { heldOutItems } from '../../src/label/eligibility.ts';
import { ensureLabelItem } from '../../src/label/label-items.ts';
import type { Store } from '../../src/store/db.ts';
import type { HeldOut } from '../../src/store/schema.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';

const P = '/api/projects/ho';

async function heldOutDataset(store: Store, projectId: number, name: string, heldOut: HeldOut, itemIds: number[]): Promise<number> {
  const { id } = await store.db
    .insertInto('datasets')
    .values({ project_id: projectId, name, kind: 'split', held_out: heldOut, spec: JSON.stringify({ purpose: `${heldOut} items` }), item_count: itemIds.length, created_at: new Date().toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow();
  await store.db.insertInto('dataset_items').values(itemIds.map((item_id) => ({ dataset_id: id, item_id, label: null, decided_by: null }))).execute();
  return id;
}

for (const kind of STORE_KINDS) {
  describe(`held-out items never reach people (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let tok: Record<string, string>;
    let ids: number[] = [];
    let split: number[] = [];
    let evaluation: number[] = [];
    let projectId = 0;

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'ho', Array.from({ length: 10 }, (_, i) => `item ${i}`));
      projectId = p.id;
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      await updateSettings(t.store, p, OPERATOR, { overlap: 1 });
      ids = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').execute()).map((r) => r.id);
      split = [ids[1], ids[3], ids[5]];
      evaluation = [ids[7]];
      // One test item was queued before held-out items were refused (the 67 of the report).
      await ensureLabelItem(t.store.db, p.id, ids[3]);
      await t.store.db.updateTable('label_items').set({ priority: 1000 }).where('item_id', '=', ids[3]).execute();
      await heldOutDataset(t.store, p.id, 'loop-test', 'test', split);
      await heldOutDataset(t.store, p.id, 'eval', 'evaluation', evaluation);
      tok = await usersWithRoles(t.store, p, { boss: 'admin', rev: 'reviewer', ann: 'annotator' });
      api = await startApi(t.store);
    });
    after(async () => {
      await api?.close();
      await t.cleanup();
    });

    const priorities = async () => (await t.store.db.selectFrom('label_items').select(['item_id', 'priority']).where('priority', 'is not', null).orderBy('item_id').execute()).map((r) => [r.item_id, Number(r.priority)]);

    test('PUT priorities refuses held-out items whole (409 naming them); clearing their priority is allowed', async () => {
      const before = await priorities();
      const res = await api.call('PUT', `${P}/priorities`, tok.boss, { items: [{ itemId: ids[0], priority: 5 }, { itemId: ids[1], priority: 4 }, { itemId: ids[5], priority: 3 }] });
      assert.equal(res.status, 409, res.text);
      assert.equal(res.json.error.code, 'E_HELD_OUT');
      assert.match(res.json.error.message, new RegExp(`^priorities: 2 item\\(s\\) are held out as a test split \\(dataset "loop-test"\\).*items ${ids[1]}, ${ids[5]}\\.`));
      assert.deepEqual(await priorities(), before, 'nothing written, not even the servable item');
      const clear = await api.call('PUT', `${P}/priorities`, tok.boss, { items: [{ itemId: ids[1], priority: null }] });
      assert.equal(clear.status, 200, clear.text);
      // The evaluation set is queued like any item.
      assert.equal((await api.call('PUT', `${P}/priorities`, tok.boss, { items: [{ itemId: evaluation[0], priority: 7 }] })).status, 200);
    });

    test("the map's lasso (queue for labelling first) cannot queue held-out items", async () => {
      // What the map view sends for a lasso selection: every selected item at priority 1000.
      const lasso = [ids[2], ids[3], ids[4], ids[5]];
      const res = await api.call('PUT', `${P}/priorities`, tok.boss, { items: lasso.map((itemId) => ({ itemId, priority: 1000 })) });
      assert.equal(res.status, 409, res.text);
      assert.match(res.json.error.message, new RegExp(`2 item\\(s\\) are held out.*items ${ids[3]}, ${ids[5]}`));
      assert.equal((await t.store.db.selectFrom('label_items').select('item_id').where('item_id', 'in', [ids[2], ids[4]]).execute()).length, 0, 'nothing queued');
    });

    test('POST labels/bulk refuses held-out items; nothing is labelled', async () => {
      const res = await api.call('POST', `${P}/labels/bulk`, tok.rev, { itemIds: [ids[0], ids[5]], labels: ['a'] });
      assert.equal(res.status, 409, res.text);
      assert.match(res.json.error.message, new RegExp(`^bulk label: 1 item\\(s\\) are held out.*items ${ids[5]}\\.`));
      assert.equal((await t.store.db.selectFrom('label_items').select('item_id').where('status', '=', 'done').execute()).length, 0);
      assert.equal((await t.store.db.selectFrom('reviews').select('id').execute()).length, 0);
    });

    test('PUT gold refuses held-out items; nothing becomes gold', async () => {
      const res = await api.call('PUT', `${P}/gold`, tok.boss, { items: [{ itemId: ids[9], labels: ['a'] }, { itemId: ids[1], labels: ['b'] }] });
      assert.equal(res.status, 409, res.text);
      assert.match(res.json.error.message, new RegExp(`^gold: 1 item\\(s\\) are held out.*items ${ids[1]}\\.`));
      assert.equal((await t.store.db.selectFrom('gold_items').select('item_id').execute()).length, 0);
    });

    test('the library call the loop queues through (setPriorities) refuses them too', async () => {
      const project = { id: projectId, name: 'ho', createdAt: '', settings: {} } as never;
      await assert.rejects(setPriorities(t.store, project, OPERATOR, [{ itemId: ids[3], priority: 1 }]), (e: Error) => /priorities: 1 item\(s\) are held out/.test(e.message));
    });

    test('tasks/next and tasks/ahead never serve a held-out test item — not even one queued before — and do serve the evaluation set', async () => {
      const served: number[] = [];
      for (let k = 0; k < 20; k++) {
        const via = k % 2 === 0 ? 'next' : 'ahead';
        const res = await api.call('POST', `${P}/tasks/${via}`, tok.ann, via === 'ahead' ? { holding: [] } : undefined);
        assert.equal(res.status, 200, res.text);
        const task = res.json.task as { id: number; item: { id: number } } | null;
        if (!task) break;
        served.push(task.item.id);
        assert.equal((await api.call('POST', `${P}/tasks/${task.id}/submit`, tok.ann, { labels: ['a'], taxonomyVersion: 1 })).status, 201);
      }
      assert.equal(served[0], evaluation[0], 'the prioritised evaluation item first');
      assert.deepEqual([...served].sort((a, b) => a - b), ids.filter((id) => !split.includes(id)));
      for (const id of split) assert.equal((await t.store.db.selectFrom('assignments').select('id').where('item_id', '=', id).execute()).length, 0, `item ${id} was never leased`);
    });

    test('a lease taken before its item was held out is not handed back, and its submit is refused (409); release still works', async () => {
      const p2 = await projectWithItems(t.store, 'ho2', ['x', 'y']);
      await createTaxonomy(t.store, p2, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      const tok2 = await usersWithRoles(t.store, p2, { late: 'annotator' });
      const held = (await api.call('POST', '/api/projects/ho2/tasks/next', tok2.late)).json.task;
      await heldOutDataset(t.store, p2.id, 'late-test', 'test', [held.item.id]);
      const next = (await api.call('POST', '/api/projects/ho2/tasks/next', tok2.late)).json.task;
      assert.ok(next && next.id !== held.id && next.item.id !== held.item.id, 'another item, not the held lease');
      const ahead = (await api.call('POST', '/api/projects/ho2/tasks/ahead', tok2.late, { holding: [] })).json.task;
      assert.equal(ahead.id, next.id);
      const late = await api.call('POST', `/api/projects/ho2/tasks/${held.id}/submit`, tok2.late, { labels: ['a'], taxonomyVersion: 1 });
      assert.equal(late.status, 409, late.text);
      assert.equal(late.json.error.code, 'E_NOT_ELIGIBLE');
      assert.equal((await t.store.db.selectFrom('annotations').select('id').where('item_id', '=', held.item.id).execute()).length, 0);
      assert.equal((await api.call('POST', `/api/projects/ho2/tasks/${held.id}/release`, tok2.late)).status, 200);
    });

    test('heldOutItems: test splits are kept from serving, test and evaluation sets from training', async () => {
      assert.deepEqual([...(await heldOutItems(t.store.db, projectId, 'serve'))].sort((a, b) => a - b), split);
      assert.deepEqual([...(await heldOutItems(t.store.db, projectId, 'train'))].sort((a, b) => a - b), [...split, ...evaluation].sort((a, b) => a - b));
    });
  });
}
