import { hostname } from 'node:os';
import type { Kysely, Selectable } from 'kysely';
import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Database, JobStatus, JobsTable } from '../store/schema.ts';

export interface Job {
  id: number;
  projectId: number | null;
  type: string;
  status: JobStatus;
  params: Record<string, unknown>;
  progress: number;
  message: string | null;
  result: unknown;
  error: string | null;
  attempts: number;
  owner: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  heartbeatAt: string | null;
  cancelRequested: boolean;
}

type Row = Selectable<JobsTable>;

function toJob(r: Row): Job {
  return {
    id: r.id,
    projectId: r.project_id,
    type: r.type,
    status: r.status,
    params: parseJson(r.params, {}),
    progress: Number(r.progress),
    message: r.message,
    result: parseJson(r.result, null),
    error: r.error,
    attempts: r.attempts,
    owner: r.owner,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    heartbeatAt: r.heartbeat_at,
    cancelRequested: r.cancel_requested === 1,
  };
}

/** This process, as a job owner: host and pid, so a dead owner on this host is recognised. */
export const THIS_OWNER = `${hostname()}:${process.pid}`;

/**
 * The persistent job table. The embedded runner (runner.ts) claims from it in-process; a
 * PostgreSQL multi-worker runner can claim from the same table (or pg-boss) behind the same API.
 */
export class JobQueue {
  constructor(private readonly store: Store) {}

  private get db(): Kysely<Database> {
    return this.store.db;
  }

  async enqueue(type: string, params: object, projectId: number | null = null): Promise<Job> {
    const { id } = await this.db
      .insertInto('jobs')
      .values({ project_id: projectId, type, status: 'queued', params: JSON.stringify(params), progress: 0, attempts: 0, created_at: nowIso(), cancel_requested: 0 })
      .returning('id')
      .executeTakeFirstOrThrow();
    return this.get(id);
  }

  async get(id: number): Promise<Job> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new NotFoundError(`job ${id}`);
    return toJob(r);
  }

  async list(q: { status?: JobStatus; projectId?: number; limit?: number } = {}): Promise<Job[]> {
    let query = this.db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(q.limit ?? 50);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.projectId !== undefined) query = query.where('project_id', '=', q.projectId);
    return (await query.execute()).map(toJob);
  }

  /** Atomically moves a queued job to running for `owner`; false when someone else got it first. */
  async claim(id: number, owner: string): Promise<boolean> {
    const now = nowIso();
    const r = await this.db
      .updateTable('jobs')
      .set((e) => ({ status: 'running', owner, started_at: now, heartbeat_at: now, attempts: e('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async nextQueued(types: string[]): Promise<number | undefined> {
    if (types.length === 0) return undefined;
    const r = await this.db.selectFrom('jobs').select('id').where('status', '=', 'queued').where('type', 'in', types).orderBy('id').limit(1).executeTakeFirst();
    return r?.id;
  }

  /** Cancels a queued job at once; asks a running one to stop (its runner sees the flag). */
  async cancel(id: number): Promise<Job> {
    const job = await this.get(id);
    if (job.status === 'queued') {
      await this.db.updateTable('jobs').set({ status: 'cancelled', finished_at: nowIso(), message: 'cancelled before it started' }).where('id', '=', id).where('status', '=', 'queued').execute();
    } else if (job.status === 'running') {
      // Through the side channel: a running SQLite import holds the main connection.
      await this.store.side().updateTable('jobs').set({ cancel_requested: 1 }).where('id', '=', id).execute();
    } else {
      throw new UserError(`job ${id} is already ${job.status}; only queued or running jobs can be cancelled`);
    }
    return this.get(id);
  }

  /** Best-effort heartbeat; returns whether cancellation was requested. Never blocks on a writer. */
  async heartbeat(id: number, progress: number, message: string | null): Promise<boolean> {
    const side = this.store.side();
    try {
      // Only while running: a beat still in flight when the job finishes must not overwrite its final message and progress.
      await side.updateTable('jobs').set({ heartbeat_at: nowIso(), progress, message }).where('id', '=', id).where('status', '=', 'running').execute();
    } catch {
      // SQLite: the job's own transaction holds the write lock; the flag can still be read.
    }
    const r = await side.selectFrom('jobs').select('cancel_requested').where('id', '=', id).executeTakeFirst();
    return r?.cancel_requested === 1;
  }

  /**
   * Heartbeats a running job every `everyMs` with its latest progress (one beat in flight at a
   * time) and calls `onCancel` when its row asks it to stop. `progress` records what the handler
   * reports; `stop` ends the beats.
   */
  startHeartbeat(id: number, everyMs: number, onCancel: () => void) {
    const state: { fraction: number | null; message: string | null } = { fraction: 0, message: null };
    let beating = false;
    const timer = setInterval(() => {
      if (beating) return;
      beating = true;
      this.heartbeat(id, state.fraction ?? 0, state.message)
        .then((cancel) => {
          if (cancel) onCancel();
        })
        .catch(() => {})
        .finally(() => (beating = false));
    }, everyMs);
    return {
      state,
      progress(fraction: number | null, message?: string) {
        state.fraction = fraction;
        state.message = message ?? state.message;
      },
      stop: () => clearInterval(timer),
    };
  }

  async finish(id: number, status: 'succeeded' | 'failed' | 'cancelled', fields: { result?: unknown; error?: string; message?: string | null; progress?: number }): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({
        status,
        finished_at: nowIso(),
        result: fields.result === undefined ? null : JSON.stringify(fields.result),
        error: fields.error ?? null,
        message: fields.message ?? null,
        ...(fields.progress !== undefined ? { progress: fields.progress } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Re-queues jobs whose runner died: owned by a process on this host that no longer exists, or
   * silent for longer than `staleMs` (another host). After `maxAttempts` they fail instead.
   */
  async recover(staleMs: number, maxAttempts = 3): Promise<number[]> {
    const running = await this.db.selectFrom('jobs').selectAll().where('status', '=', 'running').execute();
    const host = hostname();
    const recovered: number[] = [];
    for (const r of running) {
      const [h, pidText] = (r.owner ?? ':').split(':');
      const deadHere = h === host && !processAlive(Number(pidText));
      const silent = r.heartbeat_at !== null && Date.now() - Date.parse(r.heartbeat_at) > staleMs;
      if (!deadHere && !(h !== host && silent)) continue;
      const exhausted = r.attempts >= maxAttempts;
      await this.db
        .updateTable('jobs')
        .set(
          exhausted
            ? { status: 'failed', finished_at: nowIso(), error: `runner ${r.owner} died ${r.attempts} times; giving up` }
            : { status: 'queued', owner: null, message: `re-queued: runner ${r.owner} died` },
        )
        .where('id', '=', r.id)
        .where('status', '=', 'running')
        .execute();
      if (!exhausted) recovered.push(r.id);
    }
    return recovered;
  }
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
