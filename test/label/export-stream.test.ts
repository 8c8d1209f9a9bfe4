// Streaming export (1,000,000 items): the export is an async generator of chunks, one page of
// items each. Its output must be byte for byte what an in-memory export gives (reference below:
// the whole project read first, then formatted, with and without the items' content); the HTTP route sends it with chunked
// transfer and reads pages only as the client takes them; `tessera export --out` writes a
// temporary file and renames it, so a failed or killed export leaves no partial file.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { exportAllowed, residencyPolicy } from '../../src/audit/residency.ts';
import { writeFileAtomically } from '../../src/cli/atomic-file.ts';
import { cliActor } from '../../src/store/context.ts';
import { exportLabels, openExport, type ExportFormat } from '../../src/label/export.ts';
import { listFinalLabels, type FinalLabelRow } from '../../src/label/results.ts';
import { createTaxonomy, currentTaxonomy } from '../../src/label/taxonomies.ts';
import type { Store } from '../../src/store/db.ts';
import { listItems, type ItemRow } from '../../src/store/items.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { seedAnnotations } from '../helpers/scale-fixture.ts';
import { tesseraAsync } from '../helpers/cli.ts';
import { startApi, usersWithRoles } from '../server/helpers.ts';

const OP = cliActor('cli:test');
const LABELS = ['spam', 'ham', 'other'];
const FORMATS: ExportFormat[] = ['jsonl', 'csv', 'label-studio'];

// ------------------------------------------------------------------ reference: the in-memory export
type Annot = { id: number; annotator: string; labels: string[]; at: string; timeMs: number; taxonomyVersion: number };
const annotationsOf = (r: FinalLabelRow): Annot[] => (r.provenance?.annotations as Annot[] | undefined) ?? [];
const reviewOf = (r: FinalLabelRow) => (r.provenance?.review as { reviewer: string; decision: string; reason: string } | undefined) ?? null;
const consensusOf = (r: FinalLabelRow) => (r.provenance?.consensus as { method: string } | null | undefined) ?? null;
const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
/** OWASP's formula rule for string cells: a leading `'` before =, +, -, @, tab, CR. */
const cell = (v: unknown) => csvField(typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
const contentUrl = (project: Project, id: number) => `/api/projects/${encodeURIComponent(project.name)}/items/${id}/content`;

async function referenceExport(store: Store, project: Project, fmt: ExportFormat, content: 'include' | 'none' = 'include'): Promise<string> {
  const withContent = content === 'include';
  const taxonomy = await currentTaxonomy(store.db, project.id);
  let rows: Array<{ label: FinalLabelRow; item: ItemRow }> = [];
  for (let after = 0; ; ) {
    const page = await listFinalLabels(store.db, project.id, { after, limit: 1000 });
    if (page.length === 0) break;
    const items = new Map((await listItems(store.db, project.id, { after: page[0].itemId - 1, limit: page[page.length - 1].itemId - page[0].itemId + 1 })).map((i) => [i.id, i]));
    for (const l of page) rows.push({ label: l, item: items.get(l.itemId)! });
    after = page[page.length - 1].itemId;
  }
  const policy = residencyPolicy(project);
  rows = rows.filter((r) => exportAllowed(policy, r.item.residency));
  const contentOf = (item: ItemRow) => (item.text !== null ? { text: item.text } : item.values ? { values: item.values } : { contentUrl: contentUrl(project, item.id), mime: item.blob?.mime ?? null });
  if (fmt === 'jsonl') {
    return rows
      .map(({ label: l, item }) =>
        JSON.stringify({
          project: project.name, item: l.itemId, sourceKey: l.sourceKey, sha256: item.sha256, labels: l.labels, source: l.source, confidence: l.confidence, taxonomyVersion: l.taxonomyVersion, decidedAt: l.decidedAt, provenance: l.provenance,
          ...(withContent ? { modality: item.modality, ...contentOf(item), meta: item.meta } : {}),
        }) + '\n',
      )
      .join('');
  }
  if (fmt === 'csv') {
    const lines = ['item,source_key,labels,source,confidence,taxonomy_version,decided_at,method,annotators,annotator_labels,reviewer,review_decision,review_reason' + (withContent ? ',sha256,modality,text,values,content_url,mime,meta' : '')];
    for (const { label: l, item } of rows) {
      const ann = annotationsOf(l);
      const review = reviewOf(l);
      const extra = withContent ? [item.sha256, item.modality, item.text ?? '', item.values ? JSON.stringify(item.values) : '', item.blob ? contentUrl(project, item.id) : '', item.blob?.mime ?? '', JSON.stringify(item.meta)] : [];
      lines.push([l.itemId, l.sourceKey, (l.labels ?? []).join('|'), l.source, l.confidence, l.taxonomyVersion, l.decidedAt, consensusOf(l)?.method ?? '', ann.map((a) => a.annotator).join('|'), ann.map((a) => a.labels.join('+')).join('|'), review?.reviewer ?? '', review?.decision ?? '', review?.reason ?? '', ...extra].map(cell).join(','));
    }
    return lines.join('\n') + '\n';
  }
  const result = (labels: string[]) => [{ from_name: 'label', to_name: 'item', type: 'choices', value: { choices: labels }, ...(taxonomy.kind === 'multi' ? { meta: { multiple: true } } : {}) }];
  const tasks = rows.map(({ label: l, item }) => {
    const review = reviewOf(l);
    const decidedBy = review ? review.reviewer : `consensus:${consensusOf(l)?.method ?? ''}`;
    const annotations: Array<Record<string, unknown>> = annotationsOf(l).map((a) => ({ id: a.id, created_at: a.at, lead_time: a.timeMs / 1000, ground_truth: false, result: result(a.labels), meta: { annotator: a.annotator, taxonomyVersion: a.taxonomyVersion } }));
    annotations.push({ created_at: l.decidedAt ?? '', lead_time: 0, ground_truth: true, result: result(l.labels ?? []), meta: { decidedBy, taxonomyVersion: l.taxonomyVersion, source: l.source, confidence: l.confidence, review } });
    return { id: l.itemId, data: item.text !== null ? { text: item.text } : item.values ? { values: item.values } : { [item.modality === 'audio' ? 'audio' : 'image']: contentUrl(project, l.itemId) }, meta: { sourceKey: l.sourceKey, sha256: item.sha256, annotators: annotationsOf(l).map((a) => a.annotator), decidedBy }, annotations };
  });
  return JSON.stringify(tasks, null, 2) + '\n';
}

async function collect(store: Store, project: Project, fmt: ExportFormat, pageSize?: number, content?: 'include' | 'none'): Promise<{ body: string; chunks: number; items: number }> {
  const ex = await openExport(store, project, OP, fmt, { pageSize, content });
  let body = '';
  let chunks = 0;
  for await (const c of ex.chunks()) {
    body += c;
    chunks++;
  }
  return { body, chunks, items: ex.items };
}

/** A project of `n` text items (tricky ids and texts among them), `decided` of them decided by consensus, some by a reviewer. */
async function labelledProject(store: Store, dir: string, name: string, n: number, decided: number, textBytes = 0): Promise<Project> {
  const pad = textBytes > 0 ? ' ' + 'lorem ipsum '.repeat(Math.ceil(textBytes / 12)).slice(0, textBytes) : '';
  const tricky = ['comma, inside', 'quote " inside', 'line\nbreak', 'tab\tand “unicode” 🐦', '<script>x</script>', 'back\\slash'];
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: i % 50 === 0 ? `${name},"${i}"` : `${name}-${i}`, text: `${tricky[i % tricky.length]} ${i}${pad}`, label: LABELS[i % 3] }));
  writeFileSync(join(dir, `${name}.jsonl`), lines.join('\n') + '\n');
  await runImport(store, { project: name, path: join(dir, `${name}.jsonl`), format: 'jsonl', options: { idColumn: 'id' }, actor: 'test', projectSettings: { region: 'au' } });
  const project = await getProject(store.db, name);
  await createTaxonomy(store, project, OP, { kind: 'single', labels: LABELS.map((l) => ({ name: l })) });
  const ids = await seedAnnotations(store, project.id, { items: decided, step: Math.max(1, Math.floor(n / decided)), annotators: [`${name}-a`, `${name}-b`, `${name}-c`], labels: LABELS });
  // A few decided by a reviewer, as review.ts records them.
  for (const id of ids.filter((_, k) => k % 97 === 5)) {
    const li = await store.db.selectFrom('label_items').select('final_provenance').where('item_id', '=', id).executeTakeFirstOrThrow();
    const prov = JSON.parse(li.final_provenance!) as Record<string, unknown>;
    const review = { id: id * 10, reviewer: 'rev, "the" reviewer', decision: 'fix', note: null, reason: 'disagreement', at: '2026-12-01T00:00:00.000Z' };
    await store.db.updateTable('label_items').set({ final_source: 'review', final_labels: JSON.stringify(['other']), final_provenance: JSON.stringify({ ...prov, source: 'review', review }) }).where('item_id', '=', id).execute();
  }
  return getProject(store.db, name);
}

for (const kind of STORE_KINDS) {
  describe(`export stream (${kind})`, () => {
    let t: TestStore;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-export-stream-'));
    before(async () => (t = await freshStore(kind)));
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('many chunks, byte-identical to the in-memory export in every format (residency refusals left out and audit-logged)', async () => {
      let project = await labelledProject(t.store, dir, 'fmt', 6000, 2400);
      // Items of another region: decided, but not exportable.
      writeFileSync(join(dir, 'eu.jsonl'), Array.from({ length: 120 }, (_, i) => JSON.stringify({ id: `eu-${i}`, text: `eu ${i}` })).join('\n') + '\n');
      await runImport(t.store, { project: 'fmt', path: join(dir, 'eu.jsonl'), format: 'jsonl', options: { idColumn: 'id' }, actor: 'test', region: 'eu' });
      const euIds = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', project.id).where('residency', '=', 'eu').orderBy('id').execute()).map((r) => r.id);
      const now = new Date().toISOString();
      await t.store.db.insertInto('label_items').values(euIds.slice(0, 80).map((id) => ({ item_id: id, project_id: project.id, status: 'done' as const, priority: null, final_labels: '["ham"]', final_source: 'consensus' as const, final_confidence: 1, final_taxonomy_version: 1, final_provenance: '{"source":"consensus","annotations":[]}', decided_at: now, updated_at: now }))).execute();
      project = await getProject(t.store.db, 'fmt');

      for (const fmt of FORMATS) {
        const expected = await referenceExport(t.store, project, fmt);
        const got = await collect(t.store, project, fmt, 97);
        assert.ok(got.chunks >= 2400 / 97, `${fmt}: ${got.chunks} chunks`);
        assert.equal(got.items, 2400);
        assert.equal(got.body, expected, `${fmt}: byte-identical`);
        assert.equal((await collect(t.store, project, fmt)).body, expected, `${fmt}: default page size`);
        if (fmt !== 'label-studio') assert.equal((await collect(t.store, project, fmt, 97, 'none')).body, await referenceExport(t.store, project, fmt, 'none'), `${fmt}: labels only`);
      }
      const whole = await exportLabels(t.store, project, OP, 'csv');
      assert.deepEqual(whole.refused, { items: 80, regions: { eu: 80 } });
      const refusal = await t.store.db.selectFrom('audit_events').select('payload').where('project_id', '=', project.id).where('action', '=', 'residency.refused').orderBy('seq', 'desc').executeTakeFirstOrThrow();
      const p = JSON.parse(refusal.payload) as { items: number; itemIds: number[]; regions: Record<string, number> };
      assert.deepEqual({ items: p.items, regions: p.regions, itemIds: p.itemIds }, { items: 80, regions: { eu: 80 }, itemIds: euIds.slice(0, 80) });
    });

    test('an empty export is a valid file in every format', async () => {
      const project = await labelledProject(t.store, dir, 'empty', 10, 0);
      for (const fmt of FORMATS) assert.equal((await collect(t.store, project, fmt)).body, await referenceExport(t.store, project, fmt));
      for (const fmt of ['jsonl', 'csv'] as const) assert.equal((await collect(t.store, project, fmt, undefined, 'none')).body, await referenceExport(t.store, project, fmt, 'none'));
      assert.equal((await collect(t.store, project, 'label-studio')).body, '[]\n');
    });
  });
}

describe('export stream over HTTP and to a file (sqlite)', () => {
  let t: TestStore;
  let project: Project;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-export-http-'));
  before(async () => {
    t = await freshStore('sqlite');
    // ~40 MB of Label Studio JSON: far more than the socket buffers between server and client.
    project = await labelledProject(t.store, dir, 'big', 5000, 5000, 8000);
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('GET …/export streams with chunked transfer and reads items only as the client takes them', async () => {
    const api = await startApi(t.store);
    try {
      const tokens = await usersWithRoles(t.store, project, { 'big-mgr': 'manager' });
      const last = (await t.store.db.selectFrom('label_items').select('item_id').where('project_id', '=', project.id).where('status', '=', 'done').orderBy('item_id', 'desc').limit(1).executeTakeFirstOrThrow()).item_id;
      const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        get(`${api.base}/api/projects/big/export?format=label-studio`, { headers: { authorization: `Bearer ${tokens['big-mgr']}` } }, (res) => {
          res.pause();
          const parts: Buffer[] = [];
          // While the client reads nothing, change the last item's label: a stream that reads
          // pages as the socket drains sends the new label; one built in memory, the old one.
          setTimeout(() => {
            t.store.db
              .updateTable('label_items')
              .set({ final_labels: JSON.stringify(['changed-while-paused']) })
              .where('item_id', '=', last)
              .execute()
              .then(() => {
                res.on('data', (c: Buffer) => parts.push(c));
                res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
                res.resume();
              }, reject);
          }, 400);
        }).on('error', reject);
      });
      assert.equal(headers['transfer-encoding'], 'chunked');
      assert.equal(headers['content-length'], undefined);
      assert.equal(headers['x-tessera-export-items'], '5000');
      assert.ok(body.length > 35e6, `export of ${body.length} bytes`);
      assert.ok(body.includes('"changed-while-paused"'), 'the last page was read after the pause');
      assert.equal(body, await referenceExport(t.store, project, 'label-studio'));

      // The list route: keyset pages with a filter, every matching item once.
      const seen: number[] = [];
      for (let after = 0; ; ) {
        const r = await api.call('GET', `/api/projects/big/items?label=ham&limit=400${after ? `&after=${after}` : ''}`, tokens['big-mgr']);
        assert.equal(r.status, 200, r.text);
        seen.push(...r.json.items.map((i: { id: number; sourceLabel: string }) => (assert.equal(i.sourceLabel, 'ham'), i.id)));
        if (r.json.next === null) break;
        after = r.json.next;
      }
      const ham = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', project.id).where('source_label', '=', 'ham').orderBy('id').execute()).map((r) => r.id);
      assert.deepEqual(seen, ham);
    } finally {
      await api.close();
    }
  });

  test('writeFileAtomically: a stream that fails leaves the target as it was and no temporary file', async () => {
    const out = join(dir, 'atomic.jsonl');
    const failing = async function* () {
      yield 'a\n';
      yield 'b\n';
      throw new Error('database went away');
    };
    await assert.rejects(writeFileAtomically(out, failing()), /database went away/);
    assert.equal(existsSync(out), false);
    writeFileSync(out, 'previous complete export\n');
    await assert.rejects(writeFileAtomically(out, failing()), /database went away/);
    assert.equal(readFileSync(out, 'utf8'), 'previous complete export\n');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.partial')), []);
    assert.equal(await writeFileAtomically(out, (async function* () { yield 'x'; yield 'y\n'; })()), 3);
    assert.equal(readFileSync(out, 'utf8'), 'xy\n');
  });

  test('tessera export --out: killed mid-stream (SIGTERM, kill -9) leaves no partial file; the next run completes and clears the orphan', async () => {
    const out = join(dir, 'cli-export.json');
    const partials = () => readdirSync(dir).filter((f) => f.startsWith('.cli-export.json.') && f.endsWith('.partial'));
    const killMidStream = async (signal: NodeJS.Signals) => {
      const child = tesseraAsync(['export', '--project', 'big', '--format', 'label-studio', '--out', out], t.env);
      const exited = new Promise<number | null>((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const deadline = Date.now() + 120_000;
      while (partials().length === 0) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no temporary file appeared (exit ${child.exitCode}): ${stderr}`);
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill(signal);
      const code = await exited;
      if (signal === 'SIGTERM' && code !== 143) throw new Error(`export exited ${code} after SIGTERM: ${stderr}`);
      return code;
    };
    assert.equal(await killMidStream('SIGTERM'), 143);
    assert.equal(existsSync(out), false, 'no file at --out');
    assert.deepEqual(partials(), [], 'SIGTERM removed the temporary file');

    const complete = async () => {
      const child = tesseraAsync(['export', '--project', 'big', '--format', 'label-studio', '--out', out, '--json'], t.env);
      let stdout = '';
      child.stdout.on('data', (c) => (stdout += c));
      assert.equal(await new Promise((r) => child.on('exit', r)), 0);
      assert.equal(JSON.parse(stdout).items, 5000);
    };
    await complete();
    const full = readFileSync(out, 'utf8');
    assert.equal(full, await referenceExport(t.store, project, 'label-studio'));

    await killMidStream('SIGKILL');
    assert.equal(readFileSync(out, 'utf8'), full, 'kill -9: the previous complete file is untouched');
    await complete();
    assert.equal(readFileSync(out, 'utf8'), full);
    assert.deepEqual(partials(), [], 'the orphaned temporary file of the killed run is gone');
  });
});
