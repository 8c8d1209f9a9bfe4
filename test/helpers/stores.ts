import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/db.ts';

/** The machine's PostgreSQL (trust auth, database `test`); CI starts it. */
export const PG_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestStore {
  store: Store;
  /** Environment that points a CLI child process at this same store. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** A fresh, empty store: a SQLite file in a temp dir, or a PostgreSQL schema of its own. */
export async function freshStore(kind: 'sqlite' | 'postgres'): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
    const store = await openStore({ kind: 'sqlite', location: join(dir, 'tessera.db') });
    return {
      store,
      env: { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' },
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ kind: 'postgres', location: PG_URL, schema });
  return {
    store,
    env: { TESSERA_DATABASE_URL: PG_URL, TESSERA_DATABASE_SCHEMA: schema },
    cleanup: async () => {
      await store.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Both store kinds: every store test runs against SQLite and against PostgreSQL. */
export const STORE_KINDS = ['sqlite', 'postgres'] as const;

/** Row counts of every data table (jobs excluded: a failed job is recorded on purpose). */
export async function snapshot(store: Store): Promise<Record<string, number>> {
  const tables = ['projects', 'import_sources', 'items', 'blobs', 'audit_events', 'taxonomies', 'datasets', 'annotations'] as const;
  const out: Record<string, number> = {};
  for (const t of tables) {
    const r = await store.db.selectFrom(t).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}
