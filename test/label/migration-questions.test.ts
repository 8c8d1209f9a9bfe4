// Migration 013 on a store written before it (SQLite upgrade): a legacy taxonomy reads as one
// single-label question named `label`, an old annotation's answers are its labels, a decided
// item keeps its final label with no `answers` key (legacy contracts unchanged); then a new
// version in the questions form adds a spans question and renames a class label, and the decided
// item goes to review with both the legacy proposal and the proposal for every question.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { up001 } from '../../src/store/migrations/001_initial.ts';
import { up002 } from '../../src/store/migrations/002_embeddings.ts';
import { up003 } from '../../src/store/migrations/003_labelling.ts';
import { up004 } from '../../src/store/migrations/004_audit.ts';
import { up005 } from '../../src/store/migrations/005_token_security.ts';
import { up006 } from '../../src/store/migrations/006_cluster.ts';
import { up007 } from '../../src/store/migrations/007_scale.ts';
import { up008 } from '../../src/store/migrations/008_load.ts';
import { up009 } from '../../src/store/migrations/009_audit_key.ts';
import { up010 } from '../../src/store/migrations/010_blind.ts';
import { up011 } from '../../src/store/migrations/011_instance_admin.ts';
import { openStore } from '../../src/store/db.ts';
import { getProject } from '../../src/store/projects.ts';
import { cliActor } from '../../src/store/context.ts';
import { roundAnswers } from '../../src/label/label-items.ts';
import { getFinalLabel } from '../../src/label/results.ts';
import { listReviews } from '../../src/label/review.ts';
import { createTaxonomy, findTaxonomy } from '../../src/label/taxonomies.ts';

const T = '2020-01-01T00:00:00.000Z';

test('migration 013: legacy rows read as one `label` question; a questions-form version migrates them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-m013-'));
  const file = join(dir, 'tessera.db');
  try {
    const old = new Kysely<any>({ dialect: new SqliteDialect({ database: new SQLite(file) }) });
    const ups = { '001_initial': up001, '002_embeddings': up002, '003_labelling': up003, '004_audit': up004, '005_token_security': up005, '006_cluster': up006, '007_scale': up007, '008_load': up008, '009_audit_key': up009, '010_blind': up010, '011_instance_admin': up011 };
    const migrator = new Migrator({ db: old, provider: { getMigrations: async () => Object.fromEntries(Object.entries(ups).map(([k, up]) => [k, { up: up('sqlite') }])) } });
    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const { id: project } = await old.insertInto('projects').values({ name: 'old', created_at: T, settings: '{}' }).returning('id').executeTakeFirstOrThrow();
    await old.insertInto('taxonomies').values({ project_id: project, version: 1, kind: 'single', labels: JSON.stringify([{ name: 'cat' }, { name: 'dog' }]), guidelines: 'g', mapping: null, created_at: T, created_by: 'cli' }).execute();
    const { id: user } = await old.insertInto('users').values({ name: 'ann', display_name: 'ann', token_hash: null, created_at: T }).returning('id').executeTakeFirstOrThrow();
    const { id: source } = await old.insertInto('import_sources').values({ project_id: project, path: 'x', format: 'jsonl', options: '{}', status: 'committed', started_at: T, finished_at: T }).returning('id').executeTakeFirstOrThrow();
    const { id: item } = await old
      .insertInto('items')
      .values({ project_id: project, source_id: source, source_key: 'id:a', modality: 'text', text: 'a cat', data: null, blob_sha256: null, meta: '{}', locator: 'x:1', residency: 'local', sha256: 'h', source_label: null, created_at: T })
      .returning('id')
      .executeTakeFirstOrThrow();
    await old.insertInto('annotations').values({ project_id: project, item_id: item, user_id: user, taxonomy_version: 1, labels: '["cat"]', time_ms: 5, suggestion: null, suggestion_accepted: null, skipped: 0, skip_reason: null, question: 0, created_at: T, round: 0, assignment_id: null, comment: null }).execute();
    await old.insertInto('label_items').values({ item_id: item, project_id: project, round: 0, status: 'done', priority: null, final_labels: '["cat"]', final_source: 'review', final_confidence: null, final_taxonomy_version: 1, final_provenance: '{"source":"review"}', decided_at: T, updated_at: T }).execute();
    await old.destroy();

    const store = await openStore({ kind: 'sqlite', location: file });
    try {
      const t1 = (await findTaxonomy(store.db, project))!;
      assert.deepEqual([t1.kind, t1.labels, t1.questions], ['single', [{ name: 'cat' }, { name: 'dog' }], [{ name: 'label', kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }], required: true }]]);
      const [a] = await roundAnswers(store.db, item, 0);
      assert.deepEqual([a.labels, { ...a.answers }, a.withAnswers], [['cat'], { label: ['cat'] }, false]);
      const final = await getFinalLabel(store.db, project, item);
      assert.deepEqual([final.labels, 'answers' in final], [['cat'], false]);

      const p = await getProject(store.db, 'old');
      const v2 = await createTaxonomy(store, p, cliActor('cli:test'), {
        questions: [
          { name: 'label', kind: 'single', labels: [{ name: 'feline' }, { name: 'dog' }] },
          { name: 'mentions', kind: 'spans', labels: [{ name: 'ANIMAL' }] },
        ],
        mapping: [{ op: 'rename', from: 'cat', to: 'feline' }],
      });
      assert.deepEqual([v2.touched, v2.touchedByQuestion, v2.sentToReview], [['cat'], { label: ['cat'] }, 1]);
      assert.deepEqual([v2.taxonomy.kind, v2.taxonomy.questions.map((q) => q.name)], ['single', ['label', 'mentions']]);
      const [entry] = await listReviews(store.db, project);
      assert.deepEqual([entry.reason, entry.proposal, { ...entry.proposalAnswers }], ['taxonomy_change', ['feline'], { label: ['feline'] }]);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
