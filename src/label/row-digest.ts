import { sha256Hex } from '../core/hash.ts';
import { canonicalJson } from '../core/json.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Row digests: how the audit log vouches for the rows of the labelling tables. An event that
 * creates, changes or removes such a row carries, in its payload's `rows`, the digest of each
 * row as the change left it (null: removed), keyed by table and row key:
 *
 *     "rows": {"v": 1, "annotations": {"812": "<sha256>"}, "label_items": {"77": "<sha256>"}}
 *
 * Replaying the log (audit-replay.ts) then gives the digest every row must have now; a row
 * edited, deleted or inserted in the database directly differs from it. The digest covers the
 * table name, the key and the columns below (all of them, except bookkeeping that changes
 * without an event: label_items.priority and updated_at).
 *
 * `rows.v` names the column lists the digests were made with (DIGEST_COLUMNS). A migration that
 * adds a column to one of these tables adds a new version with it, so events written before
 * keep verifying against the columns they covered.
 */
export const GOVERNED_TABLES = ['taxonomies', 'memberships', 'annotations', 'reviews', 'label_items'] as const;
export type GovernedTable = (typeof GOVERNED_TABLES)[number];

/** Each table's key columns. */
export const TABLE_KEY: Record<GovernedTable, readonly string[]> = {
  taxonomies: ['project_id', 'version'],
  memberships: ['project_id', 'user_id'],
  annotations: ['id'],
  reviews: ['id'],
  label_items: ['item_id'],
};

/** The columns a digest covers, per digest version (`rows.v`). */
export const DIGEST_COLUMNS: Record<number, Record<GovernedTable, readonly string[]>> = {
  1: {
    taxonomies: ['kind', 'labels', 'guidelines', 'mapping', 'created_at', 'created_by'],
    memberships: ['role'],
    // `blind` arrives with the solo-labelling migration; a store without the column digests it as null.
    annotations: ['project_id', 'item_id', 'user_id', 'round', 'assignment_id', 'taxonomy_version', 'labels', 'time_ms', 'suggestion', 'suggestion_accepted', 'skipped', 'skip_reason', 'question', 'comment', 'created_at', 'blind'],
    reviews: ['project_id', 'item_id', 'reviewer_id', 'decision', 'labels', 'note', 'created_at'],
    label_items: ['project_id', 'round', 'status', 'final_labels', 'final_source', 'final_confidence', 'final_taxonomy_version', 'final_provenance', 'decided_at'],
  },
  // Migration 012 (questions of several kinds): every question's answers beside the labels.
  2: {
    taxonomies: ['kind', 'labels', 'questions', 'guidelines', 'mapping', 'created_at', 'created_by'],
    memberships: ['role'],
    annotations: ['project_id', 'item_id', 'user_id', 'round', 'assignment_id', 'taxonomy_version', 'labels', 'answers', 'time_ms', 'suggestion', 'suggestion_accepted', 'skipped', 'skip_reason', 'question', 'comment', 'created_at', 'blind'],
    reviews: ['project_id', 'item_id', 'reviewer_id', 'decision', 'labels', 'answers', 'note', 'created_at'],
    label_items: ['project_id', 'round', 'status', 'final_labels', 'final_answers', 'final_source', 'final_confidence', 'final_taxonomy_version', 'final_provenance', 'decided_at'],
  },
};

/** The version writers use now. */
export const DIGEST_VERSION = 2;

type Row = Record<string, unknown>;

/** A column value as both drivers agree on it (PostgreSQL may hand back a bigint). */
const norm = (v: unknown) => (v === undefined || v === null ? null : typeof v === 'bigint' ? Number(v) : v);

/** The key of a row as `rows` writes it: the key columns joined by "/". */
export const rowKey = (table: GovernedTable, row: Row) => TABLE_KEY[table].map((c) => String(norm(row[c]))).join('/');

export function rowDigest(table: GovernedTable, row: Row, version = DIGEST_VERSION): string {
  const columns = DIGEST_COLUMNS[version][table];
  return sha256Hex(canonicalJson([table, ...TABLE_KEY[table].map((c) => norm(row[c])), ...columns.map((c) => norm(row[c]))]));
}

/** Rows a change touched: ids for single-key tables, [project, version|user] for the others. */
export type RowRefs = Partial<Record<GovernedTable, ReadonlyArray<number | readonly [number, number]>>>;
export type RowsState = { v: number } & Partial<Record<GovernedTable, Record<string, string | null>>>;

const CHUNK = 500;

/**
 * The `rows` of an event: each touched row read back (inside the change's transaction, after
 * the change) and digested — so the digest is made by the same code, from the same driver's
 * values, as the verifier's. A row that is gone gets null.
 */
export async function rowsState(conn: Conn, refs: RowRefs): Promise<RowsState> {
  const out: RowsState = { v: DIGEST_VERSION };
  for (const table of GOVERNED_TABLES) {
    const list = refs[table];
    if (!list || list.length === 0) continue;
    const found = new Map<string, string>();
    const key = TABLE_KEY[table];
    if (key.length === 1) {
      const ids = [...new Set(list as readonly number[])];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const rows = (await conn
          .selectFrom(table)
          .selectAll()
          .where(key[0] as never, 'in', ids.slice(i, i + CHUNK) as never)
          .execute()) as Row[];
        for (const r of rows) found.set(rowKey(table, r), rowDigest(table, r));
      }
    } else {
      for (const [a, b] of list as ReadonlyArray<readonly [number, number]>) {
        const r = (await conn
          .selectFrom(table)
          .selectAll()
          .where(key[0] as never, '=', a as never)
          .where(key[1] as never, '=', b as never)
          .executeTakeFirst()) as Row | undefined;
        if (r) found.set(rowKey(table, r), rowDigest(table, r));
      }
    }
    const entries: Record<string, string | null> = {};
    for (const ref of list) {
      const k = typeof ref === 'number' ? String(ref) : `${ref[0]}/${ref[1]}`;
      entries[k] = found.get(k) ?? null;
    }
    out[table] = entries;
  }
  return out;
}
