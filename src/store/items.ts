import { sql, type Kysely, type Transaction } from 'kysely';
import type SQLite from 'better-sqlite3';
import type { Modality } from '../core/modality.ts';
import { NotFoundError } from '../core/errors.ts';
import type { Store } from './db.ts';
import type { Database } from './schema.ts';

/** An item ready to write: content already hashed, payload already encoded. */
export interface NewItem {
  sourceKey: string;
  modality: Modality;
  text: string | null;
  data: string | null;
  blob: { sha256: string; mime: string; bytes: Uint8Array } | null;
  meta: string;
  locator: string;
  residency: string;
  sha256: string;
  sourceLabel: string | null;
}

/** What became of one record: written, already there with the same content, or refused. */
export type WriteOutcome = { kind: 'inserted' } | { kind: 'unchanged' } | { kind: 'conflict'; message: string };

type Existing = { source_key: string; sha256: string; source_id: number; locator: string };

/**
 * Writes a batch of items idempotently, keyed by (project, source key), inside the caller's
 * transaction. An existing key with the same content is `unchanged`; with other content, or
 * twice in one import, it is a conflict — items are never silently overwritten.
 */
export async function writeItems(
  store: Store,
  trx: Transaction<Database>,
  projectId: number,
  sourceId: number,
  batch: NewItem[],
  createdAt: string,
): Promise<WriteOutcome[]> {
  if (batch.length === 0) return [];
  const inserted = store.dialect === 'sqlite' ? writeSqlite(store.sqlite!, projectId, sourceId, batch, createdAt) : await writePostgres(trx, projectId, sourceId, batch, createdAt);
  const missing = [...new Set(batch.filter((_, i) => !inserted[i]).map((b) => b.sourceKey))];
  const existing = new Map<string, Existing>();
  for (let i = 0; i < missing.length; i += 500) {
    const rows = await trx
      .selectFrom('items')
      .select(['source_key', 'sha256', 'source_id', 'locator'])
      .where('project_id', '=', projectId)
      .where('source_key', 'in', missing.slice(i, i + 500))
      .execute();
    for (const r of rows) existing.set(r.source_key, r);
  }
  return batch.map((item, i): WriteOutcome => {
    if (inserted[i]) return { kind: 'inserted' };
    const e = existing.get(item.sourceKey);
    if (!e) return { kind: 'conflict', message: `could not be written (key ${item.sourceKey})` };
    if (e.source_id === sourceId) return { kind: 'conflict', message: `duplicate id "${displayKey(item.sourceKey)}" in this source (first at ${e.locator})` };
    if (e.sha256 === item.sha256) return { kind: 'unchanged' };
    return {
      kind: 'conflict',
      message: `"${displayKey(item.sourceKey)}" was imported before (${e.locator}) with different content; items are immutable — give changed records a new id`,
    };
  });
}

const displayKey = (k: string) => (k.startsWith('id:') ? k.slice(3) : k);

const sqliteStatements = new WeakMap<SQLite.Database, { blob: SQLite.Statement; item: SQLite.Statement }>();

function writeSqlite(raw: SQLite.Database, projectId: number, sourceId: number, batch: NewItem[], createdAt: string): boolean[] {
  let st = sqliteStatements.get(raw);
  if (!st) {
    st = {
      blob: raw.prepare('INSERT INTO blobs (sha256, mime, size, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING'),
      item: raw.prepare(
        `INSERT INTO items (project_id, source_id, source_key, modality, text, data, blob_sha256, meta, locator, residency, sha256, source_label, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, source_key) DO NOTHING`,
      ),
    };
    sqliteStatements.set(raw, st);
  }
  const out: boolean[] = [];
  for (const b of batch) {
    if (b.blob) st.blob.run(b.blob.sha256, b.blob.mime, b.blob.bytes.length, Buffer.from(b.blob.bytes.buffer, b.blob.bytes.byteOffset, b.blob.bytes.byteLength));
    const r = st.item.run(projectId, sourceId, b.sourceKey, b.modality, b.text, b.data, b.blob?.sha256 ?? null, b.meta, b.locator, b.residency, b.sha256, b.sourceLabel, createdAt);
    out.push(r.changes === 1);
  }
  return out;
}

async function writePostgres(trx: Transaction<Database>, projectId: number, sourceId: number, batch: NewItem[], createdAt: string): Promise<boolean[]> {
  const blobs = batch.filter((b) => b.blob);
  if (blobs.length > 0) {
    await sql`INSERT INTO blobs (sha256, mime, size, bytes)
      SELECT * FROM unnest(${blobs.map((b) => b.blob!.sha256)}::text[], ${blobs.map((b) => b.blob!.mime)}::text[],
        ${blobs.map((b) => b.blob!.bytes.length)}::int[], ${blobs.map((b) => Buffer.from(b.blob!.bytes))}::bytea[])
      ON CONFLICT (sha256) DO NOTHING`.execute(trx);
  }
  const col = <T>(f: (b: NewItem) => T) => batch.map(f);
  const res = await sql<{ source_key: string }>`INSERT INTO items
      (project_id, source_id, source_key, modality, text, data, blob_sha256, meta, locator, residency, sha256, source_label, created_at)
    SELECT ${projectId}, ${sourceId}, k, m, t, d, bs, me, l, r, s, sl, ${createdAt}
    FROM unnest(${col((b) => b.sourceKey)}::text[], ${col((b) => b.modality)}::text[], ${col((b) => b.text)}::text[],
      ${col((b) => b.data)}::text[], ${col((b) => b.blob?.sha256 ?? null)}::text[], ${col((b) => b.meta)}::text[],
      ${col((b) => b.locator)}::text[], ${col((b) => b.residency)}::text[], ${col((b) => b.sha256)}::text[],
      ${col((b) => b.sourceLabel)}::text[]) WITH ORDINALITY AS u(k, m, t, d, bs, me, l, r, s, sl, ord)
    ORDER BY ord
    ON CONFLICT (project_id, source_key) DO NOTHING
    RETURNING source_key`.execute(trx);
  // A key inserted by this statement counts for its first occurrence in the batch only.
  const fresh = new Set(res.rows.map((r) => r.source_key));
  return batch.map((b) => fresh.delete(b.sourceKey));
}

export interface ItemRow {
  id: number;
  modality: Modality;
  text: string | null;
  values: Record<string, unknown> | null;
  blob: { sha256: string; mime: string; size: number } | null;
  meta: Record<string, unknown>;
  locator: string;
  sourceKey: string;
  sourceId: number;
  residency: string;
  sha256: string;
  sourceLabel: string | null;
  createdAt: string;
}

type Db = Kysely<Database> | Transaction<Database>;

export interface ListItemsQuery {
  /** Keyset pagination: items with id greater than this. */
  after?: number;
  limit?: number;
  modality?: Modality;
  sourceLabel?: string;
}

/**
 * The query behind listItems, exported so tests can EXPLAIN it. Keyset pagination: `id > after`
 * in id order, so a page costs the same at any depth. Each filter has an index that ends in `id`
 * (001: project_id,id; 007: project_id,source_label,id and project_id,modality,id): the store
 * walks it from the cursor and stops after `limit` rows, never scanning the project.
 */
export function listItemsQuery(db: Db, projectId: number, q: ListItemsQuery = {}) {
  let query = db
    .selectFrom('items')
    .leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256')
    .select(['items.id', 'items.modality', 'items.text', 'items.data', 'items.blob_sha256', 'blobs.mime', 'blobs.size', 'items.meta', 'items.locator', 'items.source_key', 'items.source_id', 'items.residency', 'items.sha256', 'items.source_label', 'items.created_at'])
    .where('items.project_id', '=', projectId)
    .where('items.id', '>', q.after ?? 0)
    .orderBy('items.id')
    .limit(q.limit ?? 50);
  if (q.modality) query = query.where('items.modality', '=', q.modality);
  if (q.sourceLabel !== undefined) query = query.where('items.source_label', '=', q.sourceLabel);
  return query;
}

/** Items in import order, a page at a time (keyset pagination: cheap at any depth). */
export async function listItems(db: Db, projectId: number, q: ListItemsQuery = {}): Promise<ItemRow[]> {
  const query = listItemsQuery(db, projectId, q);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    modality: r.modality,
    text: r.text,
    values: r.data ? JSON.parse(r.data) : null,
    blob: r.blob_sha256 ? { sha256: r.blob_sha256, mime: r.mime!, size: Number(r.size) } : null,
    meta: JSON.parse(r.meta),
    locator: r.locator,
    sourceKey: r.source_key,
    sourceId: r.source_id,
    residency: r.residency,
    sha256: r.sha256,
    sourceLabel: r.source_label,
    createdAt: r.created_at,
  }));
}

export async function getItem(db: Db, projectId: number, id: number): Promise<ItemRow> {
  const [row] = await listItems(db, projectId, { after: id - 1, limit: 1 });
  if (!row || row.id !== id) throw new NotFoundError(`item ${id} in this project`);
  return row;
}

export async function getBlob(db: Db, sha256: string): Promise<{ mime: string; bytes: Uint8Array }> {
  const r = await db.selectFrom('blobs').select(['mime', 'bytes']).where('sha256', '=', sha256).executeTakeFirst();
  if (!r) throw new NotFoundError(`blob ${sha256}`);
  return r;
}

export interface ItemPayload {
  id: number;
  text: string | null;
  data: string | null;
  bytes: Uint8Array | null;
  mime: string | null;
  meta: string;
  sourceLabel: string | null;
}

/** Every item of one modality with its payload bytes, in id order, a page at a time. */
export async function* iterateItemPayloads(db: Db, projectId: number, modality: Modality, pageSize = 2000): AsyncGenerator<ItemPayload> {
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('items')
      .leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256')
      .select(['items.id', 'items.text', 'items.data', 'blobs.bytes', 'blobs.mime', 'items.meta', 'items.source_label'])
      .where('items.project_id', '=', projectId)
      .where('items.modality', '=', modality)
      .where('items.id', '>', after)
      .orderBy('items.id')
      .limit(pageSize)
      .execute();
    for (const r of rows) yield { id: r.id, text: r.text, data: r.data, bytes: r.bytes, mime: r.mime, meta: r.meta, sourceLabel: r.source_label };
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].id;
  }
}
