// Webhooks cannot reach internal addresses: a project admin cannot register one (in any
// spelling, or behind a name), a delivery is checked again at connect time with the address
// actually connected to (so DNS rebinding cannot switch it), and a refused delivery records a
// generic failure — the deliveries list does not tell an open port from a closed one.
// The operator's allow-list (TESSERA_WEBHOOK_ALLOW, or the `allow` option) lets a range through.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import net from 'node:net';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, sleep, startApi, usersWithRoles, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { createWebhook } from '../../src/label/webhooks.ts';
import { parseAllowList, type Resolver } from '../../src/core/egress-policy.ts';
import { webhookAllowFromEnv } from '../../src/server/egress.ts';
import { REFUSED_DELIVERY } from '../../src/server/webhook-dispatcher.ts';
import type { Project } from '../../src/store/projects.ts';

/** A loopback HTTP receiver that answers `status` and counts every TCP connection it accepts. */
async function receiver(status: number) {
  const got: Array<{ headers: IncomingHttpHeaders; url: string }> = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got.push({ headers: req.headers, url: req.url ?? '' });
      res.writeHead(status).end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { got, connections: () => connections, port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(r)) };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The server name (SNI) of a TLS ClientHello, or undefined. */
function sniOf(hello: Buffer): string | undefined {
  if (hello[0] !== 0x16 || hello[5] !== 0x01) return undefined;
  let at = 9 + 2 + 32; // record header 5, handshake header 4, client version, random
  at += 1 + hello[at]; // session id
  at += 2 + hello.readUInt16BE(at); // cipher suites
  at += 1 + hello[at]; // compression methods
  const end = at + 2 + hello.readUInt16BE(at);
  for (at += 2; at + 4 <= end; ) {
    const type = hello.readUInt16BE(at);
    const len = hello.readUInt16BE(at + 2);
    if (type === 0) return hello.subarray(at + 9, at + 9 + hello.readUInt16BE(at + 7)).toString('latin1');
    at += 4 + len;
  }
  return undefined;
}

type Delivery = { status: string; attempts: number; lastStatus: number | null; lastError: string | null };

for (const kind of STORE_KINDS) {
  describe(`webhook destinations (${kind})`, () => {
    let t: TestStore;
    let n = 0;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    /** A project with an admin and an annotator; `label()` queues an annotation.created event. */
    async function project() {
      const name = `ssrf${++n}`;
      const p: Project = await projectWithItems(t.store, name, ['one', 'two', 'three']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'yes' }, { name: 'no' }] });
      const tok = await usersWithRoles(t.store, p, { [`${name}-a`]: 'annotator', [`${name}-boss`]: 'admin' });
      const P = `/api/projects/${name}`;
      return {
        p,
        P,
        admin: tok[`${name}-boss`],
        async label(api: Api) {
          const task = (await api.call('POST', `${P}/tasks/next`, tok[`${name}-a`])).json.task;
          const r = await api.call('POST', `${P}/tasks/${task.id}/submit`, tok[`${name}-a`], { labels: ['yes'], taxonomyVersion: 1 });
          assert.equal(r.status, 201, r.text);
        },
        /** The deliveries of webhook `id` once none is pending or being sent. */
        async settled(api: Api, id: number): Promise<Delivery[]> {
          for (let i = 0; i < 200; i++) {
            const ds = (await api.call('GET', `${P}/webhooks/${id}/deliveries`, tok[`${name}-boss`])).json.deliveries as Delivery[];
            if (ds.length > 0 && ds.every((d) => d.status !== 'pending' && d.status !== 'sending')) return ds;
            await sleep(20);
          }
          throw new Error(`deliveries of webhook ${id} did not settle`);
        },
      };
    }

    test('creating a webhook refuses loopback, private, link-local, CGNAT, multicast and unspecified destinations in any spelling, and names that resolve to them', async () => {
      const zone: Record<string, string[]> = { 'public.test': ['93.184.216.34'], 'metadata.test': ['169.254.169.254'], 'mixed.test': ['93.184.216.34', '10.0.0.7'], 'v6.test': ['2606:2800:220:1::1', '::1'] };
      const resolve: Resolver = async (h) => {
        if (!zone[h]) throw new Error(`getaddrinfo ENOTFOUND ${h}`);
        return zone[h].map((address) => ({ address }));
      };
      const api = await startApi(t.store, { resolve, allow: [] });
      try {
        const { P, admin } = await project();
        const refused = [
          'http://127.0.0.1:8080/hook',
          'http://[::1]:5432/',
          'http://169.254.169.254/latest/meta-data/',
          'http://10.0.0.5/hook',
          'http://172.16.0.1/hook',
          'http://192.168.1.1/hook',
          'http://100.64.0.1/hook',
          'http://198.18.0.1/hook',
          'http://224.0.0.1/hook',
          'http://255.255.255.255/hook',
          'http://0.0.0.0:8787/hook',
          'http://0x7f.1/hook',
          'http://2130706433/hook',
          'http://0177.0.0.1/hook',
          'http://[::ffff:127.0.0.1]/hook',
          'http://[::ffff:7f00:1]/hook',
          'http://[::]/hook',
          'http://[fd00::1]/hook',
          'http://[fe80::1]/hook',
          'http://[64:ff9b::10.0.0.1]/hook',
          'http://[2002:c0a8:101::1]/hook',
          'http://metadata.test/hook',
          'http://mixed.test/hook',
          'http://v6.test/hook',
          'http://nowhere.test/hook',
        ];
        for (const url of refused) {
          const r = await api.call('POST', `${P}/webhooks`, admin, { url, events: ['annotation.created'] });
          assert.equal(r.status, 400, `${url}: ${r.text}`);
          assert.match(r.json.error.message, /not an allowed webhook destination|does not resolve to allowed webhook destinations only/, url);
        }
        for (const url of ['http://user:pw@public.test/hook', 'ftp://public.test/hook', 'file:///etc/passwd']) {
          assert.equal((await api.call('POST', `${P}/webhooks`, admin, { url, events: ['annotation.created'] })).status, 400, url);
        }
        assert.deepEqual((await api.call('GET', `${P}/webhooks`, admin)).json.webhooks, [], 'nothing was stored');
        const ok = await api.call('POST', `${P}/webhooks`, admin, { url: 'https://public.test/hook', events: ['annotation.created'] });
        assert.equal(ok.status, 201, ok.text);
      } finally {
        await api.close();
      }
    });

    test('a delivery to an internal address is refused before connecting and records a generic failure: an open port and a closed one look the same', async () => {
      const open = await receiver(401);
      const closed = await closedPort();
      const { p, label, settled } = await project();
      // Webhooks stored before this check existed (or by a server whose operator allowed loopback then).
      const then = { allow: parseAllowList('127.0.0.1/32') };
      const toOpen = await createWebhook(t.store, p, OPERATOR, { url: `http://127.0.0.1:${open.port}/hook`, events: ['annotation.created'] }, then);
      const toClosed = await createWebhook(t.store, p, OPERATOR, { url: `http://127.0.0.1:${closed}/hook`, events: ['annotation.created'] }, then);
      const api = await startApi(t.store, { maxAttempts: 1, allow: [] });
      try {
        await label(api);
        const a = await settled(api, toOpen.id);
        const b = await settled(api, toClosed.id);
        const shown = (d: Delivery) => ({ status: d.status, lastStatus: d.lastStatus, lastError: d.lastError });
        assert.deepEqual(shown(a[0]), { status: 'failed', lastStatus: null, lastError: REFUSED_DELIVERY });
        assert.deepEqual(shown(b[0]), shown(a[0]), 'the open port (answering 401) and the closed one are indistinguishable');
        assert.equal(open.connections(), 0, 'no connection was opened to the internal address');
      } finally {
        await api.close();
        await open.close();
      }
    });

    test('DNS rebinding: a name that resolved to a public address at creation and to 127.0.0.1 at delivery is refused at connect time', async () => {
      const target = await receiver(204);
      let calls = 0;
      const resolve: Resolver = async (h) => {
        assert.equal(h, 'rebind.test');
        return [{ address: ++calls === 1 ? '93.184.216.34' : '127.0.0.1' }];
      };
      const api = await startApi(t.store, { resolve, maxAttempts: 1, allow: [] });
      try {
        const { P, admin, label, settled } = await project();
        const hook = await api.call('POST', `${P}/webhooks`, admin, { url: `http://rebind.test:${target.port}/hook`, events: ['annotation.created'] });
        assert.equal(hook.status, 201, hook.text);
        assert.equal(calls, 1, 'checked at creation');
        await label(api);
        const [d] = await settled(api, hook.json.id);
        assert.equal(calls, 2, 'resolved again when connecting');
        assert.deepEqual({ status: d.status, lastStatus: d.lastStatus, lastError: d.lastError }, { status: 'failed', lastStatus: null, lastError: REFUSED_DELIVERY });
        assert.equal(target.connections(), 0);
      } finally {
        await api.close();
        await target.close();
      }
    });

    test('the connection goes to the address that was checked, once resolved; Host header and TLS server name stay the URL host', async () => {
      const target = await receiver(204);
      const hello: Buffer[] = [];
      const tls = net.createServer((s) => s.once('data', (b) => (hello.push(b), s.destroy())));
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
      const tlsPort = (tls.address() as net.AddressInfo).port;
      const lookups: string[] = [];
      // `.test` names exist nowhere (RFC 6761): only the dispatcher's own lookup can reach the receiver.
      const resolve: Resolver = async (h) => {
        lookups.push(h);
        return [{ address: '127.0.0.1' }];
      };
      const api = await startApi(t.store, { resolve, maxAttempts: 1, allow: '127.0.0.1/32' });
      try {
        const { P, admin, label, settled } = await project();
        const hook = await api.call('POST', `${P}/webhooks`, admin, { url: `http://hooks.internal.test:${target.port}/hook?x=1`, events: ['annotation.created'] });
        assert.equal(hook.status, 201, hook.text);
        const secure = await api.call('POST', `${P}/webhooks`, admin, { url: `https://hooks.internal.test:${tlsPort}/hook`, events: ['annotation.created'] });
        assert.equal(secure.status, 201, secure.text);
        lookups.length = 0;
        await label(api);
        const [d] = await settled(api, hook.json.id);
        assert.equal(d.status, 'delivered', JSON.stringify(d));
        assert.equal(target.got.length, 1);
        assert.equal(target.got[0].headers.host, `hooks.internal.test:${target.port}`);
        assert.equal(target.got[0].url, '/hook?x=1');
        const [s] = await settled(api, secure.json.id);
        assert.equal(s.status, 'failed');
        assert.notEqual(s.lastError, REFUSED_DELIVERY, 'an allowed destination reports its own failure');
        assert.equal(sniOf(hello[0]), 'hooks.internal.test');
        assert.deepEqual(lookups, ['hooks.internal.test', 'hooks.internal.test'], 'one lookup per delivery, none by the HTTP client');
      } finally {
        await api.close();
        await target.close();
        await new Promise((r) => tls.close(r));
      }
    });
  });
}

test('TESSERA_WEBHOOK_ALLOW: read from the environment; a bad value stops the server from starting, naming the entry', async () => {
  assert.deepEqual(
    webhookAllowFromEnv({ TESSERA_WEBHOOK_ALLOW: '10.0.0.0/8, fd00::/8' }).map((c) => c.text),
    ['10.0.0.0/8', 'fd00::/8'],
  );
  assert.deepEqual(webhookAllowFromEnv({}), []);
  assert.throws(() => webhookAllowFromEnv({ TESSERA_WEBHOOK_ALLOW: '10.0.0.0/8,10.0.0.300' }), /TESSERA_WEBHOOK_ALLOW: "10\.0\.0\.300" is not an address range/);
  const { buildApp } = await import('../../src/server/app.ts');
  const t = await freshStore('sqlite');
  try {
    await assert.rejects(buildApp({ store: t.store, webhooks: { allow: '127.0.0.0/33' } }), /webhooks\.allow: "127\.0\.0\.0\/33" has a bad prefix length/);
  } finally {
    await t.cleanup();
  }
});
