// Webhooks through the real server: events are signed (HMAC-SHA256), retried with back-off
// when the receiver fails, sent only to the configured URL — and the server opens no other
// outbound connection (checked at the socket level on SQLite, where there is no database socket).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, sleep, startApi, usersWithRoles, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';
import { updateSettings } from '../../src/label/results.ts';

interface Received {
  at: number;
  headers: Record<string, string>;
  body: string;
}

for (const kind of STORE_KINDS) {
  describe(`webhooks (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let tok: Record<string, string>;
    let receiver: Server;
    let port = 0;
    const got: Received[] = [];
    let failFirst = 2;
    let flaky: string | undefined;
    const connections: string[] = [];
    const realConnect = net.Socket.prototype.connect;

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'hooks', ['one', 'two', 'three']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'yes' }, { name: 'no' }] });
      await updateSettings(t.store, p, OPERATOR, { overlap: 2 });
      tok = await usersWithRoles(t.store, p, { a: 'annotator', b: 'annotator', r: 'reviewer', boss: 'admin' });
      receiver = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          got.push({ at: Date.now(), headers: req.headers as Record<string, string>, body });
          // The first delivery seen fails twice (HTTP 500), then succeeds.
          flaky ??= req.headers['x-tessera-delivery'] as string;
          if (req.headers['x-tessera-delivery'] === flaky && failFirst > 0) {
            failFirst--;
            res.writeHead(500).end('try later');
          } else res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      port = (receiver.address() as net.AddressInfo).port;
      // The receiver is on loopback, which webhooks may reach only when the operator allows it.
      api = await startApi(t.store, { pollMs: 30, backoffBaseMs: 60, maxAttempts: 3, timeoutMs: 2000, allow: '127.0.0.1/32' });
      if (kind === 'sqlite') {
        net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
          // net.connect() passes its normalised arguments as one array: [options, callback].
          const first = Array.isArray(args[0]) ? args[0][0] : args[0];
          const o = first as { port?: number; host?: string; path?: string } | number;
          connections.push(typeof o === 'object' && o !== null ? (o.path ?? `${o.host}:${o.port}`) : `${args[1] ?? 'localhost'}:${o}`);
          return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
        } as typeof realConnect;
      }
    });
    after(async () => {
      net.Socket.prototype.connect = realConnect;
      await api.close();
      await new Promise((r) => receiver.close(r));
      await t.cleanup();
    });

    test('signed deliveries, retried with back-off, for annotation, review and consensus events', async () => {
      const P = '/api/projects/hooks';
      const secret = 's'.repeat(32);
      const created = await api.call('POST', `${P}/webhooks`, tok.boss, { url: `http://127.0.0.1:${port}/hook`, events: ['annotation.created', 'consensus.reached', 'review.queued', 'review.done'], secret });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json.secret, secret);
      assert.ok(!JSON.stringify((await api.call('GET', `${P}/webhooks`, tok.boss)).json).includes(secret), 'secrets are not listed');
      const dead = await api.call('POST', `${P}/webhooks`, tok.boss, { url: 'http://127.0.0.1:9/nobody', events: ['review.done'] });
      assert.equal(dead.status, 201);
      assert.equal((await api.call('POST', `${P}/webhooks`, tok.boss, { url: 'file:///etc/passwd', events: ['review.done'] })).status, 400);

      const pair = async (la: string, lb: string) => {
        const ta = (await api.call('POST', `${P}/tasks/next`, tok.a)).json.task;
        const tb = (await api.call('POST', `${P}/tasks/next`, tok.b)).json.task;
        await api.call('POST', `${P}/tasks/${ta.id}/submit`, tok.a, { labels: [la], taxonomyVersion: 1 });
        await api.call('POST', `${P}/tasks/${tb.id}/submit`, tok.b, { labels: [lb], taxonomyVersion: 1 });
      };
      await pair('yes', 'no');
      const review = (await api.call('GET', `${P}/reviews`, tok.r)).json.reviews[0];
      await api.call('POST', `${P}/reviews/${review.id}/decision`, tok.r, { decision: 'fix', labels: ['yes'] });
      await pair('no', 'no');

      const want = ['annotation.created', 'annotation.created', 'review.queued', 'review.done', 'annotation.created', 'annotation.created', 'consensus.reached'];
      const deliveriesOf = async (id: number) => (await api.call('GET', `${P}/webhooks/${id}/deliveries`, tok.boss)).json.deliveries as Array<{ status: string; attempts: number; lastError: string | null }>;
      for (let i = 0; i < 100; i++) {
        const ds = await deliveriesOf(created.json.id);
        if (ds.length === want.length && ds.every((x) => x.status === 'delivered')) break;
        await sleep(30);
      }
      const byDelivery = new Map<string, Received[]>();
      for (const g of got) byDelivery.set(g.headers['x-tessera-delivery'], [...(byDelivery.get(g.headers['x-tessera-delivery']) ?? []), g]);
      const events = [...byDelivery.values()].map((v) => v[0].headers['x-tessera-event']);
      assert.deepEqual(events.sort(), [...want].sort());

      for (const g of got) {
        const expected = 'sha256=' + createHmac('sha256', secret).update(`${g.headers['x-tessera-timestamp']}.${g.body}`).digest('hex');
        assert.equal(g.headers['x-tessera-signature'], expected);
        const body = JSON.parse(g.body);
        assert.equal(body.event, g.headers['x-tessera-event']);
        assert.equal(body.project, 'hooks');
      }
      const done = JSON.parse(got.find((g) => g.headers['x-tessera-event'] === 'review.done')!.body);
      assert.deepEqual(done.data.labels, ['yes']);
      assert.equal(done.data.decision, 'fix');

      // The first delivery failed twice (HTTP 500): three attempts, spaced by ≥ 60 ms then ≥ 120 ms.
      const retried = [...byDelivery.values()].find((v) => v.length === 3)!;
      assert.ok(retried, 'one delivery was attempted three times');
      assert.ok(retried[1].at - retried[0].at >= 55, `first back-off ${retried[1].at - retried[0].at} ms`);
      assert.ok(retried[2].at - retried[1].at >= 115, `second back-off ${retried[2].at - retried[1].at} ms`);
      const deliveries = await deliveriesOf(created.json.id);
      assert.ok(deliveries.every((d: { status: string }) => d.status === 'delivered'), JSON.stringify(deliveries));
      assert.deepEqual(deliveries.map((d: { attempts: number }) => d.attempts).sort(), [1, 1, 1, 1, 1, 1, 3]);

      // The unreachable webhook gives up after maxAttempts.
      for (let i = 0; i < 60; i++) {
        const d = (await api.call('GET', `${P}/webhooks/${dead.json.id}/deliveries`, tok.boss)).json.deliveries;
        if (d[0]?.status === 'failed') break;
        await sleep(30);
      }
      const d = (await api.call('GET', `${P}/webhooks/${dead.json.id}/deliveries`, tok.boss)).json.deliveries;
      assert.equal(d[0].status, 'failed');
      assert.equal(d[0].attempts, 3);
      assert.ok(d[0].lastError);

      if (kind === 'sqlite') {
        // Every socket opened in this process: the test's own calls to the API, and the webhook URLs.
        const allowed = new Set([new URL(api.base).port, String(port), '9']);
        const other = connections.filter((c) => !allowed.has(c.split(':').pop()!));
        assert.deepEqual(other, [], 'no outbound connection except the configured webhooks');
        assert.ok(connections.some((c) => c.endsWith(`:${port}`)), 'the socket hook saw the webhook connections');
      }
    });
  });
}
