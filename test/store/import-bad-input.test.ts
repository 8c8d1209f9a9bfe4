import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImportRejectedError, runImport, type ImportReport } from '../../src/ingest/import.ts';
import { encodeWav16 } from '../../src/ingest/wav.ts';
import type { Format, ReaderOptions } from '../../src/ingest/types.ts';
import { freshStore, snapshot, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bad-'));
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
};
const tone = (n: number) => encodeWav16(Float32Array.from({ length: n }, (_, i) => Math.sin(i / 5) * 0.5), 8000);

function idx(n: number, rows: number, cols: number, dropBytes = 0): Uint8Array {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x803, 0);
  head.writeUInt32BE(n, 4);
  head.writeUInt32BE(rows, 8);
  head.writeUInt32BE(cols, 12);
  const body = Buffer.alloc(n * rows * cols, 7);
  return Buffer.concat([head, body]).subarray(0, 16 + body.length - dropBytes);
}

/** Each malformed source, the format to read it as, and what the error must say. */
const CASES: Array<{ name: string; path: () => string; format?: Format; options?: ReaderOptions; where: RegExp; message: RegExp; valid: number }> = [
  { name: 'unbalanced quotes (csv)', path: () => file('quotes.csv', 'id,text,label\n1,fine,a\n2,"never closed,b\n'), where: /^quotes\.csv:3$/, message: /unbalanced quotes/, valid: 1 },
  { name: 'wrong column count (csv)', path: () => file('cols.csv', 'id,text,label\n1,fine,a\n2,too,many,fields\n3,ok,b\n'), where: /^cols\.csv:3$/, message: /wrong column count: expected 3 fields .* got 4/, valid: 2 },
  { name: 'invalid UTF-8 (jsonl)', path: () => file('utf8.jsonl', Buffer.concat([Buffer.from('{"text":"ok"}\n{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')])), where: /^utf8\.jsonl:2$/, message: /invalid UTF-8/, valid: 1 },
  { name: 'invalid JSON (jsonl)', path: () => file('json.jsonl', '{"text":"ok"}\n{"text": nope}\n[1,2]\n'), where: /^json\.jsonl:[23]$/, message: /invalid JSON|expected a JSON object, got an array/, valid: 1 },
  { name: 'a single 10 MB line (jsonl)', path: () => file('long.jsonl', `{"text":"ok"}\n{"text":"${'z'.repeat(10 << 20)}"}\n`), where: /^long\.jsonl:2$/, message: /over the limit of 1,048,576/, valid: 1 },
  { name: 'truncated WAV', path: () => (file('wavs/good.wav', tone(800)), file('wavs/cut.wav', tone(800).subarray(0, 900)), join(dir, 'wavs')), format: 'wav', where: /cut\.wav/, message: /truncated/i, valid: 1 },
  { name: 'non-image bytes', path: () => (file('imgs/fake.png', 'this is not a png'), join(dir, 'imgs')), format: 'images', where: /fake\.png/, message: /not a readable PNG or JPEG image/, valid: 0 },
  { name: 'non-numeric value in a numeric column (tabular)', path: () => file('tab.csv', 'a,b,label\n1,x,p\n2,y,q\nthree,z,r\n'), format: 'tabular', options: { columns: 'a:num,b:cat,label:label' }, where: /^tab\.csv:4$/, message: /field "a": expected a number, got "three"/, valid: 2 },
  { name: 'duplicate id inside one source', path: () => file('dup.jsonl', '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n{"id":1,"text":"c"}\n'), options: { idColumn: 'id' }, where: /^dup\.jsonl:3$/, message: /duplicate id "1" in this source \(first at dup\.jsonl:1\)/, valid: 2 },
];

/** Sources unusable as a whole: nothing is read, the error names the file. */
const WHOLE: Array<{ name: string; path: () => string; format?: Format; message: RegExp }> = [
  { name: 'empty file', path: () => file('empty.jsonl', ''), message: /empty\.jsonl: empty file \(0 bytes\)/ },
  { name: 'truncated IDX', path: () => file('t10k-images-idx3-ubyte.gz', gzipSync(idx(5, 4, 4, 10))), format: 'idx', message: /t10k-images-idx3-ubyte\.gz.*(truncated|expected)/i },
  { name: 'csv without the text column', path: () => file('nocol.csv', 'id,body\n1,x\n'), message: /no text column "text" \(columns: id, body\)/ },
  { name: 'missing path', path: () => join(dir, 'nope.jsonl'), message: /nope\.jsonl: no such file or folder/ },
];

for (const kind of STORE_KINDS) {
  describe(`bad input is reported and leaves the store unchanged (${kind})`, () => {
    let t: TestStore;
    before(async () => {
      t = await freshStore(kind);
      // Something already in the store, so "unchanged" is checked against real content.
      await runImport(t.store, { project: 'p', path: file('seed.jsonl', '{"text":"seed"}\n'), options: {}, actor: 'test' });
    });
    after(async () => t.cleanup());

    for (const c of CASES) {
      test(c.name, async () => {
        const path = c.path();
        const before = await snapshot(t.store);
        const err = await runImport(t.store, { project: 'p', path, format: c.format, options: c.options ?? {}, actor: 'test' }).then(
          () => assert.fail('import should have been refused'),
          (e) => e,
        );
        assert.ok(err instanceof ImportRejectedError, `got ${err}`);
        const report: ImportReport = err.report;
        assert.equal(report.imported, 0);
        assert.ok(report.rejected >= 1);
        const hit = report.errors.find((e) => c.where.test(e.where));
        assert.ok(hit, `an error at ${c.where}, got ${JSON.stringify(report.errors)}`);
        assert.match(hit.message, c.message);
        assert.deepEqual(await snapshot(t.store), before, 'store unchanged');

        // With --skip-invalid the valid records go in and the same rejects are reported.
        const partial = await runImport(t.store, { project: `skip-${c.name.replace(/\W+/g, '-').slice(0, 40)}`, path, format: c.format, options: c.options ?? {}, actor: 'test', skipInvalid: true });
        assert.equal(partial.imported, c.valid);
        assert.equal(partial.rejected, report.rejected);
      });
    }

    for (const c of WHOLE) {
      test(c.name, async () => {
        const path = c.path();
        const before = await snapshot(t.store);
        await assert.rejects(runImport(t.store, { project: 'p', path, format: c.format, options: {}, actor: 'test' }), c.message);
        assert.deepEqual(await snapshot(t.store), before, 'store unchanged');
      });
    }

    test('changed content under an existing id is refused, not overwritten', async () => {
      await runImport(t.store, { project: 'ids', path: file('v1.jsonl', '{"id":"a","text":"first"}\n'), options: { idColumn: 'id' }, actor: 'test' });
      const before = await snapshot(t.store);
      const err = await runImport(t.store, { project: 'ids', path: file('v2.jsonl', '{"id":"a","text":"edited"}\n{"id":"b","text":"new"}\n'), options: { idColumn: 'id' }, actor: 'test' }).catch((e) => e);
      assert.ok(err instanceof ImportRejectedError);
      assert.match(err.report.errors[0].message, /"a" was imported before \(v1\.jsonl:1\) with different content/);
      assert.deepEqual(await snapshot(t.store), before);
    });

    test('exact duplicates stay separate items; same ids re-imported from another file are unchanged', async () => {
      const r = await runImport(t.store, { project: 'dups', path: file('d.jsonl', '{"id":1,"text":"same"}\n{"id":2,"text":"same"}\n'), options: { idColumn: 'id' }, actor: 'test' });
      assert.equal(r.imported, 2);
      const rows = await t.store.db.selectFrom('items').select('sha256').where('source_key', 'in', ['id:1', 'id:2']).where('text', '=', 'same').execute();
      assert.equal(rows.length, 2);
      assert.equal(rows[0].sha256, rows[1].sha256);
      const again = await runImport(t.store, { project: 'dups', path: file('d-copy.jsonl', '{"id":2,"text":"same"}\n{"id":1,"text":"same"}\n'), options: { idColumn: 'id' }, actor: 'test' });
      assert.deepEqual([again.imported, again.unchanged], [0, 2]);
    });
  });
}

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
