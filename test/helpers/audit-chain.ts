// What someone with write access to the database can do to the audit log: edit an event's
// payload and re-hash the chain from there on — with plain sha256 (anyone), or with HMAC under
// a key they hold. Also how a store written before row digests looks (payloads without `rows`).
import { canonicalJson } from '../../src/core/json.ts';
import type { Conn } from '../../src/store/tx.ts';
import type { AuditKey } from '../../src/store/audit-key.ts';
import { chainTag } from '../../src/store/audit-key.ts';
import { GENESIS_HASH, eventHash, keyedEventHash } from '../../src/store/audit.ts';

export type Rehash = { plain: true; keepTags?: boolean } | { key: AuditKey };

/**
 * Re-hashes every event from `from` on (all by default), each linked to the new hash of the one
 * before: `plain` gives plain sha256 events (chain null, or the old tag kept with `keepTags`),
 * `key` gives events keyed under that key. `edit` may change an event's payload on the way.
 */
export async function rehashChain(db: Conn, how: Rehash, opts: { from?: number; edit?: (seq: number, payload: Record<string, unknown>) => Record<string, unknown> | undefined } = {}) {
  const events = await db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  let prev = GENESIS_HASH;
  for (const e of events) {
    if (e.seq < (opts.from ?? 0)) {
      prev = e.hash;
      continue;
    }
    const edited = opts.edit?.(e.seq, JSON.parse(e.payload));
    const payload = edited ? canonicalJson(edited) : e.payload;
    const content = { ...e, payload };
    let chain: string | null;
    let hash: string;
    if ('key' in how) {
      chain = chainTag(how.key);
      hash = keyedEventHash(prev, { ...content, chain }, how.key);
    } else {
      chain = how.keepTags ? e.chain : null;
      hash = eventHash(prev, content);
    }
    await db.updateTable('audit_events').set({ payload, prev_hash: prev, hash, chain }).where('seq', '=', e.seq).execute();
    prev = hash;
  }
}

/** The store as the code before row digests wrote it: no `rows` in any payload, the chain re-hashed. */
export const withoutRowDigests = (db: Conn) =>
  rehashChain(db, { plain: true }, {
    edit: (_seq, p) => {
      if (!('rows' in p)) return undefined;
      const { rows: _rows, ...rest } = p;
      return rest;
    },
  });
