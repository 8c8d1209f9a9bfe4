// Residency: items carry a region tag; export and outbound webhooks refuse items tagged for a
// region the project does not export to, and every refusal is in the hash-chained audit log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { exportAllowed, parseRegions, residencyPolicy, residencyReport, setExportRegions } from '../../src/audit/residency.ts';
import { cliActor } from '../../src/store/context.ts';
import { exportLabels } from '../../src/label/export.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { getLabelSettings, mergeSettings, putLabelSettings } from '../../src/label/settings.ts';
import { nextTask, submitTask } from '../../src/label/assignment.ts';
import { createWebhook } from '../../src/label/webhooks.ts';
import { parseAllowList } from '../../src/core/egress-policy.ts';
import { verifyAuditLog } from '../../src/label/audit-verify.ts';
import { getProject } from '../../src/store/projects.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { UserError } from '../../src/core/errors.ts';

/** Region counts are null-prototype objects (any region name is a key): compare their JSON form. */
const plain = (o: unknown) => JSON.parse(JSON.stringify(o));

const OP = cliActor('cli:test');

test('policy: home region always allowed; others only when listed (or "*")', () => {
  const p = { home: 'au', exportRegions: ['nz'] };
  assert.equal(exportAllowed(p, 'au'), true);
  assert.equal(exportAllowed(p, 'nz'), true);
  assert.equal(exportAllowed(p, 'eu'), false);
  assert.equal(exportAllowed({ home: 'au', exportRegions: ['*'] }, 'eu'), true);
  assert.deepEqual(residencyPolicy({ settings: { region: 'au', sampleRate: 16000 } }), { home: 'au', exportRegions: [] });
  assert.deepEqual(parseRegions(' eu, us ,eu'), ['eu', 'us']);
  assert.throws(() => parseRegions('e u'), UserError);
});

for (const kind of STORE_KINDS) {
  describe(`residency (${kind})`, () => {
    let t: TestStore;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-residency-'));
    before(async () => (t = await freshStore(kind)));
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('export and webhooks refuse items of another region, audit-logged; allowed once the project lists the region', async () => {
      const file = (name: string, texts: string[]) => {
        const p = join(dir, `${name}.jsonl`);
        writeFileSync(p, texts.map((text, i) => JSON.stringify({ id: `${name}-${i}`, text })).join('\n') + '\n');
        return p;
      };
      await runImport(t.store, { project: 'res', path: file('home', ['one', 'two', 'three']), options: { idColumn: 'id' }, actor: 'test', projectSettings: { region: 'au' } });
      await runImport(t.store, { project: 'res', path: file('eu', ['vier', 'fünf']), options: { idColumn: 'id' }, actor: 'test', region: 'eu' });
      let project = await getProject(t.store.db, 'res');
      assert.deepEqual(plain(await residencyReport(t.store.db, project)), { home: 'au', exportRegions: [], byRegion: { au: 3, eu: 2 }, notExportable: 2 });

      await createTaxonomy(t.store, project, OP, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
      await t.store.db.transaction().execute((trx) => getLabelSettings(trx, project.id).then((s) => putLabelSettings(trx, project.id, mergeSettings(s, { overlap: 1 }))));
      const { user } = await createUser(t.store, OP, 'ann');
      await setRole(t.store, project, OP, 'ann', 'annotator');
      await createWebhook(t.store, project, OP, { url: 'http://127.0.0.1:9/hook', events: ['annotation.created', 'consensus.reached'] }, { allow: parseAllowList('127.0.0.1/32') });
      for (let i = 0; i < 5; i++) {
        const task = await nextTask(t.store, project, user);
        assert.ok(task);
        await submitTask(t.store, project, user, task.id, { labels: ['a'], taxonomyVersion: task.taxonomy.version });
      }
      const euItems = (await t.store.db.selectFrom('items').select('id').where('residency', '=', 'eu').orderBy('id').execute()).map((r) => r.id);
      const deliveries = await t.store.db.selectFrom('webhook_deliveries').select(['event', 'payload']).execute();
      assert.equal(deliveries.length, 6, 'two events for each of the three home items');
      for (const d of deliveries) assert.ok(!euItems.includes(JSON.parse(d.payload).data.itemId));
      const refusedHooks = await t.store.db.selectFrom('audit_events').select(['subject', 'payload']).where('action', '=', 'residency.refused').orderBy('seq').execute();
      assert.equal(refusedHooks.length, 4, 'two refused events for each of the two eu items');
      for (const e of refusedHooks) {
        const p = JSON.parse(e.payload);
        assert.equal(p.channel, 'webhook');
        assert.deepEqual(plain(p.regions), { eu: 1 });
        assert.ok(euItems.includes(p.itemIds[0]));
      }

      const ex = await exportLabels(t.store, project, OP, 'jsonl');
      assert.equal(ex.items, 3);
      assert.deepEqual(ex.refused, { items: 2, regions: { eu: 2 } });
      assert.deepEqual(ex.body.trim().split('\n').map((l) => JSON.parse(l).item).filter((id: number) => euItems.includes(id)), []);
      const refusedExport = await t.store.db.selectFrom('audit_events').select(['payload']).where('action', '=', 'residency.refused').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(refusedExport.payload), { channel: 'export', items: 2, regions: { eu: 2 }, itemIds: euItems, home: 'au', exportRegions: [], format: 'jsonl' });

      await setExportRegions(t.store, project.id, ['eu'], 'cli:test');
      project = await getProject(t.store.db, 'res');
      const all = await exportLabels(t.store, project, OP, 'csv');
      assert.equal(all.items, 5);
      assert.equal(all.refused, undefined);
      const settingsEvent = await t.store.db.selectFrom('audit_events').select(['payload']).where('action', '=', 'residency.settings').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(settingsEvent.payload), { exportRegions: ['eu'], before: [] });
      assert.equal((await verifyAuditLog(t.store.db)).ok, true);
    });
  });
}
