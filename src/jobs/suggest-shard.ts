import { UserError } from '../core/errors.ts';
import { cliActor, change } from '../label/context.ts';
import { putSuggestions, type SuggestionEntry } from '../label/results.ts';
import type { Store } from '../store/db.ts';
import { getModel, type ModelRecord } from '../store/models.ts';
import { getProject } from '../store/projects.ts';
import type { Conn } from '../label/tx.ts';
import type { ModalityData } from '../ssl/types.ts';
import type { ShardPlan } from './shard-data.ts';
import { rowArgmax } from '../ml/rows.ts';

/** The suggest job's plan: every item of the project, predicted by a registered classifier. */
export interface SuggestPlan {
  kind: 'suggest';
  projectId: number;
  project: string;
  modelId: number;
  sampleRate: number | null;
  data: ShardPlan;
}

/** A registered classifier applied item by item: calibrated class probabilities, rows × classes. */
export interface ItemClassifier {
  classes: string[];
  proba(data: ModalityData): Promise<Float64Array>;
  dispose(): void;
}

/**
 * Loads a classifier of the model registry (as `tessera loop` registers them) so that it can
 * predict any subset of items on its own — what sharding needs. A fine-tuned encoder + head and a
 * linear head on the frozen SSL encoder qualify; a head on raw features does not (TF-IDF, MFCC
 * statistics and tabular encodings are fitted on the whole corpus, so a shard alone would compute
 * different features): refused with the reason. A recorded prior correction (`params.priorShift`,
 * `tessera loop --prior-shift`) is applied to the probabilities.
 */
export async function loadItemClassifier(store: Store, model: ModelRecord): Promise<ItemClassifier> {
  const c = await loadUnshifted(store, model);
  // A loop run with --prior-shift registered its classifier's prior correction: apply it as the loop did.
  const shift = (model.params as { priorShift?: { labelPrior?: number[]; poolPrior?: number[]; applied?: boolean } }).priorShift;
  // applied: false — EM's estimate collapsed and the loop kept the labels' prior (older records have no flag: applied).
  if (!shift || shift.applied === false) return c;
  const { adjustToPrior } = await import('../train/prior-shift.ts');
  const { labelPrior, poolPrior } = shift;
  if (!Array.isArray(labelPrior) || !Array.isArray(poolPrior) || labelPrior.length !== c.classes.length || poolPrior.length !== c.classes.length) {
    c.dispose();
    throw new UserError(`classifier ${model.id}: params.priorShift needs labelPrior and poolPrior of ${c.classes.length} classes each`);
  }
  return { classes: c.classes, proba: async (data) => adjustToPrior(await c.proba(data), c.classes.length, labelPrior, poolPrior), dispose: () => c.dispose() };
}

async function loadUnshifted(store: Store, model: ModelRecord): Promise<ItemClassifier> {
  if (model.kind !== 'classifier') throw new UserError(`model ${model.id} is of kind ${model.kind}, not a classifier (\`tessera loop\` trains and registers classifiers)`);
  const p = model.params as { features?: string; classes?: string[]; temperature?: number; W?: number[]; b?: number[]; mean?: number[]; std?: number[]; lambda?: number };
  if (p.features === 'encoder') {
    const { loadFineTuned } = await import('../train/fine-tune.ts');
    const c = await loadFineTuned(model.checkpointPath!);
    return {
      classes: c.classes,
      proba: (data) => c.proba(data),
      dispose: () => {
        c.dispose();
        c.encoder.dispose();
      },
    };
  }
  if (p.features === 'ssl') {
    if (model.parentId === null) throw new UserError(`classifier ${model.id} has no encoder (parent model) recorded`);
    const parent = await getModel(store.db, model.projectId, model.parentId);
    const { loadEncoder } = await import('../ssl/index.ts');
    const { headProba } = await import('../train/linear-head.ts');
    const encoder = await loadEncoder(parent.checkpointPath!);
    const classes = p.classes ?? [];
    const dim = (p.mean ?? []).length;
    const head = {
      model: { W: Float64Array.from(p.W ?? []), b: Float64Array.from(p.b ?? []), dim, classes: classes.length, mean: Float64Array.from(p.mean ?? []), std: Float64Array.from(p.std ?? []), lambda: p.lambda ?? 0 },
      temperature: p.temperature ?? 1,
      classes,
    };
    if (classes.length < 2 || head.model.W.length !== dim * classes.length || dim !== encoder.dim) {
      encoder.dispose();
      throw new UserError(`classifier ${model.id}: its head (${dim} inputs × ${classes.length} classes) does not fit encoder ${parent.id} (${encoder.dim} dims)`);
    }
    return {
      classes,
      proba: async (data) => {
        const x = await encoder.embed(data);
        return headProba(head, { rows: x.length / dim, dim, data: x });
      },
      dispose: () => encoder.dispose(),
    };
  }
  throw new UserError(`classifier ${model.id} works on ${p.features ?? 'unknown'} features, which depend on the whole corpus: it cannot predict a shard of items on its own (suggestions from it come from \`tessera loop\`)`);
}

/** The suggestion of each item: the most probable class and its calibrated probability. */
export function suggestionsOf(itemIds: readonly number[], p: Float64Array, classes: readonly string[], modelId: number): SuggestionEntry[] {
  const C = classes.length;
  return itemIds.map((itemId, i) => {
    const best = rowArgmax(p, i, C);
    return { itemId, labels: [classes[best]], source: `model:${modelId}`, confidence: p[i * C + best] };
  });
}

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
