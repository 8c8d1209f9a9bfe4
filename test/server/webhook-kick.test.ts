// The server wakes its webhook dispatcher after a request only when that request queued a
// delivery: without webhooks a write request costs no dispatcher pass (the load bench measured
// two queries per request for nothing), and with one the delivery still goes out at once, not at
// the next poll (the poll here is an hour away).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { OPERATOR, projectWithItems, sleep, startApi, usersWithRoles, type Api } from './helpers.ts';
import { createTaxonomy } from '../../src/label/taxonomies.ts';

for (const kind of STORE_KINDS) {
  describe(`webhook dispatcher wake-ups (${kind})`, () => {
    let t: TestStore;
    let api: Api;
    let tok: Record<string, string>;
    let receiver: Server;
    const got: string[] = [];
    let passes = 0;

    before(async () => {
      t = await freshStore(kind);
      const p = await projectWithItems(t.store, 'kick', ['one', 'two', 'three']);
      await createTaxonomy(t.store, p, OPERATOR, { kind: 'single', labels: [{ name: 'yes' }, { name: 'no' }] });
      tok = await usersWithRoles(t.store, p, { a: 'annotator', boss: 'admin' });
      receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          got.push(String(req.headers['x-tessera-event']));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      api = await startApi(t.store, { pollMs: 3_600_000, allow: '127.0.0.1/32' }); // the receiver is on loopback
      const d = api.app.dispatcher;
      const tick = d.tick.bind(d);
      d.tick = async () => {
        passes++;
        return tick();
      };
      await sleep(50); // the pass at start-up
    });
    after(async () => {
      await api.close();
      await new Promise((r) => receiver.close(r));
      await t.cleanup();
    });

    const labelOne = async () => {
      const task = (await api.call('POST', '/api/projects/kick/tasks/next', tok.a)).json.task;
      const r = await api.call('POST', `/api/projects/kick/tasks/${task.id}/submit`, tok.a, { labels: ['yes'], taxonomyVersion: 1 });
      assert.equal(r.status, 201, r.text);
    };

    test('no webhook: write requests do not wake the dispatcher', async () => {
      const before = passes;
      await labelOne();
      await sleep(100);
      assert.equal(passes, before);
    });

    test('a subscribed webhook: the request that queued a delivery wakes it, and it is delivered now', async () => {
      const port = (receiver.address() as AddressInfo).port;
      const hook = await api.call('POST', '/api/projects/kick/webhooks', tok.boss, { url: `http://127.0.0.1:${port}/hook`, events: ['annotation.created'] });
      assert.equal(hook.status, 201, hook.text);
      const before = passes;
      await labelOne();
      for (let i = 0; i < 100 && got.length === 0; i++) await sleep(20);
      assert.deepEqual(got, ['annotation.created']);
      assert.ok(passes > before);
    });
  });
}
