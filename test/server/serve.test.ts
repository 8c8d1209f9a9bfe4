// `tessera users add` and `tessera serve` as a user runs them (child processes): the token
// printed once works against the served API; the server answers 401 without it, serves the
// OpenAPI document, and stops cleanly on SIGTERM.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { tessera, tesseraAsync } from '../helpers/cli.ts';
import { projectWithItems } from './helpers.ts';

// One store kind: this checks the process wiring (the API itself runs on both kinds in the
// other server tests); each child process costs ~2 s of start-up on this machine.
for (const kind of ['sqlite'] as const) {
  describe(`tessera users add + serve (${kind})`, () => {
    let t: TestStore;
    before(async () => {
      t = await freshStore(kind);
      await projectWithItems(t.store, 'served', ['a', 'b']);
    });
    after(async () => t.cleanup());

    test('the printed token authenticates; 401 without it; /docs is served; SIGTERM stops it', async () => {
      const added = tessera(['users', 'add', 'alice', '--role', 'annotator', '--project', 'served', '--json'], t.env);
      assert.equal(added.code, 0, added.stderr);
      assert.deepEqual([added.json.user, added.json.project, added.json.role], ['alice', 'served', 'annotator']);
      assert.match(added.json.token, /^tsr_[A-Za-z0-9_-]{43}$/);

      const child = tesseraAsync(['serve', '--port', '0', '--host', '127.0.0.1'], { ...t.env, TESSERA_LOG_LEVEL: 'warn' });
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (c) => {
          stderr += c;
          const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
      });
      try {
        assert.equal((await fetch(`${url}/api/me`)).status, 401);
        const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${added.json.token}` } });
        assert.equal(me.status, 200);
        assert.deepEqual((await me.json()).memberships, [{ project: 'served', role: 'annotator' }]);
        const doc = await fetch(`${url}/docs/json`);
        assert.equal((await doc.json()).info.title, 'Tessera API');
      } finally {
        const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
        child.kill('SIGTERM');
        assert.equal(await exited, 0, stderr);
      }
    });
  });
}
