import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import SQLite from 'better-sqlite3';
import type pg from 'pg';
import { UserError, TesseraError } from '../core/errors.ts';
import type { StoreConfig } from '../core/config.ts';
import { redact, type Store } from './db.ts';
import { ArchiveError, TarGzWriter, extractTarGz } from './tar.ts';

/**
 * Backup and restore of a whole Tessera installation: the store (SQLite: a consistent snapshot
 * taken with SQLite's online backup API while the server keeps writing; PostgreSQL: `pg_dump` of
 * the Tessera schema and pg-boss's, from one exported snapshot) plus the model files under
 * $TESSERA_HOME/models (and any registered checkpoint kept elsewhere), in one tar.gz with a
 * manifest: store kind, migrations, audit head, rows per table, and every file's sha256.
 *
 * Restore goes into the current $TESSERA_HOME (and, for PostgreSQL, the configured database and
 * schema), refusing one that already holds a store unless forced. It unpacks into a staging
 * folder, checks every file against the manifest and the database against the manifest's counts
 * and audit head before anything is replaced, so a corrupt or truncated archive leaves the target
 * as it was; then the audit chain is verified end to end.
 */

export const MANIFEST = 'manifest.json';
const SQLITE_ENTRY = 'store/tessera.db';
const PG_ENTRY = 'store/postgres.dump';

export interface BackupManifest {
  format: 'tessera-backup';
  version: 1;
  createdAt: string;
  store: { kind: 'sqlite' | 'postgres'; schema: string | null; bossSchema: string | null; migrations: string[] };
  /** The TESSERA_HOME backed up (checkpoint paths under it are moved to the restoring home). */
  home: string;
  audit: { events: number; head: { seq: number; hash: string } | null };
  /** Rows per table in the snapshot. */
  tables: Record<string, number>;
  files: Array<{ path: string; size: number; sha256: string }>;
  /** Registered models and where their checkpoint is in the archive (null: it was missing). */
  models: Array<{ id: number; checkpointPath: string; archivedAs: string | null }>;
}

/** What the snapshot holds, read inside the snapshot itself. */
interface SnapshotFacts {
  tables: Record<string, number>;
  migrations: string[];
  audit: BackupManifest['audit'];
  models: Array<{ id: number; checkpointPath: string }>;
}

export interface BackupResult {
  out: string;
  kind: 'sqlite' | 'postgres';
  bytes: number;
  seconds: number;
  tables: Record<string, number>;
  audit: BackupManifest['audit'];
  files: number;
  models: number;
  warnings: string[];
}

// ---------------------------------------------------------------- backup

export async function backup(store: Store, opts: { out: string; home: string; bossSchema?: string }): Promise<BackupResult> {
  const t0 = performance.now();
  const out = resolve(opts.out);
  if (existsSync(out)) throw new UserError(`${out} already exists: choose another --out (a backup never overwrites a file)`);
  if (!existsSync(dirname(out))) throw new UserError(`the folder of --out (${dirname(out)}) does not exist`);
  const work = mkdtempSync(join(dirname(out), '.tessera-backup-'));
  const partial = join(work, 'archive.tar.gz');
  const tar = new TarGzWriter(partial);
  const warnings: string[] = [];
  try {
    const files: BackupManifest['files'] = [];
    let facts: SnapshotFacts;
    let storeInfo: BackupManifest['store'];
    if (store.dialect === 'sqlite') {
      const snap = join(work, 'tessera.db');
      await sqliteSnapshot(store, snap);
      facts = sqliteFacts(snap);
      files.push({ path: SQLITE_ENTRY, ...(await tar.addFile(SQLITE_ENTRY, snap)) });
      storeInfo = { kind: 'sqlite', schema: null, bossSchema: null, migrations: facts.migrations };
    } else {
      const dump = join(work, 'postgres.dump');
      const r = await postgresSnapshot(store, dump, opts.bossSchema);
      facts = r.facts;
      files.push({ path: PG_ENTRY, ...(await tar.addFile(PG_ENTRY, dump)) });
      storeInfo = { kind: 'postgres', schema: r.schema, bossSchema: r.bossSchema, migrations: facts.migrations };
    }
    const home = resolve(opts.home);
    const models: BackupManifest['models'] = [];
    const modelsDir = join(home, 'models');
    for (const f of listFiles(modelsDir)) {
      const name = `home/models/${relative(modelsDir, f).split(sep).join('/')}`;
      files.push({ path: name, ...(await tar.addFile(name, f)) });
    }
    for (const m of facts.models) {
      const p = resolve(m.checkpointPath);
      if (isInside(p, modelsDir)) {
        models.push({ id: m.id, checkpointPath: m.checkpointPath, archivedAs: existsSync(p) ? `home/models/${relative(modelsDir, p).split(sep).join('/')}` : null });
      } else if (existsSync(p)) {
        const base = `external/${m.id}`;
        const isDir = statSync(p).isDirectory();
        for (const f of isDir ? listFiles(p) : [p]) {
          const name = `${base}/${isDir ? relative(p, f).split(sep).join('/') : basename(p)}`;
          files.push({ path: name, ...(await tar.addFile(name, f)) });
        }
        models.push({ id: m.id, checkpointPath: m.checkpointPath, archivedAs: isDir ? base : `${base}/${basename(p)}` });
      } else {
        models.push({ id: m.id, checkpointPath: m.checkpointPath, archivedAs: null });
      }
      if (models[models.length - 1].archivedAs === null) warnings.push(`model ${m.id}: its checkpoint ${m.checkpointPath} is missing; the backup records the model without it`);
    }
    const manifest: BackupManifest = {
      format: 'tessera-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      store: storeInfo,
      home,
      audit: facts.audit,
      tables: facts.tables,
      files,
      models,
    };
    await tar.addBuffer(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 1)));
    await tar.finish();
    renameSync(partial, out);
    return { out, kind: storeInfo.kind, bytes: statSync(out).size, seconds: (performance.now() - t0) / 1000, tables: facts.tables, audit: facts.audit, files: files.length, models: models.length, warnings };
  } catch (e) {
    await tar.abort();
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * SQLite's online backup API (better-sqlite3 `backup`), every page in one step: one read
 * transaction, so the copy is the store as of one commit while the server keeps committing (WAL:
 * readers do not block writers). In smaller steps, a write by another connection between two
 * steps restarts the copy, which under steady annotation traffic may never finish.
 */
async function sqliteSnapshot(store: Store, dest: string): Promise<void> {
  await store.sqlite!.backup(dest, { progress: ({ totalPages }) => Math.max(totalPages, 100) * 2 });
}

function sqliteFacts(file: string): SnapshotFacts {
  const db = new SQLite(file, { readonly: true });
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the snapshot fails SQLite's quick_check: ${String(check)}`);
    const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    const tables: Record<string, number> = {};
    for (const n of names) {
      // Table names come from the snapshot's own catalogue; only plain identifiers are counted.
      if (!/^[a-z_][a-z0-9_]*$/i.test(n)) throw new Error(`the snapshot holds a table with an unexpected name: ${JSON.stringify(n)}`);
      tables[n] = Number((db.prepare(`SELECT count(*) AS n FROM "${n}"`).get() as { n: number }).n);
    }
    return {
      tables,
      migrations: names.includes('kysely_migration') ? (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name) : [],
      audit: auditOf(tables, db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined),
      models: (db.prepare('SELECT id, checkpoint_path FROM models WHERE checkpoint_path IS NOT NULL ORDER BY id').all() as Array<{ id: number; checkpoint_path: string }>).map((r) => ({ id: r.id, checkpointPath: r.checkpoint_path })),
    };
  } finally {
    db.close();
  }
}

const auditOf = (tables: Record<string, number>, head: { seq: number; hash: string } | undefined): BackupManifest['audit'] => ({ events: tables.audit_events ?? 0, head: head ? { seq: Number(head.seq), hash: head.hash } : null });

async function pgClient(url: string): Promise<pg.Client> {
  const driver = (await import('pg')).default;
  const c = new driver.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

async function schemaTables(c: pg.Client, schema: string): Promise<string[]> {
  const r = await c.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, [schema]);
  return r.rows.map((x) => x.name);
}

/**
 * `pg_dump` of the Tessera schema (and pg-boss's, if it exists) from a snapshot exported by a
 * repeatable-read transaction, in which the manifest's counts and audit head are read too: the
 * dump and the manifest describe the same instant.
 */
async function postgresSnapshot(store: Store, dest: string, bossSchemaName?: string): Promise<{ facts: SnapshotFacts; schema: string; bossSchema: string | null }> {
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
    const migrations = names.includes('kysely_migration') ? (await c.query<{ name: string }>(`SELECT name FROM ${q(schema)}.kysely_migration ORDER BY name`)).rows.map((r) => r.name) : [];
    const models = (await c.query<{ id: number; p: string }>(`SELECT id, checkpoint_path AS p FROM ${q(schema)}.models WHERE checkpoint_path IS NOT NULL ORDER BY id`)).rows.map((r) => ({ id: Number(r.id), checkpointPath: r.p }));
    const boss = bossSchemaName && (await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [bossSchemaName])).rowCount ? bossSchemaName : null;
    const args = ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${snapshot}`, `--schema=${q(schema)}`, ...(boss ? [`--schema=${q(boss)}`] : []), '--file', dest, '--dbname', conn.url];
    await runTool('pg_dump', args);
    await c.query('COMMIT');
    return { facts: { tables, migrations, audit: auditOf(tables, head ? { seq: Number(head.seq), hash: head.hash } : undefined), models }, schema, bossSchema: boss };
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
    p.on('error', (e) => rej(new TesseraError(`${tool} could not run (${e.message}): install the PostgreSQL client tools (Debian: postgresql-client)`, 'E_TOOL')));
    p.on('close', (code) => (code === 0 ? res(out) : rej(new TesseraError(`${tool} failed (exit ${code}): ${redact(err.trim()).slice(0, 2000)}`, 'E_TOOL'))));
    p.stdin.end(stdin ?? '');
  });
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

function isInside(p: string, dir: string): boolean {
  const r = relative(dir, p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

// ---------------------------------------------------------------- restore

export interface RestoreResult {
  restored: string;
  kind: 'sqlite' | 'postgres';
  home: string;
  location: string;
  backupCreatedAt: string;
  tables: Record<string, number>;
  audit: BackupManifest['audit'];
  files: number;
  models: number;
  seconds: number;
}

/** The archive's store is not the kind the environment configures, or the target is occupied. */
export class RestoreRefused extends UserError {
  constructor(message: string) {
    super(message, 'E_RESTORE_REFUSED');
  }
}

/**
 * Restores a backup into `home` and the store `config` names. Refused (nothing touched) when the
 * target already holds a store, unless `force`. Returns once the restored store's rows and audit
 * head match the manifest; the caller then verifies the audit chain (`verifyAuditLog`).
 */
export async function restore(file: string, opts: { config: StoreConfig; home: string; force?: boolean; bossSchema?: string }): Promise<RestoreResult> {
  const t0 = performance.now();
  const archive = resolve(file);
  if (!existsSync(archive) || !statSync(archive).isFile()) throw new UserError(`${archive}: no such backup file`);
  const home = resolve(opts.home);
  const { config } = opts;
  const occupied = config.kind === 'sqlite' ? sqliteOccupied(home, config.location) : await postgresOccupied(home, config, opts.bossSchema);
  if (occupied && !opts.force) throw new RestoreRefused(`${occupied}; restore into an empty TESSERA_HOME${config.kind === 'postgres' ? ' and schema' : ''}, or pass --force to replace it`);
  mkdirSync(home, { recursive: true });
  const staging = mkdtempSync(join(home, '.restore-'));
  try {
    const manifest = await unpackAndCheck(archive, staging);
    if (manifest.store.kind !== config.kind) {
      throw new RestoreRefused(`${archive} is a backup of a ${manifest.store.kind} store, but the environment configures ${config.kind === 'sqlite' ? 'SQLite (TESSERA_DATABASE_URL is not set)' : `PostgreSQL (${redact(config.location)})`}`);
    }
    const targets = modelTargets(manifest, home);
    let location: string;
    if (config.kind === 'sqlite') {
      const staged = join(staging, SQLITE_ENTRY);
      checkSqliteAgainstManifest(staged, manifest, targets);
      installModels(staging, home, manifest, targets, Boolean(occupied));
      for (const suffix of ['-wal', '-shm', '-journal']) rmSync(config.location + suffix, { force: true });
      mkdirSync(dirname(config.location), { recursive: true });
      renameSync(staged, config.location);
      location = config.location;
    } else {
      await restorePostgres(join(staging, PG_ENTRY), staging, manifest, config, targets, opts.bossSchema);
      installModels(staging, home, manifest, targets, Boolean(occupied));
      location = redact(config.location) + (config.schema ? ` (schema ${config.schema})` : '');
    }
    return { restored: archive, kind: config.kind, home, location, backupCreatedAt: manifest.createdAt, tables: manifest.tables, audit: manifest.audit, files: manifest.files.length, models: manifest.models.length, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function sqliteOccupied(home: string, dbFile: string): string | null {
  if (existsSync(dbFile) && statSync(dbFile).size > 0) return `${home} already holds a store (${dbFile})`;
  const models = join(home, 'models');
  if (listFiles(models).length > 0) return `${home} already holds model files (${models})`;
  return null;
}

async function postgresOccupied(home: string, config: StoreConfig, bossSchema?: string): Promise<string | null> {
  const c = await pgClient(config.location).catch((e: Error) => {
    throw new TesseraError(`cannot connect to PostgreSQL at ${redact(config.location)}: ${e.message}`, 'E_CONNECT');
  });
  try {
    const schema = config.schema || 'public';
    const tables = await schemaTables(c, schema);
    if (tables.length) return `schema ${schema} of ${redact(config.location)} already holds ${tables.includes('audit_events') ? 'a Tessera store' : `${tables.length} tables`}`;
    if (bossSchema && (await schemaTables(c, bossSchema)).length) return `schema ${bossSchema} (pg-boss) of ${redact(config.location)} already holds tables`;
    const models = join(home, 'models');
    return listFiles(models).length > 0 ? `${home} already holds model files (${models})` : null;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Unpacks the archive into `staging` and checks every file against the manifest. */
async function unpackAndCheck(archive: string, staging: string): Promise<BackupManifest> {
  let entries;
  try {
    entries = await extractTarGz(archive, staging);
  } catch (e) {
    if (e instanceof ArchiveError) throw new UserError(`${archive}: ${e.message}; nothing was restored`, 'E_ARCHIVE');
    throw e;
  }
  const bad = (why: string) => new UserError(`${archive}: ${why}; nothing was restored`, 'E_ARCHIVE');
  if (!entries.some((e) => e.name === MANIFEST)) throw bad(`no ${MANIFEST} (is this a Tessera backup?)`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(join(staging, MANIFEST), 'utf8')) as BackupManifest;
  } catch (e) {
    throw bad(`${MANIFEST} is not valid JSON (${(e as Error).message})`);
  }
  if (manifest.format !== 'tessera-backup' || manifest.version !== 1) throw bad(`${MANIFEST} is not a Tessera backup manifest of version 1 (format ${JSON.stringify(manifest.format)}, version ${JSON.stringify(manifest.version)})`);
  const got = new Map(entries.map((e) => [e.name, e]));
  for (const f of manifest.files) {
    const e = got.get(f.path);
    if (!e) throw bad(`${f.path} is listed in the manifest but missing from the archive`);
    if (e.size !== f.size || e.sha256 !== f.sha256) throw bad(`${f.path} does not match the manifest (size ${e.size} vs ${f.size}, sha256 ${e.sha256.slice(0, 12)}… vs ${f.sha256.slice(0, 12)}…)`);
    got.delete(f.path);
  }
  got.delete(MANIFEST);
  if (got.size) throw bad(`files not in the manifest: ${[...got.keys()].slice(0, 5).join(', ')}`);
  if (!manifest.files.some((f) => f.path === (manifest.store.kind === 'sqlite' ? SQLITE_ENTRY : PG_ENTRY))) throw bad(`the ${manifest.store.kind} store file is missing`);
  return manifest;
}

/** Where each model's checkpoint goes in the restoring home: the same place under models/, or models/_restored/<id>/ for one kept elsewhere. */
function modelTargets(manifest: BackupManifest, home: string): Map<number, string> {
  const out = new Map<number, string>();
  const oldModels = join(manifest.home, 'models');
  for (const m of manifest.models) {
    if (m.archivedAs === null) continue;
    if (m.archivedAs.startsWith('home/models/')) out.set(m.id, join(home, 'models', relative(oldModels, resolve(m.checkpointPath))));
    else {
      const isDir = !manifest.files.some((f) => f.path === m.archivedAs);
      out.set(m.id, join(home, 'models', '_restored', String(m.id), ...(isDir ? [] : [basename(m.checkpointPath)])));
    }
  }
  return out;
}

/** Moves the staged model files into `home/models` (replacing what was there if `replace`). */
function installModels(staging: string, home: string, manifest: BackupManifest, targets: Map<number, string>, replace: boolean): void {
  const dest = join(home, 'models');
  if (replace && existsSync(dest)) renameSync(dest, join(staging, 'replaced-models'));
  const staged = join(staging, 'home', 'models');
  if (existsSync(staged)) {
    mkdirSync(home, { recursive: true });
    renameSync(staged, dest);
  }
  for (const m of manifest.models) {
    if (!m.archivedAs?.startsWith('external/')) continue;
    const to = targets.get(m.id)!;
    mkdirSync(dirname(to), { recursive: true });
    renameSync(join(staging, ...m.archivedAs.split('/')), to);
  }
}

/** Staged SQLite file: integrity, rows per table and audit head as in the manifest; checkpoint paths moved to the new home. */
function checkSqliteAgainstManifest(file: string, manifest: BackupManifest, targets: Map<number, string>): void {
  const facts = sqliteFacts(file);
  compareFacts(facts, manifest);
  const db = new SQLite(file);
  try {
    db.pragma('journal_mode = DELETE');
    const set = db.prepare('UPDATE models SET checkpoint_path = ? WHERE id = ?');
    db.transaction(() => {
      for (const [id, p] of targets) set.run(p, id);
    })();
  } finally {
    db.close();
  }
}

function compareFacts(facts: Pick<SnapshotFacts, 'tables' | 'audit'>, manifest: BackupManifest): void {
  for (const [t, n] of Object.entries(manifest.tables)) {
    if (facts.tables[t] !== n) throw new UserError(`the restored table ${t} has ${facts.tables[t] ?? 'no'} rows, the manifest says ${n}; nothing was restored`, 'E_ARCHIVE');
  }
  const a = facts.audit.head;
  const b = manifest.audit.head;
  if ((a === null) !== (b === null) || (a && b && (a.seq !== b.seq || a.hash !== b.hash))) {
    throw new UserError(`the restored audit head is ${a ? `${a.seq}:${a.hash}` : 'empty'}, the manifest says ${b ? `${b.seq}:${b.hash}` : 'empty'}; nothing was restored`, 'E_ARCHIVE');
  }
}

/**
 * PostgreSQL: the dump as SQL (pg_restore -f), run by psql in ONE transaction together with
 * dropping what --force replaces, moving checkpoint paths, and checking every table's rows and the
 * audit head against the manifest: any failure rolls all of it back.
 */
async function restorePostgres(dump: string, staging: string, manifest: BackupManifest, config: StoreConfig, targets: Map<number, string>, bossSchemaName?: string): Promise<void> {
  const schema = config.schema || 'public';
  if (manifest.store.schema !== schema) {
    throw new RestoreRefused(`this backup holds schema ${manifest.store.schema}, the environment configures ${schema}: pg_restore cannot rename a schema; restore with TESSERA_DATABASE_SCHEMA=${manifest.store.schema === 'public' ? '(unset)' : manifest.store.schema} into a database where it is free`);
  }
  const boss = manifest.store.bossSchema;
  if (boss && bossSchemaName && boss !== bossSchemaName) throw new RestoreRefused(`this backup holds pg-boss schema ${boss}, the environment's is ${bossSchemaName} (set TESSERA_PGBOSS_SCHEMA=${boss})`);
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
  const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const post: string[] = [];
  for (const [id, p] of targets) post.push(`UPDATE ${q(schema)}.models SET checkpoint_path = ${lit(p)} WHERE id = ${Number(id)};`);
  for (const [t, n] of Object.entries(manifest.tables)) {
    post.push(`DO $$ DECLARE got bigint; BEGIN SELECT count(*) INTO got FROM ${q(schema)}.${q(t)}; IF got <> ${Number(n)} THEN RAISE EXCEPTION 'table ${t}: % rows restored, the manifest says ${Number(n)}', got; END IF; END $$;`);
  }
  const head = manifest.audit.head;
  post.push(
    head
      ? `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM ${q(schema)}.audit_events WHERE seq = ${Number(head.seq)} AND hash = ${lit(head.hash)}) OR EXISTS (SELECT 1 FROM ${q(schema)}.audit_events WHERE seq > ${Number(head.seq)}) THEN RAISE EXCEPTION 'the restored audit head is not the manifest''s ${Number(head.seq)}:${head.hash}'; END IF; END $$;`
      : `DO $$ BEGIN IF EXISTS (SELECT 1 FROM ${q(schema)}.audit_events) THEN RAISE EXCEPTION 'the manifest records an empty audit log'; END IF; END $$;`,
  );
  writeFileSync(join(staging, 'pre.sql'), pre.join('\n') + '\n');
  writeFileSync(join(staging, 'post.sql'), post.join('\n') + '\n');
  await runTool('psql', ['--no-psqlrc', '--quiet', '--set', 'ON_ERROR_STOP=1', '--single-transaction', '--dbname', config.location, '--file', join(staging, 'pre.sql'), '--file', sqlFile, '--file', join(staging, 'post.sql')]).catch((e: Error) => {
    throw new TesseraError(`restoring the PostgreSQL dump failed, nothing was changed (one transaction): ${e.message}`, 'E_RESTORE');
  });
}
