// Sources an import must refuse, or records it must reject, with a message naming the place:
// a CSV with a header row only (was: exit 0 and an import of nothing recorded), a text that is
// empty (was: an item with text "" under --skip-invalid), a symbolic link loop in a folder
// (was: Node's raw "ELOOP … stat"), and a refusal that says what the valid records would have
// been (was: "0 new, 0 unchanged, 1 rejected").
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/core/errors.ts';
import { ImportRejectedError, runImport } from '../../src/ingest/import.ts';
import type { Format, ReaderOptions } from '../../src/ingest/types.ts';
import { encodeWav16 } from '../../src/ingest/wav.ts';
import { freshStore, snapshot, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

const root = mkdtempSync(join(tmpdir(), 'tessera-refusals-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

for (const kind of STORE_KINDS) {
  describe(`import refusals (${kind})`, () => {
    const dir = join(root, kind);
    const file = (name: string, content: string | Uint8Array) => {
      const p = join(dir, name);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content);
      return p;
    };
    let t: TestStore;
    before(async () => {
      t = await freshStore(kind);
      await runImport(t.store, { project: 'p', path: file('seed.jsonl', '{"id":"s","text":"seed"}\n'), options: { idColumn: 'id' }, actor: 'test' });
    });
    after(async () => t.cleanup());

    /** Imports PATH expecting a UserError (not a rejected-records refusal); the store must not change. */
    const refusedWhole = async (path: string, format: Format | undefined, options: ReaderOptions = {}) => {
      const before = await snapshot(t.store);
      const err = await runImport(t.store, { project: 'p', path, format, options, actor: 'test', skipInvalid: true }).then(
        (r) => assert.fail(`imported: ${JSON.stringify(r)}`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof UserError && !(err instanceof ImportRejectedError), String(err));
      assert.deepEqual(await snapshot(t.store), before, 'nothing recorded, not even an import source');
      return err.message;
    };

    test('a CSV with a header row only is refused naming file:line (text and tabular), and records no import', async () => {
      assert.equal(await refusedWhole(file('header.csv', 'id,text,label\n'), undefined), 'header.csv:1: the header row is the only row; expected at least one record');
      assert.equal(await refusedWhole(file('header-blank.csv', 'id,text,label\r\n\r\n\n'), 'csv'), 'header-blank.csv:1: the header row is the only row; expected at least one record');
      assert.equal(await refusedWhole(file('header-tab.csv', 'a,b,label\n'), 'tabular'), 'header-tab.csv:1: the header row is the only row; expected at least one record');
      // Blank lines alone are no records either (a zero-byte file already was refused).
      assert.equal(await refusedWhole(file('blank.jsonl', '\n  \n\n'), 'jsonl'), 'blank.jsonl:3: 3 blank lines and no record; expected at least one record');
      assert.equal(await refusedWhole(file('blank.sms', '\n'), 'sms'), 'blank.sms:1: 1 blank line and no record; expected at least one record');
      assert.equal(await refusedWhole(file('blank.txt.gz', gzipSync('')), 'jsonl'), 'blank.txt.gz: the file decompresses to 0 bytes; expected at least one record');
    });

    test('an empty text is rejected in every text format, so --skip-invalid never makes an item with text ""', async () => {
      const cases: Array<{ path: string; format: Format; line: number; message: RegExp }> = [
        { path: file('t.csv', 'id,text,label\nc1,fine,a\nc2,,b\n'), format: 'csv', line: 3, message: /^field "text" is empty; expected a non-empty text$/ },
        { path: file('q.csv', 'id,text,label\nq1,fine,a\nq2,"",b\n'), format: 'csv', line: 3, message: /^field "text" is empty/ },
        { path: file('t.jsonl', '{"id":"j1","text":"fine"}\n{"id":"j2","text":""}\n'), format: 'jsonl', line: 2, message: /^field "text" is empty/ },
        { path: file('t.sms', 'ham\tfine\nspam\t\n'), format: 'sms', line: 2, message: /^the text after the tab is empty/ },
        { path: file('t.trec', 'DESC:manner How did it go ?\nHUM:ind \n'), format: 'trec', line: 2, message: /^the question is empty/ },
      ];
      for (const c of cases) {
        const name = c.path.split('/').pop()!;
        const project = `blank-${c.format}-${c.line}-${name.replace(/\W/g, '')}`;
        const err = await runImport(t.store, { project, path: c.path, format: c.format, options: { idColumn: c.format === 'csv' || c.format === 'jsonl' ? 'id' : undefined }, actor: 'test' }).catch((e: unknown) => e);
        assert.ok(err instanceof ImportRejectedError, `${name}: ${err}`);
        assert.deepEqual(err.report.errors.map((e) => e.where), [`${name}:${c.line}`], name);
        assert.match(err.report.errors[0].message, c.message, name);

        const partial = await runImport(t.store, { project, path: c.path, format: c.format, options: { idColumn: c.format === 'csv' || c.format === 'jsonl' ? 'id' : undefined }, actor: 'test', skipInvalid: true });
        assert.deepEqual([partial.imported, partial.rejected], [1, 1], name);
      }
      const empty = await t.store.db.selectFrom('items').select('id').where('modality', '=', 'text').where('text', '=', '').execute();
      assert.deepEqual(empty, [], 'no item with an empty text');
    });

    test('a refused import says how many valid records it would have imported (new and unchanged) and hints --skip-invalid', async () => {
      const path = file('mixed.jsonl', '{"id":"s","text":"seed"}\n{"id":"n1","text":"one"}\n{"id":"n2","text":"two"}\n{"id":"bad"}\n');
      const before = await snapshot(t.store);
      const err = await runImport(t.store, { project: 'p', path, options: { idColumn: 'id' }, actor: 'test' }).catch((e: unknown) => e);
      assert.ok(err instanceof ImportRejectedError, String(err));
      assert.deepEqual({ ...err.report, errors: err.report.errors.length }, { imported: 0, unchanged: 0, rejected: 1, errors: 1, wouldImport: { new: 2, unchanged: 1 } });
      assert.equal(err.message, 'import refused: 1 record rejected, so the 3 valid records (2 new, 1 unchanged) were not imported either; fix the rejected records, or pass --skip-invalid to import the valid ones');
      assert.deepEqual(await snapshot(t.store), before);

      const none = await runImport(t.store, { project: 'p', path: file('none.jsonl', '{"id":"x"}\n'), options: { idColumn: 'id' }, actor: 'test' }).catch((e: unknown) => e);
      assert.ok(none instanceof ImportRejectedError);
      assert.deepEqual(none.report.wouldImport, { new: 0, unchanged: 0 });
      assert.match(none.message, /^import refused: 1 record rejected and none valid/);
      // What it said would go in does go in with skipInvalid.
      const partial = await runImport(t.store, { project: 'p', path, options: { idColumn: 'id' }, actor: 'test', skipInvalid: true });
      assert.deepEqual([partial.imported, partial.unchanged, partial.rejected, partial.wouldImport], [2, 1, 1, undefined]);
    });

    test('a symbolic link loop in a folder (or as the path) is named as a loop, not as a raw ELOOP', async () => {
      const tone = encodeWav16(Float32Array.from({ length: 800 }, (_, i) => Math.sin(i / 5) * 0.5), 8000);
      file('loopy/one.wav', tone);
      mkdirSync(join(dir, 'loopy/sub'), { recursive: true });
      symlinkSync('self', join(dir, 'loopy/sub/self')); // a link to itself
      symlinkSync('b.wav', join(dir, 'loopy/a.wav')); // a -> b -> a
      symlinkSync('a.wav', join(dir, 'loopy/b.wav'));
      const loop = (p: string) => new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: symbolic link loop \\(following its links never reaches a file or folder\\)`);
      // Guessing the format walks the folder; reading it lists the files: both name the link.
      assert.match(await refusedWhole(join(dir, 'loopy'), undefined), loop(join(dir, 'loopy/sub/self')));
      assert.match(await refusedWhole(join(dir, 'loopy'), 'wav'), loop(join(dir, 'loopy/a.wav')));
      assert.match(await refusedWhole(join(dir, 'loopy/sub/self'), undefined), loop(join(dir, 'loopy/sub/self')));
      assert.match(await refusedWhole(join(dir, 'loopy/a.wav'), 'csv'), loop(join(dir, 'loopy/a.wav')));
    });
  });
}
