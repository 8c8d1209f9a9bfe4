import type { Store } from '../store/db.ts';
import { executeJob } from './execute.ts';
import { checkJobParams } from './params.ts';
import { JobQueue, THIS_OWNER, type Job } from './queue.ts';
import type { JobHandler } from './types.ts';

export interface RunnerOptions {
  heartbeatMs?: number;
  /** A running job silent for this long (owner on another host) is presumed dead. */
  staleMs?: number;
  owner?: string;
}

/**
 * The embedded job runner: claims jobs from the persistent table and runs them in this process.
 * Progress and cancel flags travel through the table, so `tessera jobs list|cancel` in another
 * process sees and steers them; a job left `running` by a dead process is re-queued on start.
 */
export class InProcessRunner {
  readonly queue: JobQueue;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly owner: string;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly store: Store,
    private readonly handlers: Record<string, JobHandler>,
    opts: RunnerOptions = {},
  ) {
    this.queue = new JobQueue(store);
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.staleMs = opts.staleMs ?? 60_000;
    this.owner = opts.owner ?? THIS_OWNER;
  }

  /** Re-queues orphaned jobs; returns their ids. */
  recover(): Promise<number[]> {
    return this.queue.recover(this.staleMs);
  }

  /**
   * Enqueues a job and runs it here, now; resolves with the finished job. On PostgreSQL with live
   * `tessera worker`s serving its type (or TESSERA_JOBS=workers), the job goes to them through
   * pg-boss instead and this waits for it, relaying progress (src/jobs/cluster.ts). SQLite: always here.
   */
  async submitAndRun(type: string, params: object, projectId: number | null, onProgress?: (job: Job, fraction: number | null, message?: string) => void): Promise<Job> {
    checkJobParams(type, params);
    if (this.store.dialect === 'postgres') {
      const cluster = await import('./cluster.ts');
      if ((await cluster.routeFor(this.store, type)) === 'workers') {
        const queued = await cluster.submitToWorkers(this.store, type, params, projectId);
        // Should every worker stop before one takes the job, it runs here after all.
        return cluster.waitForJob(this.store, queued.id, onProgress, 500, async () => {
          if (await this.queue.claim(queued.id, this.owner)) await this.execute(await this.queue.get(queued.id), onProgress);
        });
      }
    }
    const job = await this.queue.enqueue(type, params, projectId);
    if (!(await this.queue.claim(job.id, this.owner))) return this.queue.get(job.id);
    return this.execute(await this.queue.get(job.id), onProgress);
  }

  /** Claims and runs one queued job; undefined when another runner claimed it first. */
  async runQueued(id: number): Promise<Job | undefined> {
    if (!(await this.queue.claim(id, this.owner))) return undefined;
    return this.execute(await this.queue.get(id));
  }

  /** Runs queued jobs of known types until stop() (used by `serve`). */
  start(pollMs = 500): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const id = await this.queue.nextQueued(Object.keys(this.handlers));
        if (id !== undefined && (await this.runQueued(id))) continue;
        await new Promise<void>((res) => {
          const t = setTimeout(res, pollMs);
          this.wake = () => {
            clearTimeout(t);
            res();
          };
        });
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async execute(job: Job, onProgress?: (job: Job, fraction: number | null, message?: string) => void): Promise<Job> {
    const handler = this.handlers[job.type];
    if (!handler) {
      await this.queue.finish(job.id, 'failed', { error: `no handler for job type "${job.type}"` });
      return this.queue.get(job.id);
    }
    await executeJob(this.queue, job, handler, { controller: new AbortController(), heartbeatMs: this.heartbeatMs, onProgress: (f, m) => onProgress?.(job, f, m) });
    return this.queue.get(job.id);
  }
}
