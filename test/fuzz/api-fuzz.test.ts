// API fuzz (issue #8): generated requests against every /api/ route the server registers
// (enumerated from the app, like test/server/security.test.ts), with a valid token of a role the
// route allows: schema-valid edge values, broken bodies (wrong types, extra properties, huge
// strings/arrays, deep nesting), non-JSON bodies and wrong content types, odd path parameters
// and query strings. No answer may be a 5xx; every 4xx is a JSON error with a message; a
// refused request leaves the store as it was (audit log, items, every table's row count).
// Seeded: TESSERA_FUZZ_SEED=<n> reproduces a run; TESSERA_FUZZ_SCALE=<x> multiplies the count.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { freshStore, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, oneOfEachRole, projectWithItems, usersWithRoles } from '../server/helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { can, ROLES, type Permission } from '../../src/label/roles.ts';
import { buildApp } from '../../src/server/app.ts';
import type { Store } from '../../src/store/db.ts';
import { breakValue, fromSchema, fuzzSeed, PARAM_VALUES, randomJson, randomQuery, rawBody, Rng, urlEncode } from './generators.ts';

const SEED = fuzzSeed();
const SCALE = Number(process.env.TESSERA_FUZZ_SCALE ?? 1) || 1;
const SQLITE_CASES = Math.round(3600 * SCALE);
const PG_CASES = Math.round(300 * SCALE);
const MODES = ['schema-valid', 'broken-body', 'raw-body', 'params', 'query'] as const;
type Mode = (typeof MODES)[number];

type Route = { method: string; url: string; permission: string; schema?: any };

/** Hand-made valid bodies where a schema-drawn one would rarely pass the handler's own checks. */
function validBody(r: Route, rng: Rng, itemId: number): unknown {
  if (r.url.endsWith('/taxonomy') || r.url.endsWith('/taxonomy/preview')) return { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] };
  if (r.url.endsWith('/webhooks')) return { url: 'http://127.0.0.1:9/hook', events: ['annotation.created'] };
  if (r.url.endsWith('/priorities')) return { items: [{ itemId, priority: 1 }] };
  return r.schema?.body ? fromSchema(r.schema.body, rng) : undefined;
}

/** Store state a refused request must not change: every table's row count, the audit head, items and settings. */
async function storeState(store: Store, tables: string[]): Promise<string> {
  const counts = await sql<Record<string, number>>`select ${sql.join(tables.map((t) => sql`(select count(*) from ${sql.table(t)}) as ${sql.ref(t)}`))}`.execute(store.db);
  const head = await store.db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const items = await store.db.selectFrom('items').select(['id', 'sha256', 'text', 'meta', 'source_label']).orderBy('id').execute();
  const projects = await store.db.selectFrom('projects').select(['id', 'name', 'settings']).orderBy('id').execute();
  return createHash('sha256').update(JSON.stringify([counts.rows[0], head, items, projects])).digest('hex').slice(0, 16) + ' ' + JSON.stringify(counts.rows[0]);
}

async function dataTables(store: Store): Promise<string[]> {
  const names =
    store.dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(store.db)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(store.db)).rows.map((r) => r.name);
  // Not data: failed-auth counters (none here: every token is valid), migrations, jobs.
  return names.filter((n) => !/auth_failures|migration|^jobs$|kysely/i.test(n)).sort();
}

async function fuzzApi(t: TestStore, cases: number, label: string) {
  const store = t.store;
  const p = await projectWithItems(store, 'fz', ['one', 'two', 'three', 'four', 'five', 'six']);
  await projectWithItems(store, 'other', ['x']);
  await createTaxonomy(store, p, OPERATOR, { kind: 'single', labels: [{ name: 'a' }, { name: 'b' }] });
  const tok = await usersWithRoles(store, p, oneOfEachRole('fz'));
  const itemId = (await store.db.selectFrom('items').select('id').where('project_id', '=', p.id).orderBy('id').executeTakeFirstOrThrow()).id;
  const app: FastifyInstance = await buildApp({ store, web: false, authLimit: { max: 1_000_000, shared: false } });
  await app.ready();
  await app.dispatcher.stop(); // webhooks the fuzzer creates are never called
  const tables = await dataTables(store);
  const failures: string[] = [];
  const byMode = Object.fromEntries(MODES.map((m) => [m, 0])) as Record<Mode, number>;
  const byStatus: Record<string, number> = {};
  const started = Date.now();
  try {
    const routes = app.apiRoutes as Route[];
    assert.ok(routes.length >= 40, `only ${routes.length} API routes`);
    // The caller: admin where the route allows it, else a role that may (annotator routes).
    const tokenFor = (r: Route) => {
      if (r.permission === 'authenticated') return tok['fz-admin'];
      const role = can('admin', r.permission as Permission) ? 'admin' : ROLES.find((x) => can(x, r.permission as Permission))!;
      return tok[`fz-${role}`];
    };
    let state = await storeState(store, tables);
    for (let i = 0; i < cases; i++) {
      const rng = Rng.forCase(SEED, `api-${label}`, i);
      const r = routes[i % routes.length];
      const mode = rng.pick(MODES);
      byMode[mode]++;
      const params: Record<string, string> = { project: 'fz', item: String(itemId), task: String(rng.pick([1, 2, 999999])), review: String(rng.pick([1, 999999])), webhook: String(rng.pick([1, 999999])), user: rng.pick(['nobody', 'fz-viewer']) };
      let qs = '';
      let payload: string | Buffer | undefined;
      let contentType: string | undefined;
      let how: string = mode;
      const write = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method);
      const valid = write ? validBody(r, rng, itemId) : undefined;
      const asJson = (v: unknown) => {
        if (v === undefined) return;
        payload = JSON.stringify(v);
        contentType = 'application/json';
      };
      if (mode === 'schema-valid') asJson(valid);
      else if (mode === 'broken-body') {
        const b = breakValue(valid ?? {}, rng);
        how = `broken-body:${b.how}`;
        asJson(b.value);
      } else if (mode === 'raw-body') {
        const b = rawBody(rng, valid);
        how = `raw-body:${b.how}`;
        payload = b.payload;
        contentType = b.contentType;
      } else if (mode === 'params') {
        const names = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]);
        if (names.length) {
          const name = rng.pick(names);
          params[name] = rng.pick(PARAM_VALUES);
          how = `params:${name}=${JSON.stringify(params[name]).slice(0, 20)}`;
        } else qs = `x=${urlEncode(String(randomJson(rng, 0)))}`;
        asJson(valid);
      } else {
        const q = randomQuery(rng, r.schema?.querystring);
        qs = q.qs;
        how = `${q.how}:${qs.slice(0, 40)}`;
        asJson(valid);
      }
      // Mostly encoded; sometimes raw, so bad percent-encoding reaches the router as sent.
      const raw = mode === 'params' && rng.chance(0.25);
      const rawValue = rng.pick(['%zz', '%E0%A4%A', '%', '%C0%AE', '%00', 'a%2Fb', '%FF']);
      const url = r.url.replace(/:(\w+)/g, (_, n: string) => (raw && n === 'project' ? rawValue : urlEncode(params[n] ?? 'x'))) + (qs ? `?${qs}` : '');
      if (raw) how = `params:raw ${rawValue}`;
      const headers: Record<string, string> = { authorization: `Bearer ${tokenFor(r)}` };
      if (contentType !== undefined) headers['content-type'] = contentType;
      const res = await app.inject({ method: r.method as never, url, headers, payload });
      byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
      const id = `api#${i} ${r.method} ${url.slice(0, 100)} [${how}]`;
      if (res.statusCode >= 500) failures.push(`${id}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.headers['x-content-type-options'] !== 'nosniff' || !String(res.headers['content-security-policy'] ?? '').includes("frame-ancestors 'none'")) {
        failures.push(`${id}: ${res.statusCode} without the security headers`);
      }
      if (res.statusCode >= 400) {
        let body: any;
        try {
          body = JSON.parse(res.body);
        } catch {
          body = undefined;
        }
        if (typeof body?.error?.message !== 'string' || body.error.message.length < 3 || typeof body.error.code !== 'string') {
          failures.push(`${id}: ${res.statusCode} without a JSON error message: ${res.body.slice(0, 200)}`);
        }
        const now = await storeState(store, tables);
        if (now !== state) failures.push(`${id}: ${res.statusCode} but the store changed: ${state} → ${now}`);
        state = now;
      } else state = await storeState(store, tables);
    }
  } finally {
    await app.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `fuzz api (${label}, seed ${SEED}): ${cases} requests over ${(app.apiRoutes as Route[]).length} routes in ${secs} s — ` +
      MODES.map((m) => `${m} ${byMode[m]}`).join(', ') +
      `; statuses ${JSON.stringify(byStatus)}`,
  );
  assert.deepEqual(failures.slice(0, 25), [], `${failures.length} failing request(s) under TESSERA_FUZZ_SEED=${SEED} (rerun: TESSERA_FUZZ_SEED=${SEED} npm test -- fuzz)`);
}

describe(`API fuzz (seed ${SEED})`, () => {
  test('SQLite: no 5xx, every 4xx a JSON error with a message, refused requests change nothing', async () => {
    const t = await freshStore('sqlite');
    try {
      await fuzzApi(t, SQLITE_CASES, 'sqlite');
    } finally {
      await t.cleanup();
    }
  });
  test('PostgreSQL: the same on a sample', async () => {
    const t = await freshStore('postgres');
    try {
      await fuzzApi(t, PG_CASES, 'postgres');
    } finally {
      await t.cleanup();
    }
  });
});

// Regressions found by this fuzzer.
describe('API fuzz regressions', () => {
  for (const kind of ['sqlite', 'postgres'] as const) {
    test(`numbers coerced from the path or query string to Infinity, or past the integer range, are a 400, not a 500 (${kind})`, async () => {
      const t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'fz', ['one']);
      const tok = await usersWithRoles(t.store, p, { ad: 'admin', an: 'annotator' });
      const app = await buildApp({ store: t.store, web: false, authLimit: { max: 1_000_000, shared: false } });
      try {
        const cases: Array<[string, string, string]> = [
          ['GET', `/api/projects/fz/items?limit=${'9'.repeat(400)}`, 'ad'], // was a 500 on both stores
          ['GET', '/api/projects/fz/items?after=1e400', 'ad'], // was a 500 on PostgreSQL
          ['GET', '/api/projects/fz/items?after=99999999999999999999999', 'ad'], // was a 500 on PostgreSQL
          ['GET', '/api/projects/fz/items?limit=Infinity', 'ad'],
          ['GET', '/api/projects/fz/labels?after=1e24', 'ad'],
          ['GET', '/api/projects/fz/reviews?after=Infinity', 'ad'],
          ['GET', '/api/projects/fz/items/Infinity', 'ad'],
          ['GET', '/api/projects/fz/annotations/mine?limit=1e400', 'an'],
          ['POST', '/api/projects/fz/tasks/1e400/release', 'an'],
        ];
        for (const [method, url, who] of cases) {
          const res = await app.inject({ method: method as never, url, headers: { authorization: `Bearer ${tok[who]}` } });
          assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
          assert.equal(JSON.parse(res.body).error.code, 'E_INPUT');
        }
        const submit = await app.inject({
          method: 'POST',
          url: '/api/projects/fz/tasks/1/submit',
          headers: { authorization: `Bearer ${tok.an}`, 'content-type': 'application/json' },
          payload: '{"labels":["a"],"taxonomyVersion":1e24}',
        });
        assert.equal(submit.statusCode, 400, submit.body);
      } finally {
        await app.close();
        await t.cleanup();
      }
    });
  }

  test('router-level failures (path parameter over 100 characters → 414, bad percent-encoding in a parameter → 400) answer in the API error shape with the security headers', async () => {
    const t = await freshStore('sqlite');
    const app = await buildApp({ store: t.store, web: false, authLimit: { max: 1_000_000, shared: false } });
    try {
      for (const [url, status] of [
        [`/api/projects/${'a'.repeat(101)}`, 414],
        [`/api/projects/${'a'.repeat(101)}/items`, 414],
        ['/api/projects/%E0%A4%A/items', 400],
      ] as const) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, status, url);
        const body = JSON.parse(res.body);
        assert.equal(typeof body.error?.code, 'string', res.body);
        assert.match(body.error.message, /path parameter is too long|not valid percent-encoding/);
        assert.ok(!res.body.includes('aaaa') && !res.body.includes('%E0'), 'the path is not echoed');
        assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
        assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/, url);
      }
    } finally {
      await app.close();
      await t.cleanup();
    }
  });
});
