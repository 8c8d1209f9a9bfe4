import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { jobHandlers } from '../../src/jobs/handlers.ts';
import { InProcessRunner } from '../../src/jobs/runner.ts';
import { runLoop } from '../../src/loop/loop.ts';
import { runAudit } from '../../src/audit/run.ts';
import { auditExclusions } from '../../src/audit/exclusions.ts';
import { getProject } from '../../src/store/projects.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, type TestStore } from '../helpers/stores.ts';

// Audit findings feed the loop: the first 300 SMS messages plus 25 of them again (exact copies),
// audited, then one loop round that buys every selectable item. Redundant copies must never be
// selected; items the audit flagged (outliers) go to review even when annotators agree.
describe('audit findings in the loop (SQLite)', () => {
  let t: TestStore;
  let exclude: number[];
  let flag: number[];
  let projectId: number;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-audit-loop-'));
  before(async () => {
    t = await freshStore('sqlite');
    process.env.TESSERA_HOME = t.env.TESSERA_HOME;
    const lines = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n').slice(0, 300);
    // Planted: 25 exact copies, two messages again under the other label (conflicting source
    // labels → flag), and one message 40 times longer than any other (size outlier → flag).
    const flip = (l: string) => (l.startsWith('ham\t') ? `spam${l.slice(3)}` : `ham${l.slice(4)}`);
    const long = `ham\t${lines.slice(200, 240).map((l) => l.slice(l.indexOf('\t') + 1)).join(' ')}`;
    writeFileSync(join(dir, 'SMSSpamCollection'), [...lines, ...lines.slice(100, 125), flip(lines[10]), flip(lines[11]), long].join('\n') + '\n');
    await runImport(t.store, { project: 'sms', path: join(dir, 'SMSSpamCollection'), options: {}, actor: 'test' });
    projectId = (await getProject(t.store.db, 'sms')).id;
    await runAudit(t.store, { project: 'sms', actor: 'test' });
    ({ exclude, flag } = await auditExclusions(t.store, projectId));
    const runner = new InProcessRunner(t.store, jobHandlers(t.store));
    await runLoop(t.store, runner, {
      project: 'sms', rounds: 1, batch: 400, annotators: { count: 3, noise: 0 }, priceLabel: 1, priceReview: 1,
      seed: 0, strategy: 'margin', testSize: 40, pretrain: { epochs: 1, batch: 64 }, train: { method: 'linear' }, actor: 'test',
    });
  });
  after(async () => {
    await t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('redundant copies found by the audit are never selected, every other pool item is', async () => {
    assert.ok(exclude.length >= 25, `the 25 planted copies (and the file's own duplicates) are excluded, got ${exclude.length}`);
    const chosen = (await t.store.db.selectFrom('label_items').select('item_id').where('project_id', '=', projectId).where('priority', 'is not', null).execute()).map((r) => r.item_id);
    assert.ok(chosen.length > 200);
    const ex = new Set(exclude);
    assert.deepEqual(chosen.filter((id) => ex.has(id)), []);
  });

  test('items the audit flagged go to review with reason audit_flag, proposing the consensus label', async () => {
    assert.ok(flag.length >= 3, `the planted conflicts and the outlier are flagged, got ${flag.length}`);
    const reviews = await t.store.db.selectFrom('review_queue').select(['item_id', 'reason', 'proposal']).where('project_id', '=', projectId).execute();
    const flagged = new Set(flag);
    const auditReviews = reviews.filter((r) => r.reason === 'audit_flag');
    assert.ok(auditReviews.length > 0);
    // Noise-free annotators agree with each other (each answers from the item's source label),
    // so only audit flags can send an item to review here.
    assert.deepEqual(reviews.filter((r) => r.reason !== 'audit_flag'), []);
    for (const r of auditReviews) {
      assert.ok(flagged.has(r.item_id), `item ${r.item_id} was not flagged`);
      assert.equal(JSON.parse(r.proposal!).length, 1);
    }
  });
});
