/**
 * A round's labelling, through the same path as people's: select a batch, let the simulated
 * annotators take tasks (leases, blind overlap, consensus), let the simulated reviewer decide
 * the review queue.
 */
import type { Store } from '../store/db.ts';
import { auditExclusions } from '../audit/exclusions.ts';
import { selectRows } from '../probe/features.ts';
import { STRATEGIES } from '../select/index.ts';
import { headProba, type Head } from '../train/linear-head.ts';
import { userActor } from '../store/context.ts';
import { nextTask, submitTask } from '../label/assignment.ts';
import { heldOutItems } from '../label/eligibility.ts';
import { decideReview, listReviews } from '../label/review.ts';
import type { LoopOptions } from './types.ts';
import type { Setup } from './setup.ts';

export async function selectBatch(store: Store, s: Setup, strategy: string, head: Head | null, labelled: Map<number, unknown>, opts: LoopOptions, round: number): Promise<number[]> {
  // Never bought: the test split, and every item held out from training (evaluation sets too).
  const test = new Set([...s.testIds, ...(await heldOutItems(store.db, s.project.id, 'train'))]);
  const taken = new Set((await store.db.selectFrom('label_items').select('item_id').where('project_id', '=', s.project.id).where('priority', 'is not', null).execute()).map((r) => r.item_id));
  // The latest corpus audit's exclusions (redundant duplicates, empty / corrupt items) are never bought.
  const excluded = new Set((await auditExclusions(store, s.project.id)).exclude);
  const poolIds = s.loaded.itemIds.filter((id) => !test.has(id) && !labelled.has(id) && !taken.has(id) && !excluded.has(id));
  if (poolIds.length === 0) return [];
  // Geometry (cold start, core-set) on the SSL embeddings; BADGE's gradient embeddings on what the head reads.
  const space = strategy === 'badge' ? s.features : s.embeddings;
  const rows = (ids: number[]) => selectRows(space, ids.map((id) => s.row.get(id)!));
  const embeddings = rows(poolIds);
  const labelledEmb = labelled.size ? rows([...labelled.keys()].filter((id) => s.row.has(id))) : undefined;
  const probs = head ? { rows: poolIds.length, classes: s.classes.length, data: headProba(head, selectRows(s.features, poolIds.map((id) => s.row.get(id)!))) } : undefined;
  return STRATEGIES[strategy].fn({ ids: poolIds, embeddings, probs }, opts.batch, { seed: opts.seed + round, labelled: labelledEmb });
}

/** Simulated annotators take turns asking for tasks until none is left for anyone. */
export async function annotate(store: Store, s: Setup): Promise<number> {
  let bought = 0;
  for (let active = true; active; ) {
    active = false;
    for (const a of s.annotators) {
      const task = await nextTask(store, s.project, a.user);
      if (!task) continue;
      active = true;
      const truth = s.truth.get(task.item.id);
      if (truth === undefined) throw new Error(`item ${task.item.id} has no source label to simulate an answer from`);
      await submitTask(store, s.project, a.user, task.id, { labels: [a.sim.answer(task.item.id, truth)], taxonomyVersion: task.taxonomy.version, timeMs: 4000 });
      bought++;
    }
  }
  return bought;
}

/** The simulated expert reviewer accepts a correct proposal and fixes a wrong one. */
export async function review(store: Store, s: Setup): Promise<number> {
  let n = 0;
  for (;;) {
    const open = await listReviews(store.db, s.project.id, { status: 'open', limit: 200 });
    if (open.length === 0) return n;
    for (const e of open) {
      const truth = s.truth.get(e.itemId)!;
      const ok = e.proposal?.length === 1 && e.proposal[0] === truth;
      await decideReview(store, s.project, userActor(s.reviewer), e.id, ok ? { decision: 'accept' } : { decision: 'fix', labels: [truth], note: 'simulated expert review' });
      n++;
    }
  }
}
