// Migration 010 on a store written before it: role periods are replayed from the audit log (a
// promotion and demotion made before the upgrade still keeps the demoted annotator from the
// items that existed), and the loop's `loop-test` splits become held out from serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { up001 } from '../../src/store/migrations/001_initial.ts';
import { up002 } from '../../src/store/migrations/002_embeddings.ts';
import { up003 } from '../../src/store/migrations/003_labelling.ts';
import { up004 } from '../../src/store/migrations/004_audit.ts';
import { up005 } from '../../src/store/migrations/005_token_security.ts';
import { up006 } from '../../src/store/migrations/006_cluster.ts';
import { up007 } from '../../src/store/migrations/007_scale.ts';
import { up008 } from '../../src/store/migrations/008_load.ts';
import { openStore } from '../../src/store/db.ts';
import { getProject } from '../../src/store/projects.ts';
import { runImport } from '../../src/ingest/import.ts';
import { nextTask } from '../../src/label/assignment.ts';
import { heldOutItems, labelReadingEnd } from '../../src/label/eligibility.ts';
import { getUser } from '../../src/label/users.ts';

const T = (day: number) => `2020-01-0${day}T00:00:00.000Z`;

test('migration 010 replays role periods from the audit log and marks loop-test splits held out (SQLite upgrade)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-m010-'));
  const file = join(dir, 'tessera.db');
  try {
    // A store as the code before 010 left it.
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const ups = { '001_initial': up001, '002_embeddings': up002, '003_labelling': up003, '004_audit': up004, '005_token_security': up005, '006_cluster': up006, '007_scale': up007, '008_load': up008 };
    const migrator = new Migrator({ db: old, provider: { getMigrations: async () => Object.fromEntries(Object.entries(ups).map(([k, up]) => [k, { up: up('sqlite') }])) } });
    const r = await migrator.migrateToLatest();
    assert.equal(r.error, undefined);
    const { id: project } = await old.insertInto('projects').values({ name: 'old', created_at: T(1), settings: '{}' }).returning('id').executeTakeFirstOrThrow();
    await old.insertInto('taxonomies').values({ project_id: project, version: 1, kind: 'single', labels: JSON.stringify([{ name: 'a' }, { name: 'b' }]), guidelines: '', mapping: null, created_at: T(1), created_by: 'cli' }).execute();
    const user = async (name: string) => (await old.insertInto('users').values({ name, display_name: name, token_hash: null, created_at: T(1) }).returning('id').executeTakeFirstOrThrow()).id;
    const demoted = await user('demoted');
    const never = await user('never');
    const gone = await user('gone');
    await old.insertInto('memberships').values([{ project_id: project, user_id: demoted, role: 'annotator' }, { project_id: project, user_id: never, role: 'annotator' }]).execute();
    const { id: source } = await old.insertInto('import_sources').values({ project_id: project, path: 'x', format: 'jsonl', options: '{}', status: 'committed', started_at: T(1), finished_at: T(1) }).returning('id').executeTakeFirstOrThrow();
    const items: number[] = [];
    for (let i = 0; i < 4; i++) {
      const row = { project_id: project, source_id: source, source_key: `id:o${i}`, modality: 'text', text: `old ${i}`, data: null, blob_sha256: null, meta: '{}', locator: `x:${i}`, residency: 'local', sha256: `h${i}`, source_label: 'secret', created_at: T(1) };
      items.push((await old.insertInto('items').values(row).returning('id').executeTakeFirstOrThrow()).id);
    }
    // demoted: annotator (day 2) → reviewer (day 3) → annotator (day 4); gone: viewer, removed on day 5.
    let seq = 0;
    const event = (at: string, action: string, userId: number, payload: Record<string, unknown>) =>
      old.insertInto('audit_events').values({ project_id: project, at, actor: 'cli:admin', action, subject: `user:${userId}`, payload: JSON.stringify(payload), prev_hash: String(seq), hash: String(++seq) }).execute();
    await event(T(2), 'member.set', demoted, { user: 'demoted', role: 'annotator', previous: null });
    await event(T(2), 'member.set', never, { user: 'never', role: 'annotator', previous: null });
    await event(T(2), 'member.set', gone, { user: 'gone', role: 'viewer', previous: null });
    await event(T(3), 'member.set', demoted, { user: 'demoted', role: 'reviewer', previous: 'annotator' });
    await event(T(4), 'member.set', demoted, { user: 'demoted', role: 'annotator', previous: 'reviewer' });
    await event(T(5), 'member.remove', gone, { user: 'gone', previous: 'viewer' });
    const { id: split } = await old.insertInto('datasets').values({ project_id: project, name: 'loop-test', kind: 'split', spec: '{}', item_count: 1, created_at: T(1) }).returning('id').executeTakeFirstOrThrow();
    await old.insertInto('dataset_items').values({ dataset_id: split, item_id: items[3], label: null, decided_by: null }).execute();
    await old.destroy();

    // The upgrade.
    const store = await openStore({ kind: 'sqlite', location: file });
    try {
      const periods = await store.db.selectFrom('role_periods').select(['user_id', 'role', 'from_at', 'to_at']).orderBy('user_id').orderBy('id').execute();
      assert.deepEqual(
        periods.map((p) => [p.user_id, p.role, p.from_at, p.to_at]),
        [
          [demoted, 'annotator', T(2), T(3)],
          [demoted, 'reviewer', T(3), T(4)],
          [demoted, 'annotator', T(4), null],
          [never, 'annotator', T(2), null],
          [gone, 'viewer', T(2), T(5)],
        ].sort((a, b) => Number(a[0]) - Number(b[0])),
      );
      assert.equal(await labelReadingEnd(store.db, project, demoted), T(4));
      assert.equal(await labelReadingEnd(store.db, project, never), null);
      assert.deepEqual([...(await heldOutItems(store.db, project, 'serve'))], [items[3]]);
      const ann = await store.db.selectFrom('annotations').select('blind').execute();
      assert.equal(ann.length, 0);

      const p = await getProject(store.db, 'old');
      assert.equal(await nextTask(store, p, await getUser(store.db, 'demoted')), null, 'every item existed while "demoted" was a reviewer');
      const served = await nextTask(store, p, await getUser(store.db, 'never'));
      assert.equal(served?.item.id, items[0], 'an annotator who never read labels is served as before');
      // Items imported after the upgrade (and the demotion) reach the demoted annotator; the held-out one never does.
      const f = join(dir, 'new.jsonl');
      writeFileSync(f, JSON.stringify({ id: 'n0', text: 'new' }) + '\n');
      await runImport(store, { project: 'old', path: f, format: 'jsonl', options: { idColumn: 'id' }, actor: 'cli:test' });
      const fresh = await nextTask(store, p, await getUser(store.db, 'demoted'));
      assert.ok(fresh && !items.includes(fresh.item.id), `a new item, got ${JSON.stringify(fresh?.item)}`);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
