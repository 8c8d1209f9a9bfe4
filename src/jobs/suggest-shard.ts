import { cliActor, change } from '../store/context.ts';
import { putSuggestions, type SuggestionEntry } from '../label/results.ts';
import type { Store } from '../store/db.ts';
import { getProject } from '../store/projects.ts';
import type { Conn } from '../store/tx.ts';
import type { ShardPlan } from './shard-data.ts';

/** The suggest job's plan: every item of the project, predicted by a registered classifier. */
export interface SuggestPlan {
  kind: 'suggest';
  projectId: number;
  project: string;
  modelId: number;
  sampleRate: number | null;
  data: ShardPlan;
}

// Loaded from the model registry by src/suggest/classifier.ts; re-exported for the shard runner's callers.
export { loadItemClassifier, type ItemClassifier } from '../suggest/classifier.ts';

/**
 * Writes a shard's suggestions — for its items that have no final label — in one labelling change
 * that first runs `claim` (marking the shard done if this runner still holds its lease): when the
 * claim fails, nothing is written, so a runner that lost its lease cannot overwrite the output of
 * the one that took the shard over. Suggestions are keyed by item, so a shard run twice leaves
 * one suggestion per item.
 */
export async function writeShardSuggestions(store: Store, plan: SuggestPlan, entries: SuggestionEntry[], claim: (conn: Conn) => Promise<boolean>): Promise<{ written: number; held: boolean }> {
  const project = await getProject(store.db, plan.project);
  return change(store, project, cliActor('job:suggest'), async (ctx) => {
    if (!(await claim(ctx.conn))) return { written: 0, held: false };
    const ids = entries.map((e) => e.itemId);
    const decided = new Set<number>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await ctx.conn.selectFrom('label_items').select('item_id').where('item_id', 'in', ids.slice(i, i + 1000)).where('status', '=', 'done').execute();
      for (const r of rows) decided.add(r.item_id);
    }
    const open = entries.filter((e) => !decided.has(e.itemId));
    if (open.length > 0) await putSuggestions(ctx, open);
    return { written: open.length, held: true };
  });
}
