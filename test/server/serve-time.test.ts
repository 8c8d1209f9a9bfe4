// What a task shows is decided when it is served, not only when it was leased: switching
// suggestions off hides them from leases taken before (tasks/next handing back a held lease,
// tasks/ahead). And input the API cannot take is a 400 naming the field: labels that are not a
// list, a taxonomy version that does not exist.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { setSuggestions, updateSettings } from '../../src/label/results.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles, type Api } from './helpers.ts';

const P = '/api/projects/st';
type Task = { id: number; item: { id: number }; suggestion: { labels: string[]; confidence?: number | null } | null; taxonomy: { version: number } };

describe('serve time: suggestions and input checks (SQLite)', () => {
  let t: TestStore;
  let api: Api;
  let tok: Record<string, string>;
  let ids: number[] = [];

  before(async () => {
    t = await freshStore('sqlite');
    const p = await projectWithItems(t.store, 'st', ['one', 'two', 'three', 'four']);
    await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'billing' }, { name: 'other' }] });
    await updateSettings(t.store, p, OPERATOR, { overlap: 1 });
    ids = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').execute()).map((r) => r.id);
    await setSuggestions(t.store, p, OPERATOR, ids.map((itemId) => ({ itemId, labels: ['billing'], source: 'model-SECRET', confidence: 0.8 })));
    tok = await usersWithRoles(t.store, p, { boss: 'admin', a: 'annotator', b: 'annotator' });
    api = await startApi(t.store);
  });
  after(async () => {
    await api?.close();
    await t.cleanup();
  });

  const next = async (u: string) => (await api.call('POST', `${P}/tasks/next`, tok[u])).json.task as Task | null;
  const ahead = async (u: string, holding: number[]) => (await api.call('POST', `${P}/tasks/ahead`, tok[u], { holding })).json.task as Task | null;
  const settings = async (patch: Record<string, unknown>) => assert.equal((await api.call('PATCH', `${P}/settings`, tok.boss, patch)).status, 200);

  test('suggestions switched off are stripped from leases taken before the switch (tasks/next and tasks/ahead)', async () => {
    const held = await next('a');
    const preloaded = await ahead('a', [held!.id]);
    assert.deepEqual(held!.suggestion, { labels: ['billing'] }, 'leased while suggestions were on');
    assert.deepEqual(preloaded!.suggestion, { labels: ['billing'], confidence: 0.8 });
    await settings({ showSuggestions: false });
    const again = await next('a');
    assert.equal(again!.id, held!.id, 'tasks/next hands back the held lease');
    assert.equal(again!.suggestion, null, 'tasks/next: no suggestion once they are off');
    const viaAhead = await ahead('a', [held!.id]);
    assert.equal(viaAhead!.id, preloaded!.id, 'tasks/ahead hands back the other held lease');
    assert.equal(viaAhead!.suggestion, null, 'tasks/ahead: no suggestion once they are off');
    const viaAheadFirst = await ahead('a', []);
    assert.equal(viaAheadFirst!.suggestion, null);
    // Leases taken while they are off carry none either; on again, the held ones show theirs.
    const b = await next('b');
    assert.equal(b!.suggestion, null);
    await settings({ showSuggestions: true });
    assert.deepEqual((await next('a'))!.suggestion, { labels: ['billing'] });
    for (const [u, id] of [['a', held!.id], ['a', preloaded!.id], ['b', b!.id]] as const) assert.equal((await api.call('POST', `${P}/tasks/${id}/release`, tok[u])).status, 200);
  });

  test('labels given as a string, not a list, are a 400 naming the field (no coercion into a list)', async () => {
    const task = await next('a');
    const res = await api.call('POST', `${P}/tasks/${task!.id}/submit`, tok.a, { labels: 'billing', taxonomyVersion: 1 });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.error.message, /labels/);
    assert.match(res.json.error.message, /array/);
    const gold = await api.call('PUT', `${P}/gold`, tok.boss, { items: [{ itemId: ids[3], labels: 'billing' }] });
    assert.equal(gold.status, 400, gold.text);
    assert.match(gold.json.error.message, /labels/);
    const sugg = await api.call('PUT', `${P}/suggestions`, tok.boss, { items: [{ itemId: ids[3], labels: 'billing', source: 'm' }] });
    assert.equal(sugg.status, 400, sugg.text);
    assert.equal((await t.store.db.selectFrom('annotations').select('id').execute()).length, 0, 'nothing was written');
    assert.equal((await t.store.db.selectFrom('gold_items').select('item_id').execute()).length, 0);
  });

  test('JSON bodies are taken as sent: a null priority or confidence stays null (it was coerced to 0)', async () => {
    assert.equal((await api.call('PUT', `${P}/priorities`, tok.boss, { items: [{ itemId: ids[2], priority: 3 }] })).status, 200);
    assert.equal((await api.call('PUT', `${P}/priorities`, tok.boss, { items: [{ itemId: ids[2], priority: null }] })).status, 200);
    const li = await t.store.db.selectFrom('label_items').select('priority').where('item_id', '=', ids[2]).executeTakeFirstOrThrow();
    assert.equal(li.priority, null, 'null = back to import order');
    assert.equal((await api.call('PUT', `${P}/suggestions`, tok.boss, { items: [{ itemId: ids[2], labels: ['other'], source: 'm', confidence: null }] })).status, 200);
    const sug = await t.store.db.selectFrom('suggestions').select('confidence').where('item_id', '=', ids[2]).executeTakeFirstOrThrow();
    assert.equal(sug.confidence, null);
    const typed = await api.call('PUT', `${P}/priorities`, tok.boss, { items: [{ itemId: String(ids[2]), priority: '5' }] });
    assert.equal(typed.status, 400, 'strings are not numbers in a JSON body');
    // Query strings are text: still coerced to their schema's types.
    assert.equal((await api.call('GET', `${P}/labels?status=open&limit=5`, tok.boss)).status, 200);
  });

  test('a submit naming a taxonomy version that does not exist is a 400 naming taxonomyVersion; an older one that exists stays a 409', async () => {
    const task = await next('a');
    const res = await api.call('POST', `${P}/tasks/${task!.id}/submit`, tok.a, { labels: ['billing'], taxonomyVersion: 2 });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json.error.message, /^taxonomyVersion: version 2 does not exist/);
    assert.doesNotMatch(res.json.error.message, /changed/);
    assert.equal((await api.call('POST', `${P}/taxonomy`, tok.boss, { kind: 'single', labels: [{ name: 'billing' }, { name: 'other' }, { name: 'spam' }] })).status, 201);
    const stale = await api.call('POST', `${P}/tasks/${task!.id}/submit`, tok.a, { labels: ['billing'], taxonomyVersion: 1 });
    assert.equal(stale.status, 409, stale.text);
    assert.match(stale.json.error.message, /taxonomy changed \(version 1 → 2\)/);
    const ok = await api.call('POST', `${P}/tasks/${task!.id}/submit`, tok.a, { labels: ['billing'], taxonomyVersion: 2 });
    assert.equal(ok.status, 201, ok.text);
  });
});
