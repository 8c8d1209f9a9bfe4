/**
 * The model in use: the project's latest classifier that was promoted (records from before
 * promotion existed count as promoted), and its probabilities on items of the loop's data —
 * what the promotion check compares a round's new classifier with (src/loop/promotion.ts).
 */
import type { Store } from '../store/db.ts';
import { listModels, type ModelRecord } from '../store/models.ts';
import type { Features } from '../probe/features.ts';
import { selectRows } from '../probe/features.ts';
import type { ModalityData } from '../ssl/types.ts';
import { headProba, type Head } from '../train/linear-head.ts';
import { adjustToPrior } from '../train/prior-shift.ts';

/** Whether a registered classifier serves (or last served) suggestions: promoted, or registered before promotion was recorded. */
export function wasPromoted(m: ModelRecord): boolean {
  const p = (m.params as { promotion?: { promoted?: unknown } }).promotion;
  return p?.promoted !== false;
}

export async function modelInUse(store: Store, projectId: number): Promise<ModelRecord | null> {
  return (await listModels(store.db, projectId, 'classifier')).find(wasPromoted) ?? null;
}

/** The items a model was trained on: its snapshot dataset (the whole snapshot, validation items included — they chose it). */
export async function trainedOn(store: Store, m: ModelRecord): Promise<Set<number>> {
  if (m.datasetId === null) return new Set();
  return new Set((await store.db.selectFrom('dataset_items').select('item_id').where('dataset_id', '=', m.datasetId).execute()).map((r) => r.item_id));
}

/** What the loop has on hand to make a registered classifier predict. */
export interface LoopInputs {
  classes: string[];
  data: ModalityData;
  /** Raw features of every item (a raw-feature head reads these). */
  raw: Features;
  /** The SSL embeddings of every item, by encoder `encoderId` (a frozen-encoder head reads these). */
  embeddings: Features;
  encoderId: number;
}

/**
 * Calibrated probabilities (rows × classes) of `model` on `positions` of the loop's data, with
 * its recorded prior correction applied, as it serves suggestions. Throws, saying why, when the
 * record cannot predict here (other classes, another encoder's embeddings, features of another width).
 */
export async function inUseProba(model: ModelRecord, inputs: LoopInputs, positions: number[]): Promise<Float64Array> {
  const p = model.params as { features?: string; classes?: string[]; temperature?: number; W?: number[]; b?: number[]; mean?: number[]; std?: number[]; lambda?: number; priorShift?: { labelPrior?: number[]; poolPrior?: number[]; applied?: boolean } };
  const classes = p.classes ?? [];
  if (classes.join('\u0000') !== inputs.classes.join('\u0000')) throw new Error(`its classes (${classes.join(', ')}) are not the loop's (${inputs.classes.join(', ')})`);
  let proba: Float64Array;
  if (p.features === 'encoder') {
    if (!model.checkpointPath) throw new Error('it has no checkpoint');
    const { loadFineTuned } = await import('../train/fine-tune.ts');
    const c = await loadFineTuned(model.checkpointPath);
    try {
      proba = await c.proba(inputs.data, positions);
    } finally {
      c.dispose();
      c.encoder.dispose();
    }
  } else if (p.features === 'raw' || p.features === 'ssl') {
    if (p.features === 'ssl' && model.parentId !== inputs.encoderId) throw new Error(`it reads the embeddings of encoder ${model.parentId}, the loop has encoder ${inputs.encoderId}'s`);
    const x = p.features === 'raw' ? inputs.raw : inputs.embeddings;
    const dim = (p.mean ?? []).length;
    if (dim !== x.dim || (p.W ?? []).length !== dim * classes.length) throw new Error(`its head reads ${dim} ${p.features} features, the loop's have ${x.dim}`);
    const head: Head = {
      model: { W: Float64Array.from(p.W!), b: Float64Array.from(p.b ?? []), dim, classes: classes.length, mean: Float64Array.from(p.mean!), std: Float64Array.from(p.std ?? []), lambda: p.lambda ?? 0 },
      temperature: p.temperature ?? 1,
      classes,
    };
    proba = headProba(head, selectRows(x, positions));
  } else throw new Error(`it reads ${p.features ?? 'unknown'} features`);
  const shift = p.priorShift;
  if (shift && shift.applied !== false && shift.labelPrior && shift.poolPrior) proba = adjustToPrior(proba, classes.length, shift.labelPrior, shift.poolPrior);
  return proba;
}
