import { CancelledError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Modality } from '../core/modality.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { getProject } from '../store/projects.ts';
import { DEFAULT_ANN } from './ann.ts';
import { classBalance } from './balance.ts';
import { SIZE_METRIC } from './content.ts';
import { duplicateExclusions, exactDuplicates, NearDuplicatePairs } from './duplicates.ts';
import { embeddingChecks } from './embedding-checks.ts';
import { minhashFromShingles } from './minhash.ts';
import { hammingNearDuplicates, hashHex, MIN_HASH_SIDE } from './phash.ts';
import { robustOutliers } from './outliers.ts';
import { residencyReport } from './residency.ts';
import { round, type AuditOptions, type AuditReport } from './report.ts';
import { scanItems, type ItemScan } from './scan.ts';

export type { AuditHooks, AuditOptions, AuditReport } from './report.ts';
import type { AuditHooks } from './report.ts';

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

  // One pass over every item: content checks, hashes, shingles, sizes, PII.
  const scan = await scanItems(store, project.id, opts, nEx, progress);
  const { ids, label, byModality, findings, problems, pii } = scan;
  const n = ids.length;

  // Exact duplicates and conflicting source labels on identical content.
  const { exact, conflicts, repOf } = exactDuplicates(scan, nEx, findings);

  // Near-duplicates, per method, on one row per distinct content. Every method's pairs go into one
  // list; star clustering of that union decides the exclusions below.
  const near = new NearDuplicatePairs(ids, nEx);
  const nearDuplicates = textAndImageNearDuplicates(scan, opts, near, seed, progress);

  // Embeddings: near-duplicates, kNN-distance outliers, coverage.
  const checked = await embeddingChecks(store, opts, { projectId: project.id, scan, repOf, near, nEx, zT, seed, progress });
  const { embeddings, embeddingOutliers, coverage } = checked;
  if (checked.nearDuplicates) nearDuplicates.embedding = checked.nearDuplicates;

  // Exclusions: every exact copy after the first; every near-duplicate follower of a kept leader.
  duplicateExclusions(scan, repOf, near.pairs, findings);

  const sizeOutliers = sizeOutliersOf(scan, repOf, zT, nEx);

  // Class balance (source labels; final labels from review/consensus).
  const sourceCounts = new Map<string, number>();
  for (const l of label) if (l !== null) sourceCounts.set(l, (sourceCounts.get(l) ?? 0) + 1);
  const finalCounts = new Map<string, number>();
  const finals = store.db.selectFrom('label_items').select('final_labels').where('project_id', '=', project.id).where('final_labels', 'is not', null);
  for (const r of await finals.execute()) for (const l of parseJson<string[]>(r.final_labels, [])) finalCounts.set(l, (finalCounts.get(l) ?? 0) + 1);

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
  const params = {
    model: opts.model ?? null,
    ann: opts.ann ?? DEFAULT_ANN,
    textThreshold: opts.textThreshold ?? 0.8,
    imageHash: opts.imageHash ?? 'phash',
    imageMaxDistance: opts.imageMaxDistance ?? 4,
    embeddingThreshold: opts.embeddingThreshold ?? 0.98,
    k: opts.k ?? 10,
    zThreshold: zT,
    seed,
  };
  const run = await store.db.transaction().execute(async (trx) => {
    const { id } = await trx
      .insertInto('audit_runs')
      .values({
        project_id: project.id,
        job_id: opts.jobId ?? null,
        params: JSON.stringify(params),
        summary: '{}',
        items: n,
        created_at: nowIso(),
        created_by: opts.actor,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < findings.length; i += 500) {
      await trx
        .insertInto('audit_findings')
        .values(
          findings.slice(i, i + 500).map((f) => ({
            run_id: id,
            project_id: project.id,
            item_id: f.itemId,
            kind: f.kind,
            action: f.action,
            group_key: f.groupKey,
            score: f.score,
            detail: JSON.stringify(f.detail),
          })),
        )
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

/** Text (MinHash + LSH) and image (perceptual hash) near-duplicates, once per distinct content; their pairs go to `near`. */
function textAndImageNearDuplicates(
  scan: ItemScan,
  opts: AuditOptions,
  near: NearDuplicatePairs,
  seed: number,
  progress: (fraction: number | null, message: string) => void,
): AuditReport['nearDuplicates'] {
  const { ids, textShingles, imageHashes, smallImages } = scan;
  const nearDuplicates: AuditReport['nearDuplicates'] = {};
  if (textShingles.size > 0) {
    progress(0.55, `text near-duplicates (MinHash + LSH) over ${textShingles.size.toLocaleString('en')} distinct texts`);
    const reps = [...textShingles.keys()];
    const threshold = opts.textThreshold ?? 0.8;
    const res = minhashFromShingles(reps.map((r) => textShingles.get(r)!), { threshold, seed });
    textShingles.clear();
    near.add(res, reps, 'minhash');
    nearDuplicates.text = { method: 'minhash-lsh (char 5-grams, 24 bands × 5 rows)', threshold, ...near.summarise(res, reps) };
  }
  if (smallImages > 0 && imageHashes.size === 0) {
    nearDuplicates.image = {
      skipped:
        `${smallImages} distinct image(s) smaller than ${MIN_HASH_SIDE}×${MIN_HASH_SIDE} px: ` +
        'a perceptual hash cannot tell near-duplicates from look-alikes at that size (embedding near-duplicates cover them)',
    };
  } else if (imageHashes.size > 0) {
    progress(0.6, `image near-duplicates (${opts.imageHash ?? 'phash'}) over ${imageHashes.size.toLocaleString('en')} distinct images`);
    const reps = [...imageHashes.keys()];
    const maxDistance = opts.imageMaxDistance ?? 4;
    const res = hammingNearDuplicates(reps.map((r) => imageHashes.get(r)!), maxDistance);
    near.add(res, reps, opts.imageHash ?? 'phash');
    nearDuplicates.image = {
      method: `${opts.imageHash ?? 'phash'} (64-bit), multi-index Hamming search`,
      maxDistance,
      ...near.summarise(res, reps),
      ...(smallImages ? { smallImagesSkipped: smallImages } : {}),
    };
    const rowOfId = new Map(reps.map((r) => [ids[r], r]));
    const hashOf = (id: number) => hashHex(imageHashes.get(rowOfId.get(id)!)!);
    nearDuplicates.image.examples = nearDuplicates.image.examples!.map((ex) => ({ ...ex, hashes: ex.itemIds.map(hashOf) }));
  }
  return nearDuplicates;
}

/** Size / length / duration outliers, per modality (log scale for sizes that multiply); added to the scan's findings. */
function sizeOutliersOf(scan: ItemScan, repOf: Int32Array, zT: number, nEx: number): AuditReport['sizeOutliers'] {
  const { ids, modality, size, unusable, findings } = scan;
  const sizeOutliers: AuditReport['sizeOutliers'] = {};
  for (const m of Object.keys(scan.byModality) as Modality[]) {
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
      examples: [...out.outliers]
        .sort((a, b) => Math.abs(b.score) - Math.abs(a.score))
        .slice(0, nEx)
        .map((o) => ({ itemId: ids[rows[o.index]], value: round(size[rows[o.index]]!), z: round(o.score) })),
    };
    for (const o of out.outliers) {
      const detail = { metric: SIZE_METRIC[m], value: round(size[rows[o.index]]!) };
      findings.push({ itemId: ids[rows[o.index]], kind: 'size_outlier', action: 'flag', groupKey: null, score: round(o.score), detail });
    }
  }
  return sizeOutliers;
}

/** Guard used by the CLI before queuing an audit. */
export function checkAuditOptions(o: Partial<AuditOptions>): void {
  const unit = (v: number | undefined, name: string) => {
    if (v !== undefined && !(v > 0 && v <= 1)) throw new UserError(`${name} expects a number in (0, 1], got ${v}`);
  };
  unit(o.textThreshold, '--text-threshold');
  unit(o.embeddingThreshold, '--embedding-threshold');
  if (o.imageMaxDistance !== undefined && !(Number.isInteger(o.imageMaxDistance) && o.imageMaxDistance >= 0 && o.imageMaxDistance < 32)) {
    throw new UserError(`--image-distance expects a whole number 0–31, got ${o.imageMaxDistance}`);
  }
}
