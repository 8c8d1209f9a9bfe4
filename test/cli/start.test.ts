import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tessera, tesseraAsync } from '../helpers/cli.ts';
import { openStore } from '../../src/store/db.ts';
import { authenticate, forgetVerifiedTokens } from '../../src/label/users.ts';

// The default (prior moved by EM) is checked on a served run in test/server/security-offline.test.ts.
test('`tessera start --no-prior-shift` keeps every round at its labels’ prior', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  try {
    const r = tessera(['start', '--no-serve', '--json', '--no-prior-shift', '--rounds', '1', '--batch', '20', '--epochs', '1', '--train', 'linear'], { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const rounds = r.json.loop.rounds;
    assert.equal(rounds.length, 1);
    assert.equal(rounds[0].labelledItems, 20);
    assert.equal(rounds[0].training.method, 'linear');
    assert.equal(rounds[0].training.priorShift, null);
    assert.doesNotMatch(r.stderr, /prior moved/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`tessera start --train auto` on the demo: the head reads raw features, so fine-tuning wins a round only by passing McNemar’s test on validation', { timeout: 400_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  try {
    const r = tessera(['start', '--no-serve', '--json', '--rounds', '2', '--batch', '20', '--epochs', '1', '--train', 'auto'], { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const loop = r.json.loop;
    assert.equal(loop.features, 'raw', `one pretraining epoch: the probe finds SSL does not help (${loop.probe?.verdict?.text})`);
    for (const round of loop.rounds) {
      const t = round.training;
      assert.equal(t.requested, 'auto');
      const contested = t.fineTuneBestEpoch !== null && t.valFineTune !== null && t.valLinear !== null && t.valFineTune >= t.valLinear;
      assert.equal(t.challenge !== null, contested, `round ${round.round}: tested exactly when fine-tuning validated at least as well (${JSON.stringify(t)})`);
      if (t.challenge) {
        assert.equal(t.challenge.challenger, 'fine-tune');
        assert.equal(t.challenge.alpha, 0.05);
        assert.equal(t.method, t.challenge.passed ? 'fine-tune' : 'linear');
        assert.match(r.stderr, /McNemar p \d\.\d{3}/);
      } else assert.equal(t.method, 'linear');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The newcomer's path, shrunk (one round of 20 items, one pretraining epoch, linear heads): a
// first `tessera start` serves and prints a sign-in link for an admin it created (the token
// works, against the API and the store); request logs go to $TESSERA_HOME/logs/, not the
// terminal. A second run finds the demo done: no new round, no new answers, no token, the
// commands to go on. `--fresh` sets the old demo aside under another name and starts over.
test('`tessera start`: sign-in link once, logs to a file, a second run finds the demo done, --fresh starts over', { timeout: 900_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  const env = { TESSERA_HOME: home, TESSERA_DATABASE_URL: '', TESSERA_LOG_LEVEL: '' };
  const small = ['--rounds', '1', '--batch', '20', '--epochs', '1', '--train', 'linear'];
  const count = async (table: 'annotations' | 'models') => {
    const store = await openStore({ kind: 'sqlite', location: join(home, 'tessera.db') });
    try {
      return Number((await store.db.selectFrom(table).select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    } finally {
      await store.close();
    }
  };
  try {
    const child = tesseraAsync(['start', ...small, '--port', '0', '--host', '127.0.0.1'], env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const [, url, token] = await new Promise<RegExpExecArray>((resolve, reject) => {
        const look = () => {
          const m = /^ {2}(http:\/\/127\.0\.0\.1:\d+)\/#\/signin\?token=(tsr_[A-Za-z0-9_-]{43})$/m.exec(stdout);
          if (m) resolve(m);
        };
        child.stdout.on('data', look);
        child.on('exit', (code) => reject(new Error(`tessera start exited (${code}) before printing a sign-in link:\n${stdout}\n${stderr.slice(-3000)}`)));
      });
      assert.match(stdout, /label economics after 1 round\(s\)/);
      assert.match(stdout, /npx tessera users add alice --role annotator --project demo/);
      assert.equal(stdout.match(/tsr_[A-Za-z0-9_-]{43}/g)!.length, 1, 'the token is printed once');
      // The token works: through the API (an admin of the demo) and against the store.
      const me = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);
      assert.deepEqual((await me.json()).memberships, [{ project: 'demo', role: 'admin' }]);
      forgetVerifiedTokens();
      const store = await openStore({ kind: 'sqlite', location: join(home, 'tessera.db') });
      try {
        assert.equal((await authenticate(store.db, token))?.name, 'admin');
        const stored = await store.db.selectFrom('api_tokens').select('token_hash').execute();
        assert.ok(stored.every((r) => !r.token_hash.includes(token)), 'stored hashed');
      } finally {
        await store.close();
      }
      assert.equal((await fetch(`${url}/api/projects/demo/items?limit=1`)).status, 401);
      // Request logs: in the file, not on the terminal.
      const logFile = join(home, 'logs', 'serve.log');
      const logged = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
      for (let i = 0; i < 50 && !logged().includes('/api/me'); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(logged(), /"url":"\/api\/me"/);
      assert.match(stderr, new RegExp(`request logs \\(info and above\\) go to ${logFile.replaceAll('/', '\\/')}`));
      assert.doesNotMatch(stderr, /\/api\/me|incoming request/);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr.slice(-3000));
    }

    const answers = await count('annotations');
    const models = await count('models');
    const again = tessera(['start', ...small, '--no-serve'], env);
    assert.equal(again.code, 0, again.stderr.slice(-3000));
    assert.match(again.stdout, /The demo already ran in project "demo"/);
    assert.match(again.stdout, /To run another round: {2}npx tessera loop --project demo --rounds 1 --batch 20 --train linear --prior-shift/);
    assert.match(again.stdout, /npm start -- --fresh/);
    assert.doesNotMatch(again.stdout, /tsr_/, 'no token on a second run');
    assert.match(again.stdout, /A new one: {2}npx tessera users token admin/);
    assert.doesNotMatch(again.stderr, /^round \d/m);
    assert.equal(await count('annotations'), answers, 'no answers bought');
    assert.equal(await count('models'), models, 'no model trained');
    const json = tessera(['start', ...small, '--no-serve', '--json'], env);
    assert.equal(json.code, 0, json.stderr.slice(-3000));
    assert.equal(json.json.loop, null);
    assert.deepEqual(json.json.done.models.map((m: { round: number }) => m.round), [1]);
    assert.equal(json.json.admin.token, null);

    const fresh = tessera(['start', ...small, '--no-serve', '--json', '--fresh'], env);
    assert.equal(fresh.code, 0, fresh.stderr.slice(-3000));
    assert.equal(fresh.json.setAside, 'demo-old-1');
    assert.equal(fresh.json.import.imported, 5574);
    assert.deepEqual(fresh.json.loop.rounds.map((r: { round: number; labelledItems: number }) => [r.round, r.labelledItems]), [[1, 20]]);
    assert.equal(fresh.json.admin.granted, true, 'the existing admin is made an admin of the new demo');
    assert.equal(fresh.json.admin.token, null);
    const store = await openStore({ kind: 'sqlite', location: join(home, 'tessera.db') });
    try {
      const projects = await store.db.selectFrom('projects').select(['id', 'name']).orderBy('id').execute();
      assert.deepEqual(projects.map((p) => p.name), ['demo-old-1', 'demo']);
      // The old demo is whole: its answers stayed with it.
      const old = await store.db.selectFrom('annotations').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projects[0].id).executeTakeFirstOrThrow();
      assert.equal(Number(old.n), answers);
      const { verifyAuditLog } = await import('../../src/label/audit-verify.ts');
      assert.equal((await verifyAuditLog(store.db)).ok, true);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('`tessera start` never imports the demo into, nor sets aside, a project that holds more than the demo', { timeout: 120_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  const env = { TESSERA_HOME: home, TESSERA_DATABASE_URL: '' };
  try {
    const csv = join(home, 'mine.csv');
    writeFileSync(csv, 'text,label\nhello there,ham\nWIN A PRIZE NOW,spam\n');
    assert.equal(tessera(['import', csv, '--project', 'mine', '--format', 'csv'], env).code, 0);
    const r = tessera(['start', '--project', 'mine', '--fresh', '--no-serve'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /project "mine" also holds other imports \(.*mine\.csv\): it is left alone/);
    const plain = tessera(['start', '--project', 'mine', '--no-serve'], env);
    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, /`tessera start` runs the bundled demo, but project "mine" also holds other imports \(.*mine\.csv\): it is left alone/);
    const projects = tessera(['project', 'list', '--json'], env);
    assert.deepEqual(projects.json.map((p: { name: string; items: number }) => [p.name, p.items]), [['mine', 2]]);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('Ctrl-C during the loop of `tessera start` puts the project’s label settings back before exiting', { timeout: 600_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  try {
    const child = tesseraAsync(['start', '--no-serve', '--rounds', '3', '--batch', '20', '--epochs', '1', '--train', 'linear'], { TESSERA_HOME: home, TESSERA_DATABASE_URL: '' });
    let stderr = '';
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        if (/^round 1 /m.test(stderr)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`tessera start exited (${code}) before round 1:\n${stderr.slice(-3000)}`)));
    });
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr.slice(-3000));
    assert.match(stderr, /SIGINT: restoring the project's label settings, then stopping/);
    const store = await openStore({ kind: 'sqlite', location: join(home, 'tessera.db') });
    try {
      const { getLabelSettings } = await import('../../src/label/settings.ts');
      const project = await store.db.selectFrom('projects').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow();
      const s = await getLabelSettings(store.db, project.id);
      assert.equal(s.servePrioritisedOnly, false);
      assert.equal(s.overlap, 2);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
