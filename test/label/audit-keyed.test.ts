// The keyed audit chain (HMAC-SHA256 under TESSERA_AUDIT_KEY / TESSERA_AUDIT_KEY_FILE): a store
// labelled first without a key, then with one. Someone with database access but not the key
// tampers a row, edits its event to match and re-hashes the whole chain with plain sha256: the
// plain verifier (no key, no anchor) cannot see it — the key does. Without the key the keyed
// part is reported unverified (not OK, exit 6); a keyed store refuses writes without its key.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';
import { rehashChain } from '../helpers/audit-chain.ts';
import { labellingSession, mapped, OPERATOR, type Session } from '../helpers/labelling-session.ts';
import { verifyAuditLog, type VerifyReport } from '../../src/label/audit-verify.ts';
import { DIGEST_VERSION, rowDigest } from '../../src/label/row-digest.ts';
import { nextTask, submitTask } from '../../src/label/assignment.ts';
import { setRole } from '../../src/label/users.ts';
import type { Conn } from '../../src/store/tx.ts';
import { AuditKeyError, auditKeyOf, type AuditKey } from '../../src/store/audit-key.ts';
import { appendAudit } from '../../src/store/audit.ts';

const KEY_TEXT = 'c2f1e0a99b7d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f';
const KEY: AuditKey = auditKeyOf(Buffer.from(KEY_TEXT), 'test');
const OTHER: AuditKey = auditKeyOf(Buffer.from('another key, just as long as the real one is'), 'test');
const ROLLBACK = new Error('rollback');

for (const kind of STORE_KINDS) {
  describe(`keyed audit chain (${kind})`, () => {
    let t: TestStore;
    let s: Session;
    let keyedFrom = 0;
    let dir = '';
    const db = () => t.store.db;

    before(async () => {
      t = await freshStore(kind);
      dir = mkdtempSync(join(tmpdir(), 'tessera-key-'));
      writeFileSync(join(dir, 'audit.key'), `${KEY_TEXT}\n`, { mode: 0o600 });
      s = await labellingSession(t.store, 'trec', { tasks: 24 });
      keyedFrom = (await db().selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()).seq + 1;
      // From here on the operator runs everything with the key.
      process.env.TESSERA_AUDIT_KEY = KEY_TEXT;
      try {
        await setRole(t.store, s.project, OPERATOR, 'trec-c', 'reviewer');
        for (const u of ['trec-a', 'trec-b', 'trec-a', 'trec-b']) {
          const task = await nextTask(t.store, s.project, s.users[u]);
          if (task) await submitTask(t.store, s.project, s.users[u], task.id, { labels: [mapped(s.truth.get(task.item.id)!)], taxonomyVersion: task.taxonomy.version });
        }
      } finally {
        delete process.env.TESSERA_AUDIT_KEY;
      }
    });
    afterEach(() => {
      delete process.env.TESSERA_AUDIT_KEY;
      delete process.env.TESSERA_AUDIT_KEY_FILE;
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await t.cleanup();
    });

    async function whileTampered(fn: (trx: Conn) => Promise<void>, check: (trx: Conn) => Promise<void>) {
      try {
        await db().transaction().execute(async (trx) => {
          await fn(trx);
          await check(trx);
          throw ROLLBACK;
        });
      } catch (e) {
        if (e !== ROLLBACK) throw e;
      }
    }

    test('with the key: the whole log verifies, keyed from the first event written with the key', async () => {
      const events = await db().selectFrom('audit_events').select(['seq', 'chain']).orderBy('seq').execute();
      assert.ok(events.filter((e) => e.seq < keyedFrom).every((e) => e.chain === null));
      assert.ok(events.filter((e) => e.seq >= keyedFrom).every((e) => e.chain === `hmac-sha256:${KEY.id}`));
      const r = await verifyAuditLog(db(), { key: KEY });
      assert.deepEqual([r.ok, r.firstBad, r.verified, r.events], [true, null, events.length, events.length]);
      assert.deepEqual(r.keyed, { from: keyedFrom, keyId: KEY.id, verified: true, message: null });
      assert.equal(r.state!.mismatched.annotations + r.state!.mismatched.label_items, 0);

      for (const env of [{ TESSERA_AUDIT_KEY: KEY_TEXT }, { TESSERA_AUDIT_KEY: '', TESSERA_AUDIT_KEY_FILE: join(dir, 'audit.key') }] as Array<Record<string, string>>) {
        const cli = tessera(['audit-log', 'verify', '--json'], { ...t.env, ...env });
        assert.equal(cli.code, 0, cli.stderr);
        assert.deepEqual([cli.json.ok, cli.json.keyed.verified, cli.json.keyed.from], [true, true, keyedFrom]);
      }
      const byFlag = tessera(['audit-log', 'verify', '--key-file', join(dir, 'audit.key')], { ...t.env, TESSERA_AUDIT_KEY: '' });
      assert.equal(byFlag.code, 0, byFlag.stderr);
      assert.match(byFlag.stdout, new RegExp(`keyed \\(HMAC-SHA256, key ${KEY.id}\\) from event ${keyedFrom} on: verified with the key`));
    });

    test('without the key: the keyed part is reported unverified — not OK, exit 6 — while the plain part and the tables are still checked', async () => {
      const r = await verifyAuditLog(db());
      assert.equal(r.ok, false);
      assert.equal(r.firstBad, null);
      assert.equal(r.verified, keyedFrom - 1, 'only the plain events were verified');
      assert.equal(r.keyed!.verified, false);
      assert.match(r.keyed!.message!, new RegExp(`events ${keyedFrom}–\\d+ are chained with HMAC-SHA256 under audit key ${KEY.id}: only their links were checked`));
      assert.ok(r.state!.checked.annotations > 0);
      // A table edit is still caught without the key.
      const a = await db().selectFrom('annotations').select('id').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      await whileTampered(
        (trx) => sql`UPDATE annotations SET labels = ${'["ABBR"]'} WHERE id = ${a.id}`.execute(trx).then(() => undefined),
        async (trx) => assert.deepEqual(pick(await verifyAuditLog(trx)), ['state-mismatch', 'annotations']),
      );
      const cli = tessera(['audit-log', 'verify', '--json'], { ...t.env, TESSERA_AUDIT_KEY: '' });
      assert.equal(cli.code, 6, cli.stderr);
      assert.deepEqual([cli.json.ok, cli.json.firstBad, cli.json.keyed.verified], [false, null, false]);
      const text = tessera(['audit-log', 'verify'], { ...t.env, TESSERA_AUDIT_KEY: '' });
      assert.match(text.stdout, /NOT VERIFIED: events \d+–\d+ are chained with HMAC-SHA256/);
    });

    test('a keyed store refuses changes without its key, or under another key: nothing is written', async () => {
      const before = await db().selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const role = async () => (await db().selectFrom('memberships').select('role').where('user_id', '=', s.users['trec-c'].id).executeTakeFirstOrThrow()).role;
      await assert.rejects(setRole(t.store, s.project, OPERATOR, 'trec-c', 'viewer'), (e) => e instanceof AuditKeyError && /audit log is keyed \(HMAC-SHA256, key id [0-9a-f]{16}\): set TESSERA_AUDIT_KEY/.test(e.message));
      process.env.TESSERA_AUDIT_KEY = 'another key, just as long as the real one is';
      await assert.rejects(setRole(t.store, s.project, OPERATOR, 'trec-c', 'viewer'), (e) => e instanceof AuditKeyError && new RegExp(`\\(id ${OTHER.id}\\) is not the key this store's audit log is chained with \\(id ${KEY.id}\\)`).test(e.message));
      process.env.TESSERA_AUDIT_KEY = 'too short';
      await assert.rejects(setRole(t.store, s.project, OPERATOR, 'trec-c', 'viewer'), /TESSERA_AUDIT_KEY: the audit key must be at least 32 bytes/);
      delete process.env.TESSERA_AUDIT_KEY;
      assert.equal(await role(), 'reviewer');
      const after = await db().selectFrom('audit_events').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
      const cli = tessera(['users', 'grant', 'trec-c', '--project', 'trec', '--role', 'viewer'], { ...t.env, TESSERA_AUDIT_KEY: '' });
      assert.notEqual(cli.code, 0);
      assert.match(cli.stderr, /audit log is keyed/);
    });

    test('attack: a row tampered, its event edited to match, the whole chain re-hashed with plain sha256 — not caught without the key, caught with it', async () => {
      const a = await db().selectFrom('annotations').selectAll().where('skipped', '=', 0).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      const ev = (await db().selectFrom('audit_events').select(['seq', 'payload']).where('action', '=', 'annotation.create').execute()).find((e) => JSON.parse(e.payload).annotation === a.id)!;
      assert.ok(ev.seq >= keyedFrom, 'the tampered annotation was recorded under the key');
      const forged = a.labels === '["ABBR"]' ? ['NUM'] : ['ABBR'];
      await whileTampered(
        async (trx) => {
          await sql`UPDATE annotations SET labels = ${JSON.stringify(forged)} WHERE id = ${a.id}`.execute(trx);
          const digest = rowDigest('annotations', { ...a, labels: JSON.stringify(forged) });
          await rehashChain(trx, { plain: true }, { edit: (seq, p) => (seq === ev.seq ? { ...p, labels: forged, rows: { v: DIGEST_VERSION, annotations: { [a.id]: digest } } } : undefined) });
        },
        async (trx) => {
          const plain = await verifyAuditLog(trx);
          assert.deepEqual([plain.ok, plain.firstBad, plain.keyed], [true, null, null], 'without the key (and no anchor) a full re-hash is invisible');
          const keyed = await verifyAuditLog(trx, { key: KEY });
          assert.deepEqual(pick(keyed), ['key', undefined]);
          assert.match(keyed.firstBad!.message, /no event is chained under it: the whole log was re-hashed without the key/);
        },
      );
    });

    test('attack: the keyed part re-hashed with plain sha256 but still tagged as keyed — edited (with the key)', async () => {
      await whileTampered(
        (trx) => rehashChain(trx, { plain: true, keepTags: true }, { from: keyedFrom + 1, edit: (seq, p) => (seq === keyedFrom + 1 ? { ...p, note: 'forged' } : undefined) }),
        async (trx) => {
          const r = await verifyAuditLog(trx, { key: KEY });
          assert.deepEqual([r.firstBad?.seq, r.firstBad?.kind], [keyedFrom + 1, 'edited']);
          assert.equal((await verifyAuditLog(trx)).ok, false, 'without the key: not OK (unverified)');
        },
      );
    });

    test('attack: the log re-hashed from an event on with plain sha256 — a plain event after keyed ones, caught even without the key', async () => {
      const from = keyedFrom + 2;
      await whileTampered(
        (trx) => rehashChain(trx, { plain: true }, { from, edit: (seq, p) => (seq === from ? { ...p, forged: true } : undefined) }),
        async (trx) => {
          for (const r of [await verifyAuditLog(trx), await verifyAuditLog(trx, { key: KEY })]) {
            assert.deepEqual([r.firstBad?.seq, r.firstBad?.kind], [from, 'key']);
            assert.match(r.firstBad!.message, new RegExp(`chained with plain sha256, yet the log is keyed since event ${keyedFrom}`));
          }
        },
      );
      // A forged plain event appended at the end is the same.
      await whileTampered(
        (trx) => appendWithout(trx),
        async (trx) => assert.deepEqual(pick(await verifyAuditLog(trx)), ['key', undefined]),
      );
    });

    test('attack: the keyed part re-hashed under another key — caught with the real key', async () => {
      await whileTampered(
        (trx) => rehashChain(trx, { key: OTHER }, { from: keyedFrom }),
        async (trx) => {
          const r = await verifyAuditLog(trx, { key: KEY });
          assert.deepEqual([r.firstBad?.seq, r.firstBad?.kind], [keyedFrom, 'key']);
          assert.match(r.firstBad!.message, new RegExp(`under audit key ${OTHER.id}, not under the given key \\(${KEY.id}\\)`));
        },
      );
    });

    test('an edit before the key, re-hashed up to it, breaks the link into the keyed part', async () => {
      await whileTampered(
        async (trx) => {
          const keyed = await trx.selectFrom('audit_events').selectAll().where('seq', '>=', keyedFrom).orderBy('seq').execute();
          await rehashChain(trx, { plain: true }, { edit: (seq, p) => (seq === 3 ? { ...p, forged: true } : undefined) });
          for (const e of keyed) await trx.updateTable('audit_events').set({ prev_hash: e.prev_hash, hash: e.hash, chain: e.chain }).where('seq', '=', e.seq).execute();
        },
        async (trx) => {
          for (const r of [await verifyAuditLog(trx), await verifyAuditLog(trx, { key: KEY })]) {
            assert.deepEqual([r.firstBad?.seq, r.firstBad?.kind], [keyedFrom - 1, 'edited']);
            assert.match(r.firstBad!.message, new RegExp(`event ${keyedFrom - 1} was changed and its hash recomputed: event ${keyedFrom} still links to its original hash`));
          }
        },
      );
    });

    test('the wrong key given to the verifier is named, not taken for a clean log', async () => {
      const r = await verifyAuditLog(db(), { key: OTHER });
      assert.deepEqual([r.ok, r.firstBad?.seq, r.firstBad?.kind], [false, keyedFrom, 'key']);
      assert.match(r.firstBad!.message, /either this is not the store's key, or the log was re-hashed under another key/);
    });

    /** A plain event appended at the head, as a writer without the key would (appendAudit refuses; this goes around it). */
    async function appendWithout(trx: Conn) {
      const head = await trx.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      await trx.updateTable('audit_events').set({ chain: null }).where('seq', '=', head.seq).execute();
      try {
        await appendAudit(trx, t.store.dialect, { projectId: s.project.id, actor: 'user:mallory', action: 'member.set', subject: 'user:1', payload: { role: 'admin' } });
      } finally {
        await trx.updateTable('audit_events').set({ chain: head.chain }).where('seq', '=', head.seq).execute();
      }
    }
  });
}

const pick = (r: VerifyReport) => [r.firstBad?.kind, r.firstBad?.table];
