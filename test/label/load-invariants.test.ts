// Concurrent annotators (issue #8, the small sibling of bench/load-annotators.ts): 20 annotator
// loops at once over HTTP against two servers on two connections to the same store (as two
// `tessera serve` processes would be), with some tasks released or skipped. Afterwards the store
// must show: nobody served an item twice, no item over the overlap, every 201 stored exactly
// once, every item answered `overlap` times. The checker is itself checked on planted violations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, STORE_KINDS, PG_URL } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, startApi, usersWithRoles } from '../server/helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { checkAssignmentInvariants, type Ack } from '../../src/label/invariants.ts';
import { openStore } from '../../src/store/db.ts';
import { findUser } from '../../src/label/users.ts';
import { nowIso } from '../../src/core/json.ts';
import { mulberry32 } from '../../src/core/rng.ts';

const ITEMS = 150;
const ANNOTATORS = 20;
const OVERLAP = 2;

for (const kind of STORE_KINDS) {
  describe(`concurrent annotators (${kind})`, () => {
    test(`${ANNOTATORS} annotator loops on two servers: never twice, overlap respected, every acknowledged submit stored once`, async () => {
      const t = await freshStore(kind);
      // A second store handle on the same data: its own SQLite connection / PostgreSQL pool.
      const second = await openStore(kind === 'sqlite' ? { kind: 'sqlite', location: t.store.location } : { kind: 'postgres', location: PG_URL, schema: t.env.TESSERA_DATABASE_SCHEMA });
      const apis = [await startApi(t.store), await startApi(second)];
      try {
        const project = await projectWithItems(t.store, 'crowd', Array.from({ length: ITEMS }, (_, i) => `item number ${i}`));
        await createTaxonomy(t.store, project, OPERATOR, { kind: 'single', labels: [{ name: 'x' }, { name: 'y' }], guidelines: '' });
        await updateSettings(t.store, project, OPERATOR, { overlap: OVERLAP, leaseSeconds: 600 });
        const names = Array.from({ length: ANNOTATORS }, (_, i) => `ann${i}`);
        const tokens = await usersWithRoles(t.store, project, Object.fromEntries(names.map((n) => [n, 'annotator' as const])));
        const ids = new Map<string, number>();
        for (const n of names) ids.set(n, (await findUser(t.store.db, n))!.id);

        const acks: Ack[] = [];
        const problems: string[] = [];
        let released = 0;
        let skipped = 0;
        // Solo first (deterministic): the item one just answered, or gave back, still has a free
        // slot and is first in the queue — it must go to someone else, never back to them.
        {
          const tok = tokens[names[0]];
          const first = (await apis[0].call('POST', '/api/projects/crowd/tasks/next', tok)).json.task;
          const sub = await apis[0].call('POST', `/api/projects/crowd/tasks/${first.id}/submit`, tok, { labels: ['x'], taxonomyVersion: first.taxonomy.version });
          assert.equal(sub.status, 201, sub.text);
          acks.push({ annotationId: sub.json.annotationId, taskId: first.id, itemId: first.item.id, userId: ids.get(names[0])! });
          const second = await apis[1].call('POST', '/api/projects/crowd/tasks/next', tok);
          assert.equal(second.status, 200, second.text);
          assert.notEqual(second.json.task.item.id, first.item.id, 'an answered item is not served again to the same annotator');
          assert.equal((await apis[1].call('POST', `/api/projects/crowd/tasks/${second.json.task.id}/release`, tok)).status, 200);
          released++;
          const third = await apis[0].call('POST', '/api/projects/crowd/tasks/next', tok);
          assert.equal(third.status, 200, third.text);
          assert.ok(![first.item.id, second.json.task.item.id].includes(third.json.task.item.id), 'a released item is not served again to the same annotator');
          assert.equal((await apis[0].call('POST', `/api/projects/crowd/tasks/${third.json.task.id}/release`, tok)).status, 200);
          released++;
        }
        const rands = names.map((_, k) => mulberry32(k + 1));
        const seenBy = names.map(() => new Set<number>());
        // An annotator stops at the first empty answer, but an item another one still holds may
        // come back when that one releases it, after everyone who could take it has stopped: run
        // the loops again until a whole pass serves nothing (then the queue is drained, or stuck,
        // which the assertions below catch).
        let served = 1;
        while (served > 0) {
          served = 0;
          await Promise.all(
            names.map(async (name, k) => {
              const api = apis[k % 2];
              const rand = rands[k];
              const seen = seenBy[k];
              for (;;) {
                const next = await api.call('POST', '/api/projects/crowd/tasks/next', tokens[name]);
                if (next.status !== 200) return void problems.push(`${name} next → ${next.status} ${next.text}`);
                const task = next.json.task;
                if (task === null) return;
                served++;
                if (seen.has(task.item.id)) problems.push(`${name} was served item ${task.item.id} twice`);
                seen.add(task.item.id);
                const r = rand();
                if (r < 0.1) {
                  const rel = await api.call('POST', `/api/projects/crowd/tasks/${task.id}/release`, tokens[name]);
                  if (rel.status !== 200) problems.push(`${name} release → ${rel.status} ${rel.text}`);
                  released++;
                  continue;
                }
                if (r < 0.15) {
                  const sk = await api.call('POST', `/api/projects/crowd/tasks/${task.id}/skip`, tokens[name], { reason: 'unsure' });
                  if (sk.status !== 201) problems.push(`${name} skip → ${sk.status} ${sk.text}`);
                  skipped++;
                  continue;
                }
                const sub = await api.call('POST', `/api/projects/crowd/tasks/${task.id}/submit`, tokens[name], { labels: [rand() < 0.5 ? 'x' : 'y'], taxonomyVersion: task.taxonomy.version });
                if (sub.status !== 201) problems.push(`${name} submit → ${sub.status} ${sub.text}`);
                else acks.push({ annotationId: sub.json.annotationId, taskId: task.id, itemId: task.item.id, userId: ids.get(name)! });
              }
            }),
          );
        }
        assert.deepEqual(problems, []);
        assert.ok(released > 0 && skipped > 0, 'some tasks were released and skipped');

        const report = await checkAssignmentInvariants(t.store.db, project.id, acks);
        assert.equal(report.overlap, OVERLAP);
        assert.deepEqual(
          { servedTwice: report.servedTwice, sameRound: report.sameRound, overLive: report.overLiveOverlap, overAnswered: report.overAnswered, lost: report.lost, ackedTwice: report.ackedTwice, taskTwice: report.taskAnsweredTwice },
          { servedTwice: [], sameRound: [], overLive: [], overAnswered: [], lost: [], ackedTwice: [], taskTwice: [] },
        );
        assert.equal(report.violations, 0);
        assert.equal(report.unacknowledged, skipped, 'the only stored annotations not acknowledged by a 201 submit are the skips');
        // The queue drained completely: every item got exactly `overlap` answers.
        assert.equal(acks.length, ITEMS * OVERLAP);
        const perItem = await t.store.db.selectFrom('annotations').select(['item_id', (e) => e.fn.countAll<number>().as('n')]).where('project_id', '=', project.id).where('skipped', '=', 0).groupBy('item_id').execute();
        assert.equal(perItem.length, ITEMS);
        assert.ok(perItem.every((r) => Number(r.n) === OVERLAP));

        // The checker catches what it is meant to catch: plant one violation of each kind.
        const item = acks[0].itemId;
        const outsider = [...ids.values()].find((u) => !acks.some((a) => a.itemId === item && a.userId === u))!;
        const now = nowIso();
        const base = { project_id: project.id, item_id: item, gold: 0, taxonomy_version: 1, suggestion: null, leased_at: now, expires_at: '9999-01-01T00:00:00.000Z' };
        // A third live lease on an item that already has its two answers: over the overlap.
        await t.store.db.insertInto('assignments').values({ ...base, user_id: outsider, round: 0, status: 'leased' }).execute();
        // The same annotator served the same item again (another round): served twice.
        await t.store.db.insertInto('assignments').values({ ...base, user_id: acks[0].userId, round: 1, status: 'released' }).execute();
        const planted = await checkAssignmentInvariants(t.store.db, project.id, [...acks, acks[0], { ...acks[1], annotationId: 10_000_000 }]);
        assert.deepEqual(planted.overLiveOverlap.map((r) => r.itemId), [item]);
        assert.deepEqual(planted.servedTwice.map((r) => [r.itemId, r.userId]), [[item, acks[0].userId]]);
        assert.deepEqual(planted.ackedTwice, [acks[0].annotationId]);
        assert.deepEqual(planted.lost.map((a) => a.annotationId), [10_000_000]);
        assert.equal(planted.violations, 4);
      } finally {
        for (const a of apis) await a.close();
        await second.close();
        await t.cleanup();
      }
    });
  });
}
