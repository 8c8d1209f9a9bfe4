// Labels named like Object.prototype's members, through the labelling layer without a store:
// consensusFor (settle.ts's path), projectConsensus get/infer (recompute.ts: re-runs and fitted
// model-based decisions), agreementReport, and the two file commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consensusFor, METHOD_NAMES, type ItemConsensus, type LabelAnswer } from '../../src/label/consensus.ts';
import { projectConsensus, type AnswerColumns } from '../../src/label/recompute.ts';
import { agreementReport } from '../../src/label/agreement.ts';
import { agreementOfFile, consensusOfFile } from '../../src/label/file-commands.ts';
import { parseRatings } from '../../src/label/crowd-file.ts';
import { UserError } from '../../src/core/errors.ts';
import { STRATEGIES } from '../../src/select/index.ts';
import { labelForKey, labelKeys } from '../../src/web/lib/keys.ts';

const L = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'cat'];
const settings = (method: (typeof METHOD_NAMES)[number]) => ({ method, tie: 'unresolved' as const, seed: 0 });

/** Three annotators: w0 and w1 agree on label i % 6 for item i, w2 answers the next label; multi: sets of two. */
function answers(kind: 'single' | 'multi'): LabelAnswer[] {
  const out: LabelAnswer[] = [];
  for (let i = 0; i < 12; i++) {
    const a = L[i % 6];
    const b = L[(i + 1) % 6];
    for (const w of ['w0', 'w1', 'w2']) {
      const labels = kind === 'single' ? [w === 'w2' ? b : a] : w === 'w2' ? [a, L[(i + 2) % 6]] : [a, b];
      out.push({ item: String(i + 1), annotator: w, labels });
    }
  }
  return out;
}

/** The same answers as AnswerColumns (what readAnswerColumns reads from a store). */
function columns(ans: readonly LabelAnswer[]): AnswerColumns {
  const ids = Int32Array.from([...new Set(ans.map((a) => Number(a.item)))].sort((x, y) => x - y));
  const lex = [...ids].sort((x, y) => (String(x) < String(y) ? -1 : 1));
  const rank = Int32Array.from(ids, (id) => lex.indexOf(id));
  const annotators = [...new Set(ans.map((a) => a.annotator))].sort();
  const sets: string[][] = [];
  const setKeys: string[] = [];
  const set = Int32Array.from(ans, (a) => {
    const k = JSON.stringify(a.labels);
    if (!setKeys.includes(k)) (setKeys.push(k), sets.push(a.labels));
    return setKeys.indexOf(k);
  });
  return {
    ids,
    rank,
    annotators,
    item: Int32Array.from(ans, (a) => rank[ids.indexOf(Number(a.item))]),
    annotator: Int32Array.from(ans, (a) => annotators.indexOf(a.annotator)),
    set,
    sets,
  };
}

function checkPosterior(c: ItemConsensus, where: string) {
  assert.equal(Object.getPrototypeOf(c.posterior), null, where);
  assert.deepEqual(Object.keys(c.posterior), L, `${where}: every label is a key`);
  for (const l of L) assert.equal(typeof c.posterior[l], 'number', `${where}: P(${l})`);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(c.posterior))), L, `${where}: as stored`);
}

for (const kind of ['single', 'multi'] as const) {
  test(`label keys: consensusFor and projectConsensus (get, infer) keep every odd label in the posterior (${kind}-label, every method)`, () => {
    const ans = answers(kind);
    const cols = columns(ans);
    for (const method of METHOD_NAMES) {
      const s = settings(method);
      const all = consensusFor(ans, { kind, labels: L }, s);
      const pc = projectConsensus(cols, { kind, labels: L }, s);
      for (const [item, c] of all) {
        const where = `${kind} ${method} item ${item}`;
        checkPosterior(c, where);
        const batched = pc.get(Number(item))!;
        checkPosterior(batched, `${where} (recompute)`);
        assert.deepEqual(batched, c, `${where}: both paths agree`);
        if (method !== 'majority') {
          const inferred = pc.infer(ans.filter((a) => a.item === item));
          checkPosterior(inferred, `${where} (inferred)`);
          assert.deepEqual(inferred.labels, c.labels, `${where}: one E-step under the fit decides as the fit did`);
        }
      }
      // Item 1: w0, w1 said __proto__ (with constructor, multi-label), w2 constructor (with toString).
      const one = all.get('1')!;
      if (kind === 'single') {
        if (method === 'majority') assert.deepEqual([one.labels, one.posterior.__proto__, one.posterior.constructor, one.posterior.toString], [['__proto__'], 2 / 3, 1 / 3, 0]);
        else assert.deepEqual(one.labels, ['__proto__']);
      } else if (method === 'majority') {
        assert.deepEqual(one.labels, ['__proto__', 'constructor']);
        assert.deepEqual(L.map((l) => one.posterior[l]), [1, 2 / 3, 1 / 3, 0, 0, 0]);
      }
    }
  });
}

test('label keys: agreementReport has a κ and a prevalence for every odd label (single and multi)', () => {
  const single = agreementReport(answers('single'), { kind: 'single', labels: L.map((name) => ({ name })) });
  assert.deepEqual(single.perLabel.map((p) => p.label), L);
  for (const p of single.perLabel) assert.equal(typeof p.kappa, 'number', p.label);
  assert.deepEqual(single.perLabel.map((p) => p.prevalence), L.map(() => 1 / 6));
  const multi = agreementReport(answers('multi'), { kind: 'multi', labels: L.map((name) => ({ name })) });
  assert.deepEqual(multi.perLabel.map((p) => p.label), L);
  for (const p of multi.perLabel) assert.equal(typeof p.kappa, 'number', p.label);
});

test('label keys: the file commands take odd labels, and odd --method / --strategy names are unknown, not Object members', () => {
  const text = 'item,annotator,label\n' + answers('single').map((a) => `${a.item},${a.annotator},${a.labels[0]}`).join('\n') + '\n';
  const f = parseRatings(text, { name: 'odd.csv' });
  const mv = consensusOfFile(f, { method: 'mv' });
  assert.deepEqual(mv.labels.slice(0, 6).map((l) => [l.label, l.confidence]), L.map((l) => [l, 2 / 3]));
  const ds = consensusOfFile(f, { method: 'dawid-skene' });
  assert.deepEqual(ds.labels.map((l) => l.label), mv.labels.map((l) => l.label));
  const fleiss = agreementOfFile(f, 'odd.csv', { metric: 'fleiss' });
  assert.equal(typeof fleiss.value, 'number');
  for (const method of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    assert.throws(() => consensusOfFile(f, { method }), (e: unknown) => e instanceof UserError && /--method: expected mv\|dawid-skene\|one-coin\|glad/.test(e.message), method);
  }
  for (const name of ['constructor', '__proto__', 'toString', 'valueOf']) assert.equal(STRATEGIES[name], undefined, name);
  assert.ok(STRATEGIES.random && STRATEGIES.badge);
});

test('label keys: the web UI\'s shortcuts bind odd label names like any other (keys by position, never by name)', () => {
  const many = [...L, ...Array.from({ length: 6 }, (_, i) => `x${i}`), 'toLocaleString', 'isPrototypeOf'];
  const keys = labelKeys(many);
  assert.deepEqual(keys.slice(0, 9), ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  many.forEach((l, i) => assert.equal(labelForKey(many, keys[i]), l, l));
  for (const k of ['constructor', '__proto__', 'toString', 'a', 's']) assert.equal(labelForKey(many, k), undefined, k);
});
