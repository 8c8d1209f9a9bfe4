// The hash-chained audit log is verified end to end: each kind of tampering, done with SQL
// directly on SQLite and PostgreSQL, is caught and the first bad event named, through the
// library and through `tessera audit-log verify --json` (a child process, as a user runs it).
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';
import { appendAudit, eventHash } from '../../src/store/audit.ts';
import { verifyAuditLog } from '../../src/label/audit-verify.ts';

for (const kind of STORE_KINDS) {
  describe(`audit-log verify (${kind})`, () => {
    let t: TestStore;
    let original: Array<Record<string, unknown>>;
    const db = () => t.store.db;
    const run = (q: ReturnType<typeof sql>) => q.execute(db());
    const event = async (seq: number) => (await db().selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow());

    before(async () => {
      t = await freshStore(kind);
      for (let i = 1; i <= 8; i++) {
        await t.store.db.transaction().execute((trx) => appendAudit(trx, t.store.dialect, { projectId: null, actor: `user:u${i % 3}`, action: i % 2 ? 'annotation.create' : 'review.decide', subject: `item:${i}`, payload: { n: i, labels: ['x'] } }));
      }
      original = await db().selectFrom('audit_events').selectAll().orderBy('seq').execute();
      assert.deepEqual(original.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    });
    beforeEach(async () => {
      await db().deleteFrom('audit_events').execute();
      for (const e of original) await db().insertInto('audit_events').values(e as never).execute();
    });
    after(async () => t.cleanup());

    test('an intact log verifies', async () => {
      const r = await verifyAuditLog(db());
      assert.deepEqual({ ok: r.ok, events: r.events, verified: r.verified, firstBad: r.firstBad }, { ok: true, events: 8, verified: 8, firstBad: null });
      assert.equal(r.head!.seq, 8);
    });

    test('edited: a changed payload is named', async () => {
      await run(sql`UPDATE audit_events SET payload = ${'{"labels":["y"],"n":4}'} WHERE seq = 4`);
      const r = await verifyAuditLog(db());
      assert.equal(r.ok, false);
      assert.deepEqual([r.firstBad!.seq, r.firstBad!.kind, r.verified], [4, 'edited', 3]);
      if (kind === 'sqlite') {
        const cli = tessera(['audit-log', 'verify', '--json'], t.env);
        assert.equal(cli.code, 5);
        assert.deepEqual([cli.json.ok, cli.json.firstBad.seq, cli.json.firstBad.kind], [false, 4, 'edited']);
      }
    });

    test('edited with its hash recomputed: the successor still links to the original hash', async () => {
      const e = await event(4);
      const payload = '{"labels":["y"],"n":4}';
      await run(sql`UPDATE audit_events SET payload = ${payload}, hash = ${eventHash(e.prev_hash, { ...e, payload })} WHERE seq = 4`);
      assert.deepEqual(pick(await verifyAuditLog(db())), [4, 'edited']);
    });

    test('deleted: the event after the gap is named', async () => {
      await run(sql`DELETE FROM audit_events WHERE seq = 4`);
      const r = await verifyAuditLog(db());
      assert.deepEqual(pick(r), [5, 'deleted']);
      assert.match(r.firstBad!.message, /event 4 was deleted/);
    });

    test('deleted first event', async () => {
      await run(sql`DELETE FROM audit_events WHERE seq = 1`);
      assert.deepEqual(pick(await verifyAuditLog(db())), [2, 'deleted']);
    });

    test('inserted: a forged event with a valid hash, slotted in the middle', async () => {
      await shiftAfter(3);
      const prev = await event(3);
      const forged = { project_id: null, at: prev.at, actor: 'user:mallory', action: 'review.decide', subject: 'item:3', payload: '{"labels":["z"]}' };
      await db().insertInto('audit_events').values({ seq: 4, ...forged, prev_hash: prev.hash, hash: eventHash(prev.hash, forged) } as never).execute();
      const r = await verifyAuditLog(db());
      assert.deepEqual(pick(r), [4, 'inserted']);
      assert.equal(r.events, 9);
    });

    test('inserted: a forged event linking nowhere', async () => {
      await shiftAfter(3);
      const forged = { project_id: null, at: '2020-01-01T00:00:00.000Z', actor: 'user:mallory', action: 'x', subject: 'y', payload: '{}' };
      await db().insertInto('audit_events').values({ seq: 4, ...forged, prev_hash: 'f'.repeat(64), hash: eventHash('f'.repeat(64), forged) } as never).execute();
      assert.deepEqual(pick(await verifyAuditLog(db())), [4, 'inserted']);
    });

    test('reordered: two events swapped', async () => {
      await run(sql`UPDATE audit_events SET seq = -1 WHERE seq = 4`);
      await run(sql`UPDATE audit_events SET seq = 4 WHERE seq = 5`);
      await run(sql`UPDATE audit_events SET seq = 5 WHERE seq = -1`);
      const r = await verifyAuditLog(db());
      assert.deepEqual(pick(r), [4, 'reordered']);
      if (kind === 'postgres') {
        const cli = tessera(['audit-log', 'verify', '--json'], t.env);
        assert.equal(cli.code, 5);
        assert.deepEqual([cli.json.firstBad.seq, cli.json.firstBad.kind], [4, 'reordered']);
      }
    });

    test('removed from the end: caught with an anchor recorded before', async () => {
      const head = (await verifyAuditLog(db())).head!;
      await run(sql`DELETE FROM audit_events WHERE seq = 8`);
      assert.equal((await verifyAuditLog(db())).ok, true, 'a shorter chain is still a chain');
      assert.deepEqual(pick(await verifyAuditLog(db(), { anchor: head })), [8, 'anchor']);
    });

    /** Moves events after `seq` one place up, leaving a free slot at seq + 1. */
    async function shiftAfter(seq: number) {
      await run(sql`UPDATE audit_events SET seq = -seq WHERE seq > ${seq}`);
      await run(sql`UPDATE audit_events SET seq = 1 - seq WHERE seq < 0`);
    }
  });
}

const pick = (r: Awaited<ReturnType<typeof verifyAuditLog>>) => [r.firstBad?.seq, r.firstBad?.kind];
