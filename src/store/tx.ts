import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { Store } from './db.ts';
import type { Database } from './schema.ts';

/** A connection inside a write transaction (or any Kysely handle for reads). */
export type Conn = Kysely<Database>;

/**
 * Runs `fn` in one write transaction that also serialises labelling changes per project:
 * SQLite takes the write lock up front (BEGIN IMMEDIATE, so two processes never deadlock
 * upgrading a read lock); PostgreSQL takes a transaction-scoped advisory lock on the project.
 * Reads inside `fn` (who holds which lease, how many annotations an item has) therefore see
 * a state no other writer changes before the commit. Every change and its audit event commit
 * together or not at all.
 *
 * SQLite: *group commit*. With `synchronous=FULL` (the server) every COMMIT waits for an fsync
 * of the WAL, and there is one writer, so one transaction per change caps the throughput at one
 * change per fsync. Instead, calls queue up and one batch at a time takes the connection:
 * `BEGIN IMMEDIATE`, then each queued `fn` in turn inside its own SAVEPOINT (an `fn` that throws
 * is rolled back to its savepoint and gets its error; the others are unaffected), taking the
 * calls that arrive meanwhile up to GROUP_MAX, then one COMMIT — one fsync for the batch. A
 * call's promise settles only after that COMMIT returned: a result is never acknowledged before
 * it is durable. If the COMMIT fails (or an error ends the whole transaction), every call of the
 * batch that had succeeded is rejected: none of it was written. The functions still run one at a
 * time, each seeing the writes of those before it, so the serialisation above holds.
 * `fn` must use `conn` only: a read on `store.db` inside it waits for the connection the batch
 * holds (a deadlock, as it always was), and a nested writeTx throws.
 */
export async function writeTx<T>(store: Store, projectId: number | null, fn: (conn: Conn) => Promise<T>): Promise<T> {
  if (store.dialect === 'postgres') {
    return store.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(7431002, ${projectId ?? 0}::int)`.execute(trx);
      return fn(trx);
    });
  }
  const g = groupOf(store);
  const inside = running.getStore();
  if (inside?.active && inside.group === g) throw new Error('writeTx called inside a writeTx function (it would wait for its own batch forever): use the conn it was given');
  return new Promise<T>((resolve, reject) => {
    g.queue.push({ fn: fn as (conn: Conn) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject });
    schedule(store, g);
  });
}

/** The most changes one SQLite transaction takes (a batch cannot grow forever under load). */
export const GROUP_MAX = 64;

/** Counters of one SQLite store's group commit (for tests and benchmarks). */
export interface GroupCommitStats {
  /** Batches that reached COMMIT successfully. */
  commits: number;
  /** Changes (writeTx calls) acknowledged after those commits. */
  committed: number;
  /** Changes rejected: their own error, or their batch's. */
  failed: number;
  /** Batches that failed as a whole (BEGIN, COMMIT, or an error that ended the transaction). */
  batchFailures: number;
  /** The largest batch so far. */
  maxBatch: number;
}

interface Pending {
  fn: (conn: Conn) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Group {
  queue: Pending[];
  /** Called after a batch was rolled back as a whole (see onBatchRollback). */
  rollbackListeners: Set<() => void>;
  /** A batch is scheduled or running: new calls join the queue it drains. */
  busy: boolean;
  stats: GroupCommitStats;
}

/** One group per Kysely instance (its SQLite driver holds the one connection behind a mutex). */
const groups = new WeakMap<Kysely<Database>, Group>();
/** Which batch the current async context runs a function of (to refuse a nested writeTx). */
const running = new AsyncLocalStorage<{ group: Group; active: boolean }>();

function groupOf(store: Store): Group {
  let g = groups.get(store.db);
  if (!g) groups.set(store.db, (g = { queue: [], rollbackListeners: new Set(), busy: false, stats: { commits: 0, committed: 0, failed: 0, batchFailures: 0, maxBatch: 0 } }));
  return g;
}

export function groupCommitStats(store: Store): GroupCommitStats {
  return { ...groupOf(store).stats };
}

/**
 * SQLite: calls `listener` whenever a batch fails as a whole (its COMMIT, or an error that ends
 * the transaction). A change in a batch reads the uncommitted writes of the changes before it, so
 * an in-memory cache filled from such reads (e.g. a per-process position in a queue) may describe
 * rows that are gone: drop it here. (A change that fails alone is rolled back to its savepoint
 * before the next one runs: nothing later saw its writes.) Returns a function that unsubscribes.
 * PostgreSQL: no batches; never called.
 */
export function onBatchRollback(store: Store, listener: () => void): () => void {
  if (store.dialect !== 'sqlite') return () => {};
  const g = groupOf(store);
  g.rollbackListeners.add(listener);
  return () => g.rollbackListeners.delete(listener);
}

/**
 * Starts a batch after the current turn of the event loop (setImmediate): the requests read in
 * the same turn — typically those that arrived while the last COMMIT's fsync blocked the loop —
 * reach writeTx first and share the batch.
 */
function schedule(store: Store, g: Group) {
  if (g.busy || g.queue.length === 0) return;
  g.busy = true;
  setImmediate(() => {
    runBatch(store, g).then(
      () => {
        g.busy = false;
        schedule(store, g);
      },
      // runBatch settles every call it took itself; this is a last resort that keeps the queue going.
      (e) => {
        g.busy = false;
        process.emitWarning(`writeTx: group commit failed: ${e instanceof Error ? e.message : String(e)}`);
        schedule(store, g);
      },
    );
  });
}

type Outcome = { p: Pending; ok: true; value: unknown } | { p: Pending; ok: false; error: unknown };

async function runBatch(store: Store, g: Group): Promise<void> {
  const raw = store.sqlite!;
  const outcomes: Outcome[] = [];
  /** Set when the batch as a whole failed: every call that had succeeded gets this error. */
  let batchError: { error: unknown } | undefined;
  try {
    await store.db.connection().execute(async (conn) => {
      try {
        await sql`BEGIN IMMEDIATE`.execute(conn);
      } catch (e) {
        // Taken now so they are not left waiting: the write lock was not to be had (busy_timeout).
        for (const p of g.queue.splice(0, GROUP_MAX)) outcomes.push({ p, ok: false, error: e });
        batchError = { error: e };
        return;
      }
      while (g.queue.length > 0 && outcomes.length < GROUP_MAX) {
        const p = g.queue.shift()!;
        const ctx = { group: g, active: true };
        try {
          await sql`SAVEPOINT tessera_change`.execute(conn);
          const value = await running.run(ctx, () => p.fn(conn));
          ctx.active = false;
          await sql`RELEASE tessera_change`.execute(conn);
          outcomes.push({ p, ok: true, value });
        } catch (e) {
          ctx.active = false;
          outcomes.push({ p, ok: false, error: e });
          // Some errors (SQLITE_FULL, IOERR, NOMEM…) roll back the whole transaction, savepoints
          // and all: nothing of the batch is left, and later statements would run in autocommit.
          if (!raw.inTransaction) {
            batchError = { error: e };
            return;
          }
          try {
            await sql`ROLLBACK TO tessera_change`.execute(conn);
            await sql`RELEASE tessera_change`.execute(conn);
          } catch (e2) {
            batchError = { error: e2 };
            await rollbackQuietly(conn, raw);
            return;
          }
        }
      }
      try {
        await sql`COMMIT`.execute(conn);
      } catch (e) {
        batchError = { error: e };
        await rollbackQuietly(conn, raw);
      }
    });
  } catch (e) {
    // Acquiring or releasing the connection failed: nothing of this batch is known to be written.
    batchError ??= { error: e };
  }
  // Settle only now, the connection released: after a successful COMMIT every change is durable.
  const st = g.stats;
  st.maxBatch = Math.max(st.maxBatch, outcomes.length);
  if (batchError) {
    st.batchFailures++;
    for (const l of g.rollbackListeners) {
      try {
        l();
      } catch (e) {
        process.emitWarning(`writeTx: a rollback listener failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } else st.commits++;
  for (const o of outcomes) {
    if (o.ok && !batchError) {
      st.committed++;
      o.p.resolve(o.value);
    } else {
      st.failed++;
      o.p.reject(o.ok ? batchFailed(batchError!.error) : o.error);
    }
  }
}

function batchFailed(cause: unknown): Error {
  const msg = cause instanceof Error ? cause.message : String(cause);
  const err = new Error(`the write transaction was rolled back (${msg}): nothing of this change was saved`, { cause });
  const code = (cause as { code?: unknown } | null)?.code;
  return code === undefined ? err : Object.assign(err, { code });
}

async function rollbackQuietly(conn: Conn, raw: NonNullable<Store['sqlite']>) {
  if (!raw.inTransaction) return;
  try {
    await sql`ROLLBACK`.execute(conn);
  } catch {
    // Nothing more to do: the connection is left as SQLite left it.
  }
}
