import { UserError } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { getModel, readEmbeddings, writeEmbeddings } from '../store/models.ts';
import type { Project } from '../store/projects.ts';

/**
 * The vectors a drift test compares, for given item ids:
 * - `model`: the stored embeddings of an encoder (the latest one unless named). Items without
 *   one (a new import) are embedded with the model's encoder first and the embeddings stored,
 *   so the next check reuses them.
 * - `raw`: raw features without any model (TF-IDF for text, pixels for images, MFCC statistics
 *   for audio, standardised/one-hot columns for tabular rows), fitted on the union of the sets.
 */
export type FeatureSource = { kind: 'model'; model?: number } | { kind: 'raw' };

/** Embeds the given items with a model's encoder: n×dim, row i for itemIds[i]. */
export type Embedder = (store: Store, project: Project, modelId: number, itemIds: number[]) => Promise<{ dim: number; data: Float32Array }>;

export interface VectorSets {
  dim: number;
  model: number | null;
  sets: Float32Array[];
  /** Items embedded now (they had no stored embedding). */
  embedded: number;
}

/** Default embedder: loads the encoder checkpoint (tfjs, loaded only now) and the items' decoded data. */
export const encoderEmbedder: Embedder = async (store, project, modelId, itemIds) => {
  const model = await getModel(store.db, project.id, modelId);
  if (!model.checkpointPath) throw new UserError(`model ${modelId} has no encoder checkpoint to embed new items with; run \`tessera embed\` or monitor raw features (--features raw)`);
  const { loadModalityData, projectModality, subsetData } = await import('../ssl/data.ts');
  const { loadEncoder } = await import('../ssl/index.ts');
  const loaded = await loadModalityData(store, project.id, await projectModality(store, project.id), { sampleRate: project.settings.sampleRate });
  const pos = new Map(loaded.itemIds.map((id, i) => [id, i]));
  const idx = itemIds.map((id) => {
    const i = pos.get(id);
    if (i === undefined) throw new UserError(`item ${id} is not of the project's main modality; drift compares one modality`);
    return i;
  });
  const encoder = await loadEncoder(model.checkpointPath);
  try {
    return { dim: encoder.dim, data: await encoder.embed(subsetData(loaded.data, idx)) };
  } finally {
    encoder.dispose();
  }
};

export async function vectorsFor(store: Store, project: Project, sets: number[][], source: FeatureSource, embed: Embedder = encoderEmbedder): Promise<VectorSets> {
  if (source.kind === 'raw') return rawVectors(store, project, sets);
  const model = (await getModel(store.db, project.id, source.model)).id;
  const all = [...new Set(sets.flat())];
  const have = new Set<number>();
  for (let i = 0; i < all.length; i += 5000) {
    const rows = await store.db.selectFrom('embeddings').select('item_id').where('model_id', '=', model).where('item_id', 'in', all.slice(i, i + 5000)).execute();
    for (const r of rows) have.add(r.item_id);
  }
  const missing = all.filter((id) => !have.has(id));
  if (missing.length > 0) {
    const e = await embed(store, project, model, missing);
    await writeEmbeddings(store, model, missing, e.data, e.dim);
  }
  let dim = 0;
  const out: Float32Array[] = [];
  for (const ids of sets) {
    const r = await readEmbeddings(store.db, model, ids);
    if (r.missing > 0) throw new UserError(`model ${model}: ${r.missing} item(s) still have no embedding`);
    if (dim && r.dim !== dim) throw new UserError(`model ${model}: embeddings of different widths (${dim} and ${r.dim})`);
    dim = r.dim;
    out.push(r.data);
  }
  return { dim, model, sets: out, embedded: missing.length };
}

async function rawVectors(store: Store, project: Project, sets: number[][]): Promise<VectorSets> {
  const { loadModalityData, projectModality, subsetData } = await import('../ssl/data.ts');
  const { rawFeatures } = await import('../probe/raw.ts');
  const loaded = await loadModalityData(store, project.id, await projectModality(store, project.id), { sampleRate: project.settings.sampleRate });
  const pos = new Map(loaded.itemIds.map((id, i) => [id, i]));
  const union = sets.flat().map((id) => {
    const i = pos.get(id);
    if (i === undefined) throw new UserError(`item ${id} is not of the project's main modality; drift compares one modality`);
    return i;
  });
  const f = await rawFeatures(subsetData(loaded.data, union));
  const out: Float32Array[] = [];
  let at = 0;
  for (const ids of sets) {
    out.push(f.data.slice(at * f.dim, (at + ids.length) * f.dim));
    at += ids.length;
  }
  return { dim: f.dim, model: null, sets: out, embedded: 0 };
}
