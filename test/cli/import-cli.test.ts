// `tessera import` as a user sees it: a header-only CSV exits 2 and records nothing (was: exit 0
// and an empty import recorded); a refused import says what the valid records would have been
// and how to import them; a symbolic link loop is named as one (was: Node's raw ELOOP message).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tessera } from '../helpers/cli.ts';
import { freshStore, snapshot, type TestStore } from '../helpers/stores.ts';

describe('tessera import: refusals (sqlite)', () => {
  let t: TestStore;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-import-cli-'));
  before(async () => (t = await freshStore('sqlite')));
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a header-only CSV exits 2 naming file:line and records no import', async () => {
    const path = join(dir, 'header.csv');
    writeFileSync(path, 'id,text,label\n');
    const before = await snapshot(t.store);
    const human = tessera(['import', path, '--project', 'p'], t.env);
    assert.equal(human.code, 2, human.stdout + human.stderr);
    assert.equal(human.stdout.trim(), 'NOT imported: header.csv:1: the header row is the only row; expected at least one record');
    const json = tessera(['import', path, '--project', 'p', '--skip-invalid', '--json'], t.env);
    assert.equal(json.code, 2);
    assert.deepEqual(json.json, { imported: 0, unchanged: 0, rejected: 0, errors: [{ where: path, message: 'header.csv:1: the header row is the only row; expected at least one record' }] });
    assert.deepEqual(await snapshot(t.store), before, 'no project, no import source');
  });

  test('a refused import names the valid records it would have imported and hints --skip-invalid', () => {
    const path = join(dir, 'mixed.csv');
    writeFileSync(path, 'id,text,label\n1,first,a\n2,,b\n3,third,a\n');
    const r = tessera(['import', path, '--project', 'q', '--id-column', 'id'], t.env);
    assert.equal(r.code, 2);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'NOT imported: 1 record rejected, so none of the 2 valid records (2 new, 0 unchanged) was imported either',
      '  mixed.csv:3: field "text" is empty; expected a non-empty text',
      'fix the rejected records, or pass --skip-invalid to import the valid ones (the rejected ones go to a JSONL report, --rejects FILE)',
    ]);
    const json = tessera(['import', path, '--project', 'q', '--id-column', 'id', '--json'], t.env);
    assert.deepEqual(json.json.wouldImport, { new: 2, unchanged: 0 });
    const skip = tessera(['import', path, '--project', 'q', '--id-column', 'id', '--skip-invalid', '--rejects', join(dir, 'rejects.jsonl'), '--json'], t.env);
    assert.equal(skip.code, 0);
    assert.deepEqual([skip.json.imported, skip.json.rejected, skip.json.wouldImport], [2, 1, undefined]);
  });

  test('a symbolic link loop in the folder exits 2 naming the link', () => {
    const folder = join(dir, 'loop');
    mkdirSync(folder);
    symlinkSync('self', join(folder, 'self'));
    const r = tessera(['import', folder, '--project', 'l'], t.env);
    assert.equal(r.code, 2);
    assert.equal(r.stdout.trim(), `NOT imported: ${join(folder, 'self')}: symbolic link loop (following its links never reaches a file or folder); remove the link or point it at real data`);
    assert.doesNotMatch(r.stdout + r.stderr, /ELOOP/);
  });
});
