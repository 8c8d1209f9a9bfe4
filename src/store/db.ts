import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { cachingDatabase } from './statement-cache.ts';
import type pg from 'pg';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection, type Migration, type SqliteDialectConfig } from 'kysely';
import type { StoreConfig } from '../core/config.ts';
import type { Database } from './schema.ts';
import type { Dialect } from './schema.ts';
import { up001 } from './migrations/001_initial.ts';
import { up002 } from './migrations/002_embeddings.ts';
import { up003 } from './migrations/003_labelling.ts';
import { up004 } from './migrations/004_audit.ts';
import { up005 } from './migrations/005_token_security.ts';
import { up006 } from './migrations/006_cluster.ts';
import { up007 } from './migrations/007_scale.ts';
import { up008 } from './migrations/008_load.ts';
import { up009 } from './migrations/009_audit_key.ts';
import { up010 } from './migrations/010_blind.ts';
import { up011 } from './migrations/011_instance_admin.ts';
import { up012 } from './migrations/012_sessions.ts';
import { up013 } from './migrations/013_questions.ts';

// Dialect is declared with the schema, so migrations need not import this module (which lists them).
export type { Dialect } from './schema.ts';

/**
 * The pg driver, loaded on first use (SQLite stores never pay for it). COUNT(*) and BIGINT come
 * back from pg as strings; every count here fits a JS number.
 */
async function loadPg(): Promise<typeof pg> {
  const driver = (await import('pg')).default;
  driver.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
  return driver;
}

/**
 * One open store: a Kysely instance for typed queries in both dialects, plus the raw SQLite
 * handle for the few hot paths (bulk import) where per-query compilation would dominate.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  /** SQLite only: the same connection Kysely uses (statements on it join Kysely's open transaction). */
  readonly sqlite?: SQLite.Database;
  /** Where the data lives (file path or URL without credentials), for messages. */
  readonly location: string;
  /**
   * A second channel for bookkeeping that must not wait behind a long transaction on the main
   * connection (job heartbeats, cancel flags). SQLite: its own connection, which reads freely in
   * WAL mode and fails fast (SQLITE_BUSY) rather than wait when a writer holds the lock.
   * PostgreSQL: the same pool (other pooled connections are free).
   */
  side(): Kysely<Database>;
  /** PostgreSQL only: how to connect again (cluster mode opens pg-boss on the same database). */
  readonly connection?: { url: string; schema?: string };
  close(): Promise<void>;
}

/** Every migration by name, in order (exported for tests that build a store as an older version left it). */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return { '001_initial': { up: up001(dialect) }, '002_embeddings': { up: up002(dialect) }, '003_labelling': { up: up003(dialect) }, '004_audit': { up: up004(dialect) }, '005_token_security': { up: up005(dialect) }, '006_cluster': { up: up006(dialect) }, '007_scale': { up: up007(dialect) }, '008_load': { up: up008(dialect) }, '009_audit_key': { up: up009(dialect) }, '010_blind': { up: up010(dialect) }, '011_instance_admin': { up: up011(dialect) }, '012_sessions': { up: up012(dialect) }, '013_questions': { up: up013(dialect) } };
}

export async function openStore(config: StoreConfig): Promise<Store> {
  const store = config.kind === 'postgres' ? await openPostgres(config) : openSqlite(config.location);
  try {
    const migrator = new Migrator({
      db: store.db,
      provider: { getMigrations: async () => migrations(store.dialect) },
      // Kysely looks for its migration tables in every schema unless told which one: with another
      // schema already migrated in the same database it would skip creating its own and fail.
      ...(config.kind === 'postgres' && config.schema ? { migrationTableSchema: config.schema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

/**
 * SQLite transactions (`db.transaction()`) begin IMMEDIATE: they take the write lock up front,
 * waiting for it (busy_timeout) like any writer. Kysely's default, a deferred BEGIN, takes it at
 * the first write instead; when another process committed in between (the server recording an
 * annotation while an import read its project), SQLite cannot wait — the transaction's snapshot
 * is stale — and fails at once with "database is locked". Imports failed that way under live
 * annotation traffic (found by test/crash/). Labelling changes already use BEGIN IMMEDIATE (tx.ts).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig);
  }
  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.sqliteConfig);
  }
}

function openSqlite(file: string): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const raw = new SQLite(file);
  // WAL: readers (UI, job polling) never wait for the importer. NORMAL sync is durable in WAL
  // mode against a killed process (test/crash/), not against power loss: see syncEveryCommit.
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  // 64 MiB page cache (default 2 MiB): index pages of a million-item project stay in memory.
  raw.pragma('cache_size = -65536');
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: cachingDatabase(raw) }) });
  let side: Kysely<Database> | undefined;
  return {
    dialect: 'sqlite',
    db,
    sqlite: raw,
    location: file,
    side: () => {
      if (!side) {
        const conn = new SQLite(file);
        conn.pragma('busy_timeout = 0');
        side = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
      }
      return side;
    },
    close: async () => {
      await side?.destroy();
      await db.destroy();
    },
  };
}

/**
 * Settings of every PostgreSQL session. The keepalives make the server notice, within ~30 s, a
 * client whose host lost its link or died without closing its socket: until then the server keeps
 * that session, and a transaction it left open keeps its row locks — by the kernel's defaults for
 * over two hours. A worker cut off inside its shard's write transaction blocked the shard's re-run
 * (and so its job) that long (test/cluster-netns/). A client that is only slow or paused still
 * answers keepalives from its kernel and keeps its session.
 */
const SESSION_SETTINGS = ['tcp_keepalives_idle=10', 'tcp_keepalives_interval=5', 'tcp_keepalives_count=3', 'tcp_user_timeout=30000'];

async function openPostgres(config: StoreConfig): Promise<Store> {
  const pg = await loadPg();
  const schema = config.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name "${schema}" (expected [a-z_][a-z0-9_]*)`);
  }
  if (schema) {
    const client = new pg.Client({ connectionString: config.location });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: config.location,
    max: 10,
    options: [...(schema ? [`search_path=${schema}`] : []), ...SESSION_SETTINGS].map((s) => `-c ${s}`).join(' '),
    // And the other way round: a query waiting on a server whose host vanished fails instead of hanging.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // A server restart (or a dropped connection) makes idle pooled clients emit 'error'; with no
  // listener that is an uncaught exception that kills the process (server, worker, CLI). The pool
  // discards the broken client and the next query connects again.
  // Every client gets a listener, so this also covers a client checked out of the pool between two
  // statements of a transaction: its next query fails, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', (e) => process.stderr.write(`tessera: PostgreSQL connection lost (${e.message}); reconnecting on next use\n`)));
  pool.on('error', () => {}); // the same error, re-emitted by the pool for an idle client: logged above
  // Fail now with a clear message instead of on the first query.
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end();
    throw new Error(`cannot connect to PostgreSQL at ${redact(config.location)}: ${(e as Error).message}`);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    dialect: 'postgres',
    db,
    location: redact(config.location) + (schema ? ` (schema ${schema})` : ''),
    side: () => db,
    connection: { url: config.location, schema },
    close: async () => {
      await db.destroy();
    },
  };
}

/**
 * Makes every later commit wait until it is on disk, so that what the store acknowledged survives
 * an OS crash or power loss, not only a killed process. SQLite: synchronous=FULL (in WAL mode one
 * fsync of the WAL per commit, ~1–3 ms here; NORMAL, the default for batch commands, leaves the
 * last commits in the OS cache). PostgreSQL already does this (synchronous_commit=on). `tessera
 * serve` calls it: an annotation is acknowledged (201) only after its commit returns.
 * Returns what syncs commits: `FULL` (SQLite) or `server` (PostgreSQL's own setting).
 */
export function syncEveryCommit(store: Store): 'FULL' | 'server' {
  if (!store.sqlite) return 'server';
  store.sqlite.pragma('synchronous = FULL');
  return 'FULL';
}

/** Connection strings may hold passwords: never print them. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
