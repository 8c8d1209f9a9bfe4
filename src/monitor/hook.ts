import { errorMessage } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { runImportMonitors, type MonitorOutcome } from './monitors.ts';
import type { Embedder } from './vectors.ts';

/**
 * The import job's post-commit hook: runs the project's drift monitors on the import that just
 * committed. Returns nothing to add to the job result when the project has no monitors (so
 * import reports stay exactly as before), else `{ monitors: [...] }`.
 */
export async function afterImport(store: Store, committed: { projectId: number; sourceId: number } | undefined, opts: { embed?: Embedder; actor?: string } = {}): Promise<{ monitors?: MonitorOutcome[]; monitorError?: string }> {
  if (!committed) return {};
  try {
    const monitors = await runImportMonitors(store, committed, opts);
    return monitors.length ? { monitors } : {};
  } catch (e) {
    // The import has committed: a monitor problem is reported, never turned into a failed import.
    return { monitorError: errorMessage(e) };
  }
}
