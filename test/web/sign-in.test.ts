// Sign-in with the organisation's provider, in Chromium: the sign-in page offers "Sign in with
// Test IdP"; the provider (oidc-provider on `localhost`, another site than Tessera on 127.0.0.1,
// so the redirects are cross-site as in production) shows its login form; back in the UI the
// person is signed in by an HttpOnly, SameSite=Strict session cookie, labels an item as the
// annotator the roles claim made them (a write that needs the CSRF token), and signs out, which
// ends the session on the server. No console error, no CSP violation. Signing out while an
// answer is still pending (its undo grace period running) sends that answer first, under the
// sign-in it was given with — by session and by token alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { startOidcProvider, type TestProvider } from '../helpers/oidc-provider.ts';
import { OPERATOR, projectWithItems, startApi, type Api } from '../server/helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createUser, setRole } from '../../src/label/users.ts';
import { getProject } from '../../src/store/projects.ts';
import { artifactPath, ensureWebBuilt, launchBrowser, signIn, type Browser } from './helpers.ts';

describe('sign-in with OpenID Connect in chromium', () => {
  let t: TestStore;
  let idp: TestProvider;
  let api: Api;
  let browser: Browser;

  before(async () => {
    await ensureWebBuilt();
    t = await freshStore('sqlite');
    const p = await projectWithItems(t.store, 'birds', ['a robin on the fence', 'two crows', 'a heron by the pond', 'a wren', 'an eagle overhead', 'three sparrows']);
    await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'small' }, { name: 'large' }] });
    idp = await startOidcProvider({ alice: { password: 'correct horse', claims: { preferred_username: 'alice', name: 'Alice Example', tessera_roles: ['birds:annotator'] } } }, 'localhost');
    api = await startApi(t.store, undefined, {
      oidc: { issuer: idp.issuer, clientId: 'tessera-ui', clientSecret: 'ui-secret', scopes: ['openid', 'profile', 'roles'], rolesClaim: 'tessera_roles', name: 'Test IdP' },
    });
    idp.configure([{ client_id: 'tessera-ui', client_secret: 'ui-secret', redirect_uris: [api.base + '/auth/callback'] }]);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await idp?.close();
    await t?.cleanup();
  });

  test('click "Sign in with Test IdP", log in at the provider, label one item as an annotator, sign out', async () => {
    const w = await browser.page();
    const { page } = w;
    await page.goto(api.base + '/');
    const button = page.locator('[data-oidc-signin]');
    await button.waitFor();
    assert.equal((await button.innerText()).trim(), 'Sign in with Test IdP');
    await button.click();

    // The provider's own page, on its own site.
    await page.locator('#login').waitFor();
    assert.equal(new URL(page.url()).host, new URL(idp.issuer).host);
    await page.locator('#login').fill('alice');
    await page.locator('#password').fill('correct horse');
    await page.locator('#submit').click();

    // Back in the UI, signed in by the session cookie.
    await page.locator('[data-user="alice"]').waitFor();
    assert.equal(new URL(page.url()).origin, api.base);
    const cookies = await browser.context.cookies(api.base);
    const session = cookies.find((c) => c.name === 'tessera_session');
    assert.ok(session, JSON.stringify(cookies));
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie.includes('tessera_session')), false, 'no script can read the session cookie');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.token')), null, 'no token in the tab');

    // Label one item (the roles claim made alice an annotator of "birds"), then sign out while
    // the answer is still pending: a long undo grace period keeps it in the browser until then.
    await page.goto(api.base + '/#/p/birds/label?grace=600000');
    const item = page.locator('article.item[data-task-id]');
    await item.waitFor();
    const itemId = Number(await item.getAttribute('data-item-id'));
    await page.keyboard.press('2');
    await page.locator('.label-btn[data-label="large"][aria-pressed="true"]').waitFor();
    await page.keyboard.press('Enter');
    await page.locator(`article.item:not([data-item-id="${itemId}"])`).waitFor();
    await page.screenshot({ path: artifactPath('ui-signed-in-oidc.png') });
    assert.equal((await t.store.db.selectFrom('annotations').select('id').execute()).length, 0, 'the answer is still pending');

    // Sign out: the session ends on the server, the cookie is gone, the sign-in page is back.
    await page.locator('[data-sign-out]').click();
    await page.locator('[data-oidc-signin]').waitFor();
    const answers = await t.store.db
      .selectFrom('annotations')
      .innerJoin('users', 'users.id', 'annotations.user_id')
      .select(['annotations.item_id', 'annotations.labels', 'annotations.blind'])
      .where('users.name', '=', 'alice')
      .execute();
    assert.deepEqual(answers, [{ item_id: itemId, labels: JSON.stringify(['large']), blind: 1 }], 'the pending answer was sent before the session ended');
    const rows = await t.store.db.selectFrom('sessions').select(['revoked_by']).execute();
    assert.deepEqual(rows, [{ revoked_by: 'signed out' }]);
    assert.equal((await browser.context.cookies(api.base)).find((c) => c.name === 'tessera_session'), undefined);
    const status = await page.evaluate(async () => (await fetch('/api/me')).status);
    assert.equal(status, 401);

    assert.deepEqual(w.cspViolations, []);
    // The 401 of the check above is the only error the console saw (a page load without a
    // session cookie does not even ask /api/me).
    assert.deepEqual(w.errors.filter((e) => !/status of 401/.test(e)), []);
    assert.ok(w.errors.length <= 1, w.errors.join('\n'));
  });

  test('signing out with a token while an answer is pending sends it first (the token is dropped after)', async () => {
    const { token } = await createUser(t.store, OPERATOR, 'tom');
    await setRole(t.store, await getProject(t.store.db, 'birds'), OPERATOR, 'tom', 'annotator');
    const w = await browser.page();
    const { page } = w;
    await signIn(page, api.base, token.token);
    await page.goto(api.base + '/#/p/birds/label?grace=600000');
    const item = page.locator('article.item[data-task-id]');
    await item.waitFor();
    const itemId = Number(await item.getAttribute('data-item-id'));
    await page.keyboard.press('1');
    await page.locator('.label-btn[data-label="small"][aria-pressed="true"]').waitFor();
    await page.keyboard.press('Enter');
    await page.locator(`article.item:not([data-item-id="${itemId}"])`).waitFor();
    await page.locator('[data-sign-out]').click();
    await page.locator('[data-token-input]').waitFor();
    const answers = await t.store.db
      .selectFrom('annotations')
      .innerJoin('users', 'users.id', 'annotations.user_id')
      .select(['annotations.item_id', 'annotations.labels'])
      .where('users.name', '=', 'tom')
      .execute();
    assert.deepEqual(answers, [{ item_id: itemId, labels: JSON.stringify(['small']) }]);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera.token')), null);
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.cspViolations, []);
  });
});
