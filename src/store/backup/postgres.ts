import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { UserError, TesseraError } from '../../core/errors.ts';
import type { StoreConfig } from '../../core/config.ts';
import { redact, type Store } from '../db.ts';
import { listFiles } from './files.ts';
import { auditOf, RestoreRefused, type BackupManifest, type SnapshotFacts } from './manifest.ts';

/** The PostgreSQL side of backup and restore, through pg_dump, pg_restore and psql. */

async function pgClient(url: string): Promise<pg.Client> {
  const driver = (await import('pg')).default;
  const c = new driver.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

async function schemaTables(c: pg.Client, schema: string): Promise<string[]> {
  const r = await c.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`,
    [schema],
  );
  return r.rows.map((x) => x.name);
}

/**
 * `pg_dump` of the Tessera schema (and pg-boss's, if it exists) from a snapshot exported by a
 * repeatable-read transaction, in which the manifest's counts and audit head are read too: the
 * dump and the manifest describe the same instant.
 */
export async function postgresSnapshot(
  store: Store,
  dest: string,
  bossSchemaName?: string,
): Promise<{ facts: SnapshotFacts; schema: string; bossSchema: string | null }> {
  const conn = store.connection!;
  const schema = conn.schema || 'public';
  const c = await pgClient(conn.url);
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await c.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0].s;
    const names = await schemaTables(c, schema);
    if (!names.includes('audit_events')) throw new UserError(`schema ${schema} of ${redact(conn.url)} holds no Tessera store`);
    const tables: Record<string, number> = {};
    for (const n of names) tables[n] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${q(schema)}.${q(n)}`)).rows[0].n);
    const head = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${q(schema)}.audit_events ORDER BY seq DESC LIMIT 1`)).rows[0];
    const migrations = names.includes('kysely_migration')
      ? (await c.query<{ name: string }>(`SELECT name FROM ${q(schema)}.kysely_migration ORDER BY name`)).rows.map((r) => r.name)
      : [];
    const models = (
      await c.query<{ id: number; p: string }>(`SELECT id, checkpoint_path AS p FROM ${q(schema)}.models WHERE checkpoint_path IS NOT NULL ORDER BY id`)
    ).rows.map((r) => ({ id: Number(r.id), checkpointPath: r.p }));
    const boss = bossSchemaName && (await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [bossSchemaName])).rowCount ? bossSchemaName : null;
    const schemas = [`--schema=${q(schema)}`, ...(boss ? [`--schema=${q(boss)}`] : [])];
    const args = ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snapshot}`, ...schemas, '--file', dest, '--dbname', conn.url];
    await runTool('pg_dump', args);
    await c.query('COMMIT');
    const audit = auditOf(tables, head ? { seq: Number(head.seq), hash: head.hash } : undefined);
    return { facts: { tables, migrations, audit, models }, schema, bossSchema: boss };
  } finally {
    await c.end().catch(() => {});
  }
}

/** Runs a PostgreSQL client tool; its stderr goes into the error if it fails. Never prints the URL's password. */
function runTool(tool: string, args: string[], stdin?: string): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('error', (e) =>
      rej(new TesseraError(`${tool} could not run (${e.message}): install the PostgreSQL client tools (Debian: postgresql-client)`, 'E_TOOL')),
    );
    p.on('close', (code) => (code === 0 ? res(out) : rej(new TesseraError(`${tool} failed (exit ${code}): ${redact(err.trim()).slice(0, 2000)}`, 'E_TOOL'))));
    p.stdin.end(stdin ?? '');
  });
}

export async function postgresOccupied(home: string, config: StoreConfig, bossSchema?: string): Promise<string | null> {
  const c = await pgClient(config.location).catch((e: Error) => {
    throw new TesseraError(`cannot connect to PostgreSQL at ${redact(config.location)}: ${e.message}`, 'E_CONNECT');
  });
  try {
    const schema = config.schema || 'public';
    const tables = await schemaTables(c, schema);
    if (tables.length) {
      const held = tables.includes('audit_events') ? 'a Tessera store' : `${tables.length} tables`;
      return `schema ${schema} of ${redact(config.location)} already holds ${held}`;
    }
    if (bossSchema && (await schemaTables(c, bossSchema)).length) return `schema ${bossSchema} (pg-boss) of ${redact(config.location)} already holds tables`;
    const models = join(home, 'models');
    return listFiles(models).length > 0 ? `${home} already holds model files (${models})` : null;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * PostgreSQL: the dump as SQL (pg_restore -f), run by psql in ONE transaction together with
 * dropping what --force replaces, moving checkpoint paths, and checking every table's rows and the
 * audit head against the manifest: any failure rolls all of it back.
 */
export async function restorePostgres(
  dump: string,
  staging: string,
  manifest: BackupManifest,
  config: StoreConfig,
  targets: Map<number, string>,
  bossSchemaName?: string,
): Promise<void> {
  const schema = config.schema || 'public';
  if (manifest.store.schema !== schema) {
    const setting = manifest.store.schema === 'public' ? '(unset)' : manifest.store.schema;
    throw new RestoreRefused(
      `this backup holds schema ${manifest.store.schema}, the environment configures ${schema}: pg_restore cannot rename a schema; ` +
        `restore with TESSERA_DATABASE_SCHEMA=${setting} into a database where it is free`,
    );
  }
  const boss = manifest.store.bossSchema;
  if (boss && bossSchemaName && boss !== bossSchemaName) {
    throw new RestoreRefused(`this backup holds pg-boss schema ${boss}, the environment's is ${bossSchemaName} (set TESSERA_PGBOSS_SCHEMA=${boss})`);
  }
  const sqlFile = join(staging, 'restore.sql');
  await runTool('pg_restore', ['--no-owner', '--no-privileges', '--file', sqlFile, dump]);
  const text = readFileSync(sqlFile, 'utf8');
  const c = await pgClient(config.location);
  const pre: string[] = [];
  try {
    for (const s of [schema, ...(boss ? [boss] : [])]) {
      const exists = (await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [s])).rowCount;
      const created = new RegExp(`^CREATE SCHEMA ${s.replace(/[^a-z0-9_]/g, '')};$`, 'm').test(text);
      if (exists) pre.push(`DROP SCHEMA ${q(s)} CASCADE;`);
      if (!created) pre.push(`CREATE SCHEMA ${q(s)};`);
    }
  } finally {
    await c.end().catch(() => {});
  }
  const post = restoreChecksSql(schema, manifest, targets);
  writeFileSync(join(staging, 'pre.sql'), pre.join('\n') + '\n');
  writeFileSync(join(staging, 'post.sql'), post.join('\n') + '\n');
  const files = ['--file', join(staging, 'pre.sql'), '--file', sqlFile, '--file', join(staging, 'post.sql')];
  const args = ['--no-psqlrc', '--quiet', '--set', 'ON_ERROR_STOP=1', '--single-transaction', '--dbname', config.location, ...files];
  await runTool('psql', args).catch((e: Error) => {
    throw new TesseraError(`restoring the PostgreSQL dump failed, nothing was changed (one transaction): ${e.message}`, 'E_RESTORE');
  });
}

const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

/**
 * The statements run after the dump in the restore transaction: checkpoint paths moved to the new
 * home, then every table's rows and the audit head checked against the manifest (a mismatch
 * raises, rolling the whole restore back).
 */
export function restoreChecksSql(schema: string, manifest: BackupManifest, targets: Map<number, string>): string[] {
  const post: string[] = [];
  for (const [id, p] of targets) post.push(`UPDATE ${q(schema)}.models SET checkpoint_path = ${lit(p)} WHERE id = ${Number(id)};`);
  for (const [t, n] of Object.entries(manifest.tables)) {
    post.push(
      `DO $$ DECLARE got bigint; BEGIN SELECT count(*) INTO got FROM ${q(schema)}.${q(t)}; ` +
        `IF got <> ${Number(n)} THEN RAISE EXCEPTION 'table ${t}: % rows restored, the manifest says ${Number(n)}', got; END IF; END $$;`,
    );
  }
  const head = manifest.audit.head;
  post.push(
    head
      ? `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM ${q(schema)}.audit_events WHERE seq = ${Number(head.seq)} AND hash = ${lit(head.hash)}) ` +
        `OR EXISTS (SELECT 1 FROM ${q(schema)}.audit_events WHERE seq > ${Number(head.seq)}) ` +
        `THEN RAISE EXCEPTION 'the restored audit head is not the manifest''s ${Number(head.seq)}:${head.hash}'; END IF; END $$;`
      : `DO $$ BEGIN IF EXISTS (SELECT 1 FROM ${q(schema)}.audit_events) THEN RAISE EXCEPTION 'the manifest records an empty audit log'; END IF; END $$;`,
  );
  return post;
}
