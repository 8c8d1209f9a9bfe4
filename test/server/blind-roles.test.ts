// Blindness across role changes, through the real HTTP API on both stores: whoever held a role
// that reads labels (reviewer, manager, admin, viewer) is never served blind an item that existed
// meanwhile — not after a demotion to annotator, not through tasks/next nor tasks/ahead — while
// items imported after the demotion are served as usual. A role change releases live leases.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, sleep, startApi, usersWithRoles, type Api } from './helpers.ts';

const P = '/api/projects/blind';

async function importMore(t: TestStore, ids: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-blind-'));
  try {
    const file = join(dir, 'more.jsonl');
    writeFileSync(file, ids.map((id) => JSON.stringify({ id, text: `new ${id}`, label: 'secret-new' })).join('\n') + '\n');
    await runImport(t.store, { project: 'blind', path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'cli:test' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of STORE_KINDS) {
  describe(`blindness across role changes (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let tok: Record<string, string>;
    let oldIds: number[] = [];

    const role = async (user: string, r: string) => {
      const res = await api.call('PUT', `${P}/members/${user}`, tok.boss, { role: r });
      assert.equal(res.status, 200, res.text);
    };
    const next = async (user: string) => {
      const res = await api.call('POST', `${P}/tasks/next`, tok[user]);
      assert.equal(res.status, 200, res.text);
      return res.json.task as { id: number; item: { id: number } } | null;
    };
    const ahead = async (user: string, holding: number[] = []) => {
      const res = await api.call('POST', `${P}/tasks/ahead`, tok[user], { holding });
      assert.equal(res.status, 200, res.text);
      return res.json.task as { id: number; item: { id: number } } | null;
    };
    const release = async (user: string, id: number) => assert.equal((await api.call('POST', `${P}/tasks/${id}/release`, tok[user])).status, 200);

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'blind', ['one', 'two', 'three', 'four']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      await updateSettings(t.store, p, OPERATOR, { overlap: 3 });
      tok = await usersWithRoles(t.store, p, { boss: 'admin', ann: 'annotator', other: 'annotator', fresh: 'annotator', vw: 'viewer', mgr: 'manager', holder: 'annotator' });
      oldIds = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').execute()).map((r) => r.id);
      api = await startApi(t.store);
      // Another annotator answers the first item: there is now someone else's label to read.
      const o = await next('other');
      assert.equal(o!.item.id, oldIds[0]);
      assert.equal((await api.call('POST', `${P}/tasks/${o!.id}/submit`, tok.other, { labels: ['b'], taxonomyVersion: 1 })).status, 201);
    });
    after(async () => {
      await api?.close();
      await t.cleanup();
    });

    test('an annotator promoted to reviewer and demoted again is never served blind an item that existed meanwhile', async () => {
      // As reviewer, ann reads the other annotator's answer on the first item.
      await role('ann', 'reviewer');
      const seen = await api.call('GET', `${P}/annotations?item=${oldIds[0]}`, tok.ann);
      assert.equal(seen.status, 200);
      assert.deepEqual(seen.json.annotations.map((a: { labels: string[] }) => a.labels), [['b']]);
      await role('ann', 'annotator');
      // Before the fix: the first item (round 0, one answer of three) came straight back, blind.
      assert.equal(await next('ann'), null, 'tasks/next serves nothing that existed while ann read labels');
      assert.equal(await ahead('ann'), null, 'nor does tasks/ahead');
      // The control: an annotator who never read labels is served the same item.
      const f = await next('fresh');
      assert.equal(f!.item.id, oldIds[0]);
      await release('fresh', f!.id);
    });

    test('a viewer or a manager made annotator is never served an item that existed while they read labels', async () => {
      assert.equal((await api.call('GET', `${P}/labels?status=open`, tok.vw)).status, 200);
      assert.equal((await api.call('GET', `${P}/annotations`, tok.mgr)).status, 200);
      await role('vw', 'annotator');
      await role('mgr', 'annotator');
      for (const u of ['vw', 'mgr']) {
        assert.equal(await next(u), null, `${u}: tasks/next`);
        assert.equal(await ahead(u), null, `${u}: tasks/ahead`);
      }
    });

    test('items imported after the demotion are served to the demoted annotator as usual', async () => {
      await sleep(5); // a later millisecond than the role changes above
      await importMore(t, ['n0', 'n1']);
      const newIds = (await t.store.db.selectFrom('items').select('id').where('id', 'not in', oldIds).orderBy('id').execute()).map((r) => r.id);
      assert.equal(newIds.length, 2);
      for (const u of ['ann', 'vw', 'mgr']) {
        const a = await next(u);
        assert.ok(a && newIds.includes(a.item.id), `${u} is served a new item, got ${JSON.stringify(a)}`);
        const b = await ahead(u, [a.id]);
        assert.ok(b && newIds.includes(b.item.id) && b.item.id !== a.item.id, `${u}: tasks/ahead gives the other new item`);
        assert.equal((await api.call('POST', `${P}/tasks/${a.id}/submit`, tok[u], { labels: ['a'], taxonomyVersion: 1 })).status, 201);
        assert.equal((await api.call('POST', `${P}/tasks/${b.id}/submit`, tok[u], { labels: ['a'], taxonomyVersion: 1 })).status, 201);
        assert.equal(await next(u), null, `${u}: nothing else`);
      }
    });

    test('a role change releases live leases: a task leased blind is not answered after reading labels', async () => {
      const task = await next('holder');
      assert.ok(task);
      await role('holder', 'reviewer');
      await role('holder', 'annotator');
      const late = await api.call('POST', `${P}/tasks/${task.id}/submit`, tok.holder, { labels: ['a'], taxonomyVersion: 1 });
      assert.equal(late.status, 409, late.text);
      assert.match(late.json.error.message, /released/);
      const again = await next('holder');
      assert.ok(again === null || !oldIds.includes(again.item.id), 'the released lease is not handed back, nor any item that existed');
      const audit = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'member.set').orderBy('seq', 'desc').execute();
      assert.ok(audit.some((e) => JSON.parse(e.payload).leasesReleased === 1), 'the release is in the audit log');
    });
  });
}
