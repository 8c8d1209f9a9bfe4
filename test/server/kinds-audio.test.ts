// Audio segments, transcriptions (text) and ratings end to end over HTTP on SQLite and
// PostgreSQL, on Free Spoken Digit Dataset recordings (Jakobovski et al., CC BY-SA 4.0;
// ../shared/datasets): one taxonomy with a segments question, a text question and an optional
// rating question, two annotators with blind overlap 2, consensus (clustered segments, the
// medoid transcription, the median rating), a review fix of one answer and an accepted proposal,
// validation against the duration, agreement against values computed by hand (F1, edit distance,
// WER, Krippendorff's α ordinal, weighted κ), the Label Studio and JSONL round trips.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import type { Store } from '../../src/store/db.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { dataset } from '../helpers/datasets.ts';
import { assertVerified, exportOf, finalOf, importFile, jsonlAnswers, labelBoth, labelStudioResults, next, reviewOf, setUp, startKit, submit, type Kit } from './kinds-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-audio-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Three recordings of at least half a second (8 kHz, 16-bit: over 8,044 bytes), copied to a temporary folder. */
function recordings(): string {
  const src = dataset('audio', 'fsdd', 'recordings');
  const folder = join(dir, 'wav');
  mkdirSync(folder, { recursive: true });
  const picked = readdirSync(src).sort().filter((f) => statSync(join(src, f)).size > 8044).slice(0, 3);
  for (const f of picked) copyFileSync(join(src, f), join(folder, f));
  return folder;
}

async function audioProject(store: Store, name: string, folder: string): Promise<Project> {
  await runImport(store, { project: name, path: folder, format: 'wav', options: {}, actor: 'cli:test' });
  return getProject(store.db, name);
}

const TAXONOMY = {
  questions: [
    { name: 'words', kind: 'segments', labels: [{ name: 'digit' }, { name: 'noise' }] },
    { name: 'transcript', kind: 'text' },
    { name: 'quality', kind: 'rating', scale: { min: 1, max: 5, labels: ['bad', 'poor', 'fair', 'good', 'excellent'] }, required: false },
  ],
};
const seg = (start: number, end: number, label: string) => ({ start, end, label });
const near = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

for (const kind of STORE_KINDS) {
  describe(`segments, text and rating questions over HTTP (${kind})`, () => {
    let t: TestStore;
    let kit: Kit;
    const folder = recordings();
    before(async () => {
      t = await freshStore(kind);
      kit = await startKit(t.store);
    });
    after(async () => {
      await kit.close();
      await t.cleanup();
    });

    test('two annotators, consensus per kind, review, agreement by hand, Label Studio and JSONL round trips', async () => {
      const P = await setUp(kit, t.store, await audioProject(t.store, 'speech', folder), TAXONOMY);
      const { api, tok } = kit;

      // i0: the same segment, transcript and rating from both: consensus.
      const t0 = await next(kit, P, 'ann-a');
      const duration = t0.item.dimensions!.duration;
      assert.ok(duration > 0.5, `duration ${duration}`);
      for (const [answers, message] of [
        [{ words: [seg(0, duration + 0.25, 'digit')], transcript: 'x' }, new RegExp(`^body/answers/words/0/end: ${duration + 0.25} s is past the end of the audio \\(${duration} s\\)`)],
        [{ words: [seg(0.25, 0.125, 'digit')], transcript: 'x' }, /^body\/answers\/words\/0\/end: expected more than start \(0\.25\), got 0\.125/],
        [{ words: [seg(0, 0.25, 'digit'), seg(0.125, 0.375, 'noise')], transcript: 'x' }, /^body\/answers\/words\/1: overlaps body\/answers\/words\/0/],
        [{ words: [], transcript: '  ' }, /^body\/answers\/transcript: required: expected some text/],
        [{ words: [], transcript: 'x', quality: 6 }, /^body\/answers\/quality: expected a whole number from 1 to 5, got 6/],
        [{ transcript: 'x' }, /^body\/answers\/words: required \(a segments question; give \[\] when there is nothing to mark\)/],
      ] as const) {
        const r = await api.call('POST', `${P}/tasks/${t0.id}/submit`, tok['ann-a'], { answers, taxonomyVersion: 1 });
        assert.equal(r.status, 400, r.text);
        assert.match(r.json.error.message, message);
      }
      const same = { words: [seg(0, 0.25, 'digit')], transcript: 'seven', quality: 4 };
      await submit(kit, P, 'ann-a', t0, same);
      await submit(kit, P, 'ann-b', await next(kit, P, 'ann-b'), same);
      assert.deepEqual((await finalOf(kit, P, t0.item.id)).answers, same);

      // i1: segments matched (IoU 0.75, fused by the mean), transcripts and ratings differ: review.
      // Proposal: the fused segment, the medoid transcript (a tie: ann-a's), the lower median rating.
      const i1 = await labelBoth(kit, P, { words: [seg(0.125, 0.375, 'digit')], transcript: 'two', quality: 3 }, { words: [seg(0.1875, 0.375, 'digit')], transcript: 'too', quality: 5 });
      const e1 = await reviewOf(kit, P, i1);
      assert.equal(e1.reason, 'disagreement');
      assert.deepEqual(e1.proposalAnswers, { words: [seg(0.15625, 0.375, 'digit')], transcript: 'two', quality: 3 });
      const qs = e1.detail.consensus.questions;
      assert.deepEqual([qs.words.unanimous, qs.transcript.unanimous, qs.quality.unanimous, qs.transcript.medoidOf], [true, false, false, 'ann-a']);
      const fix = await api.call('POST', `${P}/reviews/${e1.id}/decision`, tok.rev, { decision: 'fix', answers: { quality: 4 } });
      assert.equal(fix.status, 200, fix.text);
      assert.deepEqual((await finalOf(kit, P, i1)).answers, { words: [seg(0.15625, 0.375, 'digit')], transcript: 'two', quality: 4 });

      // i2: ann-b heard no noise and did not rate (optional): the proposal keeps both segments (each
      // drawn by half the annotators) and ann-a's rating; the reviewer accepts it.
      const i2 = await labelBoth(kit, P, { words: [seg(0.0625, 0.25, 'digit'), seg(0.3125, 0.375, 'noise')], transcript: 'nine', quality: 2 }, { words: [seg(0.0625, 0.25, 'digit')], transcript: 'nine' });
      const e2 = await reviewOf(kit, P, i2);
      assert.deepEqual([e2.reason, e2.proposalAnswers], ['disagreement', { words: [seg(0.0625, 0.25, 'digit'), seg(0.3125, 0.375, 'noise')], transcript: 'nine', quality: 2 }]);
      assert.equal((await api.call('POST', `${P}/reviews/${e2.id}/decision`, tok.rev, { decision: 'accept' })).status, 200);

      // Agreement by hand.
      const ag = (await api.call('GET', `${P}/agreement`, tok.rev)).json;
      const by = Object.fromEntries(ag.questions.map((q: { name: string }) => [q.name, q]));
      // Segments a: 1 + 1 + 2, b: 1 + 1 + 1; exact matches 1 + 0 + 1 → F1 4/7; overlapping 3 → 6/7.
      assert.equal(by.words.pairs, 1);
      near(by.words.f1.exact, 4 / 7, 'segments exact');
      near(by.words.f1.overlap, 6 / 7, 'segments overlap');
      // Text: "two"/"too" one edit in three (others 0) → 1/9; one word substituted of one → WER 1/3.
      near(by.transcript.editDistance, 1 / 9, 'edit distance');
      near(by.transcript.wer, 1 / 3, 'WER');
      // Ratings rated by both: (4, 4), (3, 5). Ordinal α: n = 4, n₃ = n₅ = 1, n₄ = 2; δ²(3,5) = (4 − 1)² = 9,
      // δ²(3,4) = δ²(4,5) = (3 − 1.5)² = 2.25; D_o = 2·9/4 = 4.5; D_e = 2·(2·2.25 + 2·2.25 + 9)/(4·3) = 3 → α = −0.5.
      near(by.quality.alphaOrdinal, -0.5, 'α ordinal');
      // Weighted κ over positions 1..5: linear p_o = (1 + 0.5)/2, p_e = (0.75 + 0.5 + 1 + 0.75)/4 → 0;
      // quadratic p_o = 0.875, p_e = 0.90625 → −1/3.
      near(by.quality.weightedKappa.linear, 0, 'κ linear');
      near(by.quality.weightedKappa.quadratic, -1 / 3, 'κ quadratic');
      assert.equal(by.quality.answers, 5);

      // Dawid-Skene over the scale's values (the posterior's median) keeps the agreed rating of i0.
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { consensus: { method: 'dawid-skene' } })).status, 200);
      const rerun = await api.call('POST', `${P}/consensus/run`, tok.mgr);
      assert.deepEqual([rerun.status, rerun.json.items], [200, 1], rerun.text);
      assert.deepEqual((await finalOf(kit, P, t0.item.id)).answers, same);

      // Label Studio: audio labels in seconds, textarea, rating.
      const ls = await exportOf(kit, P, 'label-studio');
      const tasks = JSON.parse(ls);
      assert.ok(tasks[0].data.audio.endsWith(`/items/${t0.item.id}/content`));
      assert.deepEqual(tasks[0].annotations.at(-1).result, [
        { id: 'words-0', from_name: 'words', to_name: 'item', type: 'labels', value: { start: 0, end: 0.25, channel: 0, labels: ['digit'] } },
        { from_name: 'transcript', to_name: 'item', type: 'textarea', value: { text: ['seven'] } },
        { from_name: 'quality', to_name: 'item', type: 'rating', value: { rating: 4 } },
      ]);
      const jsonl = await exportOf(kit, P, 'jsonl');
      // Per-question formats need their kind.
      const coco = await api.call('GET', `${P}/export?format=coco`, tok.mgr);
      assert.deepEqual([coco.status, coco.json.error.message], [400, 'format coco exports a boxes question and this taxonomy has none']);

      // Round trips into projects of the same recordings.
      const P2 = await setUp(kit, t.store, await audioProject(t.store, 'speech-ls', folder), TAXONOMY);
      const imp = await importFile(kit, P2, ls, 'format=label-studio&as=final&name=speech.json');
      assert.equal(imp.status, 201, imp.text);
      assert.deepEqual(labelStudioResults(await exportOf(kit, P2, 'label-studio')), labelStudioResults(ls));
      assert.deepEqual(jsonlAnswers(await exportOf(kit, P2, 'jsonl')), jsonlAnswers(jsonl));
      const P3 = await setUp(kit, t.store, await audioProject(t.store, 'speech-jsonl', folder), TAXONOMY);
      assert.equal((await importFile(kit, P3, jsonl, 'format=jsonl&as=final&name=speech.jsonl')).status, 201);
      assert.deepEqual(jsonlAnswers(await exportOf(kit, P3, 'jsonl')), jsonlAnswers(jsonl));
      for (const project of [P, P2, P3]) await assertVerified(kit, project);
    });
  });
}
