import { CancelledError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import { mulberry32, sampleIndices } from '../core/rng.ts';
import type { Modality } from '../core/modality.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { getModel, listModels, readEmbeddings } from '../store/models.ts';
import { getProject } from '../store/projects.ts';
import type { FindingAction } from '../store/schema.ts';
import { kmeans, nearestCentroids } from '../select/kmeans.ts';
import { selectRows } from '../probe/features.ts';
import { buildAnnIndex, DEFAULT_ANN, normalizeRows, selfKnn, type AnnBackend } from './ann.ts';
import { classBalance, type ClassBalance } from './balance.ts';
import { inspectItem, SIZE_METRIC, type ContentProblem } from './content.ts';
import { minhashFromShingles, shingleHashes, starClusters, type NearDuplicatePair, type NearDuplicateResult } from './minhash.ts';
import { dHash, hammingNearDuplicates, hashHex, MIN_HASH_SIDE, pHash, type Hash64 } from './phash.ts';
import { robustOutliers } from './outliers.ts';
import { PiiCounter, scanItem, type PiiFieldCounts } from '../ingest/pii-fields.ts';
import { residencyReport, type ResidencyReport } from './residency.ts';

/**
 * The corpus audit of one project (`tessera audit`): exact duplicates (content sha256),
 * near-duplicates (text: MinHash + LSH; images: perceptual hash; any modality with embeddings:
 * cosine kNN through an ANN index), empty / unreadable / truncated / changed items, size
 * outliers, embedding outliers (kNN distance), conflicting source labels on identical content,
 * class balance, coverage (embedding clusters without a label), PII per field, residency.
 *
 * Findings are stored per item (audit_findings, one audit_runs row per run) with what the loop
 * should do: `exclude` (duplicates beyond the first, unusable items) from selection, `flag`
 * (outliers, label conflicts) for review, or `info` (PII, coverage gaps). auditExclusions()
 * reads the latest run.
 */
export interface AuditOptions {
  project: string;
  actor: string;
  /** Embeddings to use: a model id; 'none' to skip; default the latest encoder that has embeddings here. */
  model?: number | 'none';
  ann?: AnnBackend;
  /** Text near-duplicates: Jaccard of character 5-gram sets (default 0.8). */
  textThreshold?: number;
  /** Image near-duplicates: perceptual hash and the largest Hamming distance out of 64 bits (default pHash, 4). */
  imageHash?: 'phash' | 'dhash';
  imageMaxDistance?: number;
  /** Embedding near-duplicates: cosine similarity at or above (default 0.98). */
  embeddingThreshold?: number;
  /** Neighbours for kNN-distance outliers (default 10). */
  k?: number;
  /** Robust z above which a value is an outlier (default 3.5). */
  zThreshold?: number;
  /** Coverage clusters (default √(n/2), between 2 and 50). */
  clusters?: number;
  /** Which labels cover a cluster: source labels, final labels and gold ('all', default) or only human ones. */
  coverageLabels?: 'all' | 'human';
  seed?: number;
  jobId?: number;
  /** Findings listed per section in the report (default 20). */
  examples?: number;
}

export interface AuditHooks {
  signal?: AbortSignal;
  progress?(fraction: number | null, message: string): void;
}

export interface AuditReport {
  project: string;
  run: number;
  items: number;
  byModality: Partial<Record<Modality, number>>;
  exactDuplicates: { groups: number; items: number; redundant: number; examples: Array<{ sha256: string; size?: number; itemIds: number[] }> };
  nearDuplicates: {
    text?: { method: string; threshold: number; candidates: number; pairs: number; truncated?: boolean; clusters: number; redundant: number; examples: Array<{ size: number; itemIds: number[]; similarity: number }> };
    image?: { method?: string; maxDistance?: number; candidates?: number; pairs?: number; truncated?: boolean; clusters?: number; redundant?: number; examples?: Array<{ size: number; itemIds: number[]; similarity: number; hashes?: string[] }>; smallImagesSkipped?: number; skipped?: string };
    embedding?: { method: string; threshold: number; pairs: number; clusters: number; redundant: number; examples: Array<{ size: number; itemIds: number[]; similarity: number }> };
  };
  problems: Record<ContentProblem, number> & { examples: Array<{ itemId: number; kind: ContentProblem; message: string }> };
  sizeOutliers: Partial<Record<Modality, { metric: string; scale: 'log1p' | 'linear'; method: string; median: number; outliers: number; examples: Array<{ itemId: number; value: number; z: number }> }>>;
  embeddings: { model: number | null; items: number; dim: number; ann: AnnBackend | null; skipped?: string };
  embeddingOutliers?: { k: number; method: string; median: number; outliers: number; examples: Array<{ itemId: number; knnDistance: number; z: number }> };
  labelConflicts: { groups: number; items: number; examples: Array<{ sha256: string; itemIds: number[]; labels: Record<string, number> }> };
  classBalance: { source: ClassBalance; final: ClassBalance };
  coverage?: { clusters: number; labelled: number; uncovered: Array<{ cluster: number; size: number; representative: number }>; uncoveredItems: number };
  pii: PiiFieldCounts;
  residency: ResidencyReport;
  exclusions: { exclude: number; flag: number };
  seconds: number;
}

interface Finding {
  itemId: number;
  kind: string;
  action: FindingAction;
  groupKey: string | null;
  score: number | null;
  detail: Record<string, unknown>;
}

const PAGE = 2000;

export async function runAudit(store: Store, opts: AuditOptions, hooks: AuditHooks = {}): Promise<AuditReport> {
  const t0 = performance.now();
  const project = await getProject(store.db, opts.project);
  const nEx = opts.examples ?? 20;
  const zT = opts.zThreshold ?? 3.5;
  const seed = opts.seed ?? 0;
  const progress = (f: number | null, m: string) => {
    if (hooks.signal?.aborted) throw new CancelledError('audit cancelled; nothing was stored');
    hooks.progress?.(f, m);
  };
  const total = Number((await store.db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', project.id).executeTakeFirstOrThrow()).n);

  // ---- One pass over every item: content checks, hashes, shingles, sizes, PII. ----
  const ids: number[] = [];
  const modality: Modality[] = [];
  const sha: string[] = [];
  const label: Array<string | null> = [];
  const size: Array<number | null> = [];
  const groups = new Map<string, number[]>(); // modality:sha → row indices
  const textShingles = new Map<number, Uint32Array>(); // representative row → shingles
  const imageHashes = new Map<number, Hash64>();
  const findings: Finding[] = [];
  const problems = { empty: 0, unreadable: 0, truncated: 0, hash_mismatch: 0, examples: [] as AuditReport['problems']['examples'] };
  const pii = new PiiCounter();
  const byModality: AuditReport['byModality'] = {};
  const hashFn = opts.imageHash === 'dhash' ? dHash : pHash;
  const unusable = new Set<number>(); // rows that are empty/unreadable/truncated
  let smallImages = 0; // distinct images too small for a perceptual hash

  for (let after = 0; ; ) {
    const rows = await store.db
      .selectFrom('items')
      .leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256')
      .select(['items.id', 'items.modality', 'items.sha256', 'items.text', 'items.data', 'blobs.bytes', 'blobs.mime', 'items.meta', 'items.source_label'])
      .where('items.project_id', '=', project.id)
      .where('items.id', '>', after)
      .orderBy('items.id')
      .limit(PAGE)
      .execute();
    for (const r of rows) {
      const row = ids.length;
      const meta = parseJson<Record<string, unknown>>(r.meta, {});
      const bytes = r.bytes ? (r.bytes instanceof Uint8Array ? r.bytes : new Uint8Array(r.bytes as ArrayBuffer)) : null;
      ids.push(r.id);
      modality.push(r.modality);
      sha.push(r.sha256);
      label.push(r.source_label);
      byModality[r.modality] = (byModality[r.modality] ?? 0) + 1;
      const facts = await inspectItem({ id: r.id, modality: r.modality, sha256: r.sha256, text: r.text, data: r.data, bytes, mime: r.mime, meta });
      size.push(facts.size);
      for (const p of facts.problems) {
        problems[p.kind]++;
        if (p.kind !== 'hash_mismatch') unusable.add(row);
        if (problems.examples.length < nEx) problems.examples.push({ itemId: r.id, kind: p.kind, message: p.message });
        findings.push({ itemId: r.id, kind: p.kind, action: 'exclude', groupKey: null, score: null, detail: { message: p.message } });
      }
      const key = `${r.modality}:${r.sha256}`;
      const g = groups.get(key);
      if (g) g.push(row);
      else {
        groups.set(key, [row]);
        // Near-duplicate material is computed once per distinct content.
        if (r.modality === 'text' && !unusable.has(row)) textShingles.set(row, shingleHashes(r.text ?? ''));
        if (facts.gray && !unusable.has(row)) {
          if (facts.gray.width >= MIN_HASH_SIDE && facts.gray.height >= MIN_HASH_SIDE) imageHashes.set(row, hashFn(facts.gray));
          else smallImages++;
        }
      }
      if (r.modality === 'text' || r.modality === 'tabular') {
        const found = scanItem({ text: r.text, values: (facts.values as Record<string, unknown> | null | undefined) ?? null, meta });
        pii.add(found);
        if (Object.keys(found).length) findings.push({ itemId: r.id, kind: 'pii', action: 'info', groupKey: null, score: null, detail: { fields: found } });
      }
    }
    progress(total ? (0.5 * ids.length) / total : null, `checked ${ids.length.toLocaleString('en')} of ${total.toLocaleString('en')} items`);
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1].id;
  }
  const n = ids.length;

  // ---- Exact duplicates and conflicting source labels on identical content. ----
  const exact: AuditReport['exactDuplicates'] = { groups: 0, items: 0, redundant: 0, examples: [] };
  const conflicts: AuditReport['labelConflicts'] = { groups: 0, items: 0, examples: [] };
  const repOf = new Int32Array(n); // row → representative row (first of its content group)
  for (const [key, rows] of groups) {
    for (const r of rows) repOf[r] = rows[0];
    if (rows.length < 2) continue;
    const hash = key.slice(key.indexOf(':') + 1);
    exact.groups++;
    exact.items += rows.length;
    exact.redundant += rows.length - 1;
    exact.examples.push({ sha256: hash, itemIds: rows.map((r) => ids[r]) });
    // Counted in a Map: a label may be named __proto__ or constructor (src/core/dict.ts).
    const counted = new Map<string, number>();
    for (const r of rows) if (label[r] !== null) counted.set(label[r]!, (counted.get(label[r]!) ?? 0) + 1);
    if (counted.size > 1) {
      const labels = Object.fromEntries(counted);
      conflicts.groups++;
      conflicts.items += rows.length;
      if (conflicts.examples.length < nEx) conflicts.examples.push({ sha256: hash, itemIds: rows.map((r) => ids[r]), labels });
      for (const r of rows) findings.push({ itemId: ids[r], kind: 'label_conflict', action: 'flag', groupKey: hash, score: null, detail: { labels } });
    }
  }
  // The largest groups, at most 50 ids each.
  exact.examples = exact.examples
    .sort((a, b) => b.itemIds.length - a.itemIds.length || a.itemIds[0] - b.itemIds[0])
    .slice(0, nEx)
    .map((e) => ({ sha256: e.sha256, size: e.itemIds.length, itemIds: e.itemIds.slice(0, 50) }));

  // ---- Near-duplicates, per method, on one row per distinct content. Every method's pairs go
  // into one list; star clustering of that union decides the exclusions below. ----
  const allPairs: Array<NearDuplicatePair & { method: string }> = [];
  const join = (res: NearDuplicateResult, reps: number[], method: string) => {
    for (const p of res.pairs) allPairs.push({ a: reps[p.a], b: reps[p.b], similarity: p.similarity, method });
  };
  const summarise = (res: NearDuplicateResult, reps: number[]) => {
    const bestInCluster = (c: number[]) => {
      const members = new Set(c);
      let best = 0;
      for (const p of res.pairs) if (members.has(p.a) && p.similarity > best) best = p.similarity;
      return best;
    };
    return {
      candidates: res.candidates,
      pairs: res.pairCount,
      ...(res.truncated ? { truncated: true } : {}),
      clusters: res.clusters.length,
      redundant: res.clusters.reduce((s, c) => s + c.length - 1, 0),
      // Largest clusters first; at most 50 ids each.
      examples: [...res.clusters]
        .sort((x, y) => y.length - x.length || x[0] - y[0])
        .slice(0, nEx)
        .map((c) => ({ size: c.length, itemIds: c.slice(0, 50).map((i) => ids[reps[i]]), similarity: round(bestInCluster(c)) })),
    };
  };
  const nearDuplicates: AuditReport['nearDuplicates'] = {};
  if (textShingles.size > 0) {
    progress(0.55, `text near-duplicates (MinHash + LSH) over ${textShingles.size.toLocaleString('en')} distinct texts`);
    const reps = [...textShingles.keys()];
    const threshold = opts.textThreshold ?? 0.8;
    const res = minhashFromShingles(reps.map((r) => textShingles.get(r)!), { threshold, seed });
    textShingles.clear();
    join(res, reps, 'minhash');
    nearDuplicates.text = { method: 'minhash-lsh (char 5-grams, 24 bands × 5 rows)', threshold, ...summarise(res, reps) };
  }
  if (smallImages > 0 && imageHashes.size === 0) {
    nearDuplicates.image = { skipped: `${smallImages} distinct image(s) smaller than ${MIN_HASH_SIDE}×${MIN_HASH_SIDE} px: a perceptual hash cannot tell near-duplicates from look-alikes at that size (embedding near-duplicates cover them)` };
  } else if (imageHashes.size > 0) {
    progress(0.6, `image near-duplicates (${opts.imageHash ?? 'phash'}) over ${imageHashes.size.toLocaleString('en')} distinct images`);
    const reps = [...imageHashes.keys()];
    const maxDistance = opts.imageMaxDistance ?? 4;
    const res = hammingNearDuplicates(reps.map((r) => imageHashes.get(r)!), maxDistance);
    join(res, reps, opts.imageHash ?? 'phash');
    nearDuplicates.image = { method: `${opts.imageHash ?? 'phash'} (64-bit), multi-index Hamming search`, maxDistance, ...summarise(res, reps), ...(smallImages ? { smallImagesSkipped: smallImages } : {}) };
    const rowOfId = new Map(reps.map((r) => [ids[r], r]));
    nearDuplicates.image.examples = nearDuplicates.image.examples!.map((ex) => ({ ...ex, hashes: ex.itemIds.map((id) => hashHex(imageHashes.get(rowOfId.get(id)!)!)) }));
  }

  // ---- Embeddings: near-duplicates, kNN-distance outliers, coverage. ----
  const embeddings: AuditReport['embeddings'] = { model: null, items: 0, dim: 0, ann: null };
  let embeddingOutliers: AuditReport['embeddingOutliers'];
  let coverage: AuditReport['coverage'];
  const model = opts.model === 'none' ? null : await pickModel(store, project.id, opts.model);
  if (!model) embeddings.skipped = opts.model === 'none' ? 'not asked for (--model none)' : 'no embeddings in this project (run `tessera pretrain` and `tessera embed`)';
  else {
    progress(0.65, `embeddings of model ${model}`);
    const rowIndex = new Map(ids.map((id, r) => [id, r]));
    const withEmb = (await store.db.selectFrom('embeddings').innerJoin('items', 'items.id', 'embeddings.item_id').select('embeddings.item_id').where('embeddings.model_id', '=', model).where('items.project_id', '=', project.id).orderBy('embeddings.item_id').execute()).map((r) => r.item_id);
    // One row per distinct content (duplicates would hide each other's isolation).
    const reps = withEmb.map((id) => rowIndex.get(id)!).filter((r) => r !== undefined && repOf[r] === r && !unusable.has(r));
    const { dim, data } = await readEmbeddings(store.db, model, reps.map((r) => ids[r]));
    embeddings.model = model;
    embeddings.items = reps.length;
    embeddings.dim = dim;
    if (reps.length >= 3 && dim > 0) {
      const backend = opts.ann ?? DEFAULT_ANN;
      embeddings.ann = backend;
      const k = Math.min(opts.k ?? 10, reps.length - 1);
      const index = buildAnnIndex(backend, data, dim, { seed });
      progress(0.75, `kNN (${backend}) over ${reps.length.toLocaleString('en')} embeddings`);
      const knn = selfKnn(index, data, dim, k);
      index.dispose();
      // Near-duplicates: neighbours within the cosine threshold.
      const thr = opts.embeddingThreshold ?? 0.98;
      const pairs: NearDuplicateResult['pairs'] = [];
      const seen = new Set<number>();
      for (let i = 0; i < reps.length; i++)
        for (let j = 0; j < k; j++) {
          const nb = knn.indices[i * k + j];
          const sim = 1 - knn.distances[i * k + j];
          if (nb < 0 || sim < thr) continue;
          const [a, b] = i < nb ? [i, nb] : [nb, i];
          if (seen.has(a * reps.length + b)) continue;
          seen.add(a * reps.length + b);
          pairs.push({ a, b, similarity: Math.min(1, sim) });
        }
      pairs.sort((p, q) => p.a - q.a || p.b - q.b);
      const res: NearDuplicateResult = { pairs, pairCount: pairs.length, truncated: false, clusters: starClusters(reps.length, pairs).clusters, candidates: reps.length * k };
      join(res, reps, `embedding:${model}`);
      const { candidates: _c, ...s } = summarise(res, reps);
      nearDuplicates.embedding = { method: `cosine kNN (k=${k}) through ${backend}`, threshold: thr, ...s };
      // Outliers: mean cosine distance to the k nearest neighbours, high side.
      const score = Float64Array.from({ length: reps.length }, (_, i) => {
        let sum = 0;
        for (let j = 0; j < k; j++) sum += knn.distances[i * k + j];
        return sum / k;
      });
      const out = robustOutliers(score, { zThreshold: zT, side: 'high' });
      embeddingOutliers = {
        k,
        method: out.method === 'robust_z' ? `robust z > ${zT} on mean kNN cosine distance` : 'Tukey far-out fence (MAD = 0)',
        median: round(out.median),
        outliers: out.outliers.length,
        examples: [...out.outliers].sort((a, b) => b.score - a.score).slice(0, nEx).map((o) => ({ itemId: ids[reps[o.index]], knnDistance: round(o.value), z: round(o.score) })),
      };
      for (const o of out.outliers) findings.push({ itemId: ids[reps[o.index]], kind: 'embedding_outlier', action: 'flag', groupKey: null, score: round(o.score), detail: { knnDistance: round(o.value), k, model } });
      progress(0.85, 'coverage clusters');
      coverage = await coverageOf(store, project.id, { ids, reps, data, dim, repOf, label, seed, clusters: opts.clusters, human: opts.coverageLabels === 'human' }, findings);
    }
  }

  // ---- Exclusions: every exact copy after the first; every near-duplicate follower of a kept leader. ----
  allPairs.sort((p, q) => p.a - q.a || p.b - q.b);
  const stars = starClusters(n, allPairs);
  const best = new Map<number, { similarity: number; methods: Set<string> }>(); // follower row → evidence against its leader
  for (const p of allPairs) {
    for (const [x, y] of [[p.a, p.b], [p.b, p.a]]) {
      if (stars.leaderOf[x] !== y || x === y) continue;
      const e = best.get(x) ?? { similarity: 0, methods: new Set<string>() };
      e.similarity = Math.max(e.similarity, p.similarity);
      e.methods.add(p.method);
      best.set(x, e);
    }
  }
  for (let r = 0; r < n; r++) {
    if (repOf[r] !== r) findings.push({ itemId: ids[r], kind: 'exact_duplicate', action: 'exclude', groupKey: sha[r], score: 1, detail: { canonical: ids[repOf[r]] } });
    else if (stars.leaderOf[r] >= 0 && stars.leaderOf[r] !== r) {
      const e = best.get(r)!;
      const leader = stars.leaderOf[r];
      findings.push({ itemId: ids[r], kind: 'near_duplicate', action: 'exclude', groupKey: `near:${ids[leader]}`, score: round(e.similarity), detail: { canonical: ids[leader], methods: [...e.methods].sort() } });
    }
  }

  // ---- Size / length / duration outliers, per modality (log scale for sizes that multiply). ----
  const sizeOutliers: AuditReport['sizeOutliers'] = {};
  for (const m of Object.keys(byModality) as Modality[]) {
    const rows = ids.map((_, r) => r).filter((r) => modality[r] === m && size[r] !== null && !unusable.has(r) && repOf[r] === r);
    if (rows.length < 3) continue;
    const log = m !== 'tabular';
    const values = rows.map((r) => (log ? Math.log1p(size[r]!) : size[r]!));
    const out = robustOutliers(values, { zThreshold: zT, side: m === 'tabular' ? 'high' : 'both' });
    sizeOutliers[m] = {
      metric: SIZE_METRIC[m],
      scale: log ? 'log1p' : 'linear',
      method: out.method === 'robust_z' ? `robust z, |z| > ${zT}` : 'Tukey far-out fences (MAD = 0)',
      median: round(log ? Math.expm1(out.median) : out.median),
      outliers: out.outliers.length,
      examples: [...out.outliers].sort((a, b) => Math.abs(b.score) - Math.abs(a.score)).slice(0, nEx).map((o) => ({ itemId: ids[rows[o.index]], value: round(size[rows[o.index]]!), z: round(o.score) })),
    };
    for (const o of out.outliers) findings.push({ itemId: ids[rows[o.index]], kind: 'size_outlier', action: 'flag', groupKey: null, score: round(o.score), detail: { metric: SIZE_METRIC[m], value: round(size[rows[o.index]]!) } });
  }

  // ---- Class balance (source labels; final labels from review/consensus). ----
  const sourceCounts = new Map<string, number>();
  for (const l of label) if (l !== null) sourceCounts.set(l, (sourceCounts.get(l) ?? 0) + 1);
  const finalCounts = new Map<string, number>();
  for (const r of await store.db.selectFrom('label_items').select('final_labels').where('project_id', '=', project.id).where('final_labels', 'is not', null).execute())
    for (const l of parseJson<string[]>(r.final_labels, [])) finalCounts.set(l, (finalCounts.get(l) ?? 0) + 1);

  const residency = await residencyReport(store.db, project);
  const excluded = new Set(findings.filter((f) => f.action === 'exclude').map((f) => f.itemId));
  const flagged = new Set(findings.filter((f) => f.action === 'flag' && !excluded.has(f.itemId)).map((f) => f.itemId));

  progress(0.95, `storing ${findings.length.toLocaleString('en')} findings`);
  const report: Omit<AuditReport, 'run' | 'seconds'> = {
    project: project.name,
    items: n,
    byModality,
    exactDuplicates: exact,
    nearDuplicates,
    problems,
    sizeOutliers,
    embeddings,
    ...(embeddingOutliers ? { embeddingOutliers } : {}),
    labelConflicts: conflicts,
    classBalance: { source: classBalance(Object.fromEntries(sourceCounts)), final: classBalance(Object.fromEntries(finalCounts)) },
    ...(coverage ? { coverage } : {}),
    pii: pii.result(),
    residency,
    exclusions: { exclude: excluded.size, flag: flagged.size },
  };
  const seconds = round((performance.now() - t0) / 1000);
  const params = { model: opts.model ?? null, ann: opts.ann ?? DEFAULT_ANN, textThreshold: opts.textThreshold ?? 0.8, imageHash: opts.imageHash ?? 'phash', imageMaxDistance: opts.imageMaxDistance ?? 4, embeddingThreshold: opts.embeddingThreshold ?? 0.98, k: opts.k ?? 10, zThreshold: zT, seed };
  const run = await store.db.transaction().execute(async (trx) => {
    const { id } = await trx
      .insertInto('audit_runs')
      .values({ project_id: project.id, job_id: opts.jobId ?? null, params: JSON.stringify(params), summary: '{}', items: n, created_at: nowIso(), created_by: opts.actor })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < findings.length; i += 500) {
      await trx
        .insertInto('audit_findings')
        .values(findings.slice(i, i + 500).map((f) => ({ run_id: id, project_id: project.id, item_id: f.itemId, kind: f.kind, action: f.action, group_key: f.groupKey, score: f.score, detail: JSON.stringify(f.detail) })))
        .execute();
    }
    await trx.updateTable('audit_runs').set({ summary: JSON.stringify({ ...report, run: id, seconds }) }).where('id', '=', id).execute();
    await appendAudit(trx, store.dialect, {
      projectId: project.id,
      actor: opts.actor,
      action: 'audit.run',
      subject: `audit_run:${id}`,
      payload: { items: n, exactDuplicates: exact.redundant, exclude: excluded.size, flag: flagged.size, params },
    });
    return id;
  });
  return { ...report, run, seconds } as AuditReport;
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x);

/** The model whose embeddings to use: the one asked for, else the newest encoder with embeddings in this project. */
async function pickModel(store: Store, projectId: number, asked: number | undefined): Promise<number | null> {
  if (asked !== undefined) {
    await getModel(store.db, projectId, asked);
    return asked;
  }
  for (const m of await listModels(store.db, projectId)) {
    const has = await store.db.selectFrom('embeddings').innerJoin('items', 'items.id', 'embeddings.item_id').select('embeddings.item_id').where('embeddings.model_id', '=', m.id).where('items.project_id', '=', projectId).limit(1).executeTakeFirst();
    if (has) return m.id;
  }
  return null;
}

/**
 * Coverage: k-means (k-means++ seeding, on L2-normalised embeddings, fitted on ≤ 10,000 seeded
 * rows then every row assigned to its nearest centroid) and, per cluster, whether any item in it
 * (or an exact duplicate of one) carries a label. Clusters without one are where labels are
 * missing; every member gets a `coverage_gap` finding.
 */
async function coverageOf(
  store: Store,
  projectId: number,
  c: { ids: number[]; reps: number[]; data: Float32Array; dim: number; repOf: Int32Array; label: Array<string | null>; seed: number; clusters?: number; human: boolean },
  findings: Finding[],
): Promise<AuditReport['coverage']> {
  const n = c.reps.length;
  const k = c.clusters ?? Math.max(2, Math.min(50, Math.round(Math.sqrt(n / 2))));
  const unit = normalizeRows(c.data, c.dim);
  const all = { rows: n, dim: c.dim, data: unit };
  const km = kmeans(n <= 10_000 ? all : selectRows(all, sampleIndices(n, 10_000, mulberry32(c.seed))), k, { seed: c.seed, maxIter: 50 });
  const K = km.centroids.rows;
  const { assignment: assign, dist } = nearestCentroids(all, km.centroids);
  // Labelled content: source labels (unless human only), final labels, gold.
  const labelledIds = new Set<number>();
  const human = await store.db.selectFrom('label_items').select('item_id').where('project_id', '=', projectId).where('final_labels', 'is not', null).execute();
  for (const r of human) labelledIds.add(r.item_id);
  for (const r of await store.db.selectFrom('gold_items').select('item_id').where('project_id', '=', projectId).execute()) labelledIds.add(r.item_id);
  const labelledRep = new Set<number>();
  for (let r = 0; r < c.ids.length; r++) if ((!c.human && c.label[r] !== null) || labelledIds.has(c.ids[r])) labelledRep.add(c.repOf[r]);
  const sizes = new Int32Array(K);
  const covered = new Uint8Array(K);
  const repr = new Int32Array(K).fill(-1);
  for (let i = 0; i < n; i++) {
    const j = assign[i];
    sizes[j]++;
    if (labelledRep.has(c.reps[i])) covered[j] = 1;
    if (repr[j] < 0 || dist[i] < dist[repr[j]]) repr[j] = i;
  }
  const uncovered: NonNullable<AuditReport['coverage']>['uncovered'] = [];
  let uncoveredItems = 0;
  for (let j = 0; j < K; j++) {
    if (covered[j] || sizes[j] === 0) continue;
    uncovered.push({ cluster: j, size: sizes[j], representative: c.ids[c.reps[repr[j]]] });
    uncoveredItems += sizes[j];
  }
  for (let i = 0; i < n; i++) {
    const j = assign[i];
    if (covered[j]) continue;
    findings.push({ itemId: c.ids[c.reps[i]], kind: 'coverage_gap', action: 'info', groupKey: `cluster:${j}`, score: round(Math.sqrt(dist[i])), detail: { cluster: j, size: sizes[j], representative: i === repr[j] } });
  }
  uncovered.sort((a, b) => b.size - a.size);
  return { clusters: K, labelled: labelledRep.size, uncovered, uncoveredItems };
}

/** Guard used by the CLI before queuing an audit. */
export function checkAuditOptions(o: Partial<AuditOptions>): void {
  const unit = (v: number | undefined, name: string) => {
    if (v !== undefined && !(v > 0 && v <= 1)) throw new UserError(`${name} expects a number in (0, 1], got ${v}`);
  };
  unit(o.textThreshold, '--text-threshold');
  unit(o.embeddingThreshold, '--embedding-threshold');
  if (o.imageMaxDistance !== undefined && !(Number.isInteger(o.imageMaxDistance) && o.imageMaxDistance >= 0 && o.imageMaxDistance < 32)) throw new UserError(`--image-distance expects a whole number 0–31, got ${o.imageMaxDistance}`);
}

