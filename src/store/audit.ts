import { sql, type Kysely, type Transaction } from 'kysely';
import { sha256Hex } from '../core/hash.ts';
import { canonicalJson, nowIso } from '../core/json.ts';
import type { Dialect } from './db.ts';
import type { Database } from './schema.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditInput {
  projectId: number | null;
  actor: string;
  action: string;
  subject: string;
  payload: Record<string, unknown>;
}

/** The hash of one event: covers its content and the previous event's hash (the chain). */
export function eventHash(prevHash: string, e: { project_id: number | null; at: string; actor: string; action: string; subject: string; payload: string }): string {
  return sha256Hex(canonicalJson({ prev: prevHash, project_id: e.project_id, at: e.at, actor: e.actor, action: e.action, subject: e.subject, payload: e.payload }));
}

/**
 * Appends one event to the append-only, hash-chained audit log. Call it inside the transaction
 * of the change it records, so the event and the change commit (or vanish) together.
 */
export async function appendAudit(trx: Transaction<Database> | Kysely<Database>, dialect: Dialect, input: AuditInput): Promise<string> {
  // One writer at a time extends the chain: SQLite's write lock does it there; on PostgreSQL a
  // transaction-scoped advisory lock stops two transactions from forking the chain.
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(7431001)`.execute(trx);
  const last = await trx.selectFrom('audit_events').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const prev = last?.hash ?? GENESIS_HASH;
  const row = { project_id: input.projectId, at: nowIso(), actor: input.actor, action: input.action, subject: input.subject, payload: canonicalJson(input.payload) };
  const hash = eventHash(prev, row);
  await trx.insertInto('audit_events').values({ ...row, prev_hash: prev, hash }).execute();
  return hash;
}
