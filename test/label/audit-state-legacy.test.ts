// A store written before events carried row digests: verification compares what the old
// payloads spell out, says plainly what it could only partly compare or not compare at all, and
// neither claims a full check nor fails falsely. Events written after the upgrade are compared in full.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { tessera } from '../helpers/cli.ts';
import { withoutRowDigests } from '../helpers/audit-chain.ts';
import { labellingSession, type Session } from '../helpers/labelling-session.ts';
import { startApi } from '../server/helpers.ts';
import { verifyAuditLog } from '../../src/label/audit-verify.ts';
import { GOVERNED_TABLES, type GovernedTable } from '../../src/label/row-digest.ts';
import { nextTask, submitTask } from '../../src/label/assignment.ts';

for (const kind of STORE_KINDS) {
  describe(`audit-log verify on a store written before row digests (${kind})`, () => {
    let t: TestStore;
    let s: Session;
    const db = () => t.store.db;
    const count = async (table: GovernedTable) => Number((await db().selectFrom(table).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

    before(async () => {
      t = await freshStore(kind);
      s = await labellingSession(t.store, 'old');
      const api = await startApi(t.store);
      const fresh = await db().selectFrom('items').select('id').where('project_id', '=', s.project.id).orderBy('id', 'desc').limit(2).execute();
      const bulk = await api.call('POST', '/api/projects/old/labels/bulk', s.tokens['old-rev'], { itemIds: fresh.map((r) => r.id), labels: ['NUM'] });
      assert.equal(bulk.status, 200, bulk.text);
      await api.close();
      await withoutRowDigests(db());
      assert.equal((await db().selectFrom('audit_events').select('seq').where('payload', 'like', '%"rows":%').execute()).length, 0);
    });
    after(async () => t.cleanup());

    test('an honest old store verifies OK, and the report says which rows were compared only partly or not at all', async () => {
      const r = await verifyAuditLog(db());
      assert.equal(r.firstBad, null, JSON.stringify(r.firstBad));
      assert.equal(r.ok, true);
      const st = r.state!;
      for (const table of GOVERNED_TABLES) {
        assert.equal(st.checked[table] + st.partial[table] + st.unverifiable[table], await count(table), `${table}: every row accounted for`);
        assert.equal(st.mismatched[table], 0);
      }
      // Old annotation, review and taxonomy events spell out some columns only.
      assert.equal(st.partial.annotations, await count('annotations'));
      assert.equal(st.partial.taxonomies, 2);
      // A membership's role is all the row holds: compared in full from the old member.set events.
      assert.equal(st.checked.memberships, await count('memberships'));
      // The old bulk label named no review ids: its two review rows cannot be compared.
      assert.equal(st.unverifiable.reviews, 2);
      assert.equal(st.partial.reviews, (await count('reviews')) - 2);
      assert.ok(st.partial.label_items > 0 && st.checked.label_items > 0, 'decided items partly; untouched ones (open, round 0) in full');

      const cli = tessera(['audit-log', 'verify'], t.env);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /rows compared only on the columns their older events record \(.*annotations \d+/);
      assert.match(cli.stdout, /2 rows could not be compared \(reviews 2\)/);
    });

    test('labels changed in an old store are still caught (the old events spell them out)', async () => {
      const a = await db().selectFrom('annotations').select(['id', 'labels']).where('skipped', '=', 0).orderBy('id').limit(1).executeTakeFirstOrThrow();
      const li = await db().selectFrom('label_items').select(['item_id', 'final_labels']).where('status', '=', 'done').orderBy('item_id').limit(1).executeTakeFirstOrThrow();
      const rv = await db().selectFrom('reviews').select('id').where('decision', '=', 'fix').orderBy('id').limit(1).executeTakeFirstOrThrow();
      const other = (labels: string | null) => (labels === '["LOC"]' ? '["NUM"]' : '["LOC"]');
      for (const [q, table, row] of [
        [sql`UPDATE annotations SET labels = ${other(a.labels)} WHERE id = ${a.id}`, 'annotations', { id: a.id }],
        [sql`UPDATE label_items SET final_labels = ${other(li.final_labels)} WHERE item_id = ${li.item_id}`, 'label_items', { item_id: li.item_id }],
        [sql`UPDATE reviews SET decision = 'accept' WHERE id = ${rv.id}`, 'reviews', { id: rv.id }],
        [sql`DELETE FROM annotations WHERE id = ${a.id}`, 'annotations', { id: a.id }],
      ] as const) {
        const r = await tampered(q);
        assert.deepEqual([r.firstBad?.kind, r.firstBad?.table, r.firstBad?.row], ['state-mismatch', table, row]);
      }
    });

    test('a column old events do not spell out (an annotation comment) is not caught: the report counts such rows as partial, never as checked', async () => {
      const a = await db().selectFrom('annotations').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow();
      const r = await tampered(sql`UPDATE annotations SET comment = ${'planted'} WHERE id = ${a.id}`);
      assert.deepEqual([r.ok, r.firstBad], [true, null]);
      assert.equal(r.state!.checked.annotations, 0);
      assert.equal(r.state!.partial.annotations, await count('annotations'));
    });

    test('after the upgrade, new events carry row digests and their rows are compared in full', async () => {
      const ann = s.users['old-a'];
      const task = await nextTask(t.store, s.project, ann);
      assert.ok(task, 'there is work left');
      await submitTask(t.store, s.project, ann, task!.id, { labels: ['DESC'], taxonomyVersion: task!.taxonomy.version });
      const r = await verifyAuditLog(db());
      assert.equal(r.ok, true, JSON.stringify(r.firstBad));
      assert.equal(r.state!.checked.annotations, 1);
      const id = (await db().selectFrom('annotations').select('id').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).id;
      const c = await tampered(sql`UPDATE annotations SET comment = ${'planted'} WHERE id = ${id}`);
      assert.deepEqual([c.firstBad?.table, c.firstBad?.row, c.firstBad?.why], ['annotations', { id }, 'changed']);
    });

    async function tampered(q: ReturnType<typeof sql>) {
      const ROLLBACK = new Error('rollback');
      let r: Awaited<ReturnType<typeof verifyAuditLog>> | undefined;
      try {
        await db().transaction().execute(async (trx) => {
          await q.execute(trx);
          r = await verifyAuditLog(trx);
          throw ROLLBACK;
        });
      } catch (e) {
        if (e !== ROLLBACK) throw e;
      }
      return r!;
    }
  });
}
