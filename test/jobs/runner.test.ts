import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { CancelledError } from '../../src/core/errors.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

/** A pid that certainly belongs to no live process: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

for (const kind of STORE_KINDS) {
  describe(`jobs: persistent queue and in-process runner (${kind})`, () => {
    let t: TestStore;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    test('a job runs, reports progress and stores its result', async () => {
      const seen: number[] = [];
      const runner = new InProcessRunner(t.store, {
        add: async ({ job, progress }) => {
          progress(0.5, 'half');
          return { sum: (job.params.a as number) + (job.params.b as number) };
        },
      });
      const job = await runner.submitAndRun('add', { a: 2, b: 3 }, null, (_j, f) => seen.push(f ?? -1));
      assert.equal(job.status, 'succeeded');
      assert.deepEqual(job.result, { sum: 5 });
      assert.equal(job.progress, 1);
      assert.equal(job.attempts, 1);
      assert.deepEqual(seen, [0.5]);
    });

    test('a failing job records its error', async () => {
      const runner = new InProcessRunner(t.store, { boom: async () => Promise.reject(new Error('disk on fire')) });
      const job = await runner.submitAndRun('boom', {}, null);
      assert.equal(job.status, 'failed');
      assert.equal(job.error, 'disk on fire');
    });

    test('cancel: a queued job is cancelled at once; a running one stops at its next check', async () => {
      const runner = new InProcessRunner(
        t.store,
        {
          loop: async ({ signal, progress }) => {
            for (let i = 0; ; i++) {
              if (signal.aborted) throw new CancelledError('stopped at step ' + i);
              progress(null, `step ${i}`);
              await new Promise((r) => setTimeout(r, 10));
            }
          },
        },
        { heartbeatMs: 20 },
      );
      const queued = await runner.queue.enqueue('loop', {}, null);
      assert.equal((await runner.queue.cancel(queued.id)).status, 'cancelled');

      const running = runner.submitAndRun('loop', {}, null);
      let id: number | undefined;
      while (id === undefined) {
        id = (await runner.queue.list({ status: 'running' }))[0]?.id;
        await new Promise((r) => setTimeout(r, 10));
      }
      const asked = await runner.queue.cancel(id);
      assert.equal(asked.cancelRequested, true);
      const done = await running;
      assert.equal(done.status, 'cancelled');
      assert.match(done.message ?? '', /stopped at step \d+/);
      await assert.rejects(runner.queue.cancel(id), /already cancelled/);
    });

    test('recovery: a job left running by a dead process is re-queued and then runs', async () => {
      const runner = new InProcessRunner(t.store, { work: async () => 'done' });
      const job = await runner.queue.enqueue('work', {}, null);
      assert.ok(await runner.queue.claim(job.id, `${hostname()}:${deadPid()}`));
      const alive = await runner.queue.enqueue('work', {}, null);
      assert.ok(await runner.queue.claim(alive.id, `${hostname()}:${process.pid}`));

      assert.deepEqual(await runner.recover(), [job.id], 'only the dead owner’s job');
      assert.equal((await runner.queue.get(alive.id)).status, 'running');
      const rerun = await runner.runQueued(job.id);
      assert.equal(rerun?.status, 'succeeded');
      assert.equal(rerun?.attempts, 2);
    });

    test('recovery: a job whose owner on another host went silent is re-queued; after 3 attempts it fails', async () => {
      const runner = new InProcessRunner(t.store, {}, { staleMs: 1000 });
      const job = await runner.queue.enqueue('remote', {}, null);
      for (let attempt = 1; attempt <= 3; attempt++) {
        assert.ok(await runner.queue.claim(job.id, 'other-host:123'));
        await t.store.db.updateTable('jobs').set({ heartbeat_at: new Date(Date.now() - 5000).toISOString() }).where('id', '=', job.id).execute();
        await runner.recover();
      }
      const final = await runner.queue.get(job.id);
      assert.equal(final.status, 'failed');
      assert.match(final.error ?? '', /died 3 times/);
    });
  });
}
