import type { Store } from '../store/db.ts';
import { jobHandlers } from '../jobs/handlers.ts';
import { InProcessRunner } from '../jobs/runner.ts';
import type { Job } from '../jobs/queue.ts';
import { TesseraError } from '../core/errors.ts';
import type { Out } from './context.ts';
import { progressBar } from './progress.ts';

/**
 * Runs one job in this process with a progress bar (re-queuing any orphans first) and returns
 * it finished. A failed job becomes an error carrying the job's message, so the command fails
 * the way every other command does.
 */
export async function runJobHere(store: Store, out: Out, type: string, params: object, projectId: number | null): Promise<Job> {
  const runner = new InProcessRunner(store, jobHandlers(store));
  await runner.recover();
  const bar = progressBar(out);
  const job = await runner.submitAndRun(type, params, projectId, (_j, f, m) => bar.update(f, m));
  bar.stop();
  if (job.status === 'failed') throw new TesseraError(`${type} job ${job.id} failed: ${job.error}`, 'E_JOB_FAILED', 1);
  if (job.status === 'cancelled') throw new TesseraError(`${type} job ${job.id} was cancelled`, 'E_CANCELLED', 4);
  return job;
}
