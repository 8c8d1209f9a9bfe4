import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/errors.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { checkJobParams } from '../../src/jobs/params.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { JOB_PARAMS } from '../../src/jobs/types.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

describe('job params: every kind has a schema', () => {
  test('the registry runs exactly the kinds that have a params schema', () => {
    assert.deepEqual(Object.keys(jobHandlers(undefined as never)).sort(), Object.keys(JOB_PARAMS).sort());
  });

  test('params as callers send them pass; wrong ones are refused with the field named', () => {
    checkJobParams('import', { project: 'p', path: '/x.csv', format: 'csv', options: { header: true }, actor: 'cli:me', projectSettings: undefined });
    checkJobParams('pretrain', { project: 'p', pretext: undefined, epochs: 2, batch: 8, seed: 1, config: { rate: 0.1 }, actor: 'cli:me' });
    checkJobParams('audit', { project: 'p', actor: 'cli:me', model: 'none', ann: 'exact' });
    checkJobParams('embed', { project: 'p' });
    checkJobParams('some-other-type', { anything: 1 });
    assert.throws(() => checkJobParams('embed', { project: 'p', model: 'latest' }), (e: unknown) => e instanceof UserError && /job type "embed": \/model/.test(e.message));
    assert.throws(() => checkJobParams('import', { project: 'p', path: '/x', options: {}, actor: 'a', format: 'xls' }), /\/format/);
    assert.throws(() => checkJobParams('probe', { project: 'p', seed: 1 }), /\/labels/);
  });
});

for (const kind of STORE_KINDS) {
  describe(`job params at submit and before running (${kind})`, () => {
    let t: TestStore;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    test('a submit with bad params is refused and nothing is queued', async () => {
      const runner = new InProcessRunner(t.store, jobHandlers(t.store));
      await assert.rejects(runner.submitAndRun('embed', { model: 3 }, null), /invalid params for job type "embed": \/project/);
      assert.equal((await runner.queue.list()).length, 0);
    });

    test('a queued job whose params do not match fails with the reason, before its handler runs', async () => {
      const runner = new InProcessRunner(t.store, jobHandlers(t.store));
      const queued = await runner.queue.enqueue('probe', { project: 'p', labels: '10', seed: 1 }, null);
      const job = await runner.runQueued(queued.id);
      assert.equal(job?.status, 'failed');
      assert.match(job?.error ?? '', /invalid params for job type "probe": \/labels/);
    });
  });
}
