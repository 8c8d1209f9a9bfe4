import type { Selectable } from 'kysely';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import type { TaxonomiesTable } from '../store/schema.ts';
import { change, record, type Actor } from './context.ts';
import { ConflictError } from './errors.ts';
import { queueReview } from './review.ts';
import { rowsState } from './row-digest.ts';
import { checkTaxonomy, labelNames, mapLabels, touches, type LabelMap, type Taxonomy, type TaxonomyInput } from './taxonomy.ts';
import type { Conn } from './tx.ts';

const toTaxonomy = (r: Selectable<TaxonomiesTable>): Taxonomy => {
  return { version: r.version, kind: r.kind, labels: parseJson<Taxonomy['labels']>(r.labels, []), guidelines: r.guidelines, mapping: parseJson(r.mapping, null), createdAt: r.created_at, createdBy: r.created_by };
};

export async function findTaxonomy(db: Conn, projectId: number, version?: number): Promise<Taxonomy | undefined> {
  let q = db.selectFrom('taxonomies').selectAll().where('project_id', '=', projectId);
  q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
  const r = await q.executeTakeFirst();
  return r && toTaxonomy(r);
}

/** The project's current (latest) taxonomy; labelling cannot start without one. */
export async function currentTaxonomy(db: Conn, projectId: number): Promise<Taxonomy> {
  const t = await findTaxonomy(db, projectId);
  if (!t) throw new ConflictError('this project has no taxonomy yet: create one (POST /api/projects/P/taxonomy, or `tessera taxonomy create`)', 'E_NO_TAXONOMY');
  return t;
}

export async function listTaxonomies(db: Conn, projectId: number): Promise<Taxonomy[]> {
  const rows = await db.selectFrom('taxonomies').selectAll().where('project_id', '=', projectId).orderBy('version').execute();
  return rows.map(toTaxonomy);
}

export interface TaxonomyChange {
  taxonomy: Taxonomy;
  /** Labels of the previous version the mapping changes. */
  touched: string[];
  /** Items sent to review because a touched label was theirs. */
  sentToReview: number;
}

/**
 * Creates the next taxonomy version. With a mapping, every item whose labels a mapping step
 * takes as input goes back to review, in one transaction with the new version:
 * decided items (proposal: the mapped final label; none after a split), items in labelling
 * whose current round already has a touched answer, items already in review whose proposal
 * is touched (proposal re-mapped), and gold items (proposal: the mapped gold label).
 */
export async function createTaxonomy(store: Store, project: Project, actor: Actor, input: TaxonomyInput): Promise<TaxonomyChange> {
  return change(store, project, actor, async (ctx) => {
    const previous = await findTaxonomy(ctx.conn, project.id);
    const checked = checkTaxonomy(input, previous);
    const version = (previous?.version ?? 0) + 1;
    const { kind, labels, guidelines, mapping } = checked.input;
    await ctx.conn
      .insertInto('taxonomies')
      .values({ project_id: project.id, version, kind, labels: JSON.stringify(labels), guidelines, mapping: mapping ? JSON.stringify(mapping) : null, created_at: nowIso(), created_by: actor.name })
      .execute();
    const touched = [...checked.touched];
    await record(ctx, 'taxonomy.create', `taxonomy:${version}`, { version, kind, labels: labelNames({ labels }), mapping, touched, rows: await rowsState(ctx.conn, { taxonomies: [[project.id, version]] }) });
    let sentToReview = 0;
    if (touched.length > 0) {
      const base = { fromVersion: previous!.version, toVersion: version, mapping };
      for (const t of await touchedItems(ctx.conn, project.id, checked.touched, checked.map)) {
        await queueReview(ctx, { itemId: t.itemId, round: t.round, reason: 'taxonomy_change', detail: { ...base, previous: t.previous, state: t.state }, proposal: t.proposal });
        sentToReview++;
      }
    }
    return { taxonomy: (await findTaxonomy(ctx.conn, project.id, version))!, touched, sentToReview };
  });
}

interface Touched {
  itemId: number;
  round: number;
  state: 'decided' | 'labelling' | 'review' | 'gold';
  previous: string[] | null;
  proposal: string[] | null;
}

/** Items a mapping touches, with their state and proposal (also the taxonomy editor's migration preview). */
export async function touchedItems(db: Conn, projectId: number, touched: ReadonlySet<string>, map: LabelMap): Promise<Touched[]> {
  const out: Touched[] = [];
  const states = await db.selectFrom('label_items').select(['item_id', 'round', 'status', 'final_labels']).where('project_id', '=', projectId).where('status', 'in', ['done', 'review', 'open']).orderBy('item_id').execute();
  const openProposals = new Map(
    (await db.selectFrom('review_queue').select(['item_id', 'proposal']).where('project_id', '=', projectId).where('status', '=', 'open').execute()).map((r) => [r.item_id, parseJson<string[] | null>(r.proposal, null)]),
  );
  const roundLabels = new Map<number, string[][]>();
  for (const a of await db
    .selectFrom('annotations')
    .innerJoin('label_items', (j) => j.onRef('label_items.item_id', '=', 'annotations.item_id').onRef('label_items.round', '=', 'annotations.round'))
    .select(['annotations.item_id', 'annotations.labels'])
    .where('label_items.project_id', '=', projectId)
    .where('label_items.status', '=', 'open')
    .where('annotations.skipped', '=', 0)
    .execute()) {
    const list = roundLabels.get(a.item_id) ?? [];
    list.push(parseJson<string[]>(a.labels, []));
    roundLabels.set(a.item_id, list);
  }
  for (const s of states) {
    if (s.status === 'done') {
      const final = parseJson<string[]>(s.final_labels, []);
      if (touches(final, touched)) out.push({ itemId: s.item_id, round: s.round, state: 'decided', previous: final, proposal: mapLabels(final, map) });
    } else if (s.status === 'review') {
      const p = openProposals.get(s.item_id) ?? null;
      if (p && touches(p, touched)) out.push({ itemId: s.item_id, round: s.round, state: 'review', previous: p, proposal: mapLabels(p, map) });
    } else if ((roundLabels.get(s.item_id) ?? []).some((l) => touches(l, touched))) {
      out.push({ itemId: s.item_id, round: s.round, state: 'labelling', previous: null, proposal: null });
    }
  }
  for (const g of await db.selectFrom('gold_items').select(['item_id', 'labels']).where('project_id', '=', projectId).orderBy('item_id').execute()) {
    const labels = parseJson<string[]>(g.labels, []);
    if (touches(labels, touched)) out.push({ itemId: g.item_id, round: 0, state: 'gold', previous: labels, proposal: mapLabels(labels, map) });
  }
  return out;
}
