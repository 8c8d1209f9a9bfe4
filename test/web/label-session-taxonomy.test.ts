// The labelling session (src/web/label-session.ts) when a new taxonomy version is published while
// it runs, against an in-memory imitation of the task routes that follows the server's rules: a
// task carries the taxonomy current when it is served, and an answer given under an older version
// is refused with 409 E_TAXONOMY_CHANGED (src/label/assignment.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelSession } from '../../src/web/label-session.ts';

interface Version {
  version: number;
  kind: 'single' | 'multi';
  labels: Array<{ name: string }>;
  guidelines: string;
  mapping: unknown[] | null;
}

class FakeServer {
  versions: Version[] = [{ version: 1, kind: 'single', labels: [{ name: 'ham' }, { name: 'spam' }], guidelines: '', mapping: null }];
  stored: Array<{ item: number; labels: string[]; version: number }> = [];
  refused: number[] = [];
  private next = 1;
  private leases = new Map<number, { item: number; open: boolean }>();

  get current() {
    return this.versions[this.versions.length - 1];
  }
  publish(v: Omit<Version, 'version' | 'guidelines'>) {
    this.versions.push({ ...v, version: this.current.version + 1, guidelines: '' });
  }

  fetch = async (url: string, init: { method?: string; body?: string } = {}): Promise<Response> => {
    const json = (status: number, v: unknown) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
    const body = init.body ? JSON.parse(init.body) : {};
    const { version, kind, labels, guidelines } = this.current;
    if (url.endsWith('/tasks/ahead')) {
      const live = [...this.leases].find(([id, l]) => l.open && !body.holding.includes(id));
      let id = live?.[0];
      if (id === undefined) {
        if (this.next > 6) return json(200, { task: null, limit: false });
        id = 100 + this.next;
        this.leases.set(id, { item: this.next++, open: true });
      }
      const item = this.leases.get(id)!.item;
      return json(200, { task: { id, expiresAt: '2999-01-01T00:00:00.000Z', item: { id: item, modality: 'text', text: `message ${item}`, values: null, content: null }, taxonomy: { version, kind, labels, guidelines }, suggestion: null }, limit: false });
    }
    const m = /\/tasks\/(\d+)\/submit$/.exec(url);
    if (m) {
      const lease = this.leases.get(Number(m[1]))!;
      if (body.taxonomyVersion !== version) {
        this.refused.push(lease.item);
        return json(409, { error: { code: 'E_TAXONOMY_CHANGED', message: `the taxonomy changed (version ${body.taxonomyVersion} → ${version}): reload the task and its labels` } });
      }
      lease.open = false;
      this.stored.push({ item: lease.item, labels: body.labels, version: body.taxonomyVersion });
      return json(201, { annotationId: lease.item });
    }
    if (url.endsWith('/taxonomy/versions')) return json(200, { versions: this.versions });
    if (url.endsWith('/taxonomy')) return json(200, this.current);
    if (url.endsWith('/release')) return json(200, {});
    return json(404, { error: { code: 'E_NOT_FOUND', message: url } });
  };
}

async function settle(f: () => boolean, what: string) {
  for (let i = 0; i < 400; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`never happened: ${what}`);
}

const saved = { fetch: globalThis.fetch, storage: (globalThis as { sessionStorage?: unknown }).sessionStorage };
before(() => {
  (globalThis as { sessionStorage?: unknown }).sessionStorage = { getItem: () => 'token', setItem() {}, removeItem() {} };
});
after(() => {
  globalThis.fetch = saved.fetch;
  (globalThis as { sessionStorage?: unknown }).sessionStorage = saved.storage;
});

test('a newer version in a served task switches every held item to the new labels and says what changed; the answer given under the old one comes back once, carried over, and is stored under the new one', async () => {
  const server = new FakeServer();
  globalThis.fetch = server.fetch as typeof fetch;
  // A long grace period: an answer waits (undoable) until the next one is given.
  const s = new LabelSession('p', { preload: true, graceMs: 60_000 });
  const st = () => s.getState();
  const labelsOf = () => st().current?.task.taxonomy.labels.map((l) => l.name);
  s.start();
  await settle(() => st().current?.task.item.id === 1 && st().upcoming.length === 1, 'item 1 on screen, item 2 preloaded');

  server.publish({ kind: 'single', labels: [{ name: 'ham' }, { name: 'junk' }], mapping: [{ op: 'rename', from: 'spam', to: 'junk' }] });
  // Answer item 1 with "spam" (version 1): it waits; item 2 shows, and the preload of item 3 carries version 2.
  s.choose('spam');
  s.submit();
  await settle(() => st().taxonomyNotice !== null, 'the change noticed');
  assert.equal(st().current?.task.item.id, 2);
  assert.deepEqual(labelsOf(), ['ham', 'junk'], 'the item on screen switched to version 2 before any answer met a 409');
  assert.equal(st().current?.task.taxonomy.version, 2);
  assert.deepEqual(st().taxonomyNotice?.renamed, [{ from: 'spam', to: 'junk' }]);
  assert.deepEqual(server.refused, []);

  // Answering item 2 sends item 1's answer (version 1): refused, and item 1 comes back with "junk" chosen.
  s.choose('junk');
  s.submit();
  await settle(() => st().current?.task.item.id === 1, 'item 1 back on screen');
  assert.deepEqual(server.refused, [1]);
  assert.deepEqual(st().selected, ['junk'], 'spam → junk carried the answer over');
  assert.deepEqual(labelsOf(), ['ham', 'junk']);
  assert.match(st().message?.text ?? '', /Item 1 was not saved: the labels changed \(v1 → v2\)\. Answer it again\./);
  s.submit();
  s.flush();
  await settle(() => server.stored.length === 2, 'both answers stored');
  assert.deepEqual(
    server.stored.sort((a, b) => a.item - b.item),
    [
      { item: 1, labels: ['junk'], version: 2 },
      { item: 2, labels: ['junk'], version: 2 },
    ],
  );
  assert.deepEqual(server.refused, [1], 'no answer was refused twice');
  s.dispose();
});

test('a change that removes the chosen label: the item comes back with nothing chosen; single → multi is said', async () => {
  const server = new FakeServer();
  globalThis.fetch = server.fetch as typeof fetch;
  const s = new LabelSession('p', { preload: false, graceMs: 0 });
  const st = () => s.getState();
  s.start();
  await settle(() => st().current?.task.item.id === 1, 'item 1 on screen');
  server.publish({ kind: 'multi', labels: [{ name: 'ham' }, { name: 'promo' }], mapping: [{ op: 'split', from: 'spam', to: ['promo', 'ham'] }] });
  s.choose('spam');
  s.submit();
  await settle(() => st().current?.task.item.id === 1 && st().current?.task.taxonomy.version === 2, 'item 1 back under version 2');
  assert.deepEqual(st().selected, []);
  const notice = st().taxonomyNotice!;
  assert.deepEqual(notice.split, [{ from: 'spam', to: ['promo', 'ham'] }]);
  assert.deepEqual(notice.kind, { from: 'single', to: 'multi' });
  s.choose('promo');
  s.choose('ham');
  s.submit();
  await settle(() => server.stored.length === 1, 'stored');
  assert.deepEqual(server.stored[0], { item: 1, labels: ['promo', 'ham'], version: 2 });
  s.dispose();
});
