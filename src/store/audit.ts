import { createHmac } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { sha256Hex } from '../core/hash.ts';
import { canonicalJson, nowIso } from '../core/json.ts';
import { AuditKeyError, auditKeyFromEnv, chainTag, keyIdOf, type AuditKey } from './audit-key.ts';
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

type EventContent = { project_id: number | null; at: string; actor: string; action: string; subject: string; payload: string };

/** The hash of one plain event: covers its content and the previous event's hash (the chain). */
export function eventHash(prevHash: string, e: EventContent): string {
  return sha256Hex(canonicalJson({ prev: prevHash, project_id: e.project_id, at: e.at, actor: e.actor, action: e.action, subject: e.subject, payload: e.payload }));
}

/**
 * The hash of one keyed event: HMAC-SHA256 under the audit key of the same content plus the
 * event's `chain` tag (which names the key). Without the key nobody can recompute it, so
 * rewriting events and re-hashing the chain from there on shows.
 */
export function keyedEventHash(prevHash: string, e: EventContent & { chain: string }, key: AuditKey): string {
  const content = canonicalJson({ prev: prevHash, project_id: e.project_id, at: e.at, actor: e.actor, action: e.action, subject: e.subject, payload: e.payload, chain: e.chain });
  return createHmac('sha256', key.bytes).update(content).digest('hex');
}

/**
 * Appends one event to the append-only, hash-chained audit log. Call it inside the transaction
 * of the change it records, so the event and the change commit (or vanish) together.
 *
 * With an audit key configured (TESSERA_AUDIT_KEY or TESSERA_AUDIT_KEY_FILE) the event is
 * chained with HMAC-SHA256 under it. Once one event is keyed every later one must be: a write
 * without the key (or with another key) throws and the change rolls back, because a plain event
 * after keyed ones is exactly what re-hashing the log without the key would leave behind.
 */
export async function appendAudit(trx: Transaction<Database> | Kysely<Database>, dialect: Dialect, input: AuditInput): Promise<string> {
  // One writer at a time extends the chain: SQLite's write lock does it there; on PostgreSQL a
  // transaction-scoped advisory lock stops two transactions from forking the chain.
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(7431001)`.execute(trx);
  const last = await trx.selectFrom('audit_events').select(['hash', 'chain']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const prev = last?.hash ?? GENESIS_HASH;
  const key = auditKeyFromEnv();
  const keyedWith = keyIdOf(last?.chain ?? null);
  if (keyedWith !== null && key === null) {
    throw new AuditKeyError(`this store's audit log is keyed (HMAC-SHA256, key id ${keyedWith}): set TESSERA_AUDIT_KEY or TESSERA_AUDIT_KEY_FILE to its key to make changes; nothing was written`);
  }
  if (keyedWith !== null && key !== null && key.id !== keyedWith) {
    throw new AuditKeyError(`the configured audit key (id ${key.id}) is not the key this store's audit log is chained with (id ${keyedWith}); nothing was written`);
  }
  const row = { project_id: input.projectId, at: nowIso(), actor: input.actor, action: input.action, subject: input.subject, payload: canonicalJson(input.payload) };
  if (key === null) {
    const hash = eventHash(prev, row);
    await trx.insertInto('audit_events').values({ ...row, prev_hash: prev, hash }).execute();
    return hash;
  }
  const chain = chainTag(key);
  const hash = keyedEventHash(prev, { ...row, chain }, key);
  await trx.insertInto('audit_events').values({ ...row, chain, prev_hash: prev, hash }).execute();
  return hash;
}
