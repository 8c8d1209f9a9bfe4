import { existsSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The browser UI (src/web/, built by Vite into dist/web/ — `npm install` runs the build through
 * the "prepare" script). Served from the same origin as the API with a strict Content Security
 * Policy: scripts, styles, workers and connections from this origin only, no inline code, no
 * plugins, no framing, and Trusted Types so no string ever reaches an HTML sink.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_SRC = join(ROOT, 'src/web');
export const WEB_DIST = join(ROOT, 'dist/web');
export const VITE_CONFIG = join(ROOT, 'vite.config.ts');

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types default',
].join('; ');

/** Headers of every UI response (the page, its scripts and styles). */
export const UI_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/** API answers are data, never a document: nothing in them may run if opened directly. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/**
 * The OpenAPI docs (/docs, Swagger UI from @fastify/swagger-ui, served from this origin): its
 * scripts and styles from here (no inline script), inline style attributes (Swagger UI sets
 * them), images from here or data: URLs, requests to this origin only, never framed.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/**
 * An asset path as the UI's build names them (`assets/index-3f2a1b.js`, maybe a sub-folder):
 * segments of letters, digits, `_`, `-` and `.`, never starting with a dot. Anything else —
 * `..`, `%2e%2e`, backslashes, NUL bytes, empty segments, absolute paths — is not an asset.
 */
const ASSET_PATH = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\/){0,4}[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/**
 * The file under `root` that `rel` names, or null: `rel` must look like an asset path, and the
 * file's real path (symlinks resolved) must still lie inside the real root and be a regular file.
 */
export function safeAssetPath(root: string, rel: string): string | null {
  if (!ASSET_PATH.test(rel)) return null;
  let realRoot: string;
  let real: string;
  try {
    realRoot = realpathSync(root);
    real = realpathSync(join(root, rel));
  } catch {
    return null;
  }
  if (!real.startsWith(realRoot + sep)) return null;
  try {
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export type BuildState = { state: 'ok' } | { state: 'missing' } | { state: 'stale'; newer: string };

function newestUnder(dir: string): { path: string; mtime: number } {
  let best = { path: '', mtime: 0 };
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    const cand = st.isDirectory() ? newestUnder(p) : { path: p, mtime: st.mtimeMs };
    if (cand.mtime > best.mtime) best = cand;
  }
  return best;
}

/** Whether dist/web holds a build, and whether a source file (or the Vite config) is newer than it. */
export function webBuildState(dist = WEB_DIST): BuildState {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return { state: 'missing' };
  if (!existsSync(WEB_SRC)) return { state: 'ok' };
  const built = statSync(index).mtimeMs;
  const newest = newestUnder(WEB_SRC);
  const cfg = existsSync(VITE_CONFIG) ? statSync(VITE_CONFIG).mtimeMs : 0;
  if (newest.mtime > built) return { state: 'stale', newer: newest.path };
  if (cfg > built) return { state: 'stale', newer: VITE_CONFIG };
  return { state: 'ok' };
}

/**
 * Runs the Vite build (what `npm run build:web` does) in this process, into a temporary folder
 * that then replaces dist/web in one rename: a server never reads a half-written build, and two
 * processes building at once each install a complete one.
 */
export async function buildWeb(opts: { quiet?: boolean; dist?: string } = {}): Promise<void> {
  const dist = resolve(opts.dist ?? WEB_DIST);
  const tmp = `${dist}.tmp-${process.pid}-${Date.now()}`;
  const old = `${dist}.old-${process.pid}-${Date.now()}`;
  const { build } = await import('vite');
  try {
    await build({ configFile: VITE_CONFIG, logLevel: opts.quiet ? 'error' : 'warn', build: { outDir: tmp, emptyOutDir: true } });
    if (existsSync(dist)) renameSync(dist, old);
    renameSync(tmp, dist);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}

export const NOT_BUILT_MESSAGE =
  'The Tessera web UI is not built (dist/web/index.html is missing). `npm install` builds it; to build it by hand run `npm run build:web` in the Tessera folder, then reload. The REST API works without it (under /api/, docs at /docs).';

/**
 * Serves the built UI at / (index.html) and /assets/* (content-hashed files, cached for a
 * year). When there is no build, / answers 503 with a page saying how to build it. Hidden from
 * the OpenAPI document (not part of the API).
 */
export function registerWeb(app: FastifyInstance, opts: { dir?: string } = {}) {
  const dir = resolve(opts.dir ?? WEB_DIST);
  const assets = join(dir, 'assets');

  // API answers get their headers (API_CSP, nosniff, …) from securityHeaders in security.ts.
  const send = (reply: FastifyReply, file: string, cache: string) => {
    reply.headers(UI_HEADERS);
    reply.header('cache-control', cache);
    return reply.type(MIME[extname(file)] ?? 'application/octet-stream').send(readFileSync(file));
  };

  const index = async (_req: unknown, reply: FastifyReply) => {
    const file = join(dir, 'index.html');
    if (!existsSync(file)) {
      reply.headers(UI_HEADERS);
      return reply.code(503).type('text/plain; charset=utf-8').send(NOT_BUILT_MESSAGE + '\n');
    }
    return send(reply, file, 'no-cache');
  };
  app.get('/', { schema: { hide: true } }, index);
  app.get('/index.html', { schema: { hide: true } }, index);
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (req, reply) => {
    const file = safeAssetPath(assets, req.params['*']);
    if (!file) return reply.code(404).send({ error: { code: 'E_NOT_FOUND', message: 'no such asset' } });
    return send(reply, file, 'public, max-age=31536000, immutable');
  });
  app.get('/favicon.ico', { schema: { hide: true } }, async (_req, reply) => reply.code(204).send());
}

/**
 * Before serving: when dist/web is missing, or older than src/web (a checkout that changed since
 * `npm install`), build it now. If that fails the API is served anyway and / says how to build.
 */
export async function ensureWebUi(log: (line: string) => void): Promise<void> {
  const state = webBuildState();
  if (state.state === 'ok') return;
  log(`the web UI is ${state.state === 'missing' ? 'not built' : `older than ${state.newer}`}; building it (npm run build:web)…`);
  try {
    await buildWeb({ quiet: true });
    log('web UI built into dist/web');
  } catch (e) {
    log(`could not build the web UI: ${(e as Error).message}. ${NOT_BUILT_MESSAGE}`);
  }
}
