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
import { headProba } from '../train/linear-head.ts';
import { adjustToPrior } from '../train/prior-shift.ts';
import { readClassifier, wasPromoted } from '../train/registry.ts';

export { wasPromoted };

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
  const reg = readClassifier(model);
  const classes = reg.classes;
  if (classes.join('\u0000') !== inputs.classes.join('\u0000')) throw new Error(`its classes (${classes.join(', ')}) are not the loop's (${inputs.classes.join(', ')})`);
  let proba: Float64Array;
  if (reg.features === 'encoder') {
    const { loadFineTuned } = await import('../train/fine-tune.ts');
    const c = await loadFineTuned(reg.checkpointPath);
    try {
      proba = await c.proba(inputs.data, positions);
    } finally {
      c.dispose();
      c.encoder.dispose();
    }
  } else {
    if (reg.features === 'ssl' && reg.encoderId !== inputs.encoderId) throw new Error(`it reads the embeddings of encoder ${reg.encoderId}, the loop has encoder ${inputs.encoderId}'s`);
    const x = reg.features === 'raw' ? inputs.raw : inputs.embeddings;
    const dim = reg.head.model.dim;
    if (dim !== x.dim) throw new Error(`its head reads ${dim} ${reg.features} features, the loop's have ${x.dim}`);
    proba = headProba(reg.head, selectRows(x, positions));
  }
  const shift = reg.priorShift;
  if (shift) proba = adjustToPrior(proba, classes.length, shift.labelPrior, shift.poolPrior);
  return proba;
}
