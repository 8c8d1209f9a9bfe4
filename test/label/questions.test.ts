// Questions of several kinds in a taxonomy version: validation of the questions form, changes
// between versions (kinds, scales, label mappings per question), and answers checked against an
// item, with messages that name the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/errors.ts';
import { checkAnswers, mapAnswer, type Question } from '../../src/label/questions.ts';
import { checkTaxonomy, type TaxonomyLike } from '../../src/label/taxonomy.ts';

const rejects = (fn: () => unknown, message: RegExp) => assert.throws(fn, (e: unknown) => e instanceof UserError && message.test(e.message), String(message));
const Q = (questions: unknown[]) => checkTaxonomy({ questions });
const spans = { name: 'entities', kind: 'spans', labels: [{ name: 'PER' }, { name: 'LOC' }] };

test('questions form: each question checked, naming questions[i].field', () => {
  const c = Q([{ name: 'sentiment', kind: 'single', labels: [{ name: 'pos' }, { name: 'neg' }] }, spans, { name: 'stars', kind: 'rating', scale: { min: 1, max: 5 } }, { name: 'note', kind: 'text', required: false }]);
  assert.deepEqual(c.input.questions.map((q) => [q.name, q.kind, q.required, q.overlapping]), [['sentiment', 'single', true, undefined], ['entities', 'spans', true, false], ['stars', 'rating', true, undefined], ['note', 'text', false, undefined]]);
  assert.equal(Q([{ name: 'b', kind: 'boxes', labels: [{ name: 'x' }] }]).input.questions[0].overlapping, true, 'boxes may overlap by default');
  rejects(() => Q([]), /^questions: expected at least one question/);
  rejects(() => Q([{ name: '__proto__', kind: 'text' }]), /^questions\[0\]\.name: expected a letter/);
  rejects(() => Q([{ name: 'a', kind: 'text' }, { name: 'a', kind: 'text' }]), /^questions\[1\]\.name: "a" appears twice/);
  rejects(() => Q([{ name: 'a', kind: 'polygons' }]), /^questions\[0\]\.kind: expected single\|multi\|spans\|boxes\|segments\|rating\|text/);
  rejects(() => Q([{ name: 'a', kind: 'rating' }]), /^questions\[0\]\.scale: a rating question needs a scale/);
  rejects(() => Q([{ name: 'a', kind: 'rating', scale: { min: 1, max: 5, labels: ['x'] } }]), /^questions\[0\]\.scale\.labels: expected 5 names/);
  rejects(() => Q([{ name: 'a', kind: 'text', labels: [{ name: 'x' }] }]), /^questions\[0\]\.labels: a text question has no labels/);
  rejects(() => Q([{ name: 'a', kind: 'rating', scale: { min: 1, max: 3 }, overlapping: true }]), /^questions\[0\]\.overlapping: only spans, boxes and segments/);
  rejects(() => Q([{ name: 'a', kind: 'spans', labels: [] }]), /^questions\[0\]\.labels: expected at least one label/);
  rejects(() => Q([{ name: 'a', kind: 'single', labels: [{ name: 'x' }] }]), /^questions\[0\]\.labels: a single-label question needs at least two labels/);
  rejects(() => Q([{ name: 'a', kind: 'multi', labels: [{ name: 'x' }], required: false }]), /^questions\[0\]\.required: a multi question is always required/);
  rejects(() => Q([{ name: 'a', kind: 'multi', labels: [{ name: 'x' }] }, { name: 'b', kind: 'single', labels: [{ name: 'x' }, { name: 'y' }] }]), /^questions: at most one single\/multi question/);
  rejects(() => checkTaxonomy({ kind: 'single', labels: [{ name: 'a' }, { name: 'b' }], questions: [spans] }), /^questions: give either "kind" and "labels"/);
});

const v1: TaxonomyLike = {
  version: 1,
  questions: [
    { name: 'label', kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }], required: true },
    { name: 'entities', kind: 'spans', labels: [{ name: 'PER' }, { name: 'LOC' }], overlapping: false, required: true },
    { name: 'stars', kind: 'rating', scale: { min: 1, max: 5 }, required: true },
  ],
};

test('a new version: kinds, scales and label mappings per question', () => {
  const keep = [{ name: 'label', kind: 'single', labels: [{ name: 'cat' }, { name: 'dog' }] }];
  rejects(() => checkTaxonomy({ questions: [...keep, { name: 'entities', kind: 'boxes', labels: [{ name: 'PER' }, { name: 'LOC' }] }] }, v1), /^questions\[1\]\.kind: question "entities" was spans in the previous version and cannot become boxes/);
  rejects(() => checkTaxonomy({ questions: [...keep, spans, { name: 'stars', kind: 'rating', scale: { min: 1, max: 4 } }] }, v1), /^questions\[2\]\.scale: the scale of "stars" was 1\.\.5; a new version may widen it, not narrow it/);
  assert.ok(checkTaxonomy({ questions: [...keep, spans, { name: 'stars', kind: 'rating', scale: { min: 0, max: 10 } }] }, v1));
  // Two questions have labels: a step must say whose.
  rejects(() => checkTaxonomy({ questions: [...keep, { ...spans, labels: [{ name: 'PERSON' }, { name: 'LOC' }] }], mapping: [{ op: 'rename', from: 'PER', to: 'PERSON' }] }, v1), /^mapping\[0\]\.question: required: version 1 has 2 questions with labels \(label, entities\)/);
  rejects(() => checkTaxonomy({ questions: [...keep, { ...spans, labels: [{ name: 'PERSON' }, { name: 'LOC' }] }] }, v1), /^labels "PER" of question "entities" of version 1 are gone without a mapping/);
  rejects(() => checkTaxonomy({ questions: [...keep, { ...spans, labels: [{ name: 'PERSON' }, { name: 'LOC' }] }], mapping: [{ op: 'rename', from: 'PERS', to: 'PERSON', question: 'entities' }] }, v1), /^mapping\[0\]\.from: "PERS" is not a label of question "entities" of version 1 \(PER, LOC\)/);
  const c = checkTaxonomy({ questions: [...keep, { ...spans, labels: [{ name: 'PERSON' }, { name: 'PLACE' }, { name: 'ORG' }] }], mapping: [{ op: 'rename', from: 'PER', to: 'PERSON', question: 'entities' }, { op: 'split', from: 'LOC', to: ['PLACE', 'ORG'], question: 'entities' }] }, v1);
  assert.deepEqual([...c.touchedBy.get('entities')!], ['PER', 'LOC']);
  assert.equal(c.touched.size, 0, 'the class question is untouched');
  // The class question may be renamed: it is still the one the labels column holds.
  const renamed = checkTaxonomy({ questions: [{ name: 'species', kind: 'multi', labels: [{ name: 'feline' }, { name: 'dog' }] }], mapping: [{ op: 'rename', from: 'cat', to: 'feline', question: 'species' }] }, v1);
  assert.deepEqual([...renamed.touched], ['cat']);
});

test('mapAnswer: renamed and merged labels follow; a split label cannot be carried', () => {
  const q = v1.questions![1];
  const map = new Map([['PER', ['PERSON']], ['LOC', ['PLACE', 'ORG']]]);
  assert.deepEqual(mapAnswer(q, [{ start: 0, end: 3, label: 'PER' }], map), [{ start: 0, end: 3, label: 'PERSON' }]);
  assert.equal(mapAnswer(q, [{ start: 0, end: 3, label: 'PER' }, { start: 4, end: 6, label: 'LOC' }], map), null);
  assert.deepEqual(mapAnswer(v1.questions![0], ['cat'], new Map([['cat', ['pet']], ['dog', ['pet']]])), ['pet']);
});

test('answers against the item: kinds need their modality and size; optional questions may be left out', () => {
  const qs: Question[] = [
    { name: 'boxes', kind: 'boxes', labels: [{ name: 'x' }], overlapping: false, required: true },
    { name: 'note', kind: 'text', required: false },
  ];
  const ctx = (item: { modality: string; text: string | null; dims: Record<string, number> | null }) => ({ where: 'body/answers', version: 3, item: { id: 9, ...item } });
  const image = ctx({ modality: 'image', text: null, dims: { width: 10, height: 10 } });
  assert.deepEqual({ ...checkAnswers(qs, { boxes: [{ x: 0, y: 0, w: 10, h: 10, label: 'x' }], note: null }, image) }, { boxes: [{ x: 0, y: 0, w: 10, h: 10, label: 'x' }] });
  rejects(() => checkAnswers(qs, { boxes: [] }, ctx({ modality: 'text', text: 'hi', dims: { length: 2 } })), /^body\/answers\/boxes: a boxes question needs an image item; item 9 is text/);
  rejects(() => checkAnswers(qs, { boxes: [] }, ctx({ modality: 'image', text: null, dims: null })), /^body\/answers\/boxes: item 9 has no width\/height in its metadata/);
  rejects(() => checkAnswers(qs, { boxes: [{ x: 0, y: 0, w: 5, h: 5, label: 'x' }, { x: 4, y: 4, w: 5, h: 5, label: 'x' }] }, image), /^body\/answers\/boxes\/1: overlaps body\/answers\/boxes\/0/);
  rejects(() => checkAnswers(qs, { boxes: [{ x: 0, y: 0, w: 5, h: 5, label: 'x' }, { x: 0, y: 0, w: 5, h: 5, label: 'x' }] }, image), /^body\/answers\/boxes\/1: the same region as body\/answers\/boxes\/0/);
  rejects(() => checkAnswers(qs, { boxes: 'x' }, image), /^body\/answers\/boxes: expected a list \(empty when there is nothing to mark\)/);
  rejects(() => checkAnswers(qs, [], image), /^body\/answers: expected an object/);
  // Predictions: any subset, boxes with a score.
  assert.deepEqual({ ...checkAnswers(qs, { boxes: [{ x: 1, y: 1, w: 2, h: 2, label: 'x', score: 0.4 }] }, { ...image, scores: true, partial: true }) }, { boxes: [{ x: 1, y: 1, w: 2, h: 2, label: 'x', score: 0.4 }] });
  assert.deepEqual({ ...checkAnswers(qs, {}, { ...image, partial: true }) }, {});
});
