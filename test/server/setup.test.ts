// Setting up a project through the API, as the web UI does: instance admins (a user flag set by
// `tessera users add --admin`), creating projects and users with their tokens, and importing an
// uploaded file through the import job. A real server over a fresh store (SQLite and PostgreSQL),
// real files written to a temp dir, real SMS Spam Collection lines for the TSV import.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser, isInstanceAdmin, listUsers, setInstanceAdmin } from '../../src/label/users.ts';
import { safeFileName, UPLOAD_LIMIT, uploadsDir } from '../../src/server/routes/imports.ts';
import { tessera } from '../helpers/cli.ts';
import { dataset } from '../helpers/datasets.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, startApi, type Api } from './helpers.ts';

const SMS_LINES = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n').slice(0, 40);
/** A CSV of short texts with no label column, quoted as RFC 4180 wants. */
const csvOf = (texts: string[]) => 'text\n' + texts.map((t) => `"${t.replace(/"/g, '""')}"`).join('\n') + '\n';
const TEXTS = SMS_LINES.slice(0, 30).map((l) => l.split('\t')[1]);

for (const kind of STORE_KINDS) {
  describe(`setup from the web UI's API (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let root: string;
    let plain: string;
    const home = mkdtempSync(join(tmpdir(), 'tessera-home-'));
    const savedHome = process.env.TESSERA_HOME;

    /** POSTs `bytes` as an upload, the way the web UI sends a file. */
    async function upload(token: string, project: string, query: Record<string, string>, bytes: string) {
      const res = await fetch(`${api.base}/api/projects/${project}/imports?${new URLSearchParams(query)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      return { status: res.status, json: (await res.json()) as any };
    }

    before(async () => {
      // PostgreSQL keeps uploads under TESSERA_HOME: a temp one, not the checkout's .tessera.
      process.env.TESSERA_HOME = home;
      t = await freshStore(kind);
      root = (await createUser(t.store, OPERATOR, 'root', 'Root', { admin: true })).token.token;
      plain = (await createUser(t.store, OPERATOR, 'plain')).token.token;
      api = await startApi(t.store);
    });
    after(async () => {
      await api.close();
      await t.cleanup();
      if (savedHome === undefined) delete process.env.TESSERA_HOME;
      else process.env.TESSERA_HOME = savedHome;
      rmSync(home, { recursive: true, force: true });
    });

    test('GET /api/me says who is an instance admin; the flag can be set and cleared, audit-logged', async () => {
      assert.equal((await api.call('GET', '/api/me', root)).json.user.admin, true);
      assert.equal((await api.call('GET', '/api/me', plain)).json.user.admin, false);
      const r = await setInstanceAdmin(t.store, OPERATOR, 'plain', true);
      assert.deepEqual(r, { user: 'plain', admin: true, previous: false });
      assert.equal((await api.call('GET', '/api/me', plain)).json.user.admin, true);
      await setInstanceAdmin(t.store, OPERATOR, 'plain', false);
      assert.equal((await api.call('GET', '/api/me', plain)).json.user.admin, false);
      const events = await t.store.db.selectFrom('audit_events').select(['action', 'payload']).where('action', '=', 'user.admin').orderBy('seq').execute();
      assert.deepEqual(events.map((e) => JSON.parse(e.payload).admin), [true, false]);
      assert.deepEqual((await listUsers(t.store.db)).map((u) => [u.name, u.admin]), [['root', true], ['plain', false]]);
    });

    test('an instance admin creates a project and becomes its admin; nobody else may; a second project of that name is refused', async () => {
      assert.equal((await api.call('POST', '/api/projects', plain, { name: 'nope' })).status, 403);
      const res = await api.call('POST', '/api/projects', root, { name: 'news', region: 'eu' });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual([res.json.name, res.json.role, res.json.settings.region], ['news', 'admin', 'eu']);
      const me = (await api.call('GET', '/api/me', root)).json;
      assert.deepEqual(me.memberships, [{ project: 'news', role: 'admin' }]);
      const again = await api.call('POST', '/api/projects', root, { name: 'news' });
      assert.equal(again.status, 400);
      assert.equal(again.json.error.code, 'E_EXISTS');
      const bad = await api.call('POST', '/api/projects', root, { name: '../etc' });
      assert.equal(bad.status, 400);
      const p = await t.store.db.selectFrom('projects').select('id').where('name', '=', 'news').executeTakeFirstOrThrow();
      const events = await t.store.db.selectFrom('audit_events').select(['action', 'actor']).where('project_id', '=', p.id).orderBy('seq').execute();
      assert.deepEqual(events.map((e) => [e.action, e.actor]), [['project.create', 'user:root'], ['member.set', 'user:root']]);
      // The admin role's period is on record (assignment never serves them blind what they could read).
      const periods = await t.store.db.selectFrom('role_periods').select(['role', 'to_at']).where('project_id', '=', p.id).execute();
      assert.deepEqual(periods, [{ role: 'admin', to_at: null }]);
    });

    test('an instance admin creates users and issues tokens (shown once, never stored or logged in clear); the token signs in', async () => {
      assert.equal((await api.call('POST', '/api/users', plain, { name: 'ann' })).status, 403);
      assert.equal((await api.call('GET', '/api/users', plain)).status, 403);
      const res = await api.call('POST', '/api/users', root, { name: 'ann', displayName: 'Ann Lee' });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(res.json.user, { name: 'ann', displayName: 'Ann Lee', admin: false });
      const me = await api.call('GET', '/api/me', res.json.token);
      assert.equal(me.json.user.name, 'ann');
      const dup = await api.call('POST', '/api/users', root, { name: 'ann' });
      assert.equal(dup.json.error.code, 'E_EXISTS');
      const again = await api.call('POST', '/api/users/ann/tokens', root, {});
      assert.equal(again.status, 201);
      assert.notEqual(again.json.token, res.json.token);
      assert.equal((await api.call('GET', '/api/me', again.json.token)).json.user.name, 'ann');
      assert.equal((await api.call('GET', '/api/me', res.json.token)).status, 200, 'the first token stays valid');
      assert.equal((await api.call('POST', '/api/users/ghost/tokens', root, {})).status, 404);
      const list = (await api.call('GET', '/api/users', root)).json.users;
      assert.deepEqual(list.find((u: { name: string }) => u.name === 'ann'), { name: 'ann', displayName: 'Ann Lee', admin: false, createdAt: list.find((u: { name: string }) => u.name === 'ann').createdAt, memberships: [] });
      const boss = await api.call('POST', '/api/users', root, { name: 'boss', admin: true });
      assert.equal((await api.call('GET', '/api/me', boss.json.token)).json.user.admin, true);
      const dump = JSON.stringify(await t.store.db.selectFrom('audit_events').selectAll().execute()) + JSON.stringify(await t.store.db.selectFrom('api_tokens').selectAll().execute());
      for (const tok of [res.json.token, again.json.token, boss.json.token]) assert.ok(!dump.includes(tok), 'a token is stored in clear');
    });

    test('an instance admin adds a user who is in no project yet to their project; a project admin who is not one still gets 404 for a user they cannot see', async () => {
      const res = await api.call('PUT', '/api/projects/news/members/ann', root, { role: 'annotator' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.json.user, res.json.role], ['ann', 'annotator']);
      const { token: padmin } = await createUser(t.store, OPERATOR, `padmin-${kind}`);
      assert.equal((await api.call('PUT', `/api/projects/news/members/padmin-${kind}`, root, { role: 'admin' })).status, 200);
      // "boss" exists but shares no project with this project admin: the same answer as a name that does not exist.
      const hidden = await api.call('PUT', '/api/projects/news/members/boss', padmin.token, { role: 'viewer' });
      const missing = await api.call('PUT', '/api/projects/news/members/no-such-user', padmin.token, { role: 'viewer' });
      assert.deepEqual([hidden.status, missing.status], [404, 404]);
      assert.equal((await api.call('DELETE', '/api/projects/news/members/ann', padmin.token)).status, 200, 'ann is a member of news now: visible');
      assert.equal((await api.call('PUT', '/api/projects/news/members/ann', root, { role: 'annotator' })).status, 200);
    });

    test('upload a CSV: imported through the import job, the report answered; the same file again is unchanged; the upload is deleted', async () => {
      const res = await upload(root, 'news', { name: 'messages.csv', format: 'csv' }, csvOf(TEXTS));
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.status, 'succeeded');
      assert.deepEqual([res.json.report.imported, res.json.report.unchanged, res.json.report.rejected], [30, 0, 0]);
      const job = await t.store.db.selectFrom('jobs').select(['type', 'status']).where('id', '=', res.json.job).executeTakeFirstOrThrow();
      assert.deepEqual(job, { type: 'import', status: 'succeeded' });
      const items = await t.store.db.selectFrom('items').innerJoin('projects', 'projects.id', 'items.project_id').select(['items.text', 'items.locator']).where('projects.name', '=', 'news').orderBy('items.id').execute();
      assert.deepEqual(items.map((i) => i.text), TEXTS);
      assert.equal(items[0].locator, 'messages.csv:2');
      const again = await upload(root, 'news', { name: 'messages.csv', format: 'csv' }, csvOf(TEXTS));
      assert.deepEqual([again.json.report.imported, again.json.report.unchanged], [0, 30]);
      assert.deepEqual(readdirSync(uploadsDir(t.store)), [], 'no upload is left behind');
      const ev = await t.store.db.selectFrom('audit_events').select(['actor', 'payload']).where('action', '=', 'import').orderBy('seq').executeTakeFirstOrThrow();
      assert.equal(ev.actor, 'user:root');
    });

    test('rejected records: nothing imported, the report names file and line, and says how many valid records skip-invalid would import; with skipInvalid they are', async () => {
      const lines = SMS_LINES.slice(0, 12);
      // Two broken lines: no tab (no label), and a tab first (empty label).
      lines[3] = 'no tab on this line';
      lines[7] = '\tempty label';
      const tsv = lines.join('\n') + '\n';
      const refused = await upload(root, 'news', { name: 'sms.tsv', format: 'sms' }, tsv);
      assert.equal(refused.status, 400);
      assert.equal(refused.json.error.code, 'E_IMPORT_REJECTED');
      assert.match(refused.json.error.message, /2 record\(s\) rejected.*10 valid record\(s\) would be imported with skipInvalid/);
      assert.equal(refused.json.valid, 10);
      assert.deepEqual(refused.json.report.errors.map((e: { where: string }) => e.where), ['sms.tsv:4', 'sms.tsv:8']);
      assert.match(refused.json.report.errors[0].message, /no tab found/);
      const n = async () => Number((await t.store.db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('locator', 'like', 'sms.tsv:%').executeTakeFirstOrThrow()).n);
      assert.equal(await n(), 0, 'nothing imported');
      const skipped = await upload(root, 'news', { name: 'sms.tsv', format: 'sms', skipInvalid: 'true' }, tsv);
      assert.equal(skipped.status, 201);
      assert.deepEqual([skipped.json.report.imported, skipped.json.report.rejected], [10, 2]);
      assert.equal(await n(), 10);
      const src = await t.store.db.selectFrom('items').select('source_label').where('locator', '=', 'sms.tsv:1').executeTakeFirstOrThrow();
      assert.equal(src.source_label, 'ham');
    });

    test('a file the reader cannot take is refused with a message that names the file and what was expected', async () => {
      const res = await upload(root, 'news', { name: 'wrong.csv', format: 'csv' }, 'body,label\nhello,x\n');
      assert.equal(res.status, 400);
      assert.equal(res.json.error.code, 'E_IMPORT_FAILED');
      assert.match(res.json.error.message, /wrong\.csv:1: header has no text column "text" \(columns: body, label\)/);
      const ok = await upload(root, 'news', { name: 'wrong.csv', format: 'csv', textColumn: 'body', labelColumn: 'label' }, 'body,label\nhello,x\n');
      assert.equal(ok.status, 201, JSON.stringify(ok.json));
      assert.equal(ok.json.report.imported, 1);
    });

    test('uploads: only staff of the project; a JSON body or an over-large declared size is refused before anything is written', async () => {
      const { token: ann } = await createUser(t.store, OPERATOR, `viewer-${kind}`);
      await api.call('PUT', `/api/projects/news/members/viewer-${kind}`, root, { role: 'viewer' });
      assert.equal((await upload(ann.token, 'news', { name: 'x.csv', format: 'csv' }, 'text\nx\n')).status, 403);
      const json = await api.call('POST', '/api/projects/news/imports?name=x.csv&format=csv', root, { text: 'x' });
      assert.equal(json.status, 400);
      assert.match(json.json.error.message, /application\/octet-stream/);
      const big = await rawRequest(api.base, 'POST', '/api/projects/news/imports?name=big.csv&format=csv', {
        authorization: `Bearer ${root}`,
        'content-type': 'application/octet-stream',
        'content-length': String(UPLOAD_LIMIT + 1),
      });
      assert.equal(big.status, 413);
      assert.match(big.body, /E_TOO_LARGE/);
      assert.deepEqual(existsSync(uploadsDir(t.store)) ? readdirSync(uploadsDir(t.store)) : [], []);
    });
  });
}

test('upload names: the last path segment, odd characters replaced, never a dot file', () => {
  assert.equal(safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(safeFileName('C:\\Users\\me\\data set.csv'), 'data set.csv');
  assert.equal(safeFileName('..'), 'upload');
  assert.equal(safeFileName('.env'), 'env');
  assert.equal(safeFileName('a\u0000b<c>.csv'), 'a_b_c_.csv');
  assert.equal(safeFileName('données.csv'), 'données.csv');
});

test('`tessera users add --admin` makes an instance admin; `users admin NAME --off` clears it', async () => {
  const t = await freshStore('sqlite');
  try {
    const r = tessera(['users', 'add', 'chief', '--admin', '--json'], t.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.admin, true);
    const u = (await listUsers(t.store.db)).find((x) => x.name === 'chief')!;
    assert.equal(await isInstanceAdmin(t.store.db, u.id), true);
    const off = tessera(['users', 'admin', 'chief', '--off', '--json'], t.env);
    assert.deepEqual(off.json, { user: 'chief', admin: false, previous: true });
    assert.equal(await isInstanceAdmin(t.store.db, u.id), false);
    const plain = tessera(['users', 'add', 'someone', '--json'], t.env);
    assert.equal(plain.json.admin, undefined);
    assert.match(tessera(['users', 'list'], t.env).stdout, /^chief\t/m);
  } finally {
    await t.cleanup();
  }
});
