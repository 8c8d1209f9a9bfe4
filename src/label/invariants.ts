import { sql, type RawBuilder } from 'kysely';
import { nowIso } from '../core/json.ts';
import { getLabelSettings } from './settings.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Assignment invariants, checked in the store after concurrent labelling (the load bench,
 * bench/load-annotators.ts, and test/label/load-invariants.test.ts):
 *
 * - never twice: no annotator was served the same item twice in one round (`sameRound`), and —
 *   when no item was reopened by a reviewer — not at all (`servedTwice`);
 * - overlap: no item holds more than `overlap` live assignments (submitted, or leased and not
 *   expired) or more than `overlap` submitted answers in one round;
 * - nothing lost: every acknowledged submit (a 201 with its annotation id) is stored exactly
 *   once, for that annotator, item and task; no task carries two annotations.
 */
export interface Ack {
  annotationId: number;
  taskId: number;
  itemId: number;
  userId: number;
}

export interface InvariantReport {
  overlap: number;
  assignments: number;
  annotations: number;
  /** (item, user) pairs served more than once, any round. */
  servedTwice: Array<{ itemId: number; userId: number; n: number }>;
  /** (item, user, round) served more than once (the unique key should make this impossible). */
  sameRound: Array<{ itemId: number; userId: number; round: number; n: number }>;
  /** (item, round) with more live assignments than the overlap. */
  overLiveOverlap: Array<{ itemId: number; round: number; n: number }>;
  /** (item, round) with more submitted answers than the overlap. */
  overAnswered: Array<{ itemId: number; round: number; n: number }>;
  /** Acknowledged annotations missing, or stored with another user, item or task. */
  lost: Ack[];
  /** Annotation ids acknowledged more than once. */
  ackedTwice: number[];
  /** Tasks (assignments) with more than one annotation. */
  taskAnsweredTwice: Array<{ taskId: number; n: number }>;
  /** Stored answers nobody was told about (a response lost in flight): informational, not a violation. */
  unacknowledged: number;
  /** Total violations (everything above except `unacknowledged`). */
  violations: number;
}

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v);

export async function checkAssignmentInvariants(db: Conn, projectId: number, acks: readonly Ack[]): Promise<InvariantReport> {
  const { overlap } = await getLabelSettings(db, projectId);
  const now = nowIso();
  const rows = async (q: RawBuilder<unknown>) => (await q.execute(db)).rows as Row[];
  const servedTwice = (
    await rows(sql`SELECT item_id, user_id, COUNT(*) AS n FROM assignments WHERE project_id = ${projectId} GROUP BY item_id, user_id HAVING COUNT(*) > 1 ORDER BY item_id, user_id`)
  ).map((r) => ({ itemId: num(r.item_id), userId: num(r.user_id), n: num(r.n) }));
  const sameRound = (
    await rows(sql`SELECT item_id, user_id, round, COUNT(*) AS n FROM assignments WHERE project_id = ${projectId} GROUP BY item_id, user_id, round HAVING COUNT(*) > 1 ORDER BY item_id, user_id`)
  ).map((r) => ({ itemId: num(r.item_id), userId: num(r.user_id), round: num(r.round), n: num(r.n) }));
  const overLiveOverlap = (
    await rows(sql`SELECT item_id, round, COUNT(*) AS n FROM assignments
      WHERE project_id = ${projectId} AND gold = 0 AND (status = 'submitted' OR (status = 'leased' AND expires_at > ${now}))
      GROUP BY item_id, round HAVING COUNT(*) > ${overlap} ORDER BY item_id`)
  ).map((r) => ({ itemId: num(r.item_id), round: num(r.round), n: num(r.n) }));
  const overAnswered = (
    await rows(sql`SELECT a.item_id, a.round, COUNT(*) AS n FROM annotations a
      WHERE a.project_id = ${projectId} AND a.skipped = 0 AND NOT EXISTS (SELECT 1 FROM gold_items g WHERE g.item_id = a.item_id)
      GROUP BY a.item_id, a.round HAVING COUNT(*) > ${overlap} ORDER BY a.item_id`)
  ).map((r) => ({ itemId: num(r.item_id), round: num(r.round), n: num(r.n) }));
  const taskAnsweredTwice = (
    await rows(sql`SELECT assignment_id, COUNT(*) AS n FROM annotations WHERE project_id = ${projectId} AND assignment_id IS NOT NULL GROUP BY assignment_id HAVING COUNT(*) > 1`)
  ).map((r) => ({ taskId: num(r.assignment_id), n: num(r.n) }));

  const stored = new Map<number, { item: number; user: number; task: number | null }>();
  for (const r of await rows(sql`SELECT id, item_id, user_id, assignment_id FROM annotations WHERE project_id = ${projectId}`)) {
    stored.set(num(r.id), { item: num(r.item_id), user: num(r.user_id), task: r.assignment_id === null ? null : num(r.assignment_id) });
  }
  const seen = new Set<number>();
  const ackedTwice: number[] = [];
  const lost: Ack[] = [];
  for (const a of acks) {
    if (seen.has(a.annotationId)) ackedTwice.push(a.annotationId);
    seen.add(a.annotationId);
    const s = stored.get(a.annotationId);
    if (!s || s.item !== a.itemId || s.user !== a.userId || s.task !== a.taskId) lost.push(a);
  }
  const assignments = num(((await rows(sql`SELECT COUNT(*) AS n FROM assignments WHERE project_id = ${projectId}`))[0] ?? {}).n);
  const violations = servedTwice.length + sameRound.length + overLiveOverlap.length + overAnswered.length + lost.length + ackedTwice.length + taskAnsweredTwice.length;
  return {
    overlap,
    assignments,
    annotations: stored.size,
    servedTwice,
    sameRound,
    overLiveOverlap,
    overAnswered,
    lost,
    ackedTwice,
    taskAnsweredTwice,
    unacknowledged: [...stored.keys()].filter((id) => !seen.has(id)).length,
    violations,
  };
}
