import { GENESIS_HASH, eventHash, keyedEventHash } from '../store/audit.ts';
import type { AuditKey } from '../store/audit-key.ts';
import type { Store } from '../store/db.ts';
import { Replay, type StateReport, type Why } from './audit-replay.ts';
import type { GovernedTable } from './row-digest.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Verifies the hash-chained audit log (src/store/audit.ts): each event's hash must match its
 * content and the previous event's hash, and each event must name the hash of the event
 * before it. The first event that fails is named, with the kind of tampering that explains it:
 *
 * - edited:    an event's content no longer matches its hash; or (hash recomputed too) the
 *              next event still links to the event's original hash.
 * - deleted:   an event links to a hash no event has, and the sequence has a gap before it.
 * - inserted:  an event is not the one the chain links through: its successor links past it
 *              to the event before it, or a later event links to the expected predecessor.
 * - reordered: an event links to an event that comes after it.
 * - key:       the keyed part of the chain (HMAC under TESSERA_AUDIT_KEY) was re-hashed: a
 *              plain event after keyed ones, events under another key, or — a key given — no
 *              keyed event at all.
 * - state-mismatch: the chain is intact but a row of the labelling tables differs from what
 *              replaying the log gives (audit-replay.ts): `table`, `row` and `why` name it.
 *
 * Removing events from the end, or appending forged ones, leaves a valid shorter or longer
 * chain: record the head (`tessera audit-log head`) somewhere else and pass it as an anchor.
 * Re-hashing the whole plain chain after editing it (and the tables to match) is only caught
 * by an anchor, or — from the first keyed event on — by the key. Without the key, keyed events
 * are checked for their links only and the report says so (`keyed.verified` false, not ok).
 * Reads page by page (memory stays bounded); targeted lookups run only after a mismatch.
 */
export type TamperKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'anchor' | 'key' | 'state-mismatch';

export interface FirstBad {
  /** The event at fault; for a state mismatch, the event the row was compared with (null: none names the row). */
  seq: number | null;
  kind: TamperKind;
  message: string;
  /** State mismatch only: the table, the row's key columns and why it differs. */
  table?: GovernedTable;
  row?: Record<string, number>;
  why?: Why;
}

export interface VerifyReport {
  /** No tampering found, and everything the store asks to be verified was (see `keyed`). */
  ok: boolean;
  /** Events in the log. */
  events: number;
  /** Events verified before the first bad one (all of them when ok; keyed ones only with the key). */
  verified: number;
  head: { seq: number; hash: string } | null;
  firstBad: FirstBad | null;
  /** From which event on the log is chained with HMAC under an audit key (null: plain sha256 throughout). */
  keyed: { from: number; keyId: string; verified: boolean; message: string | null } | null;
  /** The state replay (null when it did not run: the chain is broken, or it was not asked for). */
  state: StateReport | null;
}

export interface VerifyOptions {
  anchor?: { seq: number; hash: string };
  /** The audit key: needed to verify the keyed part of a keyed log. */
  key?: AuditKey | null;
  /** Replay the log against the tables (default true). */
  state?: boolean;
  /** Limit the state replay to one project's events and rows (the chain is always checked whole). */
  project?: number;
  pageSize?: number;
}

type Ev = { seq: number; project_id: number | null; at: string; actor: string; action: string; subject: string; payload: string; prev_hash: string; hash: string; chain: string | null };

const KEY_TAG = /^hmac-sha256:([0-9a-f]{16})$/;

/**
 * Verifies a store while it is in use: the chain and every table are read in one snapshot, so a
 * change committed meanwhile (an annotation and its event) is seen whole or not at all — never
 * the row without its event. PostgreSQL: a read-only REPEATABLE READ transaction. SQLite: a
 * deferred read transaction on the store's side connection (WAL: writers carry on meanwhile).
 */
export function verifyStore(store: Store, opts: VerifyOptions = {}): Promise<VerifyReport> {
  if (store.dialect === 'postgres') {
    return store.db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((trx) => verifyAuditLog(trx, opts));
  }
  return store.side().transaction().execute((trx) => verifyAuditLog(trx, opts));
}

export async function verifyAuditLog(db: Conn, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const pageSize = opts.pageSize ?? 5000;
  const key = opts.key ?? null;
  const total = Number((await db.selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const last = await db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  const replay = opts.state === false ? null : new Replay(opts.project);
  let keyed: { from: number; keyId: string } | null = null;
  const keyedReport = (): VerifyReport['keyed'] =>
    keyed && {
      ...keyed,
      verified: key !== null,
      message:
        key === null
          ? `events ${keyed.from}–${head!.seq} are chained with HMAC-SHA256 under audit key ${keyed.keyId}: only their links were checked; set TESSERA_AUDIT_KEY or TESSERA_AUDIT_KEY_FILE (or pass --key-file) to verify them`
          : null,
    };
  const report = (verified: number, firstBad: FirstBad | null, state: StateReport | null): VerifyReport => {
    const k = keyedReport();
    return { ok: firstBad === null && (k === null || k.verified), events: total, verified, head, firstBad, keyed: k, state };
  };

  let expected = GENESIS_HASH;
  let prevSeq = 0;
  let verified = 0;
  for (let after = -1; ; ) {
    const page = (await db.selectFrom('audit_events').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize).execute()) as Ev[];
    if (page.length === 0) break;
    for (const e of page) {
      const tag = e.chain === null ? null : (KEY_TAG.exec(e.chain)?.[1] ?? '');
      let contentOk: boolean | null;
      if (tag === null) {
        if (keyed) {
          return report(verified, {
            seq: e.seq,
            kind: 'key',
            message: `event ${e.seq} (${e.action} by ${e.actor} at ${e.at}) is chained with plain sha256, yet the log is keyed since event ${keyed.from}: the log was re-hashed without the key from here on (a writer with the key never adds a plain event after a keyed one)`,
          }, null);
        }
        contentOk = eventHash(e.prev_hash, e) === e.hash;
      } else {
        if (tag === '') return report(verified, { seq: e.seq, kind: 'key', message: `event ${e.seq} names an unknown chain scheme "${e.chain}"` }, null);
        if (!keyed) keyed = { from: e.seq, keyId: tag };
        else if (tag !== keyed.keyId) {
          return report(verified, { seq: e.seq, kind: 'key', message: `event ${e.seq} is chained under audit key ${tag}, the events before it since ${keyed.from} under key ${keyed.keyId}: part of the log was re-hashed under another key` }, null);
        }
        if (key !== null && key.id !== tag) {
          return report(verified, {
            seq: e.seq,
            kind: 'key',
            message: `event ${e.seq} is chained under audit key ${tag}, not under the given key (${key.id}): either this is not the store's key, or the log was re-hashed under another key from event ${keyed.from} on`,
          }, null);
        }
        contentOk = key === null ? null : keyedEventHash(e.prev_hash, { ...e, chain: e.chain! }, key) === e.hash;
      }
      const bad = await check(db, e, expected, prevSeq, contentOk);
      if (bad) return report(verified, bad, null);
      replay?.add(e);
      expected = e.hash;
      prevSeq = e.seq;
      if (contentOk) verified++;
    }
    after = page[page.length - 1].seq;
  }
  if (key !== null && !keyed && head) {
    return report(verified, {
      seq: head.seq,
      kind: 'key',
      message: `an audit key (${key.id}) was given but no event is chained under it: the whole log was re-hashed without the key — or no change was made since the key was configured (make one, then verify again)`,
    }, null);
  }
  if (opts.anchor) {
    const a = await db.selectFrom('audit_events').select(['seq', 'hash']).where('seq', '=', opts.anchor.seq).executeTakeFirst();
    if (!a || a.hash !== opts.anchor.hash) {
      return report(verified, {
        seq: opts.anchor.seq,
        kind: 'anchor',
        message: a ? `event ${a.seq} has hash ${a.hash}, not the anchored ${opts.anchor.hash}: the log was rewritten from there on` : `anchored event ${opts.anchor.seq} is gone: events were removed from the end of the log`,
      }, null);
    }
  }
  if (!replay) return report(verified, null, null);
  const state = await replay.compare(db, pageSize);
  const f = state.first;
  return report(verified, f ? { seq: f.seq, kind: 'state-mismatch', message: f.message, table: f.table, row: f.row, why: f.why } : null, state);
}

const describe = (e: Ev) => `event ${e.seq} (${e.action} by ${e.actor} at ${e.at})`;

/** `contentOk`: whether the event matches its hash (null: keyed and no key to tell). */
async function check(db: Conn, e: Ev, expected: string, prevSeq: number, contentOk: boolean | null): Promise<FirstBad | null> {
  if (contentOk === false) {
    return { seq: e.seq, kind: 'edited', message: `${describe(e)} does not match its hash: its content was changed` };
  }
  if (e.prev_hash === expected) return null;
  const target = await db.selectFrom('audit_events').select('seq').where('hash', '=', e.prev_hash).executeTakeFirst();
  if (target && target.seq > e.seq) {
    return { seq: e.seq, kind: 'reordered', message: `${describe(e)} links to event ${target.seq}, which comes after it: events were reordered` };
  }
  if (target) {
    const first = await db.selectFrom('audit_events').select('seq').where('seq', '>', target.seq).orderBy('seq').limit(1).executeTakeFirstOrThrow();
    return { seq: first.seq, kind: 'inserted', message: `event ${first.seq} was inserted: ${describe(e)} links past it to event ${target.seq}` };
  }
  const later = await db.selectFrom('audit_events').select('seq').where('prev_hash', '=', expected).where('seq', '>', e.seq).orderBy('seq').limit(1).executeTakeFirst();
  if (later) {
    return { seq: e.seq, kind: 'inserted', message: `${describe(e)} was inserted: event ${later.seq} links to the event before it (${prevSeq || 'the start of the log'})` };
  }
  if (e.seq > prevSeq + 1) {
    const missing = e.seq - prevSeq - 1;
    return { seq: e.seq, kind: 'deleted', message: `${missing === 1 ? `event ${prevSeq + 1} was` : `events ${prevSeq + 1}–${e.seq - 1} were`} deleted: ${describe(e)} links to a hash no event has` };
  }
  return { seq: prevSeq, kind: 'edited', message: `event ${prevSeq} was changed and its hash recomputed: event ${e.seq} still links to its original hash` };
}
