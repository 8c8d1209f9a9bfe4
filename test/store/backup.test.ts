/**
 * `tessera backup` / `tessera restore` on both stores, taken while `tessera serve` records
 * annotations: four annotators stream next → submit over HTTP, the backup runs mid-stream, then
 * the archive is restored into a fresh TESSERA_HOME (PostgreSQL: a fresh database, same schema)
 * and compared with the source: every annotation acknowledged before the backup started is there,
 * as stored; the restored audit log is a prefix of the source's (a consistent snapshot) and
 * verifies; model files come back byte for byte with their checkpoint paths moved to the new home.
 * Refusals: a target holding a store (exit 2, until --force); a truncated archive and one with a
 * file changed inside (exit 2, nothing restored).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { runImport } from '../../src/ingest/import.ts';
import { cliActor } from '../../src/store/context.ts';
import { updateSettings } from '../../src/label/results.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { registerModel } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import { BIN, tessera } from '../helpers/cli.ts';
import { PG_URL, STORE_KINDS, freshStore, type TestStore } from '../helpers/stores.ts';

const ITEMS = 2000;
const ANNOTATORS = 4;
const OP = cliActor('cli:test');

interface Ack {
  annotationId: number;
  itemId: number;
  user: string;
  label: string;
  at: number;
}

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  return new Promise((res, rej) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d;
      const m = /^tessera: ready (\{.*\})$/m.exec(buf);
      if (m) res({ child, url: (JSON.parse(m[1]) as { url: string }).url, log });
    });
    child.on('exit', (code) => rej(new Error(`tessera serve exited (${code}):\n${buf}`)));
    setTimeout(() => rej(new Error(`tessera serve did not start in 120 s:\n${buf}`)), 120_000).unref();
  });
}

/** Annotators doing next → submit until `stop()`; every 201 is recorded with the time it arrived. */
function annotate(url: string, project: string, users: Array<{ name: string; token: string }>) {
  const acks: Ack[] = [];
  const errors: string[] = [];
  let stopped = false;
  const post = async (path: string, token: string, body: unknown) => {
    const r = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const loops = users.map(async (u, k) => {
    for (let n = 0; !stopped; n++) {
      const next = await post(`/api/projects/${project}/tasks/next`, u.token, {});
      if (next.status !== 200) {
        errors.push(`next ${next.status}: ${JSON.stringify(next.body)}`);
        return;
      }
      const task = next.body.task as { id: number; item: { id: number }; taxonomy: { version: number } } | null;
      if (!task) return;
      const label = ['a', 'b', 'c'][(task.item.id + k + n) % 3];
      const sub = await post(`/api/projects/${project}/tasks/${task.id}/submit`, u.token, { labels: [label], taxonomyVersion: task.taxonomy.version });
      if (sub.status !== 201) {
        errors.push(`submit ${sub.status}: ${JSON.stringify(sub.body)}`);
        return;
      }
      acks.push({ annotationId: sub.body.annotationId, itemId: task.item.id, user: u.name, label, at: Date.now() });
    }
  });
  return {
    acks,
    errors,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

function cliAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

/** A tar.gz with one byte of `entry`'s data changed (gzip and tar headers stay valid). */
function tamper(archive: string, entry: string, out: string): void {
  const tar = gunzipSync(readFileSync(archive));
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.toString('utf8', off, off + 100).replace(/\0.*$/s, '');
    const size = parseInt(tar.toString('ascii', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (name === entry) {
      tar[off + 512] ^= 0x01;
      writeFileSync(out, gzipSync(tar));
      return;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${entry} not in ${archive}`);
}

const sortedRows = (rows: Array<Record<string, unknown>>) => rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();

for (const kind of STORE_KINDS) {
  describe(`backup and restore while serving (${kind})`, () => {
    let src: TestStore;
    let home: string;
    let env: Record<string, string>;
    let work: string;
    let archive: string;
    let acks: Ack[] = [];
    let ackedBeforeBackup: Ack[] = [];
    let backupDoc: any;
    const external = { dir: '', bytes: randomBytes(3000) };
    const inside = { rel: 'models/rows/encoder/weights.bin', bytes: randomBytes(5000) };
    let restoreDb: string | undefined;

    before(async () => {
      src = await freshStore(kind);
      work = mkdtempSync(join(tmpdir(), 'tessera-backup-test-'));
      home = kind === 'sqlite' ? src.env.TESSERA_HOME : join(work, 'home');
      mkdirSync(home, { recursive: true });
      env = { ...src.env, TESSERA_HOME: home };
      const file = join(work, 'rows.jsonl');
      writeFileSync(file, Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ id: `r${i}`, text: `item ${i} to label` })).join('\n') + '\n');
      const s = src.store;
      await runImport(s, { project: 'rows', path: file, format: 'jsonl', options: {}, actor: 'cli:test' });
      const project = await getProject(s.db, 'rows');
      await createTaxonomy(s, project, OP, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
      await updateSettings(s, project, OP, { overlap: 2 });
      // A checkpoint under $TESSERA_HOME/models and one kept elsewhere, both registered.
      mkdirSync(join(home, 'models/rows/encoder'), { recursive: true });
      writeFileSync(join(home, inside.rel), inside.bytes);
      await registerModel(s.db, { projectId: project.id, kind: 'encoder', pretext: 'scarf', parentId: null, datasetId: null, taxonomyVersion: null, checkpointPath: join(home, 'models/rows/encoder'), params: {}, metrics: {} });
      external.dir = join(work, 'elsewhere', 'head');
      mkdirSync(external.dir, { recursive: true });
      writeFileSync(join(external.dir, 'head.json'), external.bytes);
      await registerModel(s.db, { projectId: project.id, kind: 'classifier', pretext: null, parentId: null, datasetId: null, taxonomyVersion: 1, checkpointPath: external.dir, params: {}, metrics: {} });
      const users = [];
      for (let i = 0; i < ANNOTATORS; i++) {
        const { token } = await createUser(s, OP, `ann${i}`);
        await setRole(s, project, OP, `ann${i}`, 'annotator');
        users.push({ name: `ann${i}`, token: token.token });
      }

      const server = await startServer(env);
      try {
        const load = annotate(server.url, 'rows', users);
        // Mid-stream: some annotations acknowledged, more coming while the backup runs.
        for (let i = 0; load.acks.length < 40 && i < 1200; i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(load.acks.length >= 40, `annotators got going: ${load.acks.length} acks, errors: ${load.errors.join('; ')}`);
        archive = join(work, 'backup.tar.gz');
        ackedBeforeBackup = load.acks.slice();
        const during = load.acks.length;
        const r = await cliAsync(['backup', '--out', archive, '--json'], env);
        const after = load.acks.length;
        await load.stop();
        acks = load.acks;
        assert.equal(r.code, 0, r.stderr);
        backupDoc = JSON.parse(r.stdout);
        assert.equal(load.errors.length, 0, load.errors.join('\n'));
        assert.ok(after > during, `annotations kept being acknowledged while the backup ran (${during} → ${after})`);
        process.stderr.write(`backup test (${kind}): ${backupDoc.tables.annotations} annotations in the backup of ${backupDoc.bytes} bytes, taken in ${backupDoc.seconds.toFixed(2)} s while ${after - during} more were acknowledged; ${acks.length} in all\n`);
      } finally {
        server.child.kill('SIGTERM');
        await new Promise((r) => server.child.once('exit', r));
      }
    });

    after(async () => {
      await src.cleanup();
      rmSync(work, { recursive: true, force: true });
      if (restoreDb) {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${restoreDb}`);
        await c.end();
      }
    });

    /** A fresh target: a new home and, for PostgreSQL, a new database (the schema name is the backup's). */
    async function freshTarget(): Promise<Record<string, string>> {
      const h = mkdtempSync(join(work, 'target-'));
      if (kind === 'sqlite') return { TESSERA_HOME: h, TESSERA_DATABASE_URL: '' };
      const db = `tessera_restore_${randomBytes(5).toString('hex')}`;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`CREATE DATABASE ${db}`);
      await c.end();
      if (restoreDb) {
        const d = new pg.Client({ connectionString: PG_URL });
        await d.connect();
        await d.query(`DROP DATABASE IF EXISTS ${restoreDb}`);
        await d.end();
      }
      restoreDb = db;
      return { TESSERA_HOME: h, TESSERA_DATABASE_URL: PG_URL.replace(/\/[^/]*$/, `/${db}`), TESSERA_DATABASE_SCHEMA: src.env.TESSERA_DATABASE_SCHEMA };
    }

    async function openTarget(t: Record<string, string>): Promise<Store> {
      return kind === 'sqlite' ? openStore({ kind: 'sqlite', location: join(t.TESSERA_HOME, 'tessera.db') }) : openStore({ kind: 'postgres', location: t.TESSERA_DATABASE_URL, schema: t.TESSERA_DATABASE_SCHEMA });
    }

    test('the restored store holds every annotation acknowledged before the backup, as stored; its audit log is a prefix of the source\'s and verifies', async () => {
      const target = await freshTarget();
      const r = tessera(['restore', archive, '--json'], target);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json.auditVerified.ok, true);
      assert.deepEqual(r.json.auditVerified.head, backupDoc.audit.head);
      const dst = await openTarget(target);
      try {
        const restored = await dst.db.selectFrom('annotations').selectAll().orderBy('id').execute();
        assert.equal(restored.length, backupDoc.tables.annotations);
        const byId = new Map(restored.map((a) => [a.id, a]));
        const users = new Map((await dst.db.selectFrom('users').select(['id', 'name']).execute()).map((u) => [u.id, u.name]));
        for (const a of ackedBeforeBackup) {
          const got = byId.get(a.annotationId);
          assert.ok(got, `annotation ${a.annotationId} (acknowledged before the backup started) is in the backup`);
          assert.deepEqual({ item: got.item_id, user: users.get(got.user_id), labels: JSON.parse(String(got.labels)) }, { item: a.itemId, user: a.user, labels: [a.label] });
        }
        // Every restored annotation is the source's row, unchanged; the backup is one instant of the store.
        const source = await src.store.db.selectFrom('annotations').selectAll().where('id', 'in', restored.map((a) => a.id)).execute();
        assert.deepEqual(sortedRows(restored as any), sortedRows(source as any));
        const srcAudit = await src.store.db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq').execute();
        const dstAudit = await dst.db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq').execute();
        assert.deepEqual(dstAudit, srcAudit.slice(0, dstAudit.length), 'the restored chain is the source chain up to the backup');
        assert.ok(srcAudit.length >= dstAudit.length);
        // Rows per table as in the manifest (the restore checks it too; here from the outside).
        for (const t of ['items', 'annotations', 'assignments', 'label_items', 'users', 'api_tokens', 'models']) {
          const n = Number((await dst.db.selectFrom(t as 'items').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
          assert.equal(n, backupDoc.tables[t], `${t} rows`);
        }
        // Model files, byte for byte, and their checkpoint paths in the new home.
        const models = await dst.db.selectFrom('models').select(['kind', 'checkpoint_path']).orderBy('id').execute();
        assert.equal(models[0].checkpoint_path, join(target.TESSERA_HOME, 'models/rows/encoder'));
        assert.deepEqual(readFileSync(join(models[0].checkpoint_path!, 'weights.bin')), inside.bytes);
        assert.ok(models[1].checkpoint_path!.startsWith(join(target.TESSERA_HOME, 'models')), models[1].checkpoint_path!);
        assert.deepEqual(readFileSync(join(models[1].checkpoint_path!, 'head.json')), external.bytes);
      } finally {
        await dst.close();
      }
      // The CLI's own verification agrees.
      const v = tessera(['audit-log', 'verify', '--json'], target);
      assert.equal(v.code, 0, v.stdout + v.stderr);

      // A target that holds a store is refused, and left as it was; --force replaces it.
      const again = tessera(['restore', archive, '--json'], target);
      assert.equal(again.code, 2, again.stdout + again.stderr);
      assert.equal(again.json.error.code, 'E_RESTORE_REFUSED');
      assert.match(again.json.error.message, /already holds .*--force/);
      const forced = tessera(['restore', archive, '--force', '--json'], target);
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal(forced.json.auditVerified.ok, true);
    });

    test('a truncated archive, and one with a file changed inside, are refused with the reason; nothing is restored', async () => {
      const bytes = readFileSync(archive);
      const truncated = join(work, 'truncated.tar.gz');
      writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const changed = join(work, 'changed.tar.gz');
      tamper(archive, 'home/models/rows/encoder/weights.bin', changed);
      for (const [file, why] of [
        [truncated, /truncated/],
        [changed, /home\/models\/rows\/encoder\/weights\.bin does not match the manifest/],
      ] as const) {
        const target = await freshTarget();
        const r = tessera(['restore', file, '--json'], target);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.equal(r.json.error.code, 'E_ARCHIVE');
        assert.match(r.json.error.message, why);
        assert.match(r.json.error.message, /nothing was restored/);
        assert.deepEqual(readdirSync(target.TESSERA_HOME), [], 'the target home is left empty');
        if (kind === 'postgres') {
          const c = new pg.Client({ connectionString: target.TESSERA_DATABASE_URL });
          await c.connect();
          const t = await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`, [target.TESSERA_DATABASE_SCHEMA]);
          await c.end();
          assert.equal(t.rows[0].n, 0, 'no table restored');
        }
        assert.equal(existsSync(join(target.TESSERA_HOME, 'tessera.db')), false);
      }
    });
  });
}
