import type { Store } from '../store/db.ts';
import type { JobHandler } from '../jobs/runner.ts';
import { runAudit, type AuditOptions } from './run.ts';

/** Job type `audit` (params: AuditOptions as JSON): runs the corpus audit and stores its findings. */
export function auditJobHandlers(store: Store): Record<string, JobHandler> {
  return {
    audit: ({ job, signal, progress }) => runAudit(store, { ...(job.params as unknown as AuditOptions), jobId: job.id }, { signal, progress }),
  };
}
