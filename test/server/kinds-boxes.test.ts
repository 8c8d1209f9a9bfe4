// Bounding boxes end to end over HTTP on SQLite and PostgreSQL, on UCI digits (scikit-learn's
// copy, ../shared/datasets) written as 32×32 PNGs: a taxonomy with one boxes question and no
// single/multi question, two annotators with blind overlap 2, consensus by IoU clustering, a
// disagreement (an unmatched box) fixed by the reviewer, a low-IoU match sent to review and
// accepted, validation against the image's size, agreement against values computed by hand
// (and the same through `tessera agreement FILE --kind boxes`), COCO and Label Studio exports and
// their re-import, predictions with scores, and a taxonomy change that renames and splits box
// labels.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runImport } from '../../src/ingest/import.ts';
import { getProject, type Project } from '../../src/store/projects.ts';
import type { Store } from '../../src/store/db.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { loadDigits } from '../helpers/digits.ts';
import { tessera } from '../helpers/cli.ts';
import { assertVerified, auditEvents, exportOf, finalOf, importFile, jsonlAnswers, labelBoth, labelStudioResults, next, reviewOf, setUp, startKit, submit, type Kit } from './kinds-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-boxes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The first four digits as 32×32 grey PNGs (each pixel of the 8×8 original becomes a 4×4 block). */
async function digitPngs(): Promise<string> {
  const d = loadDigits();
  const folder = join(dir, 'digits');
  rmSync(folder, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(folder);
  for (let i = 0; i < 4; i++) {
    const raw = Buffer.from(Array.from(d.x.subarray(i * 64, i * 64 + 64), (v) => Math.round(v * 255)));
    const png = await sharp(raw, { raw: { width: 8, height: 8, channels: 1 } }).resize(32, 32, { kernel: 'nearest' }).png().toBuffer();
    writeFileSync(join(folder, `digit-${i}.png`), png);
  }
  return folder;
}

async function imageProject(store: Store, name: string, folder: string): Promise<Project> {
  await runImport(store, { project: name, path: folder, format: 'images', options: {}, actor: 'cli:test' });
  return getProject(store.db, name);
}

const TAXONOMY = { questions: [{ name: 'objects', kind: 'boxes', labels: [{ name: 'stroke' }, { name: 'loop' }] }] };
const box = (x: number, y: number, w: number, h: number, label: string) => ({ x, y, w, h, label });
const iou0 = (22 * 24) / (24 * 24 * 2 - 22 * 24);

test('boxes: tessera agreement FILE --kind boxes (the file contract) gives the hand-computed F1 and mean IoU', () => {
  // The answers the HTTP test below submits, as a file: i0 one match (IoU 528/624), i1 one of
  // a's two boxes matched (IoU 1), i2 a match at IoU 0.5 exactly; an annotator with nothing on
  // i3 writes an empty row. F1 = 2·3/(4+3) = 6/7.
  const csv = [
    'item,annotator,x,y,w,h,label',
    'i0,a,4,4,24,24,loop', 'i0,b,6,4,24,24,loop',
    'i1,a,0,0,16,16,stroke', 'i1,a,16,16,16,16,loop', 'i1,b,0,0,16,16,stroke',
    'i2,a,2,2,10,10,stroke', 'i2,b,2,2,10,5,stroke',
    'i3,a,,,,,', 'i3,b,,,,,',
  ].join('\n');
  const file = join(dir, 'boxes.csv');
  writeFileSync(file, csv + '\n');
  const r = tessera(['agreement', file, '--kind', 'boxes', '--json'], {});
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.keys(r.json), ['kind', 'pairs', 'f1At50', 'meanIoU']);
  assert.equal(r.json.kind, 'boxes');
  assert.equal(r.json.pairs, 1);
  assert.ok(Math.abs(r.json.f1At50 - 6 / 7) < 1e-12);
  assert.ok(Math.abs(r.json.meanIoU - (iou0 + 1 + 0.5) / 3) < 1e-12);
  // A malformed row names the file and line.
  writeFileSync(file, 'item,annotator,x,y,w,h,label\ni0,a,4,4,0,24,loop\ni0,b,4,4,2,2,loop\n');
  const bad = tessera(['agreement', file, '--kind', 'boxes', '--json'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.json.error.message, /boxes\.csv:2: w "0": expected a width > 0/);
});

for (const kind of STORE_KINDS) {
  describe(`boxes questions over HTTP (${kind})`, () => {
    let t: TestStore;
    let kit: Kit;
    before(async () => {
      t = await freshStore(kind);
      kit = await startKit(t.store);
    });
    after(async () => {
      await kit.close();
      await t.cleanup();
    });

    test('two annotators, IoU consensus, review fix and accept, agreement by hand, COCO and Label Studio round trips, predictions, label migration', async () => {
      const folder = await digitPngs();
      const project = await imageProject(t.store, 'boxes', folder);
      const P = await setUp(kit, t.store, project, TAXONOMY);
      const { api, tok } = kit;
      // No single/multi question: the taxonomy has no legacy kind/labels.
      const tax = (await api.call('GET', `${P}/taxonomy`, tok['ann-a'])).json;
      assert.deepEqual([tax.kind, tax.labels, tax.questions[0].overlapping], [undefined, undefined, true]);

      // i0: matched boxes (IoU 0.846): consensus, fused by the mean (weights 1); confidence = mean
      // IoU with the fused box, 0.92, above the review threshold.
      const t0 = await next(kit, P, 'ann-a');
      assert.deepEqual(t0.item.dimensions, { width: 32, height: 32 });
      for (const [b, message] of [
        [box(20, 4, 20, 8, 'loop'), /^body\/answers\/objects\/0\/w: x \+ w = 40 is past the image's right edge \(width 32 source pixels\)/],
        [box(-1, 4, 8, 8, 'loop'), /^body\/answers\/objects\/0\/x: expected ≥ 0, got -1/],
        [box(1, 4, 8, 0, 'loop'), /^body\/answers\/objects\/0\/h: expected > 0, got 0/],
        [{ ...box(1, 4, 8, 8, 'loop'), score: 0.5 }, /^body\/answers\/objects\/0\/score: unknown field/],
      ] as const) {
        const r = await api.call('POST', `${P}/tasks/${t0.id}/submit`, tok['ann-a'], { answers: { objects: [b] }, taxonomyVersion: 1 });
        assert.equal(r.status, 400, r.text);
        assert.match(r.json.error.message, message);
      }
      await submit(kit, P, 'ann-a', t0, { objects: [box(4, 4, 24, 24, 'loop')] });
      await submit(kit, P, 'ann-b', await next(kit, P, 'ann-b'), { objects: [box(6, 4, 24, 24, 'loop')] });
      const f0 = await finalOf(kit, P, t0.item.id);
      assert.deepEqual([f0.source, f0.labels, f0.answers], ['consensus', [], { objects: [box(5, 4, 24, 24, 'loop')] }]);
      assert.ok(Math.abs(f0.provenance.consensus.confidence - 0.92) < 1e-12);

      // i1: b did not draw the loop: an unmatched box is a disagreement; the reviewer edits its geometry.
      const i1 = await labelBoth(kit, P, { objects: [box(0, 0, 16, 16, 'stroke'), box(16, 16, 16, 16, 'loop')] }, { objects: [box(0, 0, 16, 16, 'stroke')] });
      const e1 = await reviewOf(kit, P, i1);
      assert.deepEqual([e1.reason, e1.proposal, e1.proposalAnswers], ['disagreement', null, { objects: [box(0, 0, 16, 16, 'stroke'), box(16, 16, 16, 16, 'loop')] }]);
      assert.deepEqual(e1.detail.consensus.questions.objects.clusters.map((c: { annotators: string[] }) => c.annotators), [['ann-a', 'ann-b'], ['ann-a']]);
      assert.deepEqual((await api.call('GET', `${P}/reviews/${e1.id}`, tok.rev)).json.dimensions, { width: 32, height: 32 });
      const fix = await api.call('POST', `${P}/reviews/${e1.id}/decision`, tok.rev, { decision: 'fix', answers: { objects: [box(0, 0, 16, 16, 'stroke'), box(16, 16, 14, 14, 'loop')] } });
      assert.equal(fix.status, 200, fix.text);
      assert.deepEqual((await finalOf(kit, P, i1)).answers, { objects: [box(0, 0, 16, 16, 'stroke'), box(16, 16, 14, 14, 'loop')] });

      // i2: matched at IoU 0.5 exactly; fused (2,2,10,7.5), mean IoU with it (0.75 + 2/3)/2 < 0.75: low confidence.
      const i2 = await labelBoth(kit, P, { objects: [box(2, 2, 10, 10, 'stroke')] }, { objects: [box(2, 2, 10, 5, 'stroke')] });
      const e2 = await reviewOf(kit, P, i2);
      assert.deepEqual([e2.reason, e2.proposalAnswers], ['low_confidence', { objects: [box(2, 2, 10, 7.5, 'stroke')] }]);
      assert.ok(Math.abs(e2.detail.consensus.questions.objects.confidence - (0.75 + 2 / 3) / 2) < 1e-12);
      const accept = await api.call('POST', `${P}/reviews/${e2.id}/decision`, tok.rev, { decision: 'accept' });
      assert.equal(accept.status, 200, accept.text);
      assert.deepEqual((await finalOf(kit, P, i2)).answers, { objects: [box(2, 2, 10, 7.5, 'stroke')] });

      // Agreement by hand (as the file CLI above): F1 at IoU ≥ 0.5 = 6/7, mean IoU of the 3 matches.
      const ag = (await api.call('GET', `${P}/agreement`, tok.rev)).json;
      assert.equal(ag.overall, null);
      const q = ag.questions[0];
      assert.deepEqual([q.kind, q.items, q.pairs], ['boxes', 3, 1]);
      assert.ok(Math.abs(q.f1At50 - 6 / 7) < 1e-12 && Math.abs(q.meanIoU - (iou0 + 1 + 0.5) / 3) < 1e-12, JSON.stringify(q));

      // COCO: categories from the labels, images with their size, boxes in pixels.
      const coco = JSON.parse(await exportOf(kit, P, 'coco'));
      assert.deepEqual(coco.categories, [{ id: 1, name: 'stroke', supercategory: 'objects' }, { id: 2, name: 'loop', supercategory: 'objects' }]);
      assert.deepEqual(coco.images.map((i: { id: number; width: number; height: number }) => [i.id, i.width, i.height]), [[t0.item.id, 32, 32], [i1, 32, 32], [i2, 32, 32]]);
      assert.deepEqual(coco.annotations.map((a: { image_id: number; category_id: number; bbox: number[]; area: number }) => [a.image_id, a.category_id, a.bbox, a.area]), [
        [t0.item.id, 2, [5, 4, 24, 24], 576],
        [i1, 1, [0, 0, 16, 16], 256],
        [i1, 2, [16, 16, 14, 14], 196],
        [i2, 1, [2, 2, 10, 7.5], 75],
      ]);
      // Label Studio: rectanglelabels in percent of the image, with its size in pixels.
      const ls = await exportOf(kit, P, 'label-studio');
      const lsKey = labelStudioResults(ls);
      assert.deepEqual(lsKey.get('digit-0.png')!.truth, [
        { from_name: 'objects', to_name: 'item', type: 'rectanglelabels', original_width: 32, original_height: 32, image_rotation: 0, value: { x: 15.625, y: 12.5, width: 75, height: 75, rotation: 0, rectanglelabels: ['loop'] } },
      ]);
      const jsonl = await exportOf(kit, P, 'jsonl');

      // Round trips into projects of the same images: JSONL and Label Studio give the same answers.
      const P2 = await setUp(kit, t.store, await imageProject(t.store, 'boxes-jsonl', folder), TAXONOMY);
      assert.equal((await importFile(kit, P2, jsonl, 'format=jsonl&as=final&name=boxes.jsonl')).status, 201);
      assert.deepEqual(jsonlAnswers(await exportOf(kit, P2, 'jsonl')), jsonlAnswers(jsonl));
      const P3 = await setUp(kit, t.store, await imageProject(t.store, 'boxes-ls', folder), TAXONOMY);
      const imp = await importFile(kit, P3, ls, 'format=label-studio&as=final&name=boxes.json');
      assert.equal(imp.status, 201, imp.text);
      assert.deepEqual(labelStudioResults(await exportOf(kit, P3, 'label-studio')), lsKey);
      assert.deepEqual(jsonlAnswers(await exportOf(kit, P3, 'jsonl')), jsonlAnswers(jsonl));

      // Predictions with a score (JSONL) are shown with the next task.
      const pred = { sourceKey: 'digit-3.png', answers: { objects: [{ ...box(8, 8, 8, 8, 'loop'), score: 0.9 }] }, model: 'detector-1', confidence: 0.9 };
      const pi = await importFile(kit, P, JSON.stringify(pred) + '\n', 'format=jsonl&as=predictions&name=preds.jsonl');
      assert.equal(pi.status, 201, pi.text);
      // Label Studio tasks name items by source key, sha256, text or this project's content URL —
      // never by the task id (in a file from Label Studio it is Label Studio's own).
      const foreign = await importFile(kit, P, JSON.stringify([{ id: t0.item.id, meta: { sourceKey: 'nope' }, data: { image: 'https://elsewhere/x.png' }, predictions: [{ result: [] }] }]), 'format=label-studio&as=predictions&name=foreign.json');
      assert.equal(foreign.status, 400, foreign.text);
      assert.equal(foreign.json.error.message, 'foreign.json[task 0]: no item of project boxes matches source key "nope"');
      const byUrl = await importFile(kit, P, JSON.stringify([{ data: { image: `/api/projects/boxes/items/${t0.item.id}/content` }, predictions: [{ model_version: 'm', result: [] }] }]), 'format=label-studio&as=predictions&name=url.json');
      assert.deepEqual([byUrl.status, byUrl.json.items], [201, 1], byUrl.text);
      const t3 = await next(kit, P, 'ann-a');
      assert.deepEqual(t3.suggestion, { labels: [], answers: { objects: [{ ...box(8, 8, 8, 8, 'loop'), score: 0.9 }] } });

      // A new version renames `loop` and splits `stroke`: decided items go to review. A renamed
      // label is carried into the proposal; a split one leaves the question for the reviewer.
      const v2body = {
        questions: [{ name: 'objects', kind: 'boxes', labels: [{ name: 'line' }, { name: 'curve' }, { name: 'ring' }] }],
        mapping: [{ op: 'rename', from: 'loop', to: 'ring' }, { op: 'split', from: 'stroke', to: ['line', 'curve'] }],
      };
      // The taxonomy editor's preview says what the change would do, per question, writing nothing.
      const preview = (await api.call('POST', `${P}/taxonomy/preview`, tok.mgr, v2body)).json;
      assert.deepEqual([preview.sentToReview, preview.byState, preview.questions[0].added, preview.questions[0].removed, preview.questions[0].touched], [3, { decided: 3 }, ['line', 'curve', 'ring'], ['stroke', 'loop'], ['loop', 'stroke']]);
      assert.deepEqual(preview.items.map((x: { proposalAnswers: unknown }) => x.proposalAnswers)[0], { objects: [box(5, 4, 24, 24, 'ring')] });
      const v2 = await api.call('POST', `${P}/taxonomy`, tok.mgr, v2body);
      assert.equal(v2.status, 201, v2.text);
      assert.deepEqual([v2.json.sentToReview, v2.json.touchedByQuestion], [3, { objects: ['loop', 'stroke'] }]);
      const m0 = await reviewOf(kit, P, t0.item.id);
      assert.deepEqual([m0.reason, m0.proposalAnswers], ['taxonomy_change', { objects: [box(5, 4, 24, 24, 'ring')] }]);
      assert.equal((await api.call('POST', `${P}/reviews/${m0.id}/decision`, tok.rev, { decision: 'accept' })).status, 200);
      assert.deepEqual((await finalOf(kit, P, t0.item.id)).answers, { objects: [box(5, 4, 24, 24, 'ring')] });
      const m1 = await reviewOf(kit, P, i1);
      assert.deepEqual(m1.proposalAnswers, {});
      const refused = await api.call('POST', `${P}/reviews/${m1.id}/decision`, tok.rev, { decision: 'accept' });
      assert.equal(refused.status, 409, refused.text);
      assert.match(refused.json.error.message, /objects: required/);
      const fixed = await api.call('POST', `${P}/reviews/${m1.id}/decision`, tok.rev, { decision: 'fix', answers: { objects: [box(0, 0, 16, 16, 'line'), box(16, 16, 14, 14, 'ring')] } });
      assert.equal(fixed.status, 200, fixed.text);
      // An answer made against version 1 is refused; the lease taken before shows the old labels.
      const late = await api.call('POST', `${P}/tasks/${t3.id}/submit`, tok['ann-a'], { answers: { objects: [] }, taxonomyVersion: 1 });
      assert.deepEqual([late.status, late.json.error.code], [409, 'E_TAXONOMY_CHANGED']);
      const queued = await auditEvents(kit, P, 'review.queue');
      assert.ok(queued.some((e) => e.payload.proposalAnswersSha256), 'the proposal is hashed into the log');
      for (const project of [P, P2, P3]) await assertVerified(kit, project);
    });
  });
}
