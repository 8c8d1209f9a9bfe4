import type { Store } from '../store/db.ts';
import { getModel, listModels, readEmbeddings } from '../store/models.ts';
import { buildAnnIndex, DEFAULT_ANN, selfKnn } from './ann.ts';
import { coverageOf } from './coverage.ts';
import type { NearDuplicatePairs } from './duplicates.ts';
import { starClusters, type NearDuplicateResult } from './minhash.ts';
import { robustOutliers } from './outliers.ts';
import { round, type AuditOptions, type AuditReport } from './report.ts';
import type { ItemScan } from './scan.ts';

/**
 * The audit's checks on embeddings: near-duplicates (cosine kNN through an ANN index), kNN-distance
 * outliers and coverage clusters, on one row per distinct usable content (duplicates would hide
 * each other's isolation).
 */
export interface EmbeddingChecks {
  embeddings: AuditReport['embeddings'];
  nearDuplicates?: AuditReport['nearDuplicates']['embedding'];
  embeddingOutliers?: AuditReport['embeddingOutliers'];
  coverage?: AuditReport['coverage'];
}

export interface EmbeddingCheckContext {
  projectId: number;
  scan: ItemScan;
  /** Row → representative row of its content group. */
  repOf: Int32Array;
  near: NearDuplicatePairs;
  nEx: number;
  zT: number;
  seed: number;
  progress: (fraction: number | null, message: string) => void;
}

export async function embeddingChecks(store: Store, opts: AuditOptions, c: EmbeddingCheckContext): Promise<EmbeddingChecks> {
  const { scan, repOf, nEx, zT, seed, progress } = c;
  const { ids, findings } = scan;
  const embeddings: AuditReport['embeddings'] = { model: null, items: 0, dim: 0, ann: null };
  const model = opts.model === 'none' ? null : await pickModel(store, c.projectId, opts.model);
  if (!model) {
    embeddings.skipped = opts.model === 'none' ? 'not asked for (--model none)' : 'no embeddings in this project (run `tessera pretrain` and `tessera embed`)';
    return { embeddings };
  }
  progress(0.65, `embeddings of model ${model}`);
  const rowIndex = new Map(ids.map((id, r) => [id, r]));
  const withEmb = (
    await store.db
      .selectFrom('embeddings')
      .innerJoin('items', 'items.id', 'embeddings.item_id')
      .select('embeddings.item_id')
      .where('embeddings.model_id', '=', model)
      .where('items.project_id', '=', c.projectId)
      .orderBy('embeddings.item_id')
      .execute()
  ).map((r) => r.item_id);
  // One row per distinct content (duplicates would hide each other's isolation).
  const reps = withEmb.map((id) => rowIndex.get(id)!).filter((r) => r !== undefined && repOf[r] === r && !scan.unusable.has(r));
  const { dim, data } = await readEmbeddings(store.db, model, reps.map((r) => ids[r]));
  embeddings.model = model;
  embeddings.items = reps.length;
  embeddings.dim = dim;
  if (!(reps.length >= 3 && dim > 0)) return { embeddings };

  const backend = opts.ann ?? DEFAULT_ANN;
  embeddings.ann = backend;
  const k = Math.min(opts.k ?? 10, reps.length - 1);
  const index = buildAnnIndex(backend, data, dim, { seed });
  progress(0.75, `kNN (${backend}) over ${reps.length.toLocaleString('en')} embeddings`);
  const knn = selfKnn(index, data, dim, k);
  index.dispose();
  // Near-duplicates: neighbours within the cosine threshold.
  const thr = opts.embeddingThreshold ?? 0.98;
  const pairs = neighbourPairs(knn, reps.length, k, thr);
  const clusters = starClusters(reps.length, pairs).clusters;
  const res: NearDuplicateResult = { pairs, pairCount: pairs.length, truncated: false, clusters, candidates: reps.length * k };
  c.near.add(res, reps, `embedding:${model}`);
  const { candidates: _c, ...s } = c.near.summarise(res, reps);
  const nearDuplicates = { method: `cosine kNN (k=${k}) through ${backend}`, threshold: thr, ...s };
  // Outliers: mean cosine distance to the k nearest neighbours, high side.
  const score = Float64Array.from({ length: reps.length }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += knn.distances[i * k + j];
    return sum / k;
  });
  const out = robustOutliers(score, { zThreshold: zT, side: 'high' });
  const embeddingOutliers = {
    k,
    method: out.method === 'robust_z' ? `robust z > ${zT} on mean kNN cosine distance` : 'Tukey far-out fence (MAD = 0)',
    median: round(out.median),
    outliers: out.outliers.length,
    examples: [...out.outliers]
      .sort((a, b) => b.score - a.score)
      .slice(0, nEx)
      .map((o) => ({ itemId: ids[reps[o.index]], knnDistance: round(o.value), z: round(o.score) })),
  };
  for (const o of out.outliers) {
    const detail = { knnDistance: round(o.value), k, model };
    findings.push({ itemId: ids[reps[o.index]], kind: 'embedding_outlier', action: 'flag', groupKey: null, score: round(o.score), detail });
  }
  progress(0.85, 'coverage clusters');
  const coverage = await coverageOf(
    store,
    c.projectId,
    { ids, reps, data, dim, repOf, label: scan.label, seed, clusters: opts.clusters, human: opts.coverageLabels === 'human' },
    findings,
  );
  return { embeddings, nearDuplicates, embeddingOutliers, coverage };
}

/** Pairs of rows (a < b) that are among each other's k nearest neighbours with cosine similarity ≥ `thr`, sorted. */
export function neighbourPairs(knn: { indices: Int32Array; distances: Float32Array }, n: number, k: number, thr: number): NearDuplicateResult['pairs'] {
  const pairs: NearDuplicateResult['pairs'] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const nb = knn.indices[i * k + j];
      const sim = 1 - knn.distances[i * k + j];
      if (nb < 0 || sim < thr) continue;
      const [a, b] = i < nb ? [i, nb] : [nb, i];
      if (seen.has(a * n + b)) continue;
      seen.add(a * n + b);
      pairs.push({ a, b, similarity: Math.min(1, sim) });
    }
  pairs.sort((p, q) => p.a - q.a || p.b - q.b);
  return pairs;
}

/** The model whose embeddings to use: the one asked for, else the newest encoder with embeddings in this project. */
async function pickModel(store: Store, projectId: number, asked: number | undefined): Promise<number | null> {
  if (asked !== undefined) {
    await getModel(store.db, projectId, asked);
    return asked;
  }
  for (const m of await listModels(store.db, projectId)) {
    const has = await store.db
      .selectFrom('embeddings')
      .innerJoin('items', 'items.id', 'embeddings.item_id')
      .select('embeddings.item_id')
      .where('embeddings.model_id', '=', m.id)
      .where('items.project_id', '=', projectId)
      .limit(1)
      .executeTakeFirst();
    if (has) return m.id;
  }
  return null;
}
