import { sha256Hex } from '../core/hash.ts';
import { canonicalJson } from '../core/json.ts';
import type { Conn } from './tx.ts';

/**
 * Row digests: how the audit log vouches for the rows of the labelling tables. An event that
 * creates, changes or removes such a row carries, in its payload's `rows`, the digest of each
 * row as the change left it (null: removed), keyed by table and row key:
 *
 *     "rows": {"annotations": {"812": "<sha256>"}, "label_items": {"77": "<sha256>"}}
 *
 * Replaying the log (audit-replay.ts) then gives the digest every row must have now; a row
 * edited, deleted or inserted in the database directly differs from it. The digest covers the
 * table name, the key and the columns below (all of them, except bookkeeping that changes
 * without an event: label_items.priority and updated_at).
 */
export const GOVERNED_TABLES = ['taxonomies', 'memberships', 'annotations', 'reviews', 'label_items'] as const;
export type GovernedTable = (typeof GOVERNED_TABLES)[number];

export const TABLE_SPEC: Record<GovernedTable, { key: readonly string[]; columns: readonly string[] }> = {
  taxonomies: { key: ['project_id', 'version'], columns: ['kind', 'labels', 'guidelines', 'mapping', 'created_at', 'created_by'] },
  memberships: { key: ['project_id', 'user_id'], columns: ['role'] },
  annotations: {
    key: ['id'],
    columns: ['project_id', 'item_id', 'user_id', 'round', 'assignment_id', 'taxonomy_version', 'labels', 'time_ms', 'suggestion', 'suggestion_accepted', 'skipped', 'skip_reason', 'question', 'comment', 'created_at'],
  },
  reviews: { key: ['id'], columns: ['project_id', 'item_id', 'reviewer_id', 'decision', 'labels', 'note', 'created_at'] },
  label_items: { key: ['item_id'], columns: ['project_id', 'round', 'status', 'final_labels', 'final_source', 'final_confidence', 'final_taxonomy_version', 'final_provenance', 'decided_at'] },
};

type Row = Record<string, unknown>;

/** A column value as both drivers agree on it (PostgreSQL may hand back a bigint). */
const norm = (v: unknown) => (v === undefined || v === null ? null : typeof v === 'bigint' ? Number(v) : v);

/** The key of a row as `rows` writes it: the key columns joined by "/". */
export const rowKey = (table: GovernedTable, row: Row) => TABLE_SPEC[table].key.map((c) => String(norm(row[c]))).join('/');

export function rowDigest(table: GovernedTable, row: Row): string {
  const s = TABLE_SPEC[table];
  return sha256Hex(canonicalJson([table, ...s.key.map((c) => norm(row[c])), ...s.columns.map((c) => norm(row[c]))]));
}

/** Rows a change touched: ids for single-key tables, [project, version|user] for the others. */
export type RowRefs = Partial<Record<GovernedTable, ReadonlyArray<number | readonly [number, number]>>>;
export type RowsState = Partial<Record<GovernedTable, Record<string, string | null>>>;

const CHUNK = 500;

/**
 * The `rows` of an event: each touched row read back (inside the change's transaction, after
 * the change) and digested — so the digest is made by the same code, from the same driver's
 * values, as the verifier's. A row that is gone gets null.
 */
export async function rowsState(conn: Conn, refs: RowRefs): Promise<RowsState> {
  const out: RowsState = {};
  for (const table of GOVERNED_TABLES) {
    const list = refs[table];
    if (!list || list.length === 0) continue;
    const found = new Map<string, string>();
    const spec = TABLE_SPEC[table];
    if (spec.key.length === 1) {
      const ids = [...new Set(list as readonly number[])];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = (await conn
          .selectFrom(table)
          .selectAll()
          .where(spec.key[0] as never, 'in', ids.slice(i, i + CHUNK) as never)
          .execute()) as Row[];
        for (const r of rows) found.set(rowKey(table, r), rowDigest(table, r));
      }
    } else {
      for (const [a, b] of list as ReadonlyArray<readonly [number, number]>) {
        const r = (await conn
          .selectFrom(table)
          .selectAll()
          .where(spec.key[0] as never, '=', a as never)
          .where(spec.key[1] as never, '=', b as never)
          .executeTakeFirst()) as Row | undefined;
        if (r) found.set(rowKey(table, r), rowDigest(table, r));
      }
    }
    const entries: Record<string, string | null> = {};
    for (const ref of list) {
      const key = typeof ref === 'number' ? String(ref) : `${ref[0]}/${ref[1]}`;
      entries[key] = found.get(key) ?? null;
    }
    out[table] = entries;
  }
  return out;
}
