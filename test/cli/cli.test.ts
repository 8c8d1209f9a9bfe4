import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataset } from '../helpers/datasets.ts';
import { tessera, tesseraAsync } from '../helpers/cli.ts';
import { freshStore, snapshot, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));

for (const kind of STORE_KINDS) {
  describe(`CLI contracts (${kind})`, () => {
    let t: TestStore;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    test('import --json and stats --json have the exact documented shapes', () => {
      const sms = dataset('text', 'sms-spam', 'SMSSpamCollection');
      const r = tessera(['import', sms, '--project', 'sms', '--json'], t.env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.json, { imported: 5574, unchanged: 0, rejected: 0, errors: [] });
      const again = tessera(['import', sms, '--project', 'sms', '--format', 'sms', '--json'], t.env);
      assert.deepEqual(again.json, { imported: 0, unchanged: 5574, rejected: 0, errors: [] });
      const s = tessera(['stats', '--project', 'sms', '--json'], t.env);
      assert.deepEqual(s.json, { items: 5574, byModality: { text: 5574 }, sourceLabels: { ham: 4827, spam: 747 } });
    });

    test('rejected import: exit 2, JSON report naming file:line, nothing written', async () => {
      const bad = join(dir, `${kind}-bad.csv`);
      writeFileSync(bad, 'id,text,label\n1,ok,a\n2,x,y,z\n');
      const before = await snapshot(t.store);
      const r = tessera(['import', bad, '--project', 'sms', '--id-column', 'id', '--json'], t.env);
      assert.equal(r.code, 2);
      assert.deepEqual(r.json, { imported: 0, unchanged: 0, rejected: 1, errors: [{ where: `${kind}-bad.csv:3`, message: 'wrong column count: expected 3 fields (id,text,label), got 4' }], wouldImport: { new: 1, unchanged: 0 } });
      assert.deepEqual(await snapshot(t.store), before);

      const rejects = join(dir, `${kind}-rejects.jsonl`);
      const skip = tessera(['import', bad, '--project', 'sms', '--id-column', 'id', '--skip-invalid', '--rejects', rejects, '--json'], t.env);
      assert.equal(skip.code, 0);
      assert.equal(skip.json.imported, 1);
      assert.equal(skip.json.rejected, 1);
      assert.equal(skip.json.rejectsFile, rejects);
      assert.deepEqual(JSON.parse(readFileSync(rejects, 'utf8').trim()), r.json.errors[0]);
    });

    test('project, items and jobs commands', () => {
      const created = tessera(['project', 'create', 'audio', '--sample-rate', '8000', '--region', 'au', '--json'], t.env);
      assert.equal(created.code, 0, created.stderr);
      assert.deepEqual(created.json.settings, { sampleRate: 8000, region: 'au' });
      assert.equal(tessera(['project', 'create', 'audio', '--json'], t.env).json.error.code, 'E_EXISTS');
      assert.equal(tessera(['project', 'create', '../etc', '--json'], t.env).code, 2);

      const list = tessera(['project', 'list', '--json'], t.env).json as Array<{ name: string; items: number }>;
      assert.deepEqual(list.map((p) => [p.name, p.items]), [['sms', 5575], ['audio', 0]]);

      const page = tessera(['items', 'list', '--project', 'sms', '--limit', '2', '--after', '1', '--json'], t.env).json;
      assert.deepEqual(page.items.map((i: { id: number }) => i.id), [2, 3]);
      assert.equal(page.next, 3);
      assert.equal(page.items[0].sourceLabel, 'ham');
      assert.equal(page.items[0].locator, 'SMSSpamCollection:2');
      const spam = tessera(['items', 'list', '--project', 'sms', '--label', 'spam', '--limit', '1', '--json'], t.env).json;
      assert.equal(spam.items[0].text.slice(0, 10), 'Free entry');
      const one = tessera(['items', 'show', '3', '--project', 'sms', '--json'], t.env).json;
      assert.equal(one.id, 3);
      assert.equal(one.residency, 'local');
      const missing = tessera(['items', 'show', '999999', '--project', 'sms', '--json'], t.env);
      assert.equal(missing.code, 3);
      assert.match(missing.json.error.message, /item 999999 .*not found/);

      const jobs = tessera(['jobs', 'list', '--json'], t.env).json as Array<{ type: string; status: string }>;
      assert.ok(jobs.length >= 3);
      assert.ok(jobs.every((j) => j.type === 'import'));
      assert.deepEqual([...new Set(jobs.map((j) => j.status))].sort(), ['failed', 'succeeded']);
      assert.equal(tessera(['jobs', 'list', '--status', 'bogus', '--json'], t.env).code, 2);
    });

    test('unknown project and usage errors are clear, with non-zero exits', () => {
      const r = tessera(['stats', '--project', 'nope', '--json'], t.env);
      assert.equal(r.code, 3);
      assert.deepEqual(r.json, { error: { code: 'E_NOT_FOUND', message: 'project "nope" not found' } });
      const usage = tessera(['import', '--project', 'x'], t.env);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /missing required argument 'path'/);
    });

    test('an import killed mid-way leaves nothing; its job is re-queued and re-run on the next start', async () => {
      const big = join(dir, `${kind}-big.jsonl`);
      writeFileSync(big, Array.from({ length: 300_000 }, (_, i) => JSON.stringify({ id: i, text: `message number ${i}` })).join('\n') + '\n');
      const before = await snapshot(t.store);
      const child = tesseraAsync(['import', big, '--project', 'killed', '--id-column', 'id', '--json'], t.env);
      // Kill once the job is running and has written part of its transaction.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const running = tessera(['jobs', 'list', '--status', 'running', '--json'], t.env).json as Array<{ id: number }>;
        if (running.length > 0) break;
        assert.ok(Date.now() < deadline, 'the import job never started');
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 700));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      assert.deepEqual(await snapshot(t.store), before, 'a killed import leaves nothing half-written');
      const run = tessera(['jobs', 'run', '--json'], t.env);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.json.recovered.length, 1);
      assert.equal(run.json.ran[0].status, 'succeeded');
      assert.equal(run.json.ran[0].attempts, 2);
      assert.equal(run.json.ran[0].result.imported, 300_000);
    });
  });
}

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('numeric flags (audit, label, bench) share one parser: a non-number or an empty value exits 2 naming the flag', () => {
  for (const [args, flag] of [
    [['audit', '--project', 'p', '--z', 'abc'], '--z'],
    [['audit', '--project', 'p', '--text-threshold', ''], '--text-threshold'],
    [['label', 'settings', '--project', 'p', '--gold-rate', 'often'], '--gold-rate'],
  ] as const) {
    const r = tessera([...args, '--json'], {});
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr + JSON.stringify(r.json ?? {}), new RegExp(`${flag} expects a number, got \\\\"`));
  }
});
