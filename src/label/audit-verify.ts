import { GENESIS_HASH, eventHash } from '../store/audit.ts';
import type { Conn } from './tx.ts';

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
 *
 * Removing events from the end, or appending forged ones, leaves a valid shorter or longer
 * chain: record the head (`tessera audit-log head`) somewhere else and pass it as an anchor.
 * Reads page by page (memory stays bounded); targeted lookups run only after a mismatch.
 */
export type TamperKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'anchor';

export interface VerifyReport {
  ok: boolean;
  /** Events in the log. */
  events: number;
  /** Events verified before the first bad one (all of them when ok). */
  verified: number;
  head: { seq: number; hash: string } | null;
  firstBad: { seq: number; kind: TamperKind; message: string } | null;
}

type Ev = { seq: number; project_id: number | null; at: string; actor: string; action: string; subject: string; payload: string; prev_hash: string; hash: string };

export async function verifyAuditLog(db: Conn, opts: { anchor?: { seq: number; hash: string }; pageSize?: number } = {}): Promise<VerifyReport> {
  const pageSize = opts.pageSize ?? 5000;
  const total = Number((await db.selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const last = await db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  const report = (verified: number, firstBad: VerifyReport['firstBad']): VerifyReport => ({ ok: firstBad === null, events: total, verified, head, firstBad });

  let expected = GENESIS_HASH;
  let prevSeq = 0;
  let verified = 0;
  for (let after = -1; ; ) {
    const page = (await db.selectFrom('audit_events').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize).execute()) as Ev[];
    if (page.length === 0) break;
    for (const e of page) {
      const bad = await check(db, e, expected, prevSeq);
      if (bad) return report(verified, bad);
      expected = e.hash;
      prevSeq = e.seq;
      verified++;
    }
    after = page[page.length - 1].seq;
  }
  if (opts.anchor) {
    const a = await db.selectFrom('audit_events').select(['seq', 'hash']).where('seq', '=', opts.anchor.seq).executeTakeFirst();
    if (!a || a.hash !== opts.anchor.hash) {
      return report(verified, {
        seq: opts.anchor.seq,
        kind: 'anchor',
        message: a ? `event ${a.seq} has hash ${a.hash}, not the anchored ${opts.anchor.hash}: the log was rewritten from there on` : `anchored event ${opts.anchor.seq} is gone: events were removed from the end of the log`,
      });
    }
  }
  return report(verified, null);
}

const describe = (e: Ev) => `event ${e.seq} (${e.action} by ${e.actor} at ${e.at})`;

async function check(db: Conn, e: Ev, expected: string, prevSeq: number): Promise<VerifyReport['firstBad']> {
  if (eventHash(e.prev_hash, e) !== e.hash) {
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
