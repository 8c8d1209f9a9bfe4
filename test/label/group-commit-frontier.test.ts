// next-task's in-memory frontier (src/label/assignment.ts) and SQLite group commit (src/store/tx.ts):
// two next-task leases in one batch move the frontier past both items; when that batch's COMMIT
// fails, both leases are gone and the next call must serve the first item again, not skip it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, usersWithRoles } from '../server/helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { findUser } from '../../src/label/users.ts';
import { nextTask } from '../../src/label/assignment.ts';
import { writeTx } from '../../src/store/tx.ts';

test('a batch rolled back as a whole resets next-task\'s frontier: its leased items are served again', async (t) => {
  const s = await freshStore('sqlite');
  t.after(() => s.cleanup());
  const store = s.store;
  const project = await projectWithItems(store, 'fr', ['one', 'two', 'three', 'four']);
  await createTaxonomy(store, project, OPERATOR, { kind: 'single', labels: [{ name: 'x' }, { name: 'y' }], guidelines: '' });
  await updateSettings(store, project, OPERATOR, { overlap: 1, leaseSeconds: 600 });
  await usersWithRoles(store, project, { a: 'annotator', b: 'annotator', c: 'annotator' });
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (n) => (await findUser(store.db, n))!));
  store.sqlite!.exec('CREATE TABLE fr_parent (id INTEGER PRIMARY KEY); CREATE TABLE fr_t (parent INTEGER REFERENCES fr_parent(id) DEFERRABLE INITIALLY DEFERRED)');
  // Queued in one turn: one batch. The third change's deferred foreign key fails the COMMIT.
  const out = await Promise.allSettled([
    nextTask(store, project, a),
    nextTask(store, project, b),
    writeTx(store, project.id, (conn) => sql`INSERT INTO fr_t (parent) VALUES (999)`.execute(conn)),
  ]);
  assert.deepEqual(out.map((o) => o.status), ['rejected', 'rejected', 'rejected'], 'the whole batch is rolled back');
  const leases = store.sqlite!.prepare('SELECT COUNT(*) AS n FROM label_items').get() as { n: number };
  assert.equal(leases.n, 0, 'no labelling row survived the rollback');
  const again = await nextTask(store, project, c);
  assert.ok(again);
  const first = store.sqlite!.prepare('SELECT MIN(id) AS id FROM items WHERE project_id = ?').get(project.id) as { id: number };
  assert.equal(again.item.id, first.id, 'the first item, whose lease was rolled back, is served again');
});
