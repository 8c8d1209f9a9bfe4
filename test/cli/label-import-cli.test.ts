// `tessera label import` and the per-question export formats from the CLI: a questions-form
// taxonomy, predictions and finished annotations imported from JSONL, and `tessera export
// --format spans-jsonl|conll --question` — what a user scripting the round trip runs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tessera } from '../helpers/cli.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';

describe('tessera label import / export per question (sqlite)', () => {
  let t: TestStore;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-label-import-'));
  before(async () => (t = await freshStore('sqlite')));
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('import predictions and finished answers from JSONL, export them as spans JSONL and CoNLL', () => {
    const items = join(dir, 'items.jsonl');
    writeFileSync(items, [JSON.stringify({ id: 'a', text: 'Call Anna now' }), JSON.stringify({ id: 'b', text: 'Bob rang' })].join('\n') + '\n');
    assert.equal(tessera(['import', items, '--project', 'p', '--id-column', 'id', '--json'], t.env).code, 0);
    const tax = join(dir, 'taxonomy.json');
    writeFileSync(tax, JSON.stringify({ questions: [{ name: 'names', kind: 'spans', labels: [{ name: 'NAME' }] }, { name: 'note', kind: 'text', required: false }] }));
    const created = tessera(['taxonomy', 'create', tax, '--project', 'p'], t.env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), 'taxonomy version 1 (names: spans NAME; note: text)');
    const shown = tessera(['taxonomy', 'show', '--project', 'p'], t.env);
    assert.deepEqual(shown.stdout.trimEnd().split('\n'), ['version 1', '  names (spans)', '    NAME', '  note (text, optional)']);

    const preds = join(dir, 'preds.jsonl');
    writeFileSync(preds, JSON.stringify({ sourceKey: 'id:b', answers: { names: [{ start: 0, end: 3, label: 'NAME' }] }, model: 'ner-1' }) + '\n');
    const p = tessera(['label', 'import', preds, '--project', 'p', '--as', 'predictions', '--json'], t.env);
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual([p.json.as, p.json.records, p.json.items], ['predictions', 1, 1]);

    const finals = join(dir, 'final.jsonl');
    writeFileSync(finals, [
      JSON.stringify({ sourceKey: 'id:a', answers: { names: [{ start: 5, end: 9, label: 'NAME' }], note: 'checked' }, annotations: [{ annotator: 'x', answers: { names: [{ start: 5, end: 9, label: 'NAME' }] } }] }),
      JSON.stringify({ sourceKey: 'id:b', answers: { names: [{ start: 0, end: 3, label: 'NAME' }] } }),
    ].join('\n') + '\n');
    const f = tessera(['label', 'import', finals, '--project', 'p', '--json'], t.env);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual([f.json.as, f.json.items, f.json.skipped], ['final', 2, []]);
    // A record that does not fit exits 2, naming file and line, and imports nothing.
    writeFileSync(finals, JSON.stringify({ sourceKey: 'id:a', answers: { names: [{ start: 5, end: 90, label: 'NAME' }] } }) + '\n');
    const bad = tessera(['label', 'import', finals, '--project', 'p', '--json'], t.env);
    assert.equal(bad.code, 2);
    assert.match(bad.json.error.message, /final\.jsonl:1: answers\/names\/0\/end: 90 is past the end of the text \(13 code points/);

    const out = join(dir, 'spans.jsonl');
    const e = tessera(['export', '--project', 'p', '--format', 'spans-jsonl', '--question', 'names', '--out', out, '--json'], t.env);
    assert.equal(e.code, 0, e.stderr);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).spans), [[{ start: 5, end: 9, label: 'NAME', text: 'Anna' }], [{ start: 0, end: 3, label: 'NAME', text: 'Bob' }]]);
    const conll = tessera(['export', '--project', 'p', '--format', 'conll'], t.env);
    assert.equal(conll.code, 0, conll.stderr);
    assert.match(conll.stdout, /# source_key = id:a\nCall\tO\nAnna\tB-NAME\nnow\tO\n/);
    const wrong = tessera(['export', '--project', 'p', '--format', 'coco', '--json', '--out', join(dir, 'x.json')], t.env);
    assert.equal(wrong.code, 2);
  });
});
