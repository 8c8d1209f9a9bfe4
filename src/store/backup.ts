import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../core/errors.ts';
import type { StoreConfig } from '../core/config.ts';
import { redact, type Store } from './db.ts';
import { ArchiveError, TarGzWriter, extractTarGz } from './tar.ts';
import { archiveCheckpoints, installModels, listFiles } from './backup/files.ts';
import { MANIFEST, PG_ENTRY, RestoreRefused, SQLITE_ENTRY, manifestProblem, modelTargets, type BackupManifest, type SnapshotFacts } from './backup/manifest.ts';
import { postgresOccupied, postgresSnapshot, restorePostgres } from './backup/postgres.ts';
import { checkSqliteAgainstManifest, sqliteFacts, sqliteOccupied, sqliteSnapshot } from './backup/sqlite.ts';

export { MANIFEST, RestoreRefused, type BackupManifest };

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
    const modelsDir = join(home, 'models');
    for (const f of listFiles(modelsDir)) {
      const name = `home/models/${relative(modelsDir, f).split(sep).join('/')}`;
      files.push({ path: name, ...(await tar.addFile(name, f)) });
    }
    const { models, warnings } = await archiveCheckpoints(tar, modelsDir, facts.models, files);
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
    return {
      out,
      kind: storeInfo.kind,
      bytes: statSync(out).size,
      seconds: (performance.now() - t0) / 1000,
      tables: facts.tables,
      audit: facts.audit,
      files: files.length,
      models: models.length,
      warnings,
    };
  } catch (e) {
    await tar.abort();
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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
  if (occupied && !opts.force) {
    const what = config.kind === 'postgres' ? ' and schema' : '';
    throw new RestoreRefused(`${occupied}; restore into an empty TESSERA_HOME${what}, or pass --force to replace it`);
  }
  mkdirSync(home, { recursive: true });
  const staging = mkdtempSync(join(home, '.restore-'));
  try {
    const manifest = await unpackAndCheck(archive, staging);
    if (manifest.store.kind !== config.kind) {
      const configured = config.kind === 'sqlite' ? 'SQLite (TESSERA_DATABASE_URL is not set)' : `PostgreSQL (${redact(config.location)})`;
      throw new RestoreRefused(`${archive} is a backup of a ${manifest.store.kind} store, but the environment configures ${configured}`);
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
    return {
      restored: archive,
      kind: config.kind,
      home,
      location,
      backupCreatedAt: manifest.createdAt,
      tables: manifest.tables,
      audit: manifest.audit,
      files: manifest.files.length,
      models: manifest.models.length,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    rmSync(staging, { recursive: true, force: true });
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
  const problem = manifestProblem(manifest, entries);
  if (problem) throw bad(problem);
  return manifest;
}
