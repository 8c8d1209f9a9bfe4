import { CancelledError, errorMessage } from '../core/errors.ts';
import type { Job, JobQueue } from './queue.ts';
import type { JobHandler, Progress } from './types.ts';

export interface ExecuteOptions {
  /** Aborting it stops the handler; the caller may abort it too (e.g. a worker shutting down). */
  controller: AbortController;
  heartbeatMs: number;
  /** Someone asked to cancel the job (its row's flag): default, abort the controller. */
  onCancelRequested?: () => void;
  /** Every progress report, after it is recorded. */
  onProgress?: Progress;
  /**
   * Asked when the handler failed: true leaves the row `running` for the caller to hand back (a
   * worker stopping mid-job), instead of finishing it as failed or cancelled.
   */
  interrupted?: () => boolean;
}

export type Outcome = { status: 'succeeded' } | { status: 'failed' | 'cancelled' | 'interrupted'; error: unknown };

/**
 * Runs a claimed job's handler with heartbeats and records how it ended: the one place that does
 * this, for the in-process runner and the cluster worker alike. The result (or, on failure, the
 * error's `report`) is stored as the job's JSON result; a cancel request aborts the handler.
 */
export async function executeJob(queue: JobQueue, job: Job, handler: JobHandler, opts: ExecuteOptions): Promise<Outcome> {
  const { controller } = opts;
  const beat = queue.startHeartbeat(job.id, opts.heartbeatMs, opts.onCancelRequested ?? (() => controller.abort()));
  try {
    const result = await handler({
      job,
      signal: controller.signal,
      progress: (f, m) => {
        beat.progress(f, m);
        opts.onProgress?.(f, m);
      },
    });
    await queue.finish(job.id, 'succeeded', { result, progress: 1, message: beat.state.message });
    return { status: 'succeeded' };
  } catch (e) {
    if (opts.interrupted?.()) return { status: 'interrupted', error: e };
    const cancelled = e instanceof CancelledError || controller.signal.aborted;
    await queue.finish(job.id, cancelled ? 'cancelled' : 'failed', {
      error: cancelled ? undefined : errorMessage(e),
      message: cancelled ? errorMessage(e) : beat.state.message,
      result: (e as { report?: unknown }).report,
    });
    return { status: cancelled ? 'cancelled' : 'failed', error: e };
  } finally {
    beat.stop();
  }
}
