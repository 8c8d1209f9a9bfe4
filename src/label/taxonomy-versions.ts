/** Reading a project's taxonomy versions (taxonomies.ts creates them). */
import type { Selectable } from 'kysely';
import { parseJson } from '../core/json.ts';
import type { TaxonomiesTable } from '../store/schema.ts';
import type { Conn } from '../store/tx.ts';
import { ConflictError } from './errors.ts';
import { legacyQuestion, type Question } from './questions.ts';
import { legacyFields, type Taxonomy } from './taxonomy.ts';

const toTaxonomy = (r: Selectable<TaxonomiesTable>): Taxonomy => {
  const questions = r.questions ? parseJson<Question[]>(r.questions, []) : [legacyQuestion(r.kind, parseJson<Taxonomy['labels'] & object>(r.labels, []))];
  return { version: r.version, ...legacyFields(questions), questions, guidelines: r.guidelines, mapping: parseJson(r.mapping, null), createdAt: r.created_at, createdBy: r.created_by };
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
