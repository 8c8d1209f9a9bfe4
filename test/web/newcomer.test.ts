// A newcomer sets up a labelling project entirely from the web UI, in a real browser (Debian
// chromium via playwright-core) against a real server over a fresh TESSERA_HOME: `tessera start
// --no-serve` (a small demo) creates the admin and prints its sign-in link; the server is started
// on the same store, the admin signs in from that link, creates a second project by
// uploading a CSV (30 SMS Spam Collection texts, no label column), writes the taxonomy, adds an
// annotator (a new user and their invite link), chooses the settings; the annotator opens the
// invite link in a fresh browser and labels five items; the admin sees them on the dashboard.
// A screenshot of each step goes to test-artifacts/newcomer/NN-step.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { getLabelSettings } from '../../src/label/settings.ts';
import { getProject } from '../../src/store/projects.ts';
import { tessera } from '../helpers/cli.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { startApi, type Api } from '../server/helpers.ts';
import { ARTIFACTS, ensureWebBuilt, launchBrowser, type Browser, type WatchedPage } from './helpers.ts';

const PROJECT = 'sms-triage';
const TEXTS = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8')
  .split('\n')
  .slice(0, 30)
  .map((l) => l.split('\t')[1]);
const SHOTS = join(ARTIFACTS, 'newcomer');

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

describe('a newcomer sets up a project from the web UI (chromium)', () => {
  let t: TestStore;
  let api: Api;
  let adminBrowser: Browser;
  let annBrowser: Browser;
  let admin: WatchedPage;
  let ann: WatchedPage;
  let invite = '';
  const tmp = mkdtempSync(join(tmpdir(), 'tessera-newcomer-'));
  const savedHome = process.env.TESSERA_HOME;
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  before(async () => {
    await ensureWebBuilt();
    mkdirSync(SHOTS, { recursive: true });
    t = await freshStore('sqlite');
    process.env.TESSERA_HOME = t.env.TESSERA_HOME;
    api = await startApi(t.store);
    adminBrowser = await launchBrowser();
    admin = await adminBrowser.page();
  });
  after(async () => {
    await annBrowser?.close();
    await adminBrowser?.close();
    await api?.close();
    await t?.cleanup();
    if (savedHome === undefined) delete process.env.TESSERA_HOME;
    else process.env.TESSERA_HOME = savedHome;
    rmSync(tmp, { recursive: true, force: true });
  });

  test('01 `tessera start --no-serve` (small demo) prints a sign-in link; the admin signs in with it', async () => {
    const r = tessera(['start', '--no-serve', '--rounds', '1', '--batch', '20', '--epochs', '1', '--json'], t.env);
    assert.equal(r.code, 0, r.stderr);
    const printed = (r.json as { admin: { name: string; signInPath: string | null } }).admin;
    assert.equal(printed.name, 'admin');
    assert.match(printed.signInPath ?? '', /^\/#\/signin\?token=tsr_/, 'the first run prints the admin\'s sign-in link');
    const token = printed.signInPath!.split('token=')[1];
    const { page } = admin;
    await page.goto(`${api.base}${printed.signInPath}`);
    await page.locator('[data-user="admin"] [data-instance-admin]').waitFor();
    assert.ok(!page.url().includes(token), 'the token left the address');
    await page.locator('a[data-project="demo"]').waitFor();
    await shot(page, '01-signed-in');
  });

  test('02 creates a project and imports a CSV of 30 texts', async () => {
    const { page } = admin;
    await page.locator('[data-new-project-name]').fill(PROJECT);
    await shot(page, '02-new-project');
    await page.locator('[data-action="create-project"]').click();
    await page.waitForURL(new RegExp(`#/p/${PROJECT}/admin/import$`));
    const csv = join(tmp, 'messages.csv');
    writeFileSync(csv, 'text\n' + TEXTS.map((x) => `"${x.replace(/"/g, '""')}"`).join('\n') + '\n');
    await page.locator('[data-import-file]').setInputFiles(csv);
    assert.equal(await page.locator('[data-import-format]').inputValue(), 'csv');
    await page.locator('[data-action="import"]').click();
    await page.locator('[data-import-status="succeeded"]').waitFor();
    assert.equal(await page.locator('[data-imported]').getAttribute('data-imported'), '30');
    await page.locator('[data-step="import"][data-done="true"]').waitFor();
    await shot(page, '03-imported');
    const items = await t.store.db.selectFrom('items').select('text').where('project_id', '=', (await getProject(t.store.db, PROJECT)).id).orderBy('id').execute();
    assert.deepEqual(items.map((i) => i.text), TEXTS);
  });

  test('03 writes the taxonomy: two labels with descriptions, guidelines, single-label', async () => {
    const { page } = admin;
    await page.locator('[data-step="taxonomy"]').click();
    await page.locator('input[aria-label="label 1 name"]').fill('ham');
    await page.locator('input[aria-label="label 1 description"]').fill('an ordinary message between people');
    await page.getByRole('button', { name: '+ label' }).click();
    await page.locator('input[aria-label="label 2 name"]').fill('spam');
    await page.locator('input[aria-label="label 2 description"]').fill('advertising, prize claims, premium-rate numbers');
    await page.locator('textarea.guidelines-edit').fill('Spam advertises, claims a prize or asks you to call or text a premium number; everything else is ham.');
    await page.locator('[data-action="create-version"]').click();
    await page.locator('[data-version="1"]').waitFor();
    await page.locator('[data-step="taxonomy"][data-done="true"]').waitFor();
    await shot(page, '04-taxonomy');
  });

  test('04 adds an annotator: a new user with an invite link, copied to the clipboard', async () => {
    const { page } = admin;
    await adminBrowser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.base });
    await page.locator('[data-step="members"]').click();
    await page.locator('[data-member="admin"]').waitFor();
    await page.locator('[data-person-name]').fill('ann');
    await page.locator('[data-person-display]').fill('Ann Lee');
    assert.equal(await page.locator('[data-person-role]').inputValue(), 'annotator');
    await page.locator('[data-action="add-person"]').click();
    await page.locator('[data-invite="ann"]').waitFor();
    invite = await page.locator('[data-invite-link]').inputValue();
    assert.match(invite, new RegExp(`^${api.base}/#/signin\\?token=tsr_[A-Za-z0-9_-]{43}$`));
    await page.locator('[data-action="copy-invite"]').click();
    await page.locator('[data-copied]').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), invite);
    await page.locator('[data-member="ann"]').waitFor();
    await page.locator('[data-step="members"][data-done="true"]').waitFor();
    await shot(page, '05-invite-link');
  });

  test('05 chooses the settings: one annotator per item, majority vote', async () => {
    const { page } = admin;
    await page.locator('[data-step="settings"]').click();
    await page.locator('[data-setting="overlap"]').fill('1');
    await page.locator('[data-setting="consensus.method"]').selectOption('majority');
    await page.locator('[data-action="save-settings"]').click();
    await page.locator('[data-saved]').waitFor();
    await page.locator('[data-setup-ready]').waitFor();
    assert.equal((await getLabelSettings(t.store.db, (await getProject(t.store.db, PROJECT)).id)).overlap, 1);
    await shot(page, '06-settings');
  });

  test('06 the annotator opens the invite link in a fresh browser and labels five items', async () => {
    annBrowser = await launchBrowser();
    ann = await annBrowser.page();
    const { page } = ann;
    await page.goto(invite);
    await page.locator('[data-user="ann"]').waitFor();
    assert.ok(!page.url().includes('tsr_'), 'the token left the address');
    await page.locator(`a[data-project="${PROJECT}"]`).waitFor();
    await shot(page, '07-annotator-signed-in');
    await page.locator(`a[data-project="${PROJECT}"]`).click();
    let prev: number | null = null;
    const answers = new Map<number, string>();
    for (let i = 0; i < 5; i++) {
      const item = page.locator(prev === null ? 'article.item[data-task-id]' : `article.item[data-task-id]:not([data-item-id="${prev}"])`);
      await item.waitFor();
      const id = Number(await item.getAttribute('data-item-id'));
      const text = await item.locator('[data-item-text]').innerText();
      const label = /free|win|prize|call|txt|claim/i.test(text) ? 'spam' : 'ham';
      await page.keyboard.press(label === 'ham' ? '1' : '2');
      await page.locator(`.label-btn[data-label="${label}"][aria-pressed="true"]`).waitFor();
      if (i === 2) await shot(page, '08-labelling');
      await page.keyboard.press('Enter');
      answers.set(id, label);
      prev = id;
    }
    // The last answer is sent when its undo grace period ends.
    const rows = await until(async () => {
      const r = await t.store.db.selectFrom('annotations').innerJoin('users', 'users.id', 'annotations.user_id').select(['annotations.item_id', 'annotations.labels']).where('users.name', '=', 'ann').execute();
      return r.length === 5 ? r : null;
    }, 'five answers stored');
    assert.deepEqual(new Map(rows!.map((r) => [r.item_id, JSON.parse(r.labels)[0]])), answers);
    await shot(page, '09-labelled');
  });

  test('07 the admin sees the five answers on the dashboard', async () => {
    const { page } = admin;
    await page.goto(`${api.base}/#/p/${PROJECT}`);
    await page.locator(`[data-dashboard="${PROJECT}"]`).waitFor();
    const stat = (name: string) => page.locator(`[data-stat="${name}"] .stat-value`).innerText();
    assert.equal(await stat('items'), '30');
    assert.equal(await stat('annotations'), '5');
    assert.equal(await stat('done'), '5', 'one annotator per item: each answer decides its item');
    const decided = await page.locator('[data-label-count] td').allInnerTexts();
    assert.equal(decided.map(Number).reduce((a, b) => a + b, 0), 5);
    await shot(page, '10-dashboard');
  });

  test('the pages ran under the CSP without violations or script errors', () => {
    for (const w of [admin, ann]) {
      assert.deepEqual(w.cspViolations, []);
      assert.deepEqual(w.errors, []);
    }
  });
});
