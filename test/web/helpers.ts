// Browser tests: a real server (127.0.0.1, port 0) over a fresh SQLite store serving the built
// UI, driven by Debian's chromium through playwright-core. One browser at a time (a persistent
// context on a fresh --user-data-dir); each signed-in user gets a page of their own (the token
// lives in the page's sessionStorage, so pages are separate sessions).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb, webBuildState } from '../../src/server/web.ts';
import { REPO_ROOT } from '../helpers/datasets.ts';

export const CHROMIUM = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

/** Builds the UI when dist/web is missing or older than src/web (a checkout that changed since `npm install`). */
export async function ensureWebBuilt(): Promise<void> {
  const s = webBuildState();
  if (s.state !== 'ok') await buildWeb({ quiet: true });
}

export interface Browser {
  context: BrowserContext;
  /** A new page (a separate sign-in); records console errors, CSP violations and dialogs. */
  page(): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  dialogs: string[];
  errors: string[];
  cspViolations: string[];
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: install Debian's (apt-get install chromium; .ci/run does) or set TESSERA_CHROMIUM`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  // launch() refuses a --user-data-dir argument; a persistent context takes the fresh dir instead.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async page() {
      const page = await context.newPage();
      const w: WatchedPage = { page, dialogs: [], errors: [], cspViolations: [] };
      page.on('dialog', (d) => {
        w.dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss().catch(() => undefined);
      });
      page.on('pageerror', (e) => w.errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') w.errors.push(m.text());
      });
      await page.exposeFunction('__tesseraCsp', (v: string) => w.cspViolations.push(v));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          (window as unknown as { __tesseraCsp(v: string): void }).__tesseraCsp(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      return w;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the UI and signs in with a token, keyboard only (type, Enter). */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(base + '/');
  const input = page.locator('[data-token-input]');
  await input.waitFor();
  await input.fill(token);
  await input.press('Enter');
  await page.locator('[data-user]').waitFor();
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
