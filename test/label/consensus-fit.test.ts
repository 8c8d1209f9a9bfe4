// Settling an item with a model-based method reuses a whole-project fit while it is fresh
// (src/label/consensus-fit.ts) instead of refitting on every answer at every submit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consensusByFit, EXACT_BELOW, forgetConsensusFits } from '../../src/label/consensus-fit.ts';
import type { ConsensusSettings } from '../../src/label/consensus.ts';
import { roundAnswers } from '../../src/label/label-items.ts';
import { projectConsensus, readAnswerColumns } from '../../src/label/recompute.ts';
import { currentTaxonomy } from '../../src/label/taxonomies.ts';
import { labelNames } from '../../src/label/taxonomy.ts';
import { bluebirds } from '../consensus/crowd-data.ts';
import { crowdProject } from '../helpers/crowd-project.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';

const DS: ConsensusSettings = { method: 'dawid-skene', tie: 'unresolved', seed: 0 };

for (const kind of STORE_KINDS) {
  describe(`consensus fit reuse (${kind})`, () => {
    let t: TestStore;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-fit-'));
    before(async () => (t = await freshStore(kind)));
    after(async () => {
      await t.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('bluebirds: a fit is reused for new items until the project grew by the refit fraction, then refitted exactly; labels match the exact fit', async () => {
      const { answers, truth } = bluebirds();
      const items = [...new Set(answers.map((a) => a.item))];
      // 97 items answered first; the last 11 items' answers (429 of 4212, ~11 %) come later.
      const later = new Set(items.slice(97));
      const { project, itemId, addAnswers } = await crowdProject(t.store, dir, 'birds', items, ['0', '1'], answers.filter((a) => !later.has(a.item)));
      const taxonomy = await currentTaxonomy(t.store.db, project.id);
      const db = t.store.db;
      const settle = async (item: string, policy: { exactBelow?: number; refitFraction?: number }) => consensusByFit(t.store, db, project.id, taxonomy, DS, itemId.get(item)!, await roundAnswers(db, itemId.get(item)!, 0), policy);
      const exactAll = async () => projectConsensus(await readAnswerColumns(db, project.id, taxonomy), { kind: 'single', labels: labelNames(taxonomy) }, DS);
      const reuse = { exactBelow: 0, refitFraction: 0.5 };

      const first = await settle(items[0], reuse);
      assert.equal(first.fit.mode, 'exact');
      assert.equal(first.fit.answers, 97 * 39);
      // Same fit again: nothing new, reused.
      const again = await settle(items[1], reuse);
      assert.deepEqual([again.fit.mode, again.fit.at], ['fitted', first.fit.at]);
      assert.deepEqual(again.consensus, (await exactAll()).get(itemId.get(items[1])!));

      await addAnswers(answers.filter((a) => later.has(a.item)));
      const full = await exactAll();
      let agree = 0;
      let right = 0;
      for (const item of later) {
        const r = await settle(item, reuse);
        assert.equal(r.fit.mode, 'fitted', 'an 11 % growth is below the 50 % refit fraction');
        assert.equal(r.fit.answers, 97 * 39);
        const sum = Object.values(r.consensus.posterior).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-9);
        if (r.consensus.labels?.[0] === full.get(itemId.get(item)!)!.labels?.[0]) agree++;
        if (r.consensus.labels?.[0] === truth.get(item)) right++;
      }
      assert.ok(agree >= 10, `the fitted decisions agree with the exact fit on ${agree}/11 new items`);
      let exactRight = 0;
      for (const item of later) if (full.get(itemId.get(item)!)!.labels?.[0] === truth.get(item)) exactRight++;
      assert.ok(right >= exactRight - 1, `fitted ${right}/11 right vs exact ${exactRight}/11`);

      // A 5 % refit fraction: 429 new answers ≥ 0.05 × 3783, so this settle refits on everything.
      const refit = await settle(items[100], { exactBelow: 0, refitFraction: 0.05 });
      assert.equal(refit.fit.mode, 'exact');
      assert.equal(refit.fit.answers, 4212);
      assert.deepEqual(refit.consensus, full.get(itemId.get(items[100])!));

      // Below exactBelow current answers every settle refits (small projects decide exactly, as before).
      assert.ok(EXACT_BELOW >= 500, 'the tests of small projects expect exact decisions');
      const small1 = await settle(items[0], { exactBelow: 5000 });
      const small2 = await settle(items[0], { exactBelow: 5000 });
      assert.deepEqual([small1.fit.mode, small2.fit.mode], ['exact', 'exact']);
      assert.deepEqual(small2.consensus, full.get(itemId.get(items[0])!));

      // A change of method or taxonomy version is a different fit.
      const coin = await consensusByFit(t.store, db, project.id, taxonomy, { ...DS, method: 'one-coin' }, itemId.get(items[0])!, await roundAnswers(db, itemId.get(items[0])!, 0), reuse);
      assert.equal(coin.fit.mode, 'exact');
      forgetConsensusFits(t.store);
      assert.equal((await settle(items[0], reuse)).fit.mode, 'exact');
    });
  });
}
