import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { getModel, type ModelRecord } from '../store/models.ts';
import { getProject } from '../store/projects.ts';
import type { ModalityData } from '../ssl/types.ts';
import { readClassifier, type RegisteredClassifier } from '../train/registry.ts';
import { applyRawFeaturizer, fitRawFeaturizer, type RawFeaturizer } from '../probe/raw.ts';

/** A registered classifier applied item by item: calibrated class probabilities, rows × classes. */
export interface ItemClassifier {
  classes: string[];
  proba(data: ModalityData): Promise<Float64Array>;
  dispose(): void;
}

/**
 * Loads a classifier of the model registry (src/train/registry.ts) so that it can predict any
 * subset of items on its own — what sharding needs: a fine-tuned encoder + head, a linear head on
 * the frozen SSL encoder, or a linear head on raw features computed with the featurizer it was
 * fitted with. A recorded prior correction (`params.priorShift`, `tessera loop --prior-shift`)
 * is applied to the probabilities, as the loop applied it.
 */
export async function loadItemClassifier(store: Store, model: ModelRecord): Promise<ItemClassifier> {
  const reg = readClassifier(model);
  const c = await loadUnshifted(store, model, reg);
  const shift = reg.priorShift;
  if (!shift) return c;
  const { adjustToPrior } = await import('../train/prior-shift.ts');
  return { classes: c.classes, proba: async (data) => adjustToPrior(await c.proba(data), c.classes.length, shift.labelPrior, shift.poolPrior), dispose: () => c.dispose() };
}

async function loadUnshifted(store: Store, model: ModelRecord, reg: RegisteredClassifier): Promise<ItemClassifier> {
  if (reg.features === 'encoder') {
    const { loadFineTuned } = await import('../train/fine-tune.ts');
    const c = await loadFineTuned(reg.checkpointPath);
    return {
      classes: c.classes,
      proba: (data) => c.proba(data),
      dispose: () => {
        c.dispose();
        c.encoder.dispose();
      },
    };
  }
  const { headProba } = await import('../train/linear-head.ts');
  const head = reg.head;
  const dim = head.model.dim;
  if (reg.features === 'ssl') {
    const parent = await getModel(store.db, model.projectId, reg.encoderId);
    const { loadEncoder } = await import('../ssl/index.ts');
    const encoder = await loadEncoder(parent.checkpointPath!);
    if (dim !== encoder.dim) {
      encoder.dispose();
      throw new UserError(`classifier ${model.id}: its head (${dim} inputs × ${head.classes.length} classes) does not fit encoder ${parent.id} (${encoder.dim} dims)`);
    }
    return {
      classes: head.classes,
      proba: async (data) => {
        const x = await encoder.embed(data);
        return headProba(head, { rows: x.length / dim, dim, data: x });
      },
      dispose: () => encoder.dispose(),
    };
  }
  const featurizer = reg.featurizer ?? (await refitFeaturizer(store, model.projectId));
  return {
    classes: head.classes,
    proba: async (data) => {
      const x = await applyRawFeaturizer(featurizer, data);
      if (x.dim !== dim) throw new UserError(`classifier ${model.id}: its head reads ${dim} raw features, these items have ${x.dim}`);
      return headProba(head, x);
    },
    dispose: () => {},
  };
}

/**
 * A raw-feature head registered before heads stored their featurizer was fitted on the whole
 * corpus as the loop loaded it: fitted again on the project's corpus (the same features while the
 * corpus is unchanged; a head whose width no longer fits is refused when it predicts).
 */
async function refitFeaturizer(store: Store, projectId: number): Promise<RawFeaturizer> {
  const { loadModalityData, projectModality } = await import('../ssl/data.ts');
  const { name } = await store.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirstOrThrow();
  const project = await getProject(store.db, name);
  const loaded = await loadModalityData(store, projectId, await projectModality(store, projectId), { sampleRate: project.settings.sampleRate });
  return fitRawFeaturizer(loaded.data);
}
