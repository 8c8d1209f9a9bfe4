// State replay: `audit-log verify` replays the audit log against the labelling tables. After a
// realistic session on real data (TREC questions) an honest store verifies OK, every row compared
// in full; then each direct edit of a table — done in SQL on SQLite and PostgreSQL, as someone with
// database access would — is named as a state mismatch with its table, row and why, through the
// library, `tessera audit-log verify --json` and GET /api/projects/{p}/audit/verify.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type KyselyPlugin, type RawBuilder } from 'kysely';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';
import { rehashChain } from '../helpers/audit-chain.ts';
import { labellingSession, OPERATOR, type Session } from '../helpers/labelling-session.ts';
import { startApi, type Api } from '../server/helpers.ts';
import { verifyAuditLog, verifyStore, type VerifyReport } from '../../src/label/audit-verify.ts';
import type { Store } from '../../src/store/db.ts';
import { GOVERNED_TABLES } from '../../src/label/row-digest.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import type { Conn } from '../../src/store/tx.ts';
import { runImport } from '../../src/ingest/import.ts';
import { getProject } from '../../src/store/projects.ts';
import { dataset } from '../helpers/datasets.ts';

const ROLLBACK = new Error('rollback');

/**
 * The store, with `write` run once right after a verifier read past the last audit event (its
 * event pass is over; the table scans come next). A Kysely plugin on the store's handles.
 */
function afterEventPass(store: Store, write: () => void): Store {
  const pages = new Set<string>();
  let fired = false;
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      const from = (args.node as { from?: { froms?: Array<{ table?: { identifier?: { name?: string } } }> } }).from?.froms ?? [];
      if (args.node.kind === 'SelectQueryNode' && from.some((f) => f.table?.identifier?.name === 'audit_events')) pages.add(args.queryId.queryId);
      return args.node;
    },
    async transformResult(args) {
      if (!fired && pages.has(args.queryId.queryId) && args.result.rows.length === 0) {
        fired = true;
        write();
      }
      return args.result;
    },
  };
  return { ...store, db: store.db.withPlugin(plugin), side: () => store.side().withPlugin(plugin) };
}

for (const kind of STORE_KINDS) {
  describe(`audit-log verify: state replay (${kind})`, () => {
    let t: TestStore;
    let s: Session;
    let api: Api;
    let admin = '';
    const db = () => t.store.db;
    const P = () => s.project.id;

    before(async () => {
      t = await freshStore(kind);
      s = await labellingSession(t.store, 'trec');
      admin = (await createUser(t.store, OPERATOR, 'auditor')).token.token;
      await setRole(t.store, s.project, OPERATOR, 'auditor', 'admin');
      api = await startApi(t.store);
      // A bulk label (the embedding map's lasso) on items nobody was served yet.
      const fresh = await db().selectFrom('items').select('id').where('project_id', '=', P()).orderBy('id', 'desc').limit(3).execute();
      const bulk = await api.call('POST', '/api/projects/trec/labels/bulk', s.tokens['trec-rev'], { itemIds: fresh.map((r) => r.id), labels: ['DESC'], note: 'lasso' });
      assert.equal(bulk.status, 200, bulk.text);
      assert.equal(bulk.json.labelled, 3);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
    });

    /** Runs `edits` in a transaction, verifies inside it, then rolls the edits back. */
    async function whileTampered(edits: RawBuilder<unknown>[]): Promise<VerifyReport> {
      let r: VerifyReport | undefined;
      try {
        await db().transaction().execute(async (trx) => {
          for (const q of edits) await q.execute(trx);
          r = await verifyAuditLog(trx as Conn);
          if (process.env.SHOW) console.log(JSON.stringify(r!.firstBad));
          throw ROLLBACK;
        });
      } catch (e) {
        if (e !== ROLLBACK) throw e;
      }
      return r!;
    }

    const count = async (table: (typeof GOVERNED_TABLES)[number]) => Number((await db().selectFrom(table).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

    test('an honest store after a realistic labelling session verifies OK: every row of every table compared in full', async () => {
      // The session exercised every writer: all three review decisions, a second round, a
      // taxonomy migration, a role removed, gold items, skips, a bulk label.
      const decisions = new Set((await db().selectFrom('reviews').select('decision').execute()).map((r) => r.decision));
      assert.deepEqual([...decisions].sort(), ['accept', 'fix', 'reject']);
      assert.ok((await db().selectFrom('label_items').select('item_id').where('round', '>', 0).execute()).length > 0, 'an item was labelled in a second round');
      assert.equal(await count('taxonomies'), 2);
      assert.ok((await db().selectFrom('annotations').select('id').where('skipped', '=', 1).execute()).length > 0, 'a task was skipped');
      const actions = new Set((await db().selectFrom('audit_events').select('action').execute()).map((e) => e.action));
      for (const a of ['member.remove', 'task.release', 'consensus.reached', 'review.queue', 'label.bulk', 'consensus.run', 'gold.set']) assert.ok(actions.has(a), `the session wrote ${a}`);

      const r = await verifyAuditLog(db());
      assert.equal(r.firstBad, null, JSON.stringify(r.firstBad));
      assert.equal(r.ok, true);
      assert.equal(r.verified, r.events);
      for (const table of GOVERNED_TABLES) {
        assert.equal(r.state!.checked[table], await count(table), `${table}: every row compared in full`);
        assert.equal(r.state!.partial[table], 0);
        assert.equal(r.state!.unverifiable[table], 0);
        assert.equal(r.state!.mismatched[table], 0);
      }

      const route = await api.call('GET', '/api/projects/trec/audit/verify', admin);
      assert.equal(route.status, 200, route.text);
      assert.deepEqual([route.json.ok, route.json.firstBad, route.json.state.mismatched.annotations], [true, null, 0]);
      assert.equal(route.json.state.checked.annotations, await count('annotations'));

      const cli = tessera(['audit-log', 'verify', '--json'], t.env);
      assert.equal(cli.code, 0, cli.stderr);
      assert.deepEqual([cli.json.ok, cli.json.firstBad, cli.json.keyed], [true, null, null]);
    });

    test('update annotations set labels=… is named: annotations row, changed, with the labels the log recorded', async () => {
      const a = await db().selectFrom('annotations').select(['id', 'labels']).where('project_id', '=', P()).where('skipped', '=', 0).orderBy('id').offset(7).limit(1).executeTakeFirstOrThrow();
      const other = a.labels === '["LOC"]' ? '["NUM"]' : '["LOC"]';
      const r = await whileTampered([sql`UPDATE annotations SET labels = ${other} WHERE id = ${a.id}`]);
      assert.equal(r.ok, false);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'annotations', row: { id: a.id }, why: 'changed' });
      assert.equal(r.verified, r.events, 'the chain itself is intact');
      assert.match(r.firstBad!.message, new RegExp(`labels is ${esc(other)}, event \\d+ \\(annotation.create by user:trec-[abc] at [^)]+\\) recorded ${esc(a.labels)}`));
      assert.equal(r.state!.mismatched.annotations, 1);
    });

    test('a column the event spells out only in the digest (an annotation comment) is caught too', async () => {
      const a = await db().selectFrom('annotations').select('id').where('project_id', '=', P()).orderBy('id').limit(1).executeTakeFirstOrThrow();
      const r = await whileTampered([sql`UPDATE annotations SET comment = ${'planted'}, created_at = ${'2020-01-01T00:00:00.000Z'} WHERE id = ${a.id}`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'annotations', row: { id: a.id }, why: 'changed' });
      assert.match(r.firstBad!.message, /no longer matches the row digest event \d+ \(annotation.create/);
    });

    test('delete from annotations … is named: annotations row, missing', async () => {
      const a = await db().selectFrom('annotations').select('id').where('project_id', '=', P()).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      const r = await whileTampered([sql`DELETE FROM annotations WHERE id = ${a.id}`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'annotations', row: { id: a.id }, why: 'missing' });
      assert.match(r.firstBad!.message, /is missing: event \d+ \(annotation\.(create|skip) by user:trec-[abc]/);
    });

    test('a forged annotation inserted directly is named: annotations row, extra', async () => {
      const a = await db().selectFrom('annotations').selectAll().where('project_id', '=', P()).orderBy('id').limit(1).executeTakeFirstOrThrow();
      const id = 100000;
      const r = await whileTampered([
        sql`INSERT INTO annotations (id, project_id, item_id, user_id, taxonomy_version, labels, time_ms, skipped, question, created_at, round)
            VALUES (${id}, ${a.project_id}, ${a.item_id}, ${a.user_id}, 1, ${'["NUM"]'}, 10, 0, 0, ${a.created_at}, 0)`,
      ]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'annotations', row: { id }, why: 'extra' });
      assert.match(r.firstBad!.message, /no event created it/);
    });

    test('update label_items set final_labels=… is named: label_items row, changed', async () => {
      const li = await db().selectFrom('label_items').select(['item_id', 'final_labels']).where('project_id', '=', P()).where('status', '=', 'done').orderBy('item_id').limit(1).executeTakeFirstOrThrow();
      const other = li.final_labels === '["LOC"]' ? '["NUM"]' : '["LOC"]';
      const r = await whileTampered([sql`UPDATE label_items SET final_labels = ${other} WHERE item_id = ${li.item_id}`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'label_items', row: { item_id: li.item_id }, why: 'changed' });
      assert.match(r.firstBad!.message, /event \d+ \((consensus\.reached|review\.decide|review\.queue|label\.bulk)/);
    });

    test('an untouched labelling row made to look decided is named: label_items row, changed, no event', async () => {
      const li = await db().selectFrom('label_items').select('item_id').where('project_id', '=', P()).where('status', '=', 'open').where('round', '=', 0).orderBy('item_id').limit(1).executeTakeFirstOrThrow();
      const untouched = (await db().selectFrom('audit_events').select('seq').where('subject', '=', `item:${li.item_id}`).execute()).length === 0;
      const r = await whileTampered([sql`UPDATE label_items SET status = 'done', final_labels = ${'["NUM"]'}, final_source = 'review' WHERE item_id = ${li.item_id}`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'label_items', row: { item_id: li.item_id }, why: 'changed' });
      if (untouched) {
        assert.equal(r.firstBad!.seq, null);
        assert.match(r.firstBad!.message, /no event decided or reopened it, yet it is done/);
      }
    });

    test('a tampered review decision is named: reviews row, changed, with the decision the log recorded', async () => {
      const rv = await db().selectFrom('reviews').select(['id', 'labels']).where('project_id', '=', P()).where('decision', '=', 'fix').orderBy('id').limit(1).executeTakeFirstOrThrow();
      const r = await whileTampered([sql`UPDATE reviews SET decision = 'accept' WHERE id = ${rv.id}`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'reviews', row: { id: rv.id }, why: 'changed' });
      assert.match(r.firstBad!.message, /decision is "accept", event \d+ \((review\.decide|label\.bulk) by user:trec-rev [^)]+\) recorded "fix"/);
    });

    test('a taxonomy version edited is named: taxonomies row (project, version), changed', async () => {
      const tx = await db().selectFrom('taxonomies').select(['labels']).where('project_id', '=', P()).where('version', '=', 2).executeTakeFirstOrThrow();
      const labels = JSON.stringify([...JSON.parse(tx.labels), { name: 'SECRET' }]);
      const r = await whileTampered([sql`UPDATE taxonomies SET labels = ${labels} WHERE project_id = ${P()} AND version = 2`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'taxonomies', row: { project_id: P(), version: 2 }, why: 'changed' });
      assert.match(r.firstBad!.message, /label_names is \[.*"SECRET"\], event \d+ \(taxonomy\.create by cli:test/);
      const g = await whileTampered([sql`UPDATE taxonomies SET guidelines = ${'anything goes'} WHERE project_id = ${P()} AND version = 1`]);
      assert.deepEqual(bad(g), { kind: 'state-mismatch', table: 'taxonomies', row: { project_id: P(), version: 1 }, why: 'changed' });
    });

    test('a membership role changed directly is named: memberships row (project, user), changed', async () => {
      const user = s.users['trec-c'].id;
      const r = await whileTampered([sql`UPDATE memberships SET role = 'admin' WHERE project_id = ${P()} AND user_id = ${user}`]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'memberships', row: { project_id: P(), user_id: user }, why: 'changed' });
      assert.match(r.firstBad!.message, /role is "admin", event \d+ \(member\.set by cli:test [^)]+\) recorded "annotator"/);
      // The manager's membership was removed (member.remove): putting it back is extra.
      const mgr = s.users['trec-mgr'].id;
      const back = await whileTampered([sql`INSERT INTO memberships (project_id, user_id, role) VALUES (${P()}, ${mgr}, 'manager')`]);
      assert.deepEqual(bad(back), { kind: 'state-mismatch', table: 'memberships', row: { project_id: P(), user_id: mgr }, why: 'extra' });
      assert.match(back.firstBad!.message, /is there, but event \d+ \(member\.remove/);
    });

    test('several rows tampered: the first (tables in order, rows in key order) is named and each table counts its own', async () => {
      const two = await db().selectFrom('annotations').select('id').where('project_id', '=', P()).orderBy('id').limit(2).offset(3).execute();
      const li = await db().selectFrom('label_items').select('item_id').where('status', '=', 'done').orderBy('item_id').limit(1).executeTakeFirstOrThrow();
      const r = await whileTampered([
        sql`UPDATE label_items SET final_confidence = 0.01 WHERE item_id = ${li.item_id}`,
        sql`UPDATE annotations SET time_ms = 1 WHERE id = ${two[1].id}`,
        sql`UPDATE annotations SET time_ms = 2 WHERE id = ${two[0].id}`,
      ]);
      assert.deepEqual(bad(r), { kind: 'state-mismatch', table: 'annotations', row: { id: two[0].id }, why: 'changed' });
      assert.deepEqual([r.state!.mismatched.annotations, r.state!.mismatched.label_items], [2, 1]);
    });

    test('a change committed by another process during verification is seen whole or not at all (one snapshot: no false mismatch)', async () => {
      // Another process (as a server beside a CLI verify) commits a role change — a member.set
      // event and its membership row, one transaction — right after the verifier has read the
      // last page of events and before it reads the tables.
      const user = s.users['trec-c'].id;
      const grant = (role: string) => {
        const r = tessera(['users', 'grant', 'trec-c', '--project', 'trec', '--role', role], t.env);
        assert.equal(r.code, 0, r.stderr);
      };
      try {
        const r = await verifyStore(afterEventPass(t.store, () => grant('viewer')));
        assert.equal(r.firstBad, null, JSON.stringify(r.firstBad));
        assert.equal((await db().selectFrom('memberships').select('role').where('user_id', '=', user).executeTakeFirstOrThrow()).role, 'viewer', 'the change did commit meanwhile');
        // Read outside one snapshot, the same moment shows the row without its event.
        const torn = await verifyAuditLog(afterEventPass(t.store, () => grant('reviewer')).db);
        assert.deepEqual(bad(torn), { kind: 'state-mismatch', table: 'memberships', row: { project_id: P(), user_id: user }, why: 'changed' });
        assert.equal((await verifyStore(t.store)).ok, true);
      } finally {
        grant('annotator');
      }
    });

    test('row digests of a version this Tessera does not know are refused with a clear error, never taken as OK', async () => {
      const ev = await db().selectFrom('audit_events').select('seq').where('action', '=', 'taxonomy.create').orderBy('seq').limit(1).executeTakeFirstOrThrow();
      try {
        await db().transaction().execute(async (trx) => {
          await rehashChain(trx, { plain: true }, { edit: (seq, p) => (seq === ev.seq ? { ...p, rows: { ...(p.rows as object), v: 99 } } : undefined) });
          await assert.rejects(verifyAuditLog(trx), (e: Error & { code?: string }) => e.code === 'E_AUDIT_DIGEST_VERSION' && new RegExp(`event ${ev.seq} has row digests of version 99, which this version of Tessera does not know`).test(e.message));
          throw ROLLBACK;
        });
      } catch (e) {
        if (e !== ROLLBACK) throw e;
      }
    });

    test('the CLI and the API name the tampered row (exit 5); the API replays only its project', async () => {
      const li = await db().selectFrom('label_items').select(['item_id', 'final_labels']).where('project_id', '=', P()).where('status', '=', 'done').orderBy('item_id', 'desc').limit(1).executeTakeFirstOrThrow();
      await sql`UPDATE label_items SET final_labels = ${'["ABBR"]'} WHERE item_id = ${li.item_id}`.execute(db());
      try {
        const cli = tessera(['audit-log', 'verify', '--json'], t.env);
        assert.equal(cli.code, 5, cli.stderr);
        assert.deepEqual([cli.json.ok, cli.json.firstBad.kind, cli.json.firstBad.table, cli.json.firstBad.row, cli.json.firstBad.why], [false, 'state-mismatch', 'label_items', { item_id: li.item_id }, 'changed']);
        const text = tessera(['audit-log', 'verify'], t.env);
        assert.equal(text.code, 5);
        assert.match(text.stdout, new RegExp(`TAMPERED: label_items row item_id=${li.item_id} was changed`));

        const route = await api.call('GET', '/api/projects/trec/audit/verify', admin);
        assert.deepEqual([route.json.ok, route.json.firstBad.kind, route.json.firstBad.table, route.json.firstBad.row], [false, 'state-mismatch', 'label_items', { item_id: li.item_id }]);
        // Another project's replay does not see (or show) this project's rows.
        const other = await otherProject();
        const elsewhere = await api.call('GET', `/api/projects/${other}/audit/verify`, admin);
        assert.deepEqual([elsewhere.json.ok, elsewhere.json.firstBad], [true, null]);
        assert.equal(elsewhere.json.state.checked.label_items, 0);
      } finally {
        await sql`UPDATE label_items SET final_labels = ${li.final_labels} WHERE item_id = ${li.item_id}`.execute(db());
      }
      assert.equal((await verifyAuditLog(db())).ok, true, 'restored');
    });

    let otherName: string | undefined;
    async function otherProject() {
      if (!otherName) {
        otherName = 'empty';
        await runImport(t.store, { project: otherName, path: dataset('text', 'trec', 'TREC.test'), options: {}, actor: 'cli:test' });
        await setRole(t.store, await getProject(db(), otherName), OPERATOR, 'auditor', 'admin');
      }
      return otherName;
    }
  });
}

const bad = (r: VerifyReport) => r.firstBad && { kind: r.firstBad.kind, table: r.firstBad.table, row: r.firstBad.row, why: r.firstBad.why };
const esc = (s: string) => s.replace(/[[\]().*+?^$|{}\\]/g, '\\$&');
