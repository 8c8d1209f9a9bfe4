import { mulberry32, sampleIndices } from '../core/rng.ts';
import type { Store } from '../store/db.ts';
import { kmeans, nearestCentroids } from '../select/kmeans.ts';
import { selectRows } from '../probe/features.ts';
import { normalizeRows } from './ann.ts';
import { round, type AuditReport, type Finding } from './report.ts';

/**
 * Coverage: k-means (k-means++ seeding, on L2-normalised embeddings, fitted on ≤ 10,000 seeded
 * rows then every row assigned to its nearest centroid) and, per cluster, whether any item in it
 * (or an exact duplicate of one) carries a label. Clusters without one are where labels are
 * missing; every member gets a `coverage_gap` finding.
 */
export async function coverageOf(
  store: Store,
  projectId: number,
  c: {
    ids: number[];
    reps: number[];
    data: Float32Array;
    dim: number;
    repOf: Int32Array;
    label: Array<string | null>;
    seed: number;
    clusters?: number;
    human: boolean;
  },
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
    const detail = { cluster: j, size: sizes[j], representative: i === repr[j] };
    findings.push({ itemId: c.ids[c.reps[i]], kind: 'coverage_gap', action: 'info', groupKey: `cluster:${j}`, score: round(Math.sqrt(dist[i])), detail });
  }
  uncovered.sort((a, b) => b.size - a.size);
  return { clusters: K, labelled: labelledRep.size, uncovered, uncoveredItems };
}
