// The labelling view's session (src/web/label-session.ts) against an in-memory imitation of the
// task routes whose responses the test releases one at a time, so the interleavings that only
// happen on a slow server (an answer's grace period ending while a preload waits in the queue)
// are reproduced exactly. The fake follows the server's rules: POST …/tasks/ahead hands back a
// live lease the client did not list as held before leasing a new one (src/server/routes/
// workbench.ts), at most 3 ids in `holding`, and a task answered twice is a 409.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HELD } from '../../src/label/limits.ts';
import { LabelSession } from '../../src/web/label-session.ts';

interface Lease {
  id: number;
  item: number;
  status: 'leased' | 'submitted';
}

class FakeTaskServer {
  leases: Lease[] = [];
  conflicts: string[] = [];
  submitted: number[] = [];
  aheadCalls: number[][] = [];
  private nextItem = 1;
  private gate: Array<() => void> = [];
  held = false;

  constructor(readonly items: number) {}

  /** Requests wait here while `held`; `step()` lets the oldest one through. */
  private async pass() {
    if (this.held) await new Promise<void>((r) => this.gate.push(r));
  }
  waiting = () => this.gate.length;
  step() {
    const r = this.gate.shift();
    assert.ok(r, 'a request is waiting');
    r();
  }

  fetch = async (url: string, init: { method: string; body?: string }): Promise<Response> => {
    await this.pass();
    const body = init.body ? JSON.parse(init.body) : {};
    const json = (status: number, v: unknown) => new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json' } });
    if (url.endsWith('/tasks/ahead')) {
      const holding: number[] = body.holding;
      this.aheadCalls.push(holding);
      if (holding.length > MAX_HELD) return json(400, { error: { code: 'E_VALIDATION', message: `body/holding must NOT have more than ${MAX_HELD} items` } });
      const live = this.leases.filter((l) => l.status === 'leased');
      const unheld = live.filter((l) => !holding.includes(l.id));
      if (unheld.length === 0 && live.length >= MAX_HELD) return json(200, { task: null, limit: true });
      let lease = unheld[0];
      if (!lease) {
        if (this.nextItem > this.items) return json(200, { task: null, limit: false });
        lease = { id: 100 + this.nextItem, item: this.nextItem++, status: 'leased' };
        this.leases.push(lease);
      }
      return json(200, { task: task(lease), limit: false });
    }
    const m = /\/tasks\/(\d+)\/submit$/.exec(url);
    if (m) {
      const lease = this.leases.find((l) => l.id === Number(m[1]));
      if (!lease || lease.status !== 'leased') {
        this.conflicts.push(`task ${m[1]}`);
        return json(409, { error: { code: 'E_TASK_CLOSED', message: `task ${m[1]} is already submitted` } });
      }
      lease.status = 'submitted';
      this.submitted.push(lease.item);
      return json(200, { annotationId: lease.item, taskId: lease.id });
    }
    return json(404, { error: { code: 'E_NOT_FOUND', message: url } });
  };
}

const task = (l: Lease) => ({
  id: l.id,
  expiresAt: '2999-01-01T00:00:00.000Z',
  item: { id: l.item, modality: 'text', text: `message ${l.item}`, values: null, content: null },
  taxonomy: { version: 1, kind: 'single', labels: [{ name: 'ham' }, { name: 'spam' }], guidelines: '' },
  suggestion: null,
});

/** Resolves once `f()` holds, letting queued promise callbacks and timers run in between. */
async function settle(f: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`never happened: ${what}`);
}

describe('LabelSession against a slow server', () => {
  const saved = { fetch: globalThis.fetch, storage: (globalThis as { sessionStorage?: unknown }).sessionStorage };
  let server: FakeTaskServer;
  before(() => {
    (globalThis as { sessionStorage?: unknown }).sessionStorage = { getItem: () => 'token', setItem() {}, removeItem() {} };
  });
  after(() => {
    globalThis.fetch = saved.fetch;
    (globalThis as { sessionStorage?: unknown }).sessionStorage = saved.storage;
  });

  const current = (s: LabelSession) => s.getState().current?.task.item.id ?? null;

  test("an answer whose grace period ends while a preload waits is never handed back: no item twice, no 409", async () => {
    server = new FakeTaskServer(6);
    globalThis.fetch = server.fetch as typeof fetch;
    const s = new LabelSession('p', { preload: true, graceMs: 5 });
    s.start();
    // Item 1 on screen, item 2 preloaded.
    await settle(() => current(s) === 1 && s.getState().upcoming.length === 1, 'items 1 and 2 leased');

    // Answer 1 (pending), move on to 2, then answer 2 before 1's grace ends: 1 is sent now.
    server.held = true;
    s.choose('ham');
    s.submit();
    assert.equal(current(s), 2);
    s.choose('spam');
    s.submit();
    // Queue: [submit 1 (waiting at the server)] then the preload for the item after 2.
    await settle(() => server.waiting() === 1, 'submit of 1 reaches the server');
    // 2's grace period ends while the preload still waits behind submit 1: 2 is queued for sending.
    await settle(() => s.getState().pending === null, "2's grace period over");

    // Let everything through, one request at a time.
    server.held = false;
    while (server.waiting() > 0) {
      server.step();
      await new Promise((r) => setTimeout(r, 1));
    }
    await settle(() => current(s) !== null && current(s) !== 2 && s.getState().sent === 2, 'the next item shown, two answers sent');
    // The task of item 2 was live but not yet sent when the preload ran: it was listed as held.
    assert.ok(server.aheadCalls.some((h) => h.includes(102)), `a preload listed task 102 as held: ${JSON.stringify(server.aheadCalls)}`);

    // Label the rest: every item is shown once and answered once.
    const shown = [1, 2];
    for (;;) {
      await settle(() => current(s) !== null || s.getState().status === 'done', 'an item or the end');
      if (s.getState().status === 'done' || current(s) === null) break;
      shown.push(current(s)!);
      s.choose('ham');
      s.submit();
    }
    await settle(() => server.submitted.length === 6, 'all six answers stored');
    assert.deepEqual(shown, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(server.submitted.sort(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(server.conflicts, []);
    assert.equal(s.getState().message?.kind === 'error', false, `no error shown: ${s.getState().message?.text}`);
    for (const h of server.aheadCalls) assert.ok(h.length <= MAX_HELD, `holding within the limit: ${JSON.stringify(h)}`);
    s.dispose();
  });
});
