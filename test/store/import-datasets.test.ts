import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runImport } from '../../src/ingest/import.ts';
import { getProject, projectStats } from '../../src/store/projects.ts';
import { dataset } from '../helpers/datasets.ts';
import { freshStore, snapshot, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import type { Store } from '../../src/store/db.ts';
import type { ReaderOptions, Format } from '../../src/ingest/types.ts';

// The shared public datasets (../shared/datasets/README.md) must import to exactly these counts,
// in both stores, and a second import of the same source must add nothing.
async function importTwice(store: Store, project: string, path: string, options: ReaderOptions = {}, format?: Format) {
  const first = await runImport(store, { project, path, options, format, actor: 'test' });
  const before = await snapshot(store);
  const second = await runImport(store, { project, path, options, format, actor: 'test' });
  const afterSnap = await snapshot(store);
  assert.equal(second.imported, 0, 're-import adds nothing');
  assert.equal(second.unchanged, first.imported);
  assert.equal(afterSnap.items, before.items);
  assert.equal(afterSnap.import_sources, before.import_sources + 1, 'the re-import is recorded as a source');
  const stats = await projectStats(store.db, (await getProject(store.db, project)).id);
  return { first, stats };
}

for (const kind of STORE_KINDS) {
  describe(`shared datasets import exactly (${kind})`, () => {
    let t: TestStore;
    before(async () => (t = await freshStore(kind)));
    after(async () => t.cleanup());

    test('SMS Spam Collection: 5,574 items, 4,827 ham / 747 spam', async () => {
      const { first, stats } = await importTwice(t.store, 'sms', dataset('text', 'sms-spam', 'SMSSpamCollection'));
      assert.deepEqual([first.imported, first.rejected], [5574, 0]);
      assert.deepEqual(stats, { items: 5574, byModality: { text: 5574 }, sourceLabels: { ham: 4827, spam: 747 } });
    });

    test('TREC train: 5,452 items over 6 coarse classes', async () => {
      const { first, stats } = await importTwice(t.store, 'trec', dataset('text', 'trec', 'TREC.train'));
      assert.deepEqual([first.imported, first.rejected], [5452, 0]);
      assert.equal(stats.items, 5452);
      assert.deepEqual(Object.keys(stats.sourceLabels), ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM']);
    });

    test('digits: 1,797 8×8 images', async () => {
      const { first, stats } = await importTwice(t.store, 'digits', dataset('images', 'digits', 'digits.csv.gz'));
      assert.deepEqual([first.imported, first.rejected], [1797, 0]);
      assert.deepEqual(stats.byModality, { image: 1797 });
      assert.equal(Object.keys(stats.sourceLabels).length, 10);
    });

    test('NSL-KDD 20%: 25,192 rows with the preset columns', async () => {
      const { first, stats } = await importTwice(t.store, 'kdd', dataset('tabular', 'nsl-kdd', 'KDDTrain+_20Percent.txt'));
      assert.deepEqual([first.imported, first.rejected], [25192, 0]);
      assert.deepEqual(stats.byModality, { tabular: 25192 });
      assert.equal(stats.sourceLabels.normal, 13449);
      const row = await t.store.db.selectFrom('items').select(['data', 'meta']).where('source_key', '=', 'KDDTrain+_20Percent.txt:1').executeTakeFirstOrThrow();
      const values = JSON.parse(row.data!);
      assert.equal(Object.keys(values).length, 41);
      assert.deepEqual([values.duration, values.protocol_type, values.service, values.src_bytes], [0, 'tcp', 'ftp_data', 491]);
      assert.equal(JSON.parse(row.meta).difficulty, '20');
    });

    test('FSDD: 3,000 recordings, 300 per digit, label from the file name', async () => {
      const { first, stats } = await importTwice(t.store, 'fsdd', dataset('audio', 'fsdd', 'recordings'), { labelPattern: '{label}_{speaker}_{index}.wav' });
      assert.deepEqual([first.imported, first.rejected], [3000, 0]);
      assert.deepEqual(stats.byModality, { audio: 3000 });
      assert.deepEqual(Object.values(stats.sourceLabels), Array(10).fill(300));
    });
  });
}
