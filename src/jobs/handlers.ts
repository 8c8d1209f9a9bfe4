import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { runAudit } from '../audit/run.ts';
import { runImport } from '../ingest/import.ts';
import { afterImport } from '../monitor/hook.ts';
import type { Store } from '../store/db.ts';
import { mlJobKinds } from './ml-handlers.ts';
import { checkParams } from './params.ts';
import { JOB_PARAMS, jobKind, type ImportJobParams, type JobContext, type JobHandler, type JobKind, type JobKinds } from './types.ts';

async function importJob(store: Store, params: ImportJobParams, { signal, progress }: JobContext) {
  let rejects: ReturnType<typeof createWriteStream> | undefined;
  let committed: { projectId: number; sourceId: number } | undefined;
  const rejectsFile = params.rejectsFile;
  try {
    const report = await runImport(store, params, {
      signal,
      onProgress: (p) => progress(null, `${p.records.toLocaleString('en')} records: ${p.imported} new, ${p.unchanged} unchanged, ${p.rejected} rejected`),
      onReject: rejectsFile
        ? (r) => {
            if (!rejects) {
              mkdirSync(dirname(rejectsFile), { recursive: true });
              rejects = createWriteStream(rejectsFile);
            }
            rejects.write(JSON.stringify(r) + '\n');
          }
        : undefined,
      onCommitted: (c) => (committed = c),
    });
    // Drift monitors run on every import that committed (issue #6); nothing is added without monitors.
    const monitors = await afterImport(store, committed, { actor: params.actor });
    return { ...report, ...(rejects ? { rejectsFile } : {}), ...monitors };
  } finally {
    if (rejects) await new Promise((res) => rejects!.end(res));
  }
}

/** Every job kind this build knows, by name: its params schema and what it runs. */
export const JOB_KINDS: JobKinds = {
  import: jobKind(JOB_PARAMS.import, importJob),
  // The audit runs the corpus audit and stores its findings under this job's id.
  audit: jobKind(JOB_PARAMS.audit, (store, params, { job, signal, progress }) => runAudit(store, { ...params, jobId: job.id }, { signal, progress })),
  ...mlJobKinds,
};
const KINDS: Record<string, JobKind<TSchema>> = JOB_KINDS;

/** The handler of a kind: checks the job's params again (they come back from the table) and runs it, or `run` instead. */
export function kindHandler<S extends TSchema>(store: Store, type: string, kind: JobKind<S>, run: JobKind<S>['run'] = kind.run): JobHandler {
  return async (ctx) => run(store, checkParams(type, kind.params, ctx.job.params), ctx);
}

/** Every job type this build knows, by name, as handlers for a runner. */
export function jobHandlers(store: Store): Record<string, JobHandler> {
  const out: Record<string, JobHandler> = {};
  for (const [type, kind] of Object.entries(KINDS)) out[type] = kindHandler(store, type, kind);
  return out;
}
