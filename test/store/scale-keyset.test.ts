// Scale (issue #8): keyset listing over a filter returns every item exactly once across pages
// while items are being imported, and EXPLAIN shows that every list/filter, export and consensus
// page query reads through an index (no full SCAN of items, label_items or annotations, no sort
// of the whole result) on SQLite and on PostgreSQL. ~20,000 items.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, type Compilable } from 'kysely';
import { runImport } from '../../src/ingest/import.ts';
import { exportPageQuery } from '../../src/label/export.ts';
import { answersPageQuery } from '../../src/label/recompute.ts';
import { finalLabelsQuery } from '../../src/label/results.ts';
import type { Store } from '../../src/store/db.ts';
import { listItems, listItemsQuery } from '../../src/store/items.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { seedAnnotations, writeTextJsonl } from '../helpers/scale-fixture.ts';

const N = 20_000;
const LABELS = ['spam', 'ham', 'other'];
const BIG = new Set(['items', 'label_items', 'annotations']);

/** The plan of a query: SQLite's EXPLAIN QUERY PLAN lines, or PostgreSQL's plan nodes as "Node Type on relation [index]". */
async function plan(store: Store, q: Compilable<unknown>): Promise<string[]> {
  const c = q.compile();
  if (store.sqlite) {
    return (store.sqlite.prepare(`EXPLAIN QUERY PLAN ${c.sql}`).all(...(c.parameters as unknown[])) as Array<{ detail: string }>).map((r) => r.detail);
  }
  const r = await store.db.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`EXPLAIN (FORMAT JSON) ${c.sql}`, [...c.parameters]));
  const out: string[] = [];
  const walk = (n: Record<string, unknown>) => {
    out.push(`${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
    for (const p of (n.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(p);
  };
  const doc = r.rows[0]['QUERY PLAN'];
  walk((typeof doc === 'string' ? JSON.parse(doc) : doc)[0].Plan);
  return out;
}

/** No full scan of a big table and no sort of the result: the query reads one page through indexes. */
function assertIndexed(kind: string, what: string, lines: string[]) {
  const bad = lines.filter((l) =>
    kind === 'sqlite'
      ? /^SCAN (\w+)/.test(l) && BIG.has(/^SCAN (\w+)/.exec(l)![1]) || /TEMP B-TREE/.test(l)
      : (/^Seq Scan on (\w+)/.test(l) && BIG.has(/^Seq Scan on (\w+)/.exec(l)![1])) || /^(Sort|Incremental Sort)\b/.test(l),
  );
  assert.deepEqual(bad, [], `${what} (${kind}) plan:\n  ${lines.join('\n  ')}`);
  const usesIndex = lines.some((l) => (kind === 'sqlite' ? /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/.test(l) : /Index( Only)? Scan|Bitmap Index Scan/.test(l)));
  assert.ok(usesIndex, `${what} (${kind}) uses no index:\n  ${lines.join('\n  ')}`);
}

for (const kind of STORE_KINDS) {
  describe(`scale: keyset listing and query plans (${kind}, ${N.toLocaleString('en')} items)`, () => {
    let t: TestStore;
    let project: Project;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-keyset-'));
    before(async () => {
      t = await freshStore(kind);
      const file = join(dir, 'items.jsonl');
      await writeTextJsonl(file, N, { labels: LABELS });
      await runImport(t.store, { project: 'scale', path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'test' });
      project = await getProject(t.store.db, 'scale');
      await seedAnnotations(t.store, project.id, { items: 4000, step: 5, annotators: ['a1', 'a2', 'a3'], labels: LABELS });
      if (t.store.sqlite) t.store.sqlite.exec('ANALYZE');
      else await t.store.db.executeQuery(CompiledQuery.raw('ANALYZE'));
    });
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('every item matching a filter exactly once across keyset pages while imports add items', async () => {
      const pages: number[] = [];
      let importsDone = false;
      const inserter = (async () => {
        for (let k = 0; k < 8; k++) {
          const file = join(dir, `more-${k}.jsonl`);
          writeFileSync(file, Array.from({ length: 150 }, (_, i) => JSON.stringify({ id: `more-${k}-${i}`, text: `added ${k} ${i}`, label: LABELS[i % 3] })).join('\n') + '\n');
          await runImport(t.store, { project: 'scale', path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'test' });
          await new Promise((r) => setTimeout(r, 5));
        }
        importsDone = true;
      })();
      const seen = new Map<number, number>();
      const pager = (async () => {
        let after = 0;
        for (;;) {
          const page = await listItems(t.store.db, project.id, { after, limit: 300, sourceLabel: 'spam' });
          pages.push(page.length);
          let prev = after;
          for (const it of page) {
            assert.equal(it.sourceLabel, 'spam');
            assert.ok(it.id > prev, 'ids increase within and across pages');
            prev = it.id;
            seen.set(it.id, (seen.get(it.id) ?? 0) + 1);
          }
          if (page.length > 0) after = page[page.length - 1].id;
          if (page.length < 300) {
            if (importsDone) {
              // One more page after the last import committed: nothing may be left behind.
              const rest = await listItems(t.store.db, project.id, { after, limit: 300, sourceLabel: 'spam' });
              for (const it of rest) seen.set(it.id, (seen.get(it.id) ?? 0) + 1);
              if (rest.length === 0) return;
              after = rest[rest.length - 1].id;
            } else await new Promise((r) => setTimeout(r, 2));
          }
        }
      })();
      await Promise.all([inserter, pager]);
      const expected = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', project.id).where('source_label', '=', 'spam').orderBy('id').execute()).map((r) => r.id);
      assert.equal(expected.length, Math.ceil(N / 3) + 8 * 50);
      assert.deepEqual([...seen.keys()].sort((a, b) => a - b), expected, 'exactly the matching items');
      assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], 'each exactly once');
      assert.ok(pages.length > 20, `many pages (${pages.length})`);
    });

    test('EXPLAIN: list/filter, labels, export and consensus page queries read through indexes at any depth', async () => {
      const db = t.store.db;
      const last = (await db.selectFrom('items').select('id').where('project_id', '=', project.id).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow()).id;
      for (const after of [0, last - 60]) {
        assertIndexed(kind, `items after ${after}`, await plan(t.store, listItemsQuery(db, project.id, { after, limit: 100 })));
        assertIndexed(kind, `items label=spam after ${after}`, await plan(t.store, listItemsQuery(db, project.id, { after, limit: 100, sourceLabel: 'spam' })));
        assertIndexed(kind, `items modality=text after ${after}`, await plan(t.store, listItemsQuery(db, project.id, { after, limit: 100, modality: 'text' })));
        assertIndexed(kind, `items modality+label after ${after}`, await plan(t.store, listItemsQuery(db, project.id, { after, limit: 100, modality: 'text', sourceLabel: 'ham' })));
        for (const status of ['done', 'open', 'review'] as const) {
          assertIndexed(kind, `labels status=${status} after ${after}`, await plan(t.store, finalLabelsQuery(db, project.id, { after, limit: 100, status })));
        }
        assertIndexed(kind, `export page after ${after}`, await plan(t.store, exportPageQuery(db, project.id, after, 500)));
        assertIndexed(kind, `consensus answers page after ${after}`, await plan(t.store, answersPageQuery(db, project.id, after, 5000)));
      }
    });
  });
}
