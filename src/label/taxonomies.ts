import { own } from '../core/dict.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor } from '../store/context.ts';
import { answerLabels, classQuestion, isClassKind, isLegacy, mapAnswer, storedAnswers, type AnswerValue, type Answers } from './questions.ts';
import { queueReview } from './review.ts';
import { findTaxonomy } from './taxonomy-versions.ts';
// The reads live apart so review.ts can use them without importing the writer (which queues reviews).
export { currentTaxonomy, findTaxonomy, listTaxonomies } from './taxonomy-versions.ts';
import { rowsState } from './row-digest.ts';
import { checkTaxonomy, labelNames, mapLabels, touches, type CheckedTaxonomy, type Taxonomy, type TaxonomyInput } from './taxonomy.ts';
import type { Conn } from '../store/tx.ts';
import { dict } from '../core/dict.ts';

export interface TaxonomyChange {
  taxonomy: Taxonomy;
  /** Labels of the previous version the mapping changes (the single/multi question's). */
  touched: string[];
  /** Per question (only when the taxonomy has more than one legacy question). */
  touchedByQuestion?: Record<string, string[]>;
  /** Items sent to review because a touched label was theirs. */
  sentToReview: number;
}

/**
 * Creates the next taxonomy version. With a mapping, every item whose answers use a label a
 * mapping step takes as input goes back to review, in one transaction with the new version:
 * decided items (proposal: the mapped final answers; none for a question whose label was split),
 * items in labelling whose current round already has a touched answer, items already in review
 * whose proposal is touched (proposal re-mapped), and gold items (proposal: the mapped gold label).
 * Spans, boxes and segments carry their labels through renames and merges like classes do.
 */
export async function createTaxonomy(store: Store, project: Project, actor: Actor, input: TaxonomyInput): Promise<TaxonomyChange> {
  return change(store, project, actor, async (ctx) => {
    const previous = await findTaxonomy(ctx.conn, project.id);
    const checked = checkTaxonomy(input, previous);
    const version = (previous?.version ?? 0) + 1;
    const { questions, guidelines, mapping } = checked.input;
    const legacy = isLegacy({ questions });
    const cls = classQuestion({ questions });
    await ctx.conn
      .insertInto('taxonomies')
      .values({
        project_id: project.id,
        version,
        // Readers before migration 013 see the class question (or, without one, the first question's kind and no labels).
        kind: (cls?.kind ?? questions[0].kind) as 'single' | 'multi',
        labels: JSON.stringify(cls?.labels ?? []),
        questions: legacy ? null : JSON.stringify(questions),
        guidelines,
        mapping: mapping ? JSON.stringify(mapping) : null,
        created_at: nowIso(),
        created_by: actor.name,
      })
      .execute();
    const touched = [...checked.touched];
    const touchedByQuestion = Object.fromEntries([...checked.touchedBy].map(([q, s]) => [q, [...s]]));
    await record(ctx, 'taxonomy.create', `taxonomy:${version}`, {
      version,
      ...(cls ? { kind: cls.kind, labels: labelNames(cls) } : {}),
      ...(legacy ? {} : { questions }),
      mapping,
      touched,
      ...(legacy ? {} : { touchedByQuestion }),
      rows: await rowsState(ctx.conn, { taxonomies: [[project.id, version]] }),
    });
    let sentToReview = 0;
    if ([...checked.touchedBy.values()].some((s) => s.size > 0)) {
      const base = { fromVersion: previous!.version, toVersion: version, mapping };
      for (const t of await touchedItems(ctx.conn, project.id, checked)) {
        await queueReview(ctx, {
          itemId: t.itemId,
          round: t.round,
          reason: 'taxonomy_change',
          detail: { ...base, previous: t.previous, state: t.state, ...(t.previousAnswers ? { previousAnswers: t.previousAnswers } : {}) },
          proposal: t.proposal,
          ...(t.proposalAnswers !== undefined ? { proposalAnswers: t.proposalAnswers } : {}),
        });
        sentToReview++;
      }
    }
    const taxonomy = (await findTaxonomy(ctx.conn, project.id, version))!;
    return { taxonomy, touched, ...(legacy ? {} : { touchedByQuestion }), sentToReview };
  });
}

export interface Touched {
  itemId: number;
  round: number;
  state: 'decided' | 'labelling' | 'review' | 'gold';
  /** The class question's labels before, and mapped (null: a split, a person chooses). */
  previous: string[] | null;
  proposal: string[] | null;
  /** Every question's answers before and mapped (taxonomies beyond one legacy question); a question that cannot be mapped is left out. */
  previousAnswers?: Answers | null;
  proposalAnswers?: Answers | null;
}

/** Items a mapping touches, with their state and proposal (also the taxonomy editor's migration preview). */
export async function touchedItems(db: Conn, projectId: number, checked: Pick<CheckedTaxonomy, 'input' | 'touched' | 'map' | 'touchedBy' | 'maps'>): Promise<Touched[]> {
  const questions = checked.input.questions;
  const legacy = isLegacy({ questions });
  const cls = classQuestion({ questions });
  const byName = new Map(questions.map((q) => [q.name, q]));
  /** Whether answers use a touched label of any question. */
  const touchesAnswers = (a: Answers) =>
    [...checked.touchedBy].some(([name, set]) => {
      const q = byName.get(name);
      return q !== undefined && !isClassKind(q.kind) && set.size > 0 && answerLabels(q, own(a, name)).some((l) => set.has(l));
    });
  /** Answers carried through the mapping; a question whose labels were split is left out. */
  const mapAll = (a: Answers): Answers => {
    const out = dict<AnswerValue>();
    for (const k of Object.keys(a)) {
      const q = byName.get(k);
      const m = checked.maps.get(k);
      if (!q || !m) {
        out[k] = a[k];
        continue;
      }
      const v = mapAnswer(q, a[k], m);
      if (v !== null) out[k] = v;
    }
    return out;
  };
  const withAnswers = (t: Touched, before: Answers | null): Touched => (legacy ? t : { ...t, previousAnswers: before, proposalAnswers: before ? mapAll(before) : null });

  const out: Touched[] = [];
  const states = await db.selectFrom('label_items').select(['item_id', 'round', 'status', 'final_labels', 'final_answers']).where('project_id', '=', projectId).where('status', 'in', ['done', 'review', 'open']).orderBy('item_id').execute();
  const openProposals = new Map(
    (await db.selectFrom('review_queue').select(['item_id', 'proposal', 'proposal_answers']).where('project_id', '=', projectId).where('status', '=', 'open').execute()).map((r) => [
      r.item_id,
      { labels: parseJson<string[] | null>(r.proposal, null), answers: r.proposal_answers ? storedAnswers(r.proposal_answers, parseJson<string[] | null>(r.proposal, null), cls?.name) : null },
    ]),
  );
  const roundTouched = new Set<number>();
  for (const a of await db
    .selectFrom('annotations')
    .innerJoin('label_items', (j) => j.onRef('label_items.item_id', '=', 'annotations.item_id').onRef('label_items.round', '=', 'annotations.round'))
    .select(['annotations.item_id', 'annotations.labels', 'annotations.answers'])
    .where('label_items.project_id', '=', projectId)
    .where('label_items.status', '=', 'open')
    .where('annotations.skipped', '=', 0)
    .execute()) {
    const labels = parseJson<string[]>(a.labels, []);
    if (touches(labels, checked.touched) || (!legacy && touchesAnswers(storedAnswers(a.answers, labels, cls?.name)))) roundTouched.add(a.item_id);
  }
  for (const s of states) {
    if (s.status === 'done') {
      const final = parseJson<string[]>(s.final_labels, []);
      const answers = legacy ? null : storedAnswers(s.final_answers, cls ? final : null, cls?.name);
      if (touches(final, checked.touched) || (answers && touchesAnswers(answers))) out.push(withAnswers({ itemId: s.item_id, round: s.round, state: 'decided', previous: cls ? final : null, proposal: cls ? mapLabels(final, checked.map) : null }, answers));
    } else if (s.status === 'review') {
      const p = openProposals.get(s.item_id);
      if (!p) continue;
      if ((p.labels && touches(p.labels, checked.touched)) || (p.answers && !legacy && touchesAnswers(p.answers))) {
        out.push(withAnswers({ itemId: s.item_id, round: s.round, state: 'review', previous: p.labels, proposal: p.labels && mapLabels(p.labels, checked.map) }, p.answers));
      }
    } else if (roundTouched.has(s.item_id)) {
      out.push(withAnswers({ itemId: s.item_id, round: s.round, state: 'labelling', previous: null, proposal: null }, null));
    }
  }
  for (const g of await db.selectFrom('gold_items').select(['item_id', 'labels']).where('project_id', '=', projectId).orderBy('item_id').execute()) {
    const labels = parseJson<string[]>(g.labels, []);
    if (touches(labels, checked.touched)) out.push({ itemId: g.item_id, round: 0, state: 'gold', previous: labels, proposal: mapLabels(labels, checked.map) });
  }
  return out;
}
