import { starClusters, type NearDuplicatePair, type NearDuplicateResult } from './minhash.ts';
import { round, type AuditReport, type Finding } from './report.ts';
import type { ItemScan } from './scan.ts';

/**
 * Duplicates in the audit, over the rows of one item scan: exact copies (same content hash),
 * conflicting source labels on identical content, the near-duplicate summaries of every method,
 * and which items to exclude (every copy after the first, every near-duplicate follower).
 */

export interface ExactDuplicates {
  exact: AuditReport['exactDuplicates'];
  conflicts: AuditReport['labelConflicts'];
  /** Row → representative row (the first of its content group). */
  repOf: Int32Array;
}

/** Exact duplicates and conflicting source labels on identical content; label conflicts are added to `findings`. */
export function exactDuplicates(scan: Pick<ItemScan, 'ids' | 'label' | 'groups'>, nEx: number, findings: Finding[]): ExactDuplicates {
  const { ids, label } = scan;
  const exact: AuditReport['exactDuplicates'] = { groups: 0, items: 0, redundant: 0, examples: [] };
  const conflicts: AuditReport['labelConflicts'] = { groups: 0, items: 0, examples: [] };
  const repOf = new Int32Array(ids.length);
  for (const [key, rows] of scan.groups) {
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
  return { exact, conflicts, repOf };
}

export type MethodPair = NearDuplicatePair & { method: string };

/**
 * Gathers every near-duplicate method's pairs into one list (in scan rows), from results computed
 * on one representative row per distinct content, and summarises each method's clusters.
 */
export class NearDuplicatePairs {
  readonly pairs: MethodPair[] = [];

  constructor(
    private readonly ids: number[],
    private readonly nEx: number,
  ) {}

  /** Adds a method's pairs; `reps[i]` is the scan row of the method's row i. */
  add(res: NearDuplicateResult, reps: number[], method: string): void {
    for (const p of res.pairs) this.pairs.push({ a: reps[p.a], b: reps[p.b], similarity: p.similarity, method });
  }

  summarise(res: NearDuplicateResult, reps: number[]) {
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
        .slice(0, this.nEx)
        .map((c) => ({ size: c.length, itemIds: c.slice(0, 50).map((i) => this.ids[reps[i]]), similarity: round(bestInCluster(c)) })),
    };
  }
}

/**
 * Exclusions: every exact copy after the first, and every near-duplicate follower of a kept
 * leader (star clustering of the union of every method's pairs), added to `findings` in row order.
 */
export function duplicateExclusions(scan: Pick<ItemScan, 'ids' | 'sha'>, repOf: Int32Array, allPairs: MethodPair[], findings: Finding[]): void {
  const { ids, sha } = scan;
  const n = ids.length;
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
    if (repOf[r] !== r) {
      findings.push({ itemId: ids[r], kind: 'exact_duplicate', action: 'exclude', groupKey: sha[r], score: 1, detail: { canonical: ids[repOf[r]] } });
    } else if (stars.leaderOf[r] >= 0 && stars.leaderOf[r] !== r) {
      const e = best.get(r)!;
      const leader = stars.leaderOf[r];
      const detail = { canonical: ids[leader], methods: [...e.methods].sort() };
      findings.push({ itemId: ids[r], kind: 'near_duplicate', action: 'exclude', groupKey: `near:${ids[leader]}`, score: round(e.similarity), detail });
    }
  }
}
