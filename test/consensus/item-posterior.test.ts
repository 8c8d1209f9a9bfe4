// A fitted EM model decides an item it did not see (em.ts itemPosterior): what settling a new
// item uses between two whole-project fits (src/label/consensus-fit.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dawidSkeneDense } from '../../src/consensus/dawid-skene.ts';
import { itemPosterior } from '../../src/consensus/em.ts';
import { encodeAnswers } from '../../src/consensus/encode.ts';
import { gladDense } from '../../src/consensus/glad.ts';
import { oneCoinDense } from '../../src/consensus/one-coin.ts';
import type { Answer } from '../../src/consensus/types.ts';
import { bluebirds, snow } from './crowd-data.ts';

const dense = { 'dawid-skene': dawidSkeneDense, 'one-coin': oneCoinDense } as const;

for (const [name, run] of Object.entries(dense)) {
  test(`${name}: an item the fit saw, given its answers in the same order, gets its fitted posterior bit for bit`, () => {
    const e = encodeAnswers(bluebirds().answers);
    const r = run(e);
    const K = e.labels.length;
    for (let i = 0; i < e.items.length; i++) {
      const answers = [];
      for (let j = e.itemStart[i]; j < e.itemStart[i + 1]; j++) answers.push({ w: e.annotator[e.byItem[j]], l: e.label[e.byItem[j]] });
      const T = itemPosterior(r.model!, K, answers);
      for (let k = 0; k < K; k++) assert.ok(Object.is(T[k], r.T[i * K + k]), `${e.items[i]}: class ${k}: ${T[k]} vs ${r.T[i * K + k]}`);
    }
  });
}

// Against the published truth the incremental path must keep the method's accuracy (Dawid-Skene
// on bluebirds: 0.8981, see dawid-skene.test.ts) and agree with the full fit on nearly every item.
test('dawid-skene, leave one item out on bluebirds (Welinder et al. 2010): accuracy within 0.01 of the published 0.8981, same label as the full fit on ≥ 97 % of items', () => {
  const d = bluebirds();
  const r = leaveOneOut(d, new Set(d.answers.map((a) => a.item)), dawidSkeneDense);
  assert.ok(Math.abs(r.accuracy - 0.8981) <= 0.01, `accuracy ${r.accuracy}`);
  assert.ok(r.agreement >= 0.97, `agreement ${r.agreement}`);
});

test('dawid-skene, leave one item out on Snow et al. 2008 RTE: accuracy within 0.01 of the full fit, same label on ≥ 97 % of items', () => {
  const d = snow('rte');
  const full = dawidSkeneDense(encodeAnswers(d.answers));
  const e = encodeAnswers(d.answers);
  let right = 0;
  for (let i = 0; i < e.items.length; i++) if (e.labels[full.choice[i]] === d.truth.get(e.items[i])) right++;
  // 800 refits: take every 4th item only (200), enough to see a drift.
  const items = new Set([...new Set(d.answers.map((a) => a.item))].filter((_, i) => i % 4 === 0));
  const sub = { answers: d.answers, truth: new Map([...d.truth].filter(([k]) => items.has(k))) };
  const loo = leaveOneOut(sub, items, dawidSkeneDense);
  const fullAcc = [...items].filter((it) => e.labels[full.choice[e.items.indexOf(it)]] === d.truth.get(it)).length / items.size;
  assert.ok(Math.abs(loo.accuracy - fullAcc) <= 0.01, `leave-one-out ${loo.accuracy} vs full ${fullAcc}`);
  assert.ok(loo.agreement >= 0.97, `agreement ${loo.agreement}`);
  assert.ok(right / e.items.length > 0.9, 'the full fit is as published (≈0.93)');
});

/**
 * Leave one item out: fit on the other items' answers, decide the item from its answers under
 * that fit. Returns the accuracy of those decisions against the truth and their agreement with
 * the full fit's labels.
 */
function leaveOneOut(d: { answers: Answer[]; truth: Map<string, string> }, only: Set<string>, fitDense: typeof dawidSkeneDense) {
  const full = encodeAnswers(d.answers);
  const fullChoice = fitDense(full).choice;
  let agree = 0;
  let right = 0;
  for (const item of only) {
    const e = encodeAnswers(d.answers.filter((a) => a.item !== item), full.labels);
    const r = fitDense(e);
    const w = new Map(e.annotators.map((n, i) => [n, i]));
    const T = itemPosterior(r.model!, e.labels.length, d.answers.filter((a) => a.item === item).map((a) => ({ w: w.get(a.annotator) ?? -1, l: e.labels.indexOf(a.label) })));
    const choice = T.indexOf(Math.max(...T));
    if (e.labels[choice] === d.truth.get(item)) right++;
    if (choice === fullChoice[full.items.indexOf(item)]) agree++;
  }
  return { accuracy: right / only.size, agreement: agree / only.size };
}

test('an annotator the fit never saw counts as the crowd does: alone, their label wins; against two known good annotators, it does not', () => {
  // Three reliable annotators and one who always answers "b".
  const answers: Answer[] = [];
  for (let i = 0; i < 60; i++) {
    const truth = i % 2 === 0 ? 'a' : 'b';
    for (const w of ['r1', 'r2', 'r3']) answers.push({ item: `i${i}`, annotator: w, label: i % 10 === 7 && w === 'r3' ? (truth === 'a' ? 'b' : 'a') : truth });
    answers.push({ item: `i${i}`, annotator: 'biased', label: 'b' });
  }
  const e = encodeAnswers(answers);
  const K = e.labels.length;
  for (const run of [dawidSkeneDense, oneCoinDense, gladDense]) {
    const m = run(e).model!;
    const alone = itemPosterior(m, K, [{ w: -1, l: 0 }]);
    assert.ok(Math.abs(alone[0] + alone[1] - 1) < 1e-12);
    assert.ok(alone[0] > 0.5, `${run.name}: a newcomer alone answering "a": ${alone[0]}`);
    const outvoted = itemPosterior(m, K, [{ w: -1, l: 0 }, { w: e.annotators.indexOf('r1'), l: 1 }, { w: e.annotators.indexOf('r2'), l: 1 }]);
    assert.ok(outvoted[1] > 0.9, `${run.name}: two reliable annotators say "b": ${outvoted[1]}`);
  }
  // Dawid-Skene learnt that "biased" says "b" whatever the truth: their "b" carries no weight.
  const ds = dawidSkeneDense(e).model!;
  const biasedB = itemPosterior(ds, K, [{ w: e.annotators.indexOf('biased'), l: 1 }]);
  const prior = itemPosterior(ds, K, []);
  assert.ok(Math.abs(biasedB[1] - prior[1]) < 0.05, `biased "b" ${biasedB[1]} vs prior ${prior[1]}`);
});
