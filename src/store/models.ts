import type { Kysely, Transaction } from 'kysely';
import { NotFoundError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from './db.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface ModelRecord {
  id: number;
  projectId: number;
  kind: string;
  pretext: string | null;
  parentId: number | null;
  datasetId: number | null;
  taxonomyVersion: number | null;
  checkpointPath: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  createdAt: string;
}

/**
 * Freezes the exact items a model was trained on as a snapshot dataset (with the label and how
 * it was decided, when there is one), so every model's lineage can be re-traced.
 */
export async function createSnapshot(db: Db, projectId: number, name: string, itemIds: number[], spec: Record<string, unknown>, labels?: Array<{ label: string | null; decidedBy: unknown }>): Promise<number> {
  const { id } = await db
    .insertInto('datasets')
    .values({ project_id: projectId, name, kind: 'snapshot', spec: JSON.stringify(spec), item_count: itemIds.length, created_at: nowIso() })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let i = 0; i < itemIds.length; i += 5000) {
    await db
      .insertInto('dataset_items')
      .values(itemIds.slice(i, i + 5000).map((item_id, k) => ({ dataset_id: id, item_id, label: labels?.[i + k]?.label ?? null, decided_by: labels ? JSON.stringify(labels[i + k].decidedBy) : null })))
      .execute();
  }
  return id;
}

export async function registerModel(db: Db, m: Omit<ModelRecord, 'id' | 'createdAt'>): Promise<number> {
  const { id } = await db
    .insertInto('models')
    .values({
      project_id: m.projectId,
      kind: m.kind,
      pretext: m.pretext,
      parent_id: m.parentId,
      dataset_id: m.datasetId,
      taxonomy_version: m.taxonomyVersion,
      checkpoint_path: m.checkpointPath,
      params: JSON.stringify(m.params),
      metrics: JSON.stringify(m.metrics),
      created_at: nowIso(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

function toModel(r: Database['models'] & { id: number }): ModelRecord {
  return {
    id: r.id,
    projectId: r.project_id,
    kind: r.kind,
    pretext: r.pretext,
    parentId: r.parent_id,
    datasetId: r.dataset_id,
    taxonomyVersion: r.taxonomy_version,
    checkpointPath: r.checkpoint_path,
    params: parseJson(r.params, {}),
    metrics: parseJson(r.metrics, {}),
    createdAt: r.created_at,
  };
}

export async function listModels(db: Db, projectId: number, kind?: string): Promise<ModelRecord[]> {
  let q = db.selectFrom('models').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc');
  if (kind) q = q.where('kind', '=', kind);
  return (await q.execute()).map((r) => toModel(r as Database['models'] & { id: number }));
}

export async function getModel(db: Db, projectId: number, id?: number, kind = 'encoder'): Promise<ModelRecord> {
  if (id === undefined) {
    const [latest] = await listModels(db, projectId, kind);
    if (!latest) throw new NotFoundError(`a pretrained ${kind} in this project (run \`tessera pretrain\` first)`);
    return latest;
  }
  const r = await db.selectFrom('models').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (!r) throw new NotFoundError(`model ${id} in this project`);
  return toModel(r as Database['models'] & { id: number });
}

/** Stores (or replaces) embeddings for a model, one transaction per call. */
export async function writeEmbeddings(store: Store, modelId: number, itemIds: number[], vectors: Float32Array, dim: number): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < itemIds.length; i += 1000) {
      const ids = itemIds.slice(i, i + 1000);
      await trx.deleteFrom('embeddings').where('model_id', '=', modelId).where('item_id', 'in', ids).execute();
      await trx
        .insertInto('embeddings')
        .values(ids.map((item_id, k) => ({ model_id: modelId, item_id, dim, vector: Buffer.from(vectors.buffer, vectors.byteOffset + (i + k) * dim * 4, dim * 4) })))
        .execute();
    }
  });
}

/** A model's embeddings for the given items, in that order (rows without one are zero). */
export async function readEmbeddings(db: Db, modelId: number, itemIds: number[]): Promise<{ dim: number; data: Float32Array; missing: number }> {
  const pos = new Map(itemIds.map((id, i) => [id, i]));
  let dim = 0;
  let data = new Float32Array(0);
  let found = 0;
  for (let i = 0; i < itemIds.length; i += 5000) {
    const rows = await db.selectFrom('embeddings').select(['item_id', 'dim', 'vector']).where('model_id', '=', modelId).where('item_id', 'in', itemIds.slice(i, i + 5000)).execute();
    for (const r of rows) {
      if (dim === 0) {
        dim = r.dim;
        data = new Float32Array(itemIds.length * dim);
      }
      const v = new Float32Array(Uint8Array.from(r.vector).buffer);
      data.set(v, pos.get(r.item_id)! * dim);
      found++;
    }
  }
  return { dim, data, missing: itemIds.length - found };
}
