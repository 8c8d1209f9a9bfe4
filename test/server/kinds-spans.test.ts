// Text spans end to end over HTTP on SQLite and PostgreSQL, on SMS Spam Collection messages
// (Almeida & Gómez Hidalgo, UCI; ../shared/datasets) and one message with an emoji (an astral
// code point): a taxonomy with a single-label question and a spans question, two annotators
// with blind overlap 2, consensus, a review fix of the geometry, agreement against values
// computed by hand, validation naming the field, every export (JSONL, Label Studio, CoNLL,
// spans JSONL), re-import of the JSONL and Label Studio exports, predictions shown as
// suggestions, and the audit log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../../src/core/hash.ts';
import { canonicalJson } from '../../src/core/json.ts';
import { codePointLength, codePointOffset } from '../../src/core/tokens.ts';
import { freshStore, STORE_KINDS, type TestStore } from '../helpers/stores.ts';
import { dataset } from '../helpers/datasets.ts';
import { projectWithItems } from './helpers.ts';
import { assertVerified, auditEvents, exportOf, finalOf, importFile, jsonlAnswers, labelBoth, labelStudioResults, next, reviewOf, setUp, startKit, submit, type Kit } from './kinds-helpers.ts';

const sms = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').split('\n');
const spamWith = (needle: string) => sms.find((l) => l.startsWith('spam\t') && l.includes(needle))!.slice(5);
const TEXTS = [
  spamWith('09061701461'), // t0: "… To claim call 09061701461. …"
  spamWith('08452810075over18'), // t1: the number runs into "over18": one token
  '😀 Call Anna on 07700900123 now!', // t2: an astral code point before the spans
  sms.find((l) => l.startsWith('ham\t'))!.slice(4), // t3: for predictions
];
const TAXONOMY = {
  questions: [
    { name: 'spam', kind: 'single', labels: [{ name: 'spam' }, { name: 'ham' }] },
    { name: 'entities', kind: 'spans', labels: [{ name: 'PHONE', description: 'a phone number' }, { name: 'NAME' }] },
  ],
  guidelines: 'Mark phone numbers and names; offsets count code points.',
};
/** The code-point span of `needle` in `text`. */
const at = (text: string, needle: string, label: string, trim = 0) => {
  const start = codePointOffset(text, text.indexOf(needle));
  return { start, end: start + codePointLength(needle) - trim, label };
};

for (const kind of STORE_KINDS) {
  describe(`spans questions over HTTP (${kind})`, () => {
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

    test('two annotators, consensus, review fix, agreement by hand, exports, re-import, predictions, audit', async () => {
      const project = await projectWithItems(t.store, 'ner', TEXTS);
      const P = await setUp(kit, t.store, project, TAXONOMY);
      const { api, tok } = kit;

      // Legacy clients still read the single-label question as kind + labels.
      const tax = (await api.call('GET', `${P}/taxonomy`, tok['ann-a'])).json;
      assert.deepEqual([tax.kind, tax.labels.map((l: { name: string }) => l.name), tax.questions.map((q: { name: string; kind: string }) => `${q.name}:${q.kind}`)], ['single', ['spam', 'ham'], ['spam:single', 'entities:spans']]);
      assert.equal(tax.questions[1].overlapping, false);

      // t0: both mark the phone number: consensus.
      const phone0 = at(TEXTS[0], '09061701461', 'PHONE');
      const i0 = await labelBoth(kit, P, { spam: ['spam'], entities: [phone0] }, { spam: ['spam'], entities: [phone0] });
      const f0 = await finalOf(kit, P, i0);
      assert.deepEqual([f0.status, f0.source, f0.labels, f0.answers], ['done', 'consensus', ['spam'], { spam: ['spam'], entities: [phone0] }]);
      assert.deepEqual(f0.provenance.annotations.map((a: { answers: unknown }) => a.answers), [{ spam: ['spam'], entities: [phone0] }, { spam: ['spam'], entities: [phone0] }]);

      // t1: b's span stops one digit short, inside the same token: a disagreement, to review with
      // the token vote's proposal (tied offsets: the earlier end, b's); the reviewer fixes it.
      const full1 = at(TEXTS[1], '08452810075', 'PHONE');
      const short1 = at(TEXTS[1], '08452810075', 'PHONE', 1);
      const i1 = await labelBoth(kit, P, { spam: ['spam'], entities: [full1] }, { spam: ['spam'], entities: [short1] });
      const entry = await reviewOf(kit, P, i1);
      assert.equal(entry.reason, 'disagreement');
      assert.deepEqual(entry.proposal, ['spam']);
      assert.deepEqual(entry.proposalAnswers, { spam: ['spam'], entities: [short1] });
      assert.equal(entry.detail.consensus.questions.entities.unanimous, false);
      const detail = (await api.call('GET', `${P}/reviews/${entry.id}`, tok.rev)).json;
      assert.deepEqual(detail.annotations.map((a: { annotator: string; answers: { entities: unknown } }) => [a.annotator, a.answers.entities]), [['ann-a', [full1]], ['ann-b', [short1]]]);
      // The fix is checked like a submit (400 naming the field), then only the spans change.
      const bad = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', answers: { entities: [{ ...full1, end: codePointLength(TEXTS[1]) + 1 }] } });
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.json.error.message, /^body\/answers\/entities\/0\/end: /);
      const fix = await api.call('POST', `${P}/reviews/${entry.id}/decision`, tok.rev, { decision: 'fix', answers: { entities: [full1] }, note: 'the whole number' });
      assert.equal(fix.status, 200, fix.text);
      const f1 = await finalOf(kit, P, i1);
      assert.deepEqual([f1.source, f1.answers, f1.provenance.review.decision, f1.provenance.review.proposalAnswers], ['review', { spam: ['spam'], entities: [full1] }, 'fix', { spam: ['spam'], entities: [short1] }]);

      // t2: offsets are code points; a JS (UTF-16) length is past the end; the field is named.
      const ta = await next(kit, P, 'ann-a');
      assert.equal(ta.item.text, TEXTS[2]);
      assert.deepEqual(ta.item.dimensions, { length: codePointLength(TEXTS[2]) });
      assert.equal(TEXTS[2].length, codePointLength(TEXTS[2]) + 1);
      const name2 = at(TEXTS[2], 'Anna', 'NAME');
      assert.deepEqual(name2, { start: 7, end: 11, label: 'NAME' });
      const phone2 = at(TEXTS[2], '07700900123', 'PHONE');
      const refused: Array<[unknown, RegExp]> = [
        [{ answers: { spam: ['spam'], entities: [{ start: 16, end: TEXTS[2].length, label: 'PHONE' }] } }, /^body\/answers\/entities\/0\/end: 32 is past the end of the text \(31 code points/],
        [{ answers: { spam: ['spam'], entities: [{ ...name2, foo: 1 }] } }, /^body\/answers\/entities\/0\/foo: unknown field/],
        [{ answers: { spam: ['spam'], entities: [{ ...name2, label: 'CITY' }] } }, /^body\/answers\/entities\/0\/label: "CITY" is not a label of question "entities"/],
        [{ answers: { spam: ['spam'], entities: [name2, { start: 8, end: 14, label: 'NAME' }] } }, /^body\/answers\/entities\/1: overlaps body\/answers\/entities\/0 .* does not allow overlapping/],
        [{ answers: { spam: ['spam'], entities: [{ start: 1, end: 2, label: 'NAME' }] } }, /^body\/answers\/entities\/0: the span \[1, 2\) covers only white space/],
        [{ answers: { spam: ['spam'], entities: [{ start: 1.5, end: 4, label: 'NAME' }] } }, /^body\/answers\/entities\/0\/start: expected a whole number of code points/],
        [{ labels: ['spam'] }, /^body\/answers\/entities: required/],
        [{ answers: { spam: ['spam'], entities: [], extra: 1 } }, /^body\/answers\/extra: not a question of taxonomy version 1/],
        [{ answers: { spam: ['spam', 'ham'], entities: [] } }, /^body\/answers\/spam: question "spam" is single-label/],
      ];
      for (const [body, message] of refused) {
        const r = await api.call('POST', `${P}/tasks/${ta.id}/submit`, tok['ann-a'], { ...(body as object), taxonomyVersion: 1 });
        assert.equal(r.status, 400, r.text);
        assert.match(r.json.error.message, message);
      }
      await submit(kit, P, 'ann-a', ta, { spam: ['ham'], entities: [phone2, name2] });
      await submit(kit, P, 'ann-b', await next(kit, P, 'ann-b'), { spam: ['ham'], entities: [name2, phone2] });
      const f2 = await finalOf(kit, P, ta.item.id);
      assert.deepEqual([f2.source, f2.answers], ['consensus', { spam: ['ham'], entities: [name2, phone2] }]);

      // Agreement by hand. Spans a/b: t0 1/1, t1 1/1, t2 2/2 → 4 each; exact matches 1 + 0 + 2 = 3
      // → F1 = 2·3/8; overlapping: 4 → F1 = 1; one annotator pair. Every token gets the same BIO tag
      // from both (b's short span touches the same token) → token κ 1 (Cohen and Fleiss).
      const ag = (await api.call('GET', `${P}/agreement`, tok.rev)).json;
      const ent = ag.questions.find((q: { name: string }) => q.name === 'entities');
      assert.deepEqual([ent.kind, ent.items, ent.annotators, ent.pairs, ent.f1], ['spans', 3, 2, 1, { exact: 0.75, overlap: 1 }]);
      assert.deepEqual([ent.tokenKappa.cohen, ent.tokenKappa.fleiss], [1, 1]);
      // The single-label question keeps its legacy report at the top level (everyone agreed: percent 1).
      assert.deepEqual([ag.kind, ag.items, ag.overall.percent], ['single', 3, 1]);
      const dash = (await api.call('GET', `${P}/dashboard`, tok.rev)).json;
      const dashEnt = dash.questions.find((q: { name: string }) => q.name === 'entities');
      assert.deepEqual(dashEnt.labels, [{ label: 'PHONE', count: 3 }, { label: 'NAME', count: 1 }]);
      assert.deepEqual(dashEnt.agreement.f1, { exact: 0.75, overlap: 1 });

      // Exports. JSONL: `answers` after the existing keys; provenance keeps each annotator's answers.
      const jsonl = await exportOf(kit, P, 'jsonl');
      const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(Object.keys(lines[0]).slice(-2), ['meta', 'answers']);
      const got = jsonlAnswers(jsonl);
      assert.deepEqual(got.get('id:t1'), { answers: { spam: ['spam'], entities: [full1] }, annotators: { 'ann-a': { spam: ['spam'], entities: [full1] }, 'ann-b': { spam: ['spam'], entities: [short1] } } });
      // Spans JSONL: offsets in code points, with each span's text.
      const spans = (await exportOf(kit, P, 'spans-jsonl')).trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(spans[2].spans, [{ ...name2, text: 'Anna' }, { ...phone2, text: '07700900123' }]);
      assert.equal(spans[2].offsets, 'codepoints');
      // CoNLL: the tokenisation stated, one token and its IOB2 tag per line, by hand for t2.
      const conll = await exportOf(kit, P, 'conll');
      assert.match(conll.split('\n')[0], /^# tessera CoNLL export of project ner, question entities; tags: IOB2 .*tokens are maximal runs of letters, marks and digits/);
      const block = conll.split('\n\n').find((b) => b.startsWith(`# item = ${ta.item.id}\n`))!;
      assert.equal(block, `# item = ${ta.item.id}\n# source_key = id:t2\n😀\tO\nCall\tO\nAnna\tB-NAME\non\tO\n07700900123\tB-PHONE\nnow\tO\n!\tO`);
      // Label Studio: choices and labels results (text per span).
      const ls = await exportOf(kit, P, 'label-studio');
      const lsT2 = labelStudioResults(ls).get('id:t2')!;
      assert.deepEqual(lsT2.truth, [
        { from_name: 'spam', to_name: 'item', type: 'choices', value: { choices: ['ham'] } },
        { from_name: 'entities', to_name: 'item', type: 'labels', value: { start: 7, end: 11, text: 'Anna', labels: ['NAME'] } },
        { from_name: 'entities', to_name: 'item', type: 'labels', value: { start: 15, end: 26, text: '07700900123', labels: ['PHONE'] } },
      ]);

      // Re-import: the JSONL export into another project of the same texts gives the same answers.
      const p2 = await projectWithItems(t.store, 'ner-copy', TEXTS);
      const P2 = await setUp(kit, t.store, p2, TAXONOMY);
      const imp = await importFile(kit, P2, jsonl, 'format=jsonl&as=final&name=ner.jsonl');
      assert.equal(imp.status, 201, imp.text);
      assert.deepEqual([imp.json.records, imp.json.items, imp.json.skipped], [3, 3, []]);
      const again = jsonlAnswers(await exportOf(kit, P2, 'jsonl'));
      assert.deepEqual(again, got);
      assert.equal((await finalOf(kit, P2, (await kit.api.call('GET', `${P2}/items?limit=1`, tok.mgr)).json.items[0].id)).source, 'import');
      // The Label Studio export likewise (matched by source key), and importing it twice refuses
      // nothing but leaves decided items alone.
      const p3 = await projectWithItems(t.store, 'ner-ls', TEXTS);
      const P3 = await setUp(kit, t.store, p3, TAXONOMY);
      const imp3 = await importFile(kit, P3, ls, 'format=label-studio&as=final&name=ner.json');
      assert.equal(imp3.status, 201, imp3.text);
      assert.deepEqual(labelStudioResults(await exportOf(kit, P3, 'label-studio')), labelStudioResults(ls));
      const twice = await importFile(kit, P3, ls, 'format=label-studio&as=final&name=ner.json');
      assert.deepEqual(twice.json.skipped.map((s: { reason: string }) => s.reason), ['already decided', 'already decided', 'already decided']);
      // A bad record refuses the whole file, naming it.
      const broken = jsonl.replaceAll('"end":' + String(phone2.end), '"end":99');
      const r = await importFile(kit, P2, broken, 'format=jsonl&as=final&name=broken.jsonl');
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error.message, /^broken\.jsonl:3: (annotations\[\d\] \(ann-\w\): )?answers\/entities\/1\/end: 99 is past the end of the text/);

      // Predictions (Label Studio, matched by the task's text) are shown with the next task: answers, no source.
      const anna = at(TEXTS[3], TEXTS[3].split(' ')[0], 'NAME');
      const preds = [{ data: { text: TEXTS[3] }, predictions: [{ model_version: 'ner-model-SECRET', score: 0.8, result: [{ from_name: 'entities', to_name: 'item', type: 'labels', value: { start: anna.start, end: anna.end, labels: ['NAME'] } }] }] }];
      const pi = await importFile(kit, P, JSON.stringify(preds), 'format=label-studio&as=predictions&name=preds.json');
      assert.equal(pi.status, 201, pi.text);
      const t3 = await next(kit, P, 'ann-a');
      assert.equal(t3.item.text, TEXTS[3]);
      assert.deepEqual(t3.suggestion, { labels: [], answers: { entities: [anna] } });
      assert.ok(!JSON.stringify(t3).includes('SECRET'), 'the source of a suggestion is never shown');

      // Audit: every annotation carries its answers and their hash; the chain verifies.
      const created = await auditEvents(kit, P, 'annotation.create');
      assert.equal(created.length, 6);
      for (const e of created) assert.equal(e.payload.answersSha256, sha256Hex(canonicalJson(e.payload.answers)));
      assert.ok((await auditEvents(kit, P, 'review.decide'))[0].payload.answersSha256);
      assert.equal((await auditEvents(kit, P2, 'label.import'))[0].payload.answers.length, 3);
      // Dawid-Skene: the token tags of every item of the project are one fit; a re-run keeps what
      // the annotators agreed on (t0, t2: decided by consensus).
      assert.equal((await api.call('PATCH', `${P}/settings`, tok.mgr, { consensus: { method: 'dawid-skene' } })).status, 200);
      const rerun = await api.call('POST', `${P}/consensus/run`, tok.mgr);
      assert.equal(rerun.status, 200, rerun.text);
      assert.equal(rerun.json.items, 2);
      for (const [item, answers] of [[i0, f0.answers], [ta.item.id, f2.answers]] as const) {
        const f = await finalOf(kit, P, item);
        assert.deepEqual([f.status, f.answers], ['done', answers]);
      }
      for (const project of [P, P2, P3]) await assertVerified(kit, project);
      // The row digests cover answers: an annotation's spans edited in the database are caught.
      const row = await t.store.db.selectFrom('annotations').select(['id', 'answers']).where('project_id', '=', project.id).where('answers', 'is not', null).orderBy('id').executeTakeFirstOrThrow();
      await t.store.db.updateTable('annotations').set({ answers: row.answers!.replace('"PHONE"', '"NAME"') }).where('id', '=', row.id).execute();
      const tampered = (await api.call('GET', `${P}/audit/verify`, tok.mgr)).json;
      assert.deepEqual([tampered.ok, tampered.firstBad.kind, tampered.firstBad.table, tampered.firstBad.row], [false, 'state-mismatch', 'annotations', { id: row.id }]);
      await t.store.db.updateTable('annotations').set({ answers: row.answers }).where('id', '=', row.id).execute();
      await assertVerified(kit, P);
    });
  });
}
