// Drift in a project: snapshot vs import (`tessera drift --project`), and monitors that run after
// every import job and alert (stored alert, `drift.alert` webhook, audit event). Real data: the
// UCI digits, split into a reference, a same-distribution import and a class-prior-shifted import.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { mulberry32, shuffled } from '../../src/core/rng.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { cliActor } from '../../src/store/context.ts';
import { createWebhook } from '../../src/label/webhooks.ts';
import { parseAllowList } from '../../src/core/egress-policy.ts';
import { verifyAuditLog } from '../../src/label/audit-verify.ts';
import { acknowledgeAlert, createMonitor, listAlerts, listChecks } from '../../src/monitor/monitors.ts';
import { projectDrift } from '../../src/monitor/project.ts';
import { registerModel, writeEmbeddings, createSnapshot } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-drift-project-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Digits rows, seeded shuffle: reference 800, same-distribution 400, prior-shifted 300 (digits 0–2 only).
const lines = gunzipSync(readFileSync(dataset('images', 'digits', 'digits.csv.gz'))).toString('utf8').trim().split('\n');
const order = shuffled(
  lines.map((_, i) => i),
  mulberry32(42),
);
const write = (name: string, rows: number[]) => {
  const p = join(dir, `${name}.csv`);
  writeFileSync(p, rows.map((i) => lines[i]).join('\n') + '\n');
  return p;
};
const label = (i: number) => Number(lines[i].split(',')[64]);
const REF = write('ref', order.slice(0, 800));
const SAME = write('same', order.slice(800, 1200));
const SHIFTED = write('shifted', order.slice(1200).filter((i) => label(i) <= 2));

async function importJob(store: TestStore['store'], path: string) {
  const runner = new InProcessRunner(store, jobHandlers(store));
  const job = await runner.submitAndRun('import', { project: 'dig', path, format: 'digits', options: {}, actor: 'cli:test' }, null);
  assert.equal(job.status, 'succeeded', job.error ?? '');
  return job.result as { imported: number; monitors?: Array<{ monitor: number; status: string; alert?: number; pValues?: Record<string, number> }> };
}

for (const kind of STORE_KINDS) {
  describe(`drift in a project (${kind})`, () => {
    let t: TestStore;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    test('monitor on raw features: quiet on a same-distribution import, alerts on a class-prior shift', async () => {
      const first = await importJob(t.store, REF);
      assert.deepEqual(Object.keys(first), ['imported', 'unchanged', 'rejected', 'errors'], 'no monitors yet: the import report is unchanged');
      const project = await getProject(t.store.db, 'dig');
      const refSource = (await t.store.db.selectFrom('import_sources').select('id').where('project_id', '=', project.id).executeTakeFirstOrThrow()).id;
      await createWebhook(t.store, project, cliActor('cli:test'), { url: 'http://127.0.0.1:9/drift', events: ['drift.alert'] }, { allow: parseAllowList('127.0.0.1/32') });
      const m = await createMonitor(t.store, project, { referenceImport: refSource, features: 'raw', name: 'digits' }, 'cli:test');
      assert.deepEqual(m.tests, ['mmd', 'ks', 'c2st']);

      const same = await importJob(t.store, SAME);
      assert.equal(same.imported, 400);
      assert.equal(same.monitors!.length, 1);
      assert.equal(same.monitors![0].status, 'ok', JSON.stringify(same.monitors));
      assert.equal(same.monitors![0].alert, undefined);

      const shifted = await importJob(t.store, SHIFTED);
      const o = shifted.monitors![0];
      assert.equal(o.status, 'drift');
      assert.ok(o.alert);
      for (const p of Object.values(o.pValues!)) assert.ok(p < 0.05 / 3, JSON.stringify(o.pValues));

      const alerts = await listAlerts(t.store, project.id);
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0].kind, 'drift');
      assert.match(alerts[0].message, /^drift on import \d+ vs snapshot \d+ \(digits\): mmd p=/);
      assert.ok((alerts[0].detail as { labels: { chiSquare: { drift: boolean } } }).labels.chiSquare.drift, 'the label distribution shifted too');
      const hooks = await t.store.db.selectFrom('webhook_deliveries').select(['event', 'payload']).execute();
      assert.deepEqual(hooks.map((h) => h.event), ['drift.alert']);
      assert.equal(JSON.parse(hooks[0].payload).data.alert, o.alert);
      const events = (await t.store.db.selectFrom('audit_events').select('action').orderBy('seq').execute()).map((e) => e.action);
      assert.deepEqual(events.filter((a) => a.startsWith('monitor') || a.startsWith('drift')), ['monitor.create', 'drift.alert']);
      assert.deepEqual((await listChecks(t.store, project.id)).map((c) => c.status), ['drift', 'ok']);

      await acknowledgeAlert(t.store, project.id, alerts[0].id, 'cli:test');
      assert.deepEqual(await listAlerts(t.store, project.id), []);
      assert.equal((await listAlerts(t.store, project.id, { all: true }))[0].acknowledgedBy, 'cli:test');
      assert.equal((await verifyAuditLog(t.store.db)).ok, true);

      const again = await importJob(t.store, SHIFTED);
      assert.deepEqual([again.imported, again.monitors![0].status], [0, 'skipped'], 'a re-import adds nothing to test');
    });

    test('project mode on a model\'s embeddings; items without one are embedded first and stored', async () => {
      const project = await getProject(t.store.db, 'dig');
      const sources = (await t.store.db.selectFrom('import_sources').select('id').where('project_id', '=', project.id).where('status', '=', 'committed').orderBy('id').execute()).map((r) => r.id);
      const refIds = (await t.store.db.selectFrom('items').select('id').where('source_id', '=', sources[0]).orderBy('id').execute()).map((r) => r.id);
      const snapshot = await createSnapshot(t.store.db, project.id, 'reference', refIds, {});
      const model = await registerModel(t.store.db, { projectId: project.id, kind: 'encoder', pretext: 'test', parentId: null, datasetId: snapshot, taxonomyVersion: null, checkpointPath: null, params: {}, metrics: {} });
      // The "encoder": mean brightness of each 8×8 row (a deterministic 8-d embedding).
      const embedOf = async (ids: number[]) => {
        const rows = await t.store.db.selectFrom('items').innerJoin('blobs', 'blobs.sha256', 'items.blob_sha256').select(['items.id', 'blobs.bytes']).where('items.id', 'in', ids).execute();
        const byId = new Map(rows.map((r) => [r.id, Uint8Array.from(r.bytes)]));
        const out = new Float32Array(ids.length * 8);
        ids.forEach((id, i) => {
          const px = byId.get(id)!;
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) out[i * 8 + y] += px[y * 8 + x] / (8 * 255);
        });
        return out;
      };
      await writeEmbeddings(t.store, model, refIds, await embedOf(refIds), 8);
      let calls = 0;
      const embed = async (_s: unknown, _p: unknown, m: number, ids: number[]) => {
        calls++;
        assert.equal(m, model);
        return { dim: 8, data: await embedOf(ids) };
      };
      const r = await projectDrift(t.store, project, { reference: snapshot, current: sources[2], tests: ['mmd', 'ks'] }, embed);
      assert.deepEqual([r.features, r.model, r.dim, r.embedded, r.rows.reference, r.correction], ['model', model, 8, r.current.items, 800, 'bonferroni']);
      assert.equal(r.drift, true);
      assert.equal(calls, 1);
      const again = await projectDrift(t.store, project, { reference: snapshot, current: sources[2], tests: ['mmd', 'ks'] }, embed);
      assert.deepEqual([again.embedded, calls], [0, 1], 'embeddings were stored by the first check');
      assert.deepEqual(again.tests, r.tests);

      if (kind === 'sqlite') {
        const args = ['drift', '--project', 'dig', '--reference', String(snapshot), '--current', String(sources[1]), '--json'];
        const missing = tessera([...args, '--model', String(model)], t.env);
        assert.equal(missing.code, 2);
        assert.match(missing.json.error.message, /has no encoder checkpoint to embed new items with/);
        const sameIds = (await t.store.db.selectFrom('items').select('id').where('source_id', '=', sources[1]).orderBy('id').execute()).map((x) => x.id);
        await writeEmbeddings(t.store, model, sameIds, await embedOf(sameIds), 8);
        const cli = tessera([...args, '--model', String(model), '--test', 'mmd,ks'], t.env);
        assert.equal(cli.code, 0, cli.stderr);
        assert.deepEqual(Object.keys(cli.json), ['project', 'reference', 'current', 'features', 'model', 'dim', 'rows', 'embedded', 'alpha', 'correction', 'tests', 'drift', 'labels']);
        assert.deepEqual([cli.json.embedded, cli.json.drift, cli.json.tests.length], [0, false, 2]);
        const raw = tessera([...args, '--model', 'raw', '--test', 'ks', '--alpha', '0.01'], t.env);
        assert.deepEqual([raw.code, raw.json.features, raw.json.dim, raw.json.alpha, raw.json.correction], [0, 'raw', 64, 0.01, 'none']);
      }
    });
  });
}
