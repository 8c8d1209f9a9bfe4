import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, RouteOptions } from 'fastify';
import { UserError } from '../core/errors.ts';
import { mayHoldToken, scrubTokens } from '../label/tokens.ts';
import { API_CSP, CSP } from './web.ts';

/**
 * Server-wide hardening: request size limits, strict schemas on every API route, security
 * headers on every response, and logs that never carry a credential.
 */

/** Default request body limit (Fastify `bodyLimit`); routes that take bulk input say more. */
export const BODY_LIMIT = 1 << 20;
/** Bulk routes (suggestions, priorities, gold: up to 10⁴–10⁵ entries). */
export const BULK_BODY_LIMIT = 8 << 20;
/** Taxonomy versions and their preview (guidelines up to 200 000 characters, examples). */
export const TAXONOMY_BODY_LIMIT = 4 << 20;

type Schema = Record<string, unknown>;

/** Object schemas inside `s` that do not set `additionalProperties: false` (JSON pointers). */
export function openObjects(s: unknown, at = ''): string[] {
  if (!s || typeof s !== 'object') return [];
  const o = s as Schema;
  const out: string[] = [];
  if (o.type === 'object' && o.additionalProperties !== false) out.push(at || '/');
  for (const [k, v] of Object.entries(o.properties ?? {})) out.push(...openObjects(v, `${at}/properties/${k}`));
  if (o.items) out.push(...[o.items].flat().flatMap((v, i) => openObjects(v, `${at}/items${Array.isArray(o.items) ? `/${i}` : ''}`)));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = o[key];
    if (Array.isArray(list)) list.forEach((v, i) => out.push(...openObjects(v, `${at}/${key}/${i}`)));
  }
  return out;
}

/** An empty closed object: the schema of a route that takes no body (absent, or `{}`). */
export function isNoBody(s: unknown): boolean {
  if (!s || typeof s !== 'object') return false;
  const o = s as Schema;
  return o.type === 'object' && o.additionalProperties === false && Object.keys((o.properties as Schema | undefined) ?? {}).length === 0;
}

/**
 * Refuses to register an /api/ route whose input is not fully described: a params schema when
 * the URL has parameters, a querystring schema always, a body schema on every write method, and
 * every object in them closed (`additionalProperties: false`, so an unknown property is a 400).
 */
export function checkRouteSchemas(r: RouteOptions) {
  const schema = (r.schema ?? {}) as Schema;
  const where = `route ${[r.method].flat().join(',')} ${r.url}`;
  const problems: string[] = [];
  if (r.url.includes(':') && !schema.params) problems.push('no params schema');
  if (!schema.querystring) problems.push('no querystring schema');
  const writes = [r.method].flat().some((m) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(m));
  if (writes && !schema.body) problems.push('no body schema');
  for (const part of ['params', 'querystring', 'body'] as const) {
    for (const p of openObjects(schema[part])) problems.push(`${part} ${p} allows additional properties`);
  }
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')} — refusing to register it (see src/server/security.ts)`);
}

/**
 * After validation, no number in the path or query string may be Infinity or NaN. Ajv coerces
 * a string such as `1e400` or 400 nines to Infinity and does not re-check it: its integer type
 * test and its minimum/maximum are skipped for non-finite values, so `?limit=999…` reached the
 * database (SQLite: "datatype mismatch", a 500) and `?after=1e400` did on PostgreSQL too.
 * JSON bodies are not affected (a body's 1e400 fails the type test, as it is not coerced).
 */
export function rejectNonFiniteNumbers(app: FastifyInstance) {
  app.addHook('preHandler', async (req) => {
    for (const [part, values] of [['path parameter', req.params], ['query parameter', req.query]] as const) {
      if (!values || typeof values !== 'object') continue;
      for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
        for (const x of Array.isArray(v) ? v : [v]) {
          if (typeof x === 'number' && !Number.isFinite(x)) throw new UserError(`invalid request: ${part} "${k}" must be a finite number`);
        }
      }
    }
  });
}

/**
 * Security headers on every response: nosniff, no referrer, no framing, and a Content Security
 * Policy on everything: `default-src 'none'; frame-ancestors 'none'; sandbox` on every /api/
 * answer whatever its type (item content too), the UI's policy on other HTML (the UI and its 503
 * page set it themselves; the OpenAPI docs set their own), the API policy on anything else.
 * Registered on the root instance before any route, so it covers every route and the 404s.
 */
export function securityHeaders(app: FastifyInstance) {
  app.addHook('onSend', async (req, reply, payload) => {
    setSecurityHeaders(isApiRequest(req), reply);
    return payload;
  });
}

/** The headers above, for one reply (also used where Fastify answers without running onSend: see errors.ts frameworkErrors). */
export function setSecurityHeaders(api: boolean, reply: FastifyReply) {
  reply.header('x-content-type-options', 'nosniff');
  // API answers are data (item content included, whatever its type): never a document.
  if (api) reply.header('content-security-policy', API_CSP);
  if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'no-referrer');
  if (!reply.hasHeader('x-frame-options')) reply.header('x-frame-options', 'DENY');
  if (!reply.hasHeader('cross-origin-resource-policy')) reply.header('cross-origin-resource-policy', 'same-origin');
  if (!reply.hasHeader('content-security-policy')) {
    const type = String(reply.getHeader('content-type') ?? '');
    reply.header('content-security-policy', type.startsWith('text/html') ? CSP : API_CSP);
  }
}

/**
 * Whether a matched route belongs to the API: it declares a permission, or its declared pattern
 * lies under /api/ (where a route cannot register without one, see auth.ts). Decided on the
 * route the router chose, never on the URL as sent, which may spell the same route many ways
 * (`/%61pi/…`, `/ap%69/…`).
 */
export function isApiRoute(route: { url?: string; config?: { permission?: unknown } }): boolean {
  return route.config?.permission !== undefined || (route.url !== undefined && route.url.startsWith('/api/'));
}

/**
 * Whether a request is an API request: by its matched route (above); when no route matched, by
 * a lenient reading of its path (`looksLikeApiPath`), so a spelling of /api/ that matches
 * nothing is answered like the API answers an unknown path.
 */
export function isApiRequest(req: FastifyRequest): boolean {
  const route = req.routeOptions;
  return route.url !== undefined ? isApiRoute(route) : looksLikeApiPath(req.url);
}

/**
 * Whether a request path reads as /api/… to a lenient reader: query and `;` parameters dropped,
 * percent-escapes decoded (up to three rounds), letters lower-cased, repeated slashes collapsed.
 * Only for requests no route matched (to answer `/API/`, `//api/`, `/%2561pi/` like `/api/`);
 * it never lets anything through.
 */
export function looksLikeApiPath(url: string): boolean {
  let p = url.split('?')[0];
  for (let round = 0; round < 3; round++) {
    let next: string;
    try {
      next = decodeURIComponent(p);
    } catch {
      break;
    }
    if (next === p) break;
    p = next;
  }
  p = p
    .split('/')
    .map((seg) => seg.split(';')[0])
    .join('/')
    .replace(/\/+/g, '/')
    .toLowerCase();
  return p === '/api' || p.startsWith('/api/');
}

/**
 * Whether a request path tries to climb out of where it points: a `.` or `..` segment, a
 * backslash or a NUL byte — as sent, or after one or two rounds of percent-decoding (`%2e%2e%2f`,
 * `%252e%252e%252f`) — or percent-encoding that does not decode (overlong UTF-8 such as `%c0%ae`).
 * No route of this server has a legitimate use for any of these.
 */
export function suspiciousPath(url: string): boolean {
  let cur = url.split('?')[0];
  for (let round = 0; ; round++) {
    if (cur.includes('\0') || cur.includes('\\')) return true;
    if (cur.split('/').some((seg) => seg === '..' || seg === '.')) return true;
    let next: string;
    try {
      next = decodeURIComponent(cur);
    } catch {
      return true;
    }
    if (next === cur) return false;
    // Still encoded after two rounds of decoding: nothing here is encoded three times.
    if (round === 2) return true;
    cur = next;
  }
}

/**
 * Answers 404 to any request whose path is suspicious (above), before routing: the static files
 * of the UI and of the OpenAPI docs, and every API route, never see one. (404 rather than 400:
 * there is nothing there, and the answer says nothing about what exists.)
 */
export function rejectTraversal(app: FastifyInstance) {
  app.addHook('onRequest', async (req, reply) => {
    if (suspiciousPath(req.url)) return reply.code(404).send({ error: { code: 'E_NOT_FOUND', message: 'no such path (a path may not hold "." or ".." segments, backslashes, NUL bytes or bad percent-encoding)' } });
  });
}

/** Header names whose values never reach a log line. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  'authorization',
  'token',
  'secret',
  '*.authorization',
  '*.token',
  '*.secret',
];

/** A URL for a log line: token-shaped strings and the sign-in callback's code and state removed. */
export function scrubUrl(url: string): string {
  return scrubTokens(url).replace(/([?&](?:code|state|session_state)=)[^&#]*/g, '$1[redacted]');
}

function serializeErr(e: unknown) {
  if (!(e instanceof Error)) return { message: scrubTokens(String(e)) };
  const x = e as Error & { code?: unknown; statusCode?: unknown };
  return { type: x.name, message: scrubTokens(x.message), code: x.code, statusCode: x.statusCode, stack: x.stack ? scrubTokens(x.stack) : undefined };
}

/**
 * Logger options (pino, through Fastify) with credentials removed three ways: the request
 * serializer logs method, URL (token-shaped strings scrubbed), host and address — never headers;
 * `redact` censors Authorization/Cookie headers and `token`/`secret` fields if anything logs
 * them; and every line is scrubbed of token-shaped strings (`tsr_…`) as it is written (the
 * stream), whichever path it took (messages, errors and their stacks, bindings).
 */
export function loggerOptions(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = (logger === true ? {} : logger) as Record<string, unknown>;
  const serializers = (base.serializers ?? {}) as Record<string, unknown>;
  const out = (base.stream ?? process.stdout) as { write(line: string): unknown };
  return {
    ...base,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({
        method: req.method,
        url: req.url === undefined ? undefined : scrubUrl(req.url),
        host: req.host,
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
      }),
      err: serializeErr,
      ...serializers,
    },
    // The last line of defence: whatever path a line took, token-shaped strings are scrubbed from it.
    stream: { write: (line: string) => out.write(mayHoldToken(line) ? scrubTokens(line) : line) },
    hooks: {
      logMethod(this: unknown, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrubTokens(a) : a)));
      },
    },
  } as FastifyServerOptions['logger'];
}

/** TESSERA_TRUST_PROXY: `true`, a hop count, or comma-separated addresses/CIDRs of the proxies in front. */
export function trustProxyFromEnv(): boolean | number | string[] {
  const v = process.env.TESSERA_TRUST_PROXY?.trim();
  if (!v || v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
