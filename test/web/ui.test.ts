// The web UI in a real browser (Debian chromium via playwright-core) against a real server over a
// fresh SQLite store with real text items (SMS Spam Collection): keyboard-only labelling, blind
// overlap, review resolving a disagreement, a viewer who cannot label, inert hostile text, the
// embedding map (hover, lasso, bulk label), and screenshots of the main views as artifacts.
// One browser for the whole file; every wait is for a condition, never a fixed sleep.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { runImport } from '../../src/ingest/import.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, startApi, type Api } from '../server/helpers.ts';
import { tesseraAsync } from '../helpers/cli.ts';
import { buildApp } from '../../src/server/app.ts';
import { artifactPath, ensureWebBuilt, launchBrowser, signIn, type Browser, type WatchedPage } from './helpers.ts';

const SMS = dataset('text', 'sms-spam', 'SMSSpamCollection');
const TAXONOMY = {
  kind: 'single' as const,
  labels: [
    { name: 'ham', description: 'an ordinary message between people', examples: ['Ok lar... Joking wif u oni...'] },
    { name: 'spam', description: 'unsolicited advertising, prize claims, premium-rate numbers', examples: ['WINNER!! You have been selected to receive a £900 prize reward!'] },
  ],
  guidelines: 'Label each SMS as spam when it advertises, claims a prize or asks you to call or text a premium number; otherwise ham.',
};
const KEY: Record<string, string> = { ham: '1', spam: '2' };

/** Polls `f` until it returns a truthy value (or fails after `ms`). */
async function until<T>(f: () => Promise<T>, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('web UI in chromium', () => {
  let t: TestStore;
  let api: Api;
  let browser: Browser;
  const tok: Record<string, string> = {};
  const pages: WatchedPage[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'tessera-web-'));
  const projects: Record<string, Project> = {};

  /** An SMS project: the first `lines` messages (all when undefined), a taxonomy, settings, members. */
  async function smsProject(name: string, lines: number | undefined, members: Record<string, 'annotator' | 'reviewer' | 'viewer' | 'manager' | 'admin'>, overlap = 2) {
    let path = SMS;
    if (lines !== undefined) {
      path = join(tmp, `${name}.txt`);
      writeFileSync(path, readFileSync(SMS, 'utf8').split('\n').slice(0, lines).join('\n') + '\n');
    }
    await runImport(t.store, { project: name, path, format: 'sms', options: {}, actor: 'cli:test' });
    const p = await getProject(t.store.db, name);
    await createTaxonomy(t.store, p, OPERATOR, TAXONOMY);
    await updateSettings(t.store, p, OPERATOR, { overlap, leaseSeconds: 600 });
    for (const [user, role] of Object.entries(members)) {
      if (!tok[user]) tok[user] = (await createUser(t.store, OPERATOR, user)).token.token;
      await setRole(t.store, p, OPERATOR, user, role);
    }
    projects[name] = p;
    return p;
  }

  async function newPage(): Promise<WatchedPage> {
    const w = await browser.page();
    pages.push(w);
    return w;
  }

  const sourceLabel = async (itemId: number) => (await t.store.db.selectFrom('items').select('source_label').where('id', '=', itemId).executeTakeFirstOrThrow()).source_label!;
  const currentItem = async (page: Page) => Number(await page.locator('article.item[data-task-id]').getAttribute('data-item-id'));
  /** Waits for the labelling view to show an item other than `previous`; returns its id. */
  async function nextItem(page: Page, previous: number | null): Promise<number> {
    const sel = previous === null ? 'article.item[data-task-id]' : `article.item[data-task-id]:not([data-item-id="${previous}"])`;
    await page.locator(sel).waitFor();
    return currentItem(page);
  }

  before(async () => {
    await ensureWebBuilt();
    t = await freshStore('sqlite');
    await smsProject('sms', undefined, { ann1: 'annotator', ann2: 'annotator', rev: 'reviewer', viewer: 'viewer', mgr: 'manager' });
    api = await startApi(t.store);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await t?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('an annotator labels 20 SMS with the keyboard only; the store holds exactly those 20 answers with time spent', async () => {
    const { page } = await newPage();
    await page.goto(api.base + '/');
    await page.locator('[data-token-input]').waitFor();
    await page.keyboard.type(tok.ann1);
    await page.keyboard.press('Enter');
    // The project list focuses the first project: Enter opens the labelling view.
    await page.locator('a[data-project="sms"]:focus').waitFor();
    await page.keyboard.press('Enter');

    const answered = new Map<number, string>();
    let prev: number | null = null;
    for (let i = 0; i < 20; i++) {
      const id = await nextItem(page, prev);
      const truth = await sourceLabel(id);
      if (i === 4) {
        // A wrong answer, taken back with Z before it is sent: the same item returns.
        const wrong = truth === 'ham' ? 'spam' : 'ham';
        await page.keyboard.press(KEY[wrong]);
        await page.keyboard.press('Enter');
        await page.locator(`article.item:not([data-item-id="${id}"])`).waitFor();
        await page.keyboard.press('z');
        await page.locator(`article.item[data-item-id="${id}"]`).waitFor();
        await page.locator(`.label-btn[data-label="${wrong}"][aria-pressed="true"]`).waitFor();
      }
      await page.keyboard.press(KEY[truth]);
      await page.locator(`.label-btn[data-label="${truth}"][aria-pressed="true"]`).waitFor();
      if (i === 0) {
        await page.keyboard.press('g');
        await page.locator('[data-guidelines]').waitFor();
        assert.match(await page.locator('[data-guidelines]').innerText(), /premium number/);
        await page.screenshot({ path: artifactPath('ui-labelling.png') });
        await page.keyboard.press('g');
        await page.locator('[data-guidelines]').waitFor({ state: 'detached' });
      }
      await page.keyboard.press('Enter');
      answered.set(id, truth);
      prev = id;
    }
    // The last answer is sent after the undo grace period.
    const rows = await until(async () => {
      const r = await t.store.db
        .selectFrom('annotations')
        .innerJoin('users', 'users.id', 'annotations.user_id')
        .select(['annotations.item_id', 'annotations.labels', 'annotations.time_ms', 'annotations.skipped'])
        .where('users.name', '=', 'ann1')
        .where('annotations.project_id', '=', projects.sms.id)
        .execute();
      return r.length >= 20 ? r : null;
    }, '20 annotations in the store');
    assert.ok(rows);
    assert.equal(rows.length, 20);
    assert.deepEqual(new Set(rows.map((r) => r.item_id)), new Set(answered.keys()));
    for (const r of rows) {
      assert.deepEqual(JSON.parse(r.labels), [answered.get(r.item_id)]);
      assert.equal(r.skipped, 0);
      assert.ok(r.time_ms > 0, `time spent recorded for item ${r.item_id}`);
    }
  });

  test('blind overlap: annotator B never sees what A answered for the same item', async () => {
    await smsProject('blind', 30, { 'ann-a': 'annotator', 'ann-b': 'annotator' });
    const A = await newPage();
    await signIn(A.page, api.base, tok['ann-a']);
    await A.page.goto(api.base + '/#/p/blind/label?grace=0');
    const x = await nextItem(A.page, null);
    await A.page.keyboard.press('c');
    await A.page.keyboard.type('A-SECRET-NOTE');
    await A.page.keyboard.press('Escape');
    await A.page.keyboard.press('2');
    await A.page.keyboard.press('Enter');
    await until(
      () => t.store.db.selectFrom('annotations').select('id').where('item_id', '=', x).where('comment', '=', 'A-SECRET-NOTE').executeTakeFirst(),
      "A's answer stored",
    );

    const B = await newPage();
    const bodies: string[] = [];
    B.page.on('response', async (r) => {
      if (r.url().includes('/api/')) bodies.push(await r.text().catch(() => ''));
    });
    await signIn(B.page, api.base, tok['ann-b']);
    await B.page.goto(api.base + '/#/p/blind/label?grace=0');
    const y = await nextItem(B.page, null);
    assert.equal(y, x, 'B is served the item A answered (overlap 2)');
    assert.equal(await B.page.locator('.label-btn[aria-pressed="true"]').count(), 0, 'nothing preselected');
    assert.equal(await B.page.locator('[data-suggestion]').count(), 0);
    const text = await B.page.locator('body').innerText();
    for (const secret of ['ann-a', 'A-SECRET-NOTE']) assert.ok(!text.includes(secret), `B's page shows ${secret}`);
    await until(async () => bodies.length > 0, 'responses recorded');
    for (const secret of ['ann-a', 'A-SECRET-NOTE', '"labels":["spam"]', 'consensus']) {
      assert.ok(!bodies.some((b) => b.includes(secret)), `a response to B contains ${secret}`);
    }
    const task = bodies.map((b) => JSON.parse(b || 'null')).find((j) => j?.task?.item?.id === x)?.task;
    assert.deepEqual(Object.keys(task.item).sort(), ['content', 'id', 'modality', 'text', 'values']);
    assert.equal(task.suggestion, null);
    // Even asked directly, the API keeps A's answer from B.
    const status = await B.page.evaluate(async (id) => {
      const r = await fetch(`/api/projects/blind/items/${id}/annotations`, { headers: { authorization: `Bearer ${sessionStorage.getItem('tessera.token')}` } });
      return r.status;
    }, x);
    assert.equal(status, 403);
  });

  test('a reviewer resolves a disagreement in the review queue; the dashboard counts update', async () => {
    const p = await smsProject('review', 10, { 'rv-a': 'annotator', 'rv-b': 'annotator', 'rv-boss': 'reviewer' });
    // Two annotators disagree on the first item (through the API, as their own browsers would).
    const taskA = (await api.call('POST', '/api/projects/review/tasks/next', tok['rv-a'])).json.task;
    const taskB = (await api.call('POST', '/api/projects/review/tasks/next', tok['rv-b'])).json.task;
    assert.equal(taskA.item.id, taskB.item.id);
    assert.equal((await api.call('POST', `/api/projects/review/tasks/${taskA.id}/submit`, tok['rv-a'], { labels: ['ham'], taxonomyVersion: 1, timeMs: 1200 })).status, 201);
    assert.equal((await api.call('POST', `/api/projects/review/tasks/${taskB.id}/submit`, tok['rv-b'], { labels: ['spam'], taxonomyVersion: 1, timeMs: 900 })).status, 201);

    const { page } = await newPage();
    await signIn(page, api.base, tok['rv-boss']);
    await page.goto(api.base + '/#/p/review');
    const stat = (name: string) => page.locator(`[data-stat="${name}"] .stat-value`);
    await page.locator('[data-dashboard="review"]').waitFor();
    assert.equal(await stat('openReviews').innerText(), '1');
    assert.equal(await stat('done').innerText(), '0');
    assert.equal(await stat('review').innerText(), '1');

    await page.locator('[data-nav="review"]').click();
    await page.locator('[data-review-detail]').waitFor();
    // Side by side: who answered what, when, and the suggestion shown (none here).
    const answers = page.locator('.answer');
    assert.equal(await answers.count(), 2);
    assert.match(await page.locator('.answer[data-annotator="rv-a"]').innerText(), /ham[\s\S]*rv-a[\s\S]*no suggestion shown/);
    assert.match(await page.locator('.answer[data-annotator="rv-b"]').innerText(), /spam[\s\S]*rv-b/);
    await page.screenshot({ path: artifactPath('ui-review.png') });
    // A tie has no proposal: fix it (F, 2 = spam, Enter).
    await page.keyboard.press('f');
    await page.locator('[data-fix-bar]').waitFor();
    await page.keyboard.press('2');
    await page.locator('[data-fix-label="spam"][aria-pressed="true"]').waitFor();
    await page.keyboard.press('Enter');
    await page.locator('[data-review-count="0"]').waitFor();

    await page.locator('[data-nav="dashboard"]').click();
    await page.locator('[data-dashboard="review"]').waitFor();
    await until(async () => (await stat('openReviews').innerText()) === '0', 'backlog 0');
    assert.equal(await stat('done').innerText(), '1');
    assert.equal(await stat('review').innerText(), '0');
    assert.equal(await stat('byReview').innerText(), '1');
    assert.equal(await page.locator('[data-label-count="spam"] td').innerText(), '1');
    const final = await t.store.db.selectFrom('label_items').select(['status', 'final_labels', 'final_source']).where('item_id', '=', taskA.item.id).executeTakeFirstOrThrow();
    assert.deepEqual([final.status, JSON.parse(final.final_labels!), final.final_source], ['done', ['spam'], 'review']);
    assert.ok(p.id > 0);
  });

  test('admin: taxonomy editor with migration preview and a new version, members, audit log "verify chain"', async () => {
    await setRole(t.store, projects.review, OPERATOR, 'mgr', 'manager');
    const { page } = await newPage();
    await signIn(page, api.base, tok.mgr);
    await page.goto(api.base + '/#/p/review/admin/taxonomy');
    await page.locator('[data-version="1"]').waitFor();
    // Rename spam → junk: the item decided "spam" in review would go back to review.
    await page.locator('input[aria-label="label 2 name"]').fill('junk');
    await page.getByRole('button', { name: '+ mapping step' }).click();
    await page.locator('.mapping-row input[aria-label="from"]').fill('spam');
    await page.locator('.mapping-row input[aria-label="to"]').fill('junk');
    await page.locator('[data-action="preview"]').click();
    await page.locator('[data-preview]').waitFor();
    assert.equal(await page.locator('[data-sent-to-review]').getAttribute('data-sent-to-review'), '1');
    assert.match(await page.locator('[data-preview]').innerText(), /spam → junk/);
    assert.equal((await t.store.db.selectFrom('taxonomies').select('version').where('project_id', '=', projects.review.id).execute()).length, 1, 'a preview writes nothing');
    await page.screenshot({ path: artifactPath('ui-admin-taxonomy.png'), fullPage: true });
    await page.locator('[data-action="create-version"]').click();
    await page.locator('[data-version="2"]').waitFor();
    const open = await t.store.db.selectFrom('review_queue').select('reason').where('project_id', '=', projects.review.id).where('status', '=', 'open').execute();
    assert.deepEqual(open.map((r) => r.reason), ['taxonomy_change']);

    await page.goto(api.base + '/#/p/review/admin/members');
    await page.locator('[data-member="rv-a"]').waitFor();
    assert.equal(await page.locator('[data-member]').count(), 4);

    await page.goto(api.base + '/#/p/review/admin/audit');
    await page.locator('[data-action="verify"]').click();
    await page.locator('[data-verify="ok"]').waitFor();
    assert.match(await page.locator('[data-verify]').innerText(), /Chain intact/);
  });

  test('a viewer cannot label: the UI offers no labelling and the API refuses it', async () => {
    const { page } = await newPage();
    await signIn(page, api.base, tok.viewer);
    await page.locator('a[data-project="sms"]').click();
    await page.locator('[data-dashboard="sms"]').waitFor();
    assert.equal(await page.locator('[data-nav="label"]').count(), 0);
    assert.equal(await page.locator('[data-nav="dashboard"]').count(), 1);
    await page.goto(api.base + '/#/p/sms/label');
    await page.locator('[data-cannot-label]').waitFor();
    assert.equal(await page.locator('.label-btn').count(), 0);
    const statuses = await page.evaluate(async () => {
      const h = { authorization: `Bearer ${sessionStorage.getItem('tessera.token')}`, 'content-type': 'application/json' };
      const next = await fetch('/api/projects/sms/tasks/next', { method: 'POST', headers: h, body: '{}' });
      const ahead = await fetch('/api/projects/sms/tasks/ahead', { method: 'POST', headers: h, body: '{"holding":[]}' });
      const submit = await fetch('/api/projects/sms/tasks/1/submit', { method: 'POST', headers: h, body: '{"labels":["ham"],"taxonomyVersion":1}' });
      return [next.status, ahead.status, submit.status];
    });
    assert.deepEqual(statuses, [403, 403, 403]);
  });

  test('hostile text renders inert: <img onerror> and <script> are shown as text, nothing runs', async () => {
    const hostile = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>', '"><svg onload=alert(3)><b>bold?</b>'];
    const file = join(tmp, 'xss.jsonl');
    writeFileSync(file, hostile.map((text, i) => JSON.stringify({ id: `x${i}`, text, label: 'spam' })).join('\n') + '\n');
    await runImport(t.store, { project: 'xss', path: file, format: 'jsonl', options: { idColumn: 'id' }, actor: 'cli:test' });
    const p = await getProject(t.store.db, 'xss');
    await createTaxonomy(t.store, p, OPERATOR, TAXONOMY);
    await updateSettings(t.store, p, OPERATOR, { overlap: 1 });
    await setRole(t.store, p, OPERATOR, 'ann1', 'annotator');
    await setRole(t.store, p, OPERATOR, 'mgr', 'manager');
    const first = (await t.store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').executeTakeFirstOrThrow()).id;
    const sug = await api.call('PUT', '/api/projects/xss/suggestions', tok.mgr, { items: [{ itemId: first, labels: ['spam'], source: 'model-SECRET-9', confidence: 0.87 }] });
    assert.equal(sug.status, 200, sug.text);

    const w = await newPage();
    const { page } = w;
    await signIn(page, api.base, tok.ann1);
    await page.goto(api.base + '/#/p/xss/label?grace=0');
    let prev: number | null = null;
    for (const raw of hostile) {
      const id = await nextItem(page, prev);
      const box = page.locator('article.item [data-item-text]');
      assert.equal(await box.innerText(), raw);
      assert.equal(await box.evaluate((el) => el.children.length), 0, 'the text made no elements');
      if (id === first) {
        // The suggestion and its confidence (never its source); A takes it.
        const hint = await page.locator('[data-suggestion]').innerText();
        assert.match(hint, /spam/);
        assert.match(hint, /87%/);
        assert.ok(!(await page.locator('body').innerText()).includes('model-SECRET-9'));
        await page.keyboard.press('a');
        await page.locator('.label-btn[data-label="spam"][aria-pressed="true"]').waitFor();
      }
      await page.keyboard.press('2');
      await page.keyboard.press('Enter');
      prev = id;
    }
    await page.locator('[data-label-done]').waitFor();
    const dom = await page.evaluate(() => ({
      imgX: document.querySelectorAll('img[src="x"]').length,
      inlineScripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
      svgOnload: document.querySelectorAll('svg[onload]').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    }));
    assert.deepEqual(dom, { imgX: 0, inlineScripts: 0, svgOnload: 0, handlers: 0 });
    assert.deepEqual(w.dialogs, [], 'no alert() ran');
    // The page is served with a strict CSP.
    const res = await page.request.get(api.base + '/');
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /require-trusted-types-for 'script'/);
  });

  test('audio (player + spectrogram), image (zoom) and tabular items render in the labelling view', async () => {
    const media = join(tmp, 'media');
    mkdirSync(join(media, 'wav'), { recursive: true });
    copyFileSync(dataset('audio', 'fsdd', 'recordings', '3_george_0.wav'), join(media, 'wav', '3_george_0.wav'));
    writeFileSync(join(media, 'digits.csv'), gunzipSync(readFileSync(dataset('images', 'digits', 'digits.csv.gz'))).toString('utf8').split('\n').slice(0, 1).join('\n') + '\n');
    writeFileSync(join(media, 'kdd.txt'), readFileSync(dataset('tabular', 'nsl-kdd', 'KDDTest+.txt'), 'utf8').split('\n').slice(0, 1).join('\n') + '\n');
    await runImport(t.store, { project: 'media', path: join(media, 'wav'), format: 'wav', options: { labelPattern: '{label}_{speaker}_{index}.wav' }, actor: 'cli:test' });
    await runImport(t.store, { project: 'media', path: join(media, 'digits.csv'), format: 'digits', options: {}, actor: 'cli:test' });
    await runImport(t.store, { project: 'media', path: join(media, 'kdd.txt'), format: 'tabular', options: { preset: 'nsl-kdd' }, actor: 'cli:test' });
    const p = await getProject(t.store.db, 'media');
    await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'keep' }, { name: 'drop' }] });
    await updateSettings(t.store, p, OPERATOR, { overlap: 1 });
    await setRole(t.store, p, OPERATOR, 'ann1', 'annotator');

    const { page } = await newPage();
    await signIn(page, api.base, tok.ann1);
    await page.goto(api.base + '/#/p/media/label?grace=0');
    // Audio: the spectrogram is drawn from the WAV's samples; P plays.
    await page.locator('article.item[data-modality="audio"] canvas[data-spectrogram]').waitFor();
    const spec = await page.locator('canvas[data-spectrogram]').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return { w: c.width, h: c.height, colours: seen.size };
    });
    assert.equal(spec.h, 256, '512-point FFT → 256 frequency bins');
    assert.ok(spec.w > 10 && spec.colours > 50, `a spectrogram, not a blank canvas: ${JSON.stringify(spec)}`);
    assert.ok(await page.locator('audio[data-item-audio]').evaluate((a: HTMLAudioElement) => a.src.startsWith('blob:')));
    await page.screenshot({ path: artifactPath('ui-labelling-audio.png') });
    await page.keyboard.press('1');
    await page.keyboard.press('Enter');
    // Image: zoom in with +.
    const img = page.locator('article.item[data-modality="image"] img[data-item-image]');
    await img.waitFor();
    const w0 = Number(await img.getAttribute('width'));
    await page.keyboard.press('+');
    await until(async () => Number(await img.getAttribute('width')) > w0, 'the image zoomed in');
    assert.ok(await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth === 8), 'the 8×8 raw digit is shown as an image');
    await page.keyboard.press('2');
    await page.keyboard.press('Enter');
    // Tabular: one row, column by column.
    const table = page.locator('article.item[data-modality="tabular"] table[data-item-tabular]');
    await table.waitFor();
    assert.ok((await table.locator('tr').count()) >= 40, 'the NSL-KDD row shows its 41 features');
    // S skips, with a reason chosen by number.
    await page.keyboard.press('s');
    await page.locator('[data-skip-bar]').waitFor();
    await page.keyboard.press('3');
    await page.locator('[data-label-done]').waitFor();
    const rows = await until(async () => {
      const r = await t.store.db.selectFrom('annotations').select(['skipped', 'skip_reason']).where('project_id', '=', p.id).orderBy('id').execute();
      return r.length === 3 ? r : null;
    }, 'three answers stored');
    assert.ok(rows);
    assert.deepEqual(rows.map((r) => [r.skipped, r.skip_reason]), [
      [0, null],
      [0, null],
      [1, 'broken or unreadable item'],
    ]);
  });

  test('embedding map: UMAP layout, hover preview, click to open, lasso to bulk-label; dashboard, labelling and map screenshots', async () => {
    // A second annotator answers the first 20 items (disagreeing on some): agreement, consensus
    // and a review backlog for the dashboard.
    const mine = await t.store.db.selectFrom('annotations').select(['item_id', 'labels']).where('project_id', '=', projects.sms.id).orderBy('item_id').execute();
    let k = 0;
    for (;;) {
      const task = (await api.call('POST', '/api/projects/sms/tasks/next', tok.ann2)).json.task;
      if (!task || !mine.some((m) => m.item_id === task.item.id)) {
        if (task) await api.call('POST', `/api/projects/sms/tasks/${task.id}/release`, tok.ann2);
        break;
      }
      const a = JSON.parse(mine.find((m) => m.item_id === task.item.id)!.labels)[0];
      const label = k++ % 6 === 5 ? (a === 'ham' ? 'spam' : 'ham') : a;
      assert.equal((await api.call('POST', `/api/projects/sms/tasks/${task.id}/submit`, tok.ann2, { labels: [label], taxonomyVersion: 1, timeMs: 1500 + k * 40 })).status, 201);
    }

    const { page } = await newPage();
    await signIn(page, api.base, tok.mgr);
    await page.goto(api.base + '/#/p/sms');
    await page.locator('[data-dashboard="sms"] [data-pair-matrix]').waitFor();
    await page.locator('[data-section="events"] table').waitFor();
    assert.ok(Number(await page.locator('[data-stat="done"] .stat-value').innerText()) > 0);
    await page.screenshot({ path: artifactPath('ui-dashboard.png'), fullPage: true });

    await page.goto(api.base + '/#/p/sms/map?limit=1000');
    await page.locator('[data-map-state="ready"]').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-map-source]').getAttribute('data-map-source'), 'raw');
    const over = page.locator('.map-overlay');
    const box = (await over.boundingBox())!;
    // Hover: sweep until a point is under the cursor.
    let tip = false;
    for (let gy = 0.2; gy <= 0.8 && !tip; gy += 0.05) {
      for (let gx = 0.2; gx <= 0.8 && !tip; gx += 0.05) {
        await page.mouse.move(box.x + box.width * gx, box.y + box.height * gy);
        tip = (await page.locator('[data-map-tip]').count()) > 0;
      }
    }
    assert.ok(tip, 'hovering a point shows its preview');
    // Coloured by the import's source label (ham / spam) for the screenshot, hovering a point.
    await page.locator('[data-colour-by]').selectOption('source');
    await page.locator('.legend', { hasText: 'spam' }).waitFor();
    const tipAt = page.mouse;
    await tipAt.move(box.x + 1, box.y + 1);
    tip = false;
    for (let gy = 0.3; gy <= 0.7 && !tip; gy += 0.04) {
      for (let gx = 0.3; gx <= 0.7 && !tip; gx += 0.04) {
        await page.mouse.move(box.x + box.width * gx, box.y + box.height * gy);
        tip = (await page.locator('[data-map-tip]').count()) > 0;
      }
    }
    await page.screenshot({ path: artifactPath('ui-map.png') });
    // Click opens the item.
    const tipId = await page.locator('[data-map-tip]').getAttribute('data-map-tip');
    await page.mouse.down();
    await page.mouse.up();
    await page.locator(`[data-item-panel="${tipId}"] article.item`).waitFor();
    await page.keyboard.press('Escape');

    // Lasso the whole plot, then bulk-label the selection as spam (the manager may decide).
    await page.keyboard.press('l');
    await page.locator('[data-lasso-toggle][aria-pressed="true"]').waitFor();
    const pts: Array<[number, number]> = [
      [0.02, 0.02],
      [0.98, 0.02],
      [0.98, 0.98],
      [0.02, 0.98],
      [0.02, 0.03],
    ];
    await page.mouse.move(box.x + box.width * pts[0][0], box.y + box.height * pts[0][1]);
    await page.mouse.down();
    for (const [fx, fy] of pts.slice(1)) await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 4 });
    await page.mouse.up();
    const selected = Number(await page.locator('[data-selected]').getAttribute('data-selected'));
    assert.ok(selected > 900, `lasso over the whole plot selects (nearly) every point, got ${selected}`);
    // Queue the selection: annotators get these items first.
    await page.locator('[data-action="queue"]').click();
    await page.locator('.toast', { hasText: 'queued' }).waitFor();
    const prioritised = await t.store.db.selectFrom('label_items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projects.sms.id).where('priority', '=', 1000).executeTakeFirstOrThrow();
    assert.equal(Number(prioritised.n), selected);
    await page.locator('.lasso-actions select').selectOption('spam');
    const before = Number((await t.store.db.selectFrom('label_items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projects.sms.id).where('status', '=', 'done').executeTakeFirstOrThrow()).n);
    await page.locator('[data-action="bulk-label"]').click();
    await page.locator('.toast', { hasText: 'labelled "spam"' }).waitFor();
    const afterDone = Number((await t.store.db.selectFrom('label_items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', projects.sms.id).where('status', '=', 'done').executeTakeFirstOrThrow()).n);
    assert.ok(afterDone > before + 800, `bulk label decided the selection (${before} → ${afterDone})`);
    const ev = await t.store.db.selectFrom('audit_events').select('payload').where('action', '=', 'label.bulk').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(ev.payload).labels, ['spam']);
  });

  test('`tessera serve` serves the built UI with its CSP, assets cached, API answers sandboxed', async () => {
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
      assert.doesNotMatch(stderr, /building it/, 'the build from npm install (or this test run) is used as is');
      const page = await fetch(url + '/');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /text\/html/);
      assert.match(page.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      const html = await page.text();
      const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script, html);
      assert.doesNotMatch(html.replace(/<script[^>]*src=[^>]*><\/script>/g, ''), /<script/, 'no inline script in the page');
      const js = await fetch(url + script);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('cache-control')!, /immutable/);
      assert.equal((await fetch(url + '/assets/..%2f..%2fpackage.json')).status, 404);
      const apiRes = await fetch(url + '/api/me');
      assert.equal(apiRes.status, 401);
      assert.match(apiRes.headers.get('content-security-policy')!, /sandbox/);
    } finally {
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    }
  });

  test('without a build, / says how to build the UI (and the API still works)', async () => {
    const app = await buildApp({ store: t.store, web: { dir: join(tmp, 'no-build-here') } });
    try {
      const r = await app.inject({ method: 'GET', url: '/' });
      assert.equal(r.statusCode, 503);
      assert.match(r.body, /npm run build:web/);
      assert.equal((await app.inject({ method: 'GET', url: '/api/me' })).statusCode, 401);
    } finally {
      await app.close();
    }
  });

  test('the UI runs under its CSP without violations or script errors', () => {
    for (const w of pages) {
      assert.deepEqual(w.cspViolations, []);
      assert.deepEqual(
        w.errors.filter((e) => !/status of 40[34]/.test(e)),
        [],
      );
    }
  });
});
