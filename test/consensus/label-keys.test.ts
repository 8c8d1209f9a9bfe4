// Labels named like Object.prototype's members (`__proto__`, `constructor`, `toString`, …) are
// labels like any other: every consensus method and agreement metric gives exactly what it gives
// when the same labels carry plain names in the same order, and every posterior holds every label.
// Property-style: many seeded random crowds, each run with the odd names and with plain ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answersToMatrix,
  cohenKappa,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
  methods,
  pairwiseKappa,
  percentAgreement,
  perLabelKappa,
  type Answer,
  type ConsensusResult,
} from '../../src/consensus/index.ts';
import { mulberry32 } from '../../src/core/rng.ts';
import { dict, dictOf, own } from '../../src/core/dict.ts';

/** The odd names and one ordinary label. */
const ODD_LABELS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'cat'] as const;
// Plain names in the same code-unit order as the odd ones: label order (and so every result) is kept.
const PLAIN = new Map(ODD_LABELS.map((l) => [l as string, `plain-${[...ODD_LABELS].sort().indexOf(l)}`]));
const plain = (l: string) => PLAIN.get(l)!;

/** A seeded crowd: items with a true label, annotators right with their own accuracy, some answers missing. */
function crowd(seed: number): Answer[] {
  const rand = mulberry32(seed);
  const K = ODD_LABELS.length;
  const nItems = 5 + Math.floor(rand() * 20);
  const nAnn = 2 + Math.floor(rand() * 4);
  const acc = Array.from({ length: nAnn }, () => 0.4 + 0.55 * rand());
  const out: Answer[] = [];
  for (let i = 0; i < nItems; i++) {
    const truth = Math.floor(rand() * K);
    for (let w = 0; w < nAnn; w++) {
      if (w >= 2 && rand() < 0.3) continue;
      const k = rand() < acc[w] ? truth : Math.floor(rand() * K);
      out.push({ item: `i${i}`, annotator: `w${w}`, label: ODD_LABELS[k] });
    }
  }
  return out;
}

const renamed = (answers: readonly Answer[]) => answers.map((a) => ({ ...a, label: plain(a.label) }));

function checkPosteriors(r: ConsensusResult, labelSet: readonly string[], where: string) {
  assert.deepEqual(r.labelSet, labelSet, where);
  for (const [item, post] of r.posteriors) {
    assert.equal(Object.getPrototypeOf(post), null, `${where} ${item}: a posterior has no prototype`);
    assert.deepEqual(Object.keys(post), labelSet, `${where} ${item}: every label is a key, in order`);
    for (const l of labelSet) assert.equal(typeof post[l], 'number', `${where} ${item}: P(${l}) is a number`);
    const total = Object.values(post).reduce((s, p) => s + p, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `${where} ${item}: sums to ${total}`);
    const back = JSON.parse(JSON.stringify(post)) as Record<string, number>;
    assert.deepEqual(Object.keys(back), labelSet, `${where} ${item}: survives JSON`);
    assert.ok(Object.hasOwn(back, '__proto__') || !labelSet.includes('__proto__'));
  }
}

for (const [name, aggregate] of Object.entries(methods)) {
  test(`label keys: ${name} gives the same result with labels named __proto__, constructor, toString, … as with plain names`, () => {
    for (let seed = 1; seed <= 12; seed++) {
      const answers = crowd(seed);
      for (const given of [true, false]) {
        const labels = given ? [...ODD_LABELS] : undefined;
        const r = aggregate(answers, labels ? { labels } : {});
        const p = aggregate(renamed(answers), labels ? { labels: labels.map(plain) } : {});
        const where = `${name} seed ${seed}${given ? ' (labels given)' : ''}`;
        const set = given ? [...ODD_LABELS] : [...new Set(answers.map((a) => a.label))].sort();
        checkPosteriors(r, set, where);
        assert.deepEqual(r.labelSet.map(plain), p.labelSet, where);
        assert.deepEqual([...r.labels].map(([i, l]) => [i, l === null ? null : plain(l)]), [...p.labels], where);
        assert.deepEqual([...r.confidence], [...p.confidence], where);
        assert.deepEqual([...r.posteriors].map(([i, post]) => [i, Object.values(post)]), [...p.posteriors].map(([i, post]) => [i, Object.values(post)]), where);
        assert.deepEqual([...r.annotatorStats], [...p.annotatorStats], where);
        for (const [item, l] of r.labels) if (l !== null) assert.equal(r.posteriors.get(item)![l], r.confidence.get(item), `${where} ${item}`);
      }
    }
  });
}

test('label keys: agreement metrics (percent, Cohen, Fleiss, Krippendorff, Gwet, per label, pairwise) do not depend on label names', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const answers = crowd(seed);
    const { coders, matrix } = answersToMatrix(answers);
    const m2 = answersToMatrix(renamed(answers)).matrix;
    const cats = [...ODD_LABELS];
    const pcats = cats.map(plain);
    const same = (a: number, b: number, what: string) => assert.ok(Object.is(a, b), `seed ${seed} ${what}: ${a} vs ${b}`);
    same(percentAgreement(matrix), percentAgreement(m2), 'percent');
    same(fleissKappa(matrix, { categories: cats }).value, fleissKappa(m2, { categories: pcats }).value, 'fleiss');
    same(krippendorffAlpha(matrix, { categories: cats }).value, krippendorffAlpha(m2, { categories: pcats }).value, 'krippendorff');
    same(gwetAC1(matrix, { categories: cats }).value, gwetAC1(m2, { categories: pcats }).value, 'gwet');
    same(fleissKappa(matrix).value, fleissKappa(m2).value, 'fleiss (categories seen)');
    const col = (m: typeof matrix, j: number) => m.map((r) => r[j]);
    same(cohenKappa(col(matrix, 0), col(matrix, 1), { categories: cats }).value, cohenKappa(col(m2, 0), col(m2, 1), { categories: pcats }).value, 'cohen');
    const per = perLabelKappa(matrix, { categories: cats });
    const per2 = perLabelKappa(m2, { categories: pcats });
    assert.deepEqual([...per.keys()], cats, 'a κ for every label');
    for (const l of cats) assert.deepEqual(per.get(l), per2.get(plain(l)), `seed ${seed} κ(${l})`);
    const pw = pairwiseKappa(matrix, { coders, categories: cats });
    const pw2 = pairwiseKappa(m2, { coders, categories: pcats });
    assert.deepEqual(pw, pw2, `seed ${seed} pairwise`);
  }
});

test('dict, dictOf and own: every name is a key; own never reads an inherited member', () => {
  const d = dict<number>();
  for (const [k, l] of ODD_LABELS.entries()) d[l] = k;
  assert.deepEqual(Object.keys(d), [...ODD_LABELS]);
  assert.equal(d.__proto__, 0);
  assert.equal(d.constructor, 1);
  assert.equal(JSON.stringify(d), '{"__proto__":0,"constructor":1,"toString":2,"hasOwnProperty":3,"valueOf":4,"cat":5}');
  assert.deepEqual(Object.keys(dictOf(ODD_LABELS.map((l) => [l, 1]))), [...ODD_LABELS]);
  const parsed = JSON.parse('{"__proto__": 1, "cat": 2}') as Record<string, number>;
  assert.equal(own(parsed, '__proto__'), 1);
  assert.equal(own(parsed, 'constructor'), undefined, 'not Object');
  assert.equal(own(parsed, 'toString'), undefined);
  assert.equal(own(dict<number>(), 'hasOwnProperty'), undefined);
  // The bug class these guard against: an ordinary object loses a `__proto__` key.
  const plainObject: Record<string, number> = {};
  plainObject['__proto__'] = 1;
  assert.deepEqual(Object.keys(plainObject), []);
});
