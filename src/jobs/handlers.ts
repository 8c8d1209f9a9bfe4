import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { runImport, type ImportRequest } from '../ingest/import.ts';
import type { Store } from '../store/db.ts';
import type { JobHandler } from './runner.ts';
import { mlJobHandlers } from './ml-handlers.ts';
import { auditJobHandlers } from '../audit/job.ts';
import { afterImport } from '../monitor/hook.ts';

/** Parameters of an `import` job (JSON in the job table). */
export interface ImportJobParams extends ImportRequest {
  /** JSONL file that receives every rejected record (with --skip-invalid). */
  rejectsFile?: string;
}

/** Every job type this build knows, by name. */
export function jobHandlers(store: Store): Record<string, JobHandler> {
  return {
    ...mlJobHandlers(store),
    ...auditJobHandlers(store),
    import: async ({ job, signal, progress }) => {
      const params = job.params as unknown as ImportJobParams;
      let rejects: ReturnType<typeof createWriteStream> | undefined;
      let committed: { projectId: number; sourceId: number } | undefined;
      try {
        const report = await runImport(store, params, {
          signal,
          onProgress: (p) => progress(null, `${p.records.toLocaleString('en')} records: ${p.imported} new, ${p.unchanged} unchanged, ${p.rejected} rejected`),
          onReject: params.rejectsFile
            ? (r) => {
                if (!rejects) {
                  mkdirSync(dirname(params.rejectsFile!), { recursive: true });
                  rejects = createWriteStream(params.rejectsFile!);
                }
                rejects.write(JSON.stringify(r) + '\n');
              }
            : undefined,
          onCommitted: (c) => (committed = c),
        });
        // Drift monitors run on every import that committed (issue #6); nothing is added without monitors.
        const monitors = await afterImport(store, committed, { actor: params.actor });
        return { ...report, ...(rejects ? { rejectsFile: params.rejectsFile } : {}), ...monitors };
      } finally {
        if (rejects) await new Promise((res) => rejects!.end(res));
      }
    },
  };
}
