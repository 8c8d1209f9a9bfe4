// Setting up and running a project from the web UI, in a real browser (Debian chromium via
// playwright-core) against a real server over a fresh SQLite store with SMS Spam Collection
// lines: sign-in links, importing a file with rejected rows (the report, then skip-invalid), the
// labelling settings, friendly refusals for pages a role may not see, and the labelling page
// switching to a new taxonomy version while it is open. Every wait is for a condition.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { getLabelSettings } from '../../src/label/settings.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { getProject } from '../../src/store/projects.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, startApi, type Api } from '../server/helpers.ts';
import { artifactPath, ensureWebBuilt, launchBrowser, signIn, type Browser, type WatchedPage } from './helpers.ts';

const SMS = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n');
const TAXONOMY = { kind: 'single' as const, labels: [{ name: 'ham' }, { name: 'spam' }], guidelines: 'spam advertises or asks you to call a premium number' };

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

describe('setting up from the web UI, in chromium', () => {
  let t: TestStore;
  let api: Api;
  let browser: Browser;
  const tok: Record<string, string> = {};
  const pages: WatchedPage[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'tessera-web-setup-'));

  async function newPage(): Promise<WatchedPage> {
    const w = await browser.page();
    pages.push(w);
    return w;
  }

  /** A project of SMS lines with the ham/spam taxonomy, overlap 1, and members. */
  async function smsProject(name: string, lines: number, members: Record<string, 'annotator' | 'manager' | 'admin'>) {
    const path = join(tmp, `${name}.txt`);
    writeFileSync(path, SMS.slice(0, lines).join('\n') + '\n');
    await runImport(t.store, { project: name, path, format: 'sms', options: {}, actor: 'cli:test' });
    const p = await getProject(t.store.db, name);
    await createTaxonomy(t.store, p, OPERATOR, TAXONOMY);
    await updateSettings(t.store, p, OPERATOR, { overlap: 1, leaseSeconds: 600 });
    for (const [user, role] of Object.entries(members)) {
      if (!tok[user]) tok[user] = (await createUser(t.store, OPERATOR, user)).token.token;
      await setRole(t.store, p, OPERATOR, user, role);
    }
    return p;
  }

  before(async () => {
    await ensureWebBuilt();
    t = await freshStore('sqlite');
    tok.root = (await createUser(t.store, OPERATOR, 'root', 'Root Admin', { admin: true })).token.token;
    api = await startApi(t.store);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await t?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a sign-in link (#/signin?token=…) signs in and leaves no token in the address or the history; a bad one says so', async () => {
    const { page } = await newPage();
    await page.goto(`${api.base}/#/signin?token=${tok.root}`);
    await page.locator('[data-user="root"]').waitFor();
    await page.locator('[data-instance-admin]').waitFor();
    assert.equal(await page.evaluate(() => location.hash), '#/');
    assert.ok(!page.url().includes('tsr_'), page.url());
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.token')), tok.root, 'signed in for this tab');
    // Back and forward again: no history entry holds the token.
    await page.goBack();
    assert.ok(!page.url().includes('tsr_'), `back: ${page.url()}`);
    await page.goForward();
    await page.locator('[data-user="root"]').waitFor();
    assert.ok(!page.url().includes('tsr_'), `forward: ${page.url()}`);
    // Still signed in after a reload (the token is in this tab's session).
    await page.reload();
    await page.locator('[data-user="root"]').waitFor();

    const other = await newPage();
    await other.page.goto(`${api.base}/#/signin?token=tsr_${'x'.repeat(43)}`);
    await other.page.locator('[data-link-error]').waitFor();
    assert.match(await other.page.locator('[data-link-error]').innerText(), /sign-in link is not valid/);
    assert.equal(await other.page.evaluate(() => location.hash), '#/');
    await other.page.locator('[data-token-input]').waitFor();
  });

  test('import: rejected rows refuse the file with a report (where, why) and the count of valid rows; "import the valid rows" then imports them', async () => {
    const { page } = await newPage();
    await signIn(page, api.base, tok.root);
    await page.locator('[data-new-project-name]').fill('tickets');
    await page.locator('[data-action="create-project"]').click();
    await page.waitForURL(/#\/p\/tickets\/admin\/import$/);
    // Twelve SMS lines as TSV (label⇥text), two of them broken.
    const lines = SMS.slice(0, 12);
    lines[2] = 'this line has no tab';
    lines[9] = '\tno label before the tab';
    const file = join(tmp, 'messages.tsv');
    writeFileSync(file, lines.join('\n') + '\n');
    await page.locator('[data-import-file]').setInputFiles(file);
    assert.equal(await page.locator('[data-import-format]').inputValue(), 'sms', 'a .tsv file is read as label⇥text');
    await page.locator('[data-action="import"]').click();
    const report = page.locator('[data-import-status="failed"]');
    await report.waitFor();
    assert.match(await report.innerText(), /Nothing imported: 2 row\(s\) of messages\.tsv were rejected\.\s+10 valid row\(s\) would be imported; use skip invalid rows/);
    assert.equal(await page.locator('[data-valid]').getAttribute('data-valid'), '10');
    const rows = await page.locator('.import-errors tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0], /messages\.tsv:3\s+no tab found/);
    assert.match(rows[1], /messages\.tsv:10\s+empty label before the tab/);
    const p = await getProject(t.store.db, 'tickets');
    const count = async () => Number((await t.store.db.selectFrom('items').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', p.id).executeTakeFirstOrThrow()).n);
    assert.equal(await count(), 0);
    await page.screenshot({ path: artifactPath('ui-import-rejected.png') });

    await page.locator('[data-action="import-valid"]').click();
    await page.locator('[data-import-status="succeeded"]').waitFor();
    assert.equal(await page.locator('[data-imported]').getAttribute('data-imported'), '10');
    assert.ok(await page.locator('[data-skip-invalid]').isChecked(), 'the skip-invalid box is ticked');
    assert.equal(await count(), 10);
    await page.locator('[data-step="import"][data-done="true"]').waitFor();
    assert.match(await page.locator('[data-step="import"]').innerText(), /10 items/);
  });

  test('settings: overlap, consensus, review threshold, suggestions and prioritised-only are saved; solo labelling shows only when the server has it', async () => {
    const { page } = await newPage();
    await signIn(page, api.base, tok.root);
    await page.goto(`${api.base}/#/p/tickets/admin/settings`);
    await page.locator('[data-setting="overlap"]').fill('3');
    await page.locator('[data-setting="consensus.method"]').selectOption('dawid-skene');
    await page.locator('[data-setting="reviewThreshold"]').fill('0.6');
    await page.locator('[data-setting="showSuggestions"]').uncheck();
    await page.locator('[data-setting="servePrioritisedOnly"]').check();
    await page.locator('[data-action="save-settings"]').click();
    await page.locator('[data-saved]').waitFor();
    const p = await getProject(t.store.db, 'tickets');
    const s = await getLabelSettings(t.store.db, p.id);
    assert.deepEqual([s.overlap, s.consensus.method, s.reviewThreshold, s.showSuggestions, s.servePrioritisedOnly], [3, 'dawid-skene', 0.6, false, true]);
    const hasSolo = 'soloLabelling' in (await api.call('GET', '/api/projects/tickets/settings', tok.root)).json;
    assert.equal(await page.locator('[data-setting="soloLabelling"]').count(), hasSolo ? 1 : 0);

    // A server whose settings have soloLabelling: the box appears and its change is sent.
    const patches: unknown[] = [];
    await page.route('**/api/projects/tickets/settings', async (route) => {
      if (route.request().method() === 'PATCH') {
        patches.push(route.request().postDataJSON());
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...s, soloLabelling: true }) });
      }
      const real = await route.fetch();
      return route.fulfill({ response: real, json: { soloLabelling: false, ...(await real.json()) } });
    });
    await page.reload();
    await page.locator('[data-setting="soloLabelling"]').check();
    await page.locator('[data-action="save-settings"]').click();
    await until(async () => patches.length === 1, 'the PATCH');
    assert.deepEqual(patches[0], { soloLabelling: true });
    await page.locator('[data-saved]').waitFor();
    // The reload after saving may still be in the handler: wait for it.
    await page.unrouteAll({ behavior: 'wait' });
  });

  test('an annotator who opens a page their role may not see reads why, in a sentence, not E_FORBIDDEN', async () => {
    await smsProject('friendly', 5, { ann: 'annotator' });
    const { page } = await newPage();
    await signIn(page, api.base, tok.ann);
    await page.goto(`${api.base}/#/p/friendly`);
    const box = page.locator('[data-forbidden-page="dashboard"]');
    await box.waitFor();
    assert.equal(
      (await box.locator('p').first().innerText()).trim(),
      "Your role in project friendly is annotator: you can label here, but the dashboard shows other people's labels, so it is for admins, managers, reviewers and viewers.",
    );
    await page.screenshot({ path: artifactPath('ui-forbidden.png') });
    for (const [path, pageName, why] of [
      ['map', 'map', /the map shows every item with its labels and suggestions, so it is for admins, managers, reviewers and viewers/],
      ['review', 'review', /the review queue shows other people's answers side by side, so it is for admins, managers and reviewers/],
      ['admin/members', 'admin', /administration changes the project's taxonomy, members and settings, so it is for admins and managers/],
    ] as const) {
      await page.goto(`${api.base}/#/p/friendly/${path}`);
      await page.locator(`[data-forbidden-page="${pageName}"]`).waitFor();
      const text = await page.locator('main').innerText();
      assert.match(text, why);
      assert.doesNotMatch(text, /E_FORBIDDEN|items\.read|review\.read|members\.read/);
    }
    // The way back: where this role starts.
    await page.locator('[data-home]').click();
    await page.locator('article.item[data-task-id]').waitFor();
  });

  test('a new taxonomy version while the labelling page is open: the refused answer comes back under the new labels, the change is explained, and it is saved under the new version', async () => {
    const p = await smsProject('retax', 8, { 'tx-ann': 'annotator', 'tx-mgr': 'manager' });
    const { page } = await newPage();
    await signIn(page, api.base, tok['tx-ann']);
    await page.goto(`${api.base}/#/p/retax/label?grace=0`);
    const first = page.locator('article.item[data-task-id]');
    await first.waitFor();
    const x = Number(await first.getAttribute('data-item-id'));
    // The next item is preloaded under version 1 too.
    await page.locator('.keys-help', { hasText: 'next item ready' }).waitFor();
    await page.keyboard.press('2');
    await page.locator('.label-btn[data-label="spam"][aria-pressed="true"]').waitFor();

    // Meanwhile the manager publishes version 2: spam is renamed junk, unsure is added.
    const v2 = await api.call('POST', '/api/projects/retax/taxonomy', tok['tx-mgr'], {
      kind: 'single',
      labels: [{ name: 'ham' }, { name: 'junk' }, { name: 'unsure' }],
      mapping: [{ op: 'rename', from: 'spam', to: 'junk' }],
    });
    assert.equal(v2.status, 201, v2.text);

    // The answer (spam, version 1) is refused with 409: the page switches to version 2.
    await page.keyboard.press('Enter');
    await page.locator('.label-btn[data-label="junk"]').waitFor();
    await page.locator(`article.item[data-item-id="${x}"]`).waitFor();
    assert.equal(await page.locator('.label-btn[data-label="spam"]').count(), 0, 'the old label is gone');
    assert.deepEqual(await page.locator('.label-btn').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-label'))), ['ham', 'junk', 'unsure']);
    const notice = page.locator('[data-taxonomy-notice="2"]');
    await notice.waitFor();
    assert.match(await notice.innerText(), /taxonomy v1 → v2/);
    assert.match(await notice.innerText(), /renamed “spam” → “junk”/);
    assert.match(await notice.innerText(), /added “unsure”/);
    assert.match(await page.locator('[data-message]').innerText(), new RegExp(`Item ${x} was not saved: the labels changed \\(v1 → v2\\)\\. Answer it again\\.`));
    // The renamed label carried the answer over: junk is chosen; Enter sends it under version 2.
    await page.locator('.label-btn[data-label="junk"][aria-pressed="true"]').waitFor();
    await page.screenshot({ path: artifactPath('ui-taxonomy-changed.png') });
    await page.keyboard.press('Enter');
    const row = await until(
      () => t.store.db.selectFrom('annotations').select(['labels', 'taxonomy_version']).where('item_id', '=', x).where('project_id', '=', p.id).executeTakeFirst(),
      'the answer stored',
    );
    assert.deepEqual([JSON.parse(row!.labels), row!.taxonomy_version], [['junk'], 2]);
    // The preloaded item (leased under version 1) shows the new labels; its answer is accepted at once.
    const next = page.locator(`article.item[data-task-id]:not([data-item-id="${x}"])`);
    await next.waitFor();
    const y = Number(await next.getAttribute('data-item-id'));
    assert.deepEqual(await page.locator('.label-btn').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-label'))), ['ham', 'junk', 'unsure']);
    await page.keyboard.press('3');
    await page.keyboard.press('Enter');
    const second = await until(() => t.store.db.selectFrom('annotations').select(['labels', 'taxonomy_version']).where('item_id', '=', y).executeTakeFirst(), 'the second answer stored');
    assert.deepEqual([JSON.parse(second!.labels), second!.taxonomy_version], [['unsure'], 2]);
    await page.locator('[data-taxonomy-notice] button').click();
    await page.locator('[data-taxonomy-notice]').waitFor({ state: 'detached' });
  });

  test('solo labelling: a manager is told how to label here; once it is on, the labelling view opens and the answer is stored as not blind', async () => {
    const p = await smsProject('solo', 6, { 'solo-mgr': 'manager' });
    const { page } = await newPage();
    await signIn(page, api.base, tok['solo-mgr']);
    await page.goto(`${api.base}/#/p/solo/label`);
    const box = page.locator('[data-forbidden-page="label"]');
    await box.waitFor();
    assert.match(await box.innerText(), /Your role in project solo is manager: you can run the labelling here, but labelling must be blind and your role can read other people's labels, so it is for annotators\./);
    assert.equal(await page.locator('[data-nav="label"]').count(), 0);
    await box.getByRole('link', { name: 'the settings' }).click();
    await page.locator('[data-setting="soloLabelling"]').check();
    await page.locator('[data-action="save-settings"]').click();
    await page.locator('[data-saved]').waitFor();
    await page.goto(`${api.base}/#/p/solo/label?grace=0`);
    await page.locator('[data-solo-labelling]').waitFor();
    await page.locator('[data-nav="label"]').waitFor();
    const item = page.locator('article.item[data-task-id]');
    await item.waitFor();
    const x = Number(await item.getAttribute('data-item-id'));
    await page.keyboard.press('1');
    await page.keyboard.press('Enter');
    const row = await until(() => t.store.db.selectFrom('annotations').select(['labels', 'blind']).where('item_id', '=', x).where('project_id', '=', p.id).executeTakeFirst(), 'the answer stored');
    assert.deepEqual([JSON.parse(row!.labels), Number(row!.blind)], [['ham'], 0]);
  });

  test('the pages ran under the CSP without violations or script errors', () => {
    for (const w of pages) {
      assert.deepEqual(w.cspViolations, []);
      // Expected answers the pages explain: 400 (the refused import), 401 (the bad sign-in link),
      // 403 (pages the role may not see), 409 (the answer under the old taxonomy).
      assert.deepEqual(
        w.errors.filter((e) => !/status of 40[0139]/.test(e)),
        [],
      );
    }
  });
});
