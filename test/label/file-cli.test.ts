// The file CLIs (`tessera agreement FILE`, `tessera consensus FILE`): exact output contracts,
// column aliases, the shared crowd files, published values through the file path, and clear
// errors for malformed files. Most checks run in-process on the same functions the commands
// call; a few run the real CLI as a child process to pin the contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRatings, type ReadOptions } from '../../src/label/crowd-file.ts';
import { agreementOfFile, consensusCsv, consensusOfFile } from '../../src/label/file-commands.ts';
import { UserError } from '../../src/core/errors.ts';
import { dawidSkene } from '../../src/consensus/index.ts';
import { dataset } from '../helpers/datasets.ts';
import { tessera } from '../helpers/cli.ts';
import { accuracy, bluebirds, snow } from '../consensus/crowd-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-files-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const parse = (text: string, o: Partial<ReadOptions> = {}) => parseRatings(text, { name: 'f.csv', ...o });
const agree = (text: string, metric: string, extra: { level?: string; weights?: string } = {}) => agreementOfFile(parse(text), 'f.csv', { metric, ...extra });
const near = (a: number | null, b: number, eps = 5e-4) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} ≠ ${b}`);

// Krippendorff (2011) example C: 4 coders × 12 units with missing ratings (absent rows).
const KRIPP = [
  [1, 1, null, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
  [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [null, 5, 5, 5], [null, null, 1, 1], [null, 3, null, null],
];
const krippCsv = 'item,annotator,label\n' + KRIPP.flatMap((row, u) => row.flatMap((v, c) => (v === null ? [] : [`u${u + 1},coder${'ABCD'[c]},${v}`]))).join('\n') + '\n';

// Wikipedia "Fleiss' kappa": 10 subjects × 14 raters, counts per category 1–5.
const FLEISS = [
  [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
  [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
];
const fleissCsv = 'task,worker,label\n' + FLEISS.flatMap((counts, s) => counts.flatMap((n, k) => Array.from({ length: n }, () => `s${s},${k + 1}`))).map((l, i) => `${l.split(',')[0]},r${i % 14},${l.split(',')[1]}`).join('\n') + '\n';

test('agreement through the file path matches published values (Fleiss 0.210; Krippendorff 0.743/0.815/0.849/0.797)', () => {
  const f = agree(fleissCsv, 'fleiss');
  near(f.value, 0.21, 5e-4);
  assert.deepEqual([f.items, f.annotators], [10, 14]);
  near(agree(krippCsv, 'krippendorff').value, 0.743);
  near(agree(krippCsv, 'krippendorff', { level: 'ordinal' }).value, 0.815);
  near(agree(krippCsv, 'krippendorff', { level: 'interval' }).value, 0.849);
  near(agree(krippCsv, 'krippendorff', { level: 'ratio' }).value, 0.797);
  const two = 'item,annotator,label\n1,a,1\n1,b,1\n2,a,2\n2,b,3\n3,a,3\n3,b,3\n4,a,1\n4,b,2\n';
  assert.equal(agree(two, 'percent').value, 0.5);
  const k = agree(two, 'cohen').value!;
  assert.ok(agree(two, 'cohen', { weights: 'quadratic' }).value! > k, 'partial credit for near misses');
  assert.ok(Number.isFinite(agree(two, 'gwet').value!));
});

test('column aliases: item/annotator/label, task/worker/label, question/worker/answer, the Snow TSVs, explicit columns', () => {
  const want = [{ item: '1', annotator: 'w', label: 'x', line: 2 }];
  assert.deepEqual(parse('item,annotator,label\n1,w,x\n').ratings, want);
  assert.deepEqual(parse('task,worker,label\n1,w,x\n').ratings, want);
  assert.deepEqual(parse('Question,Worker,Answer\r\n1,w,x\r\n').ratings, want);
  const tsv = parse('!amt_annotation_ids\t!amt_worker_ids\torig_id\tresponse\tgold\nA1\tw\t1\tx\t0\n', { name: 'rte.standardized.tsv' });
  assert.deepEqual(tsv.ratings, want);
  assert.deepEqual(tsv.columns, { item: 'orig_id', annotator: '!amt_worker_ids', label: 'response' });
  assert.deepEqual(parse('id,rater,code,other\n1,w,x,9\n', { itemCol: 'id', annotatorCol: 'rater', labelCol: 'code' }).ratings, want);
  assert.deepEqual(parse('"item","annotator","label"\n"1","w","x, quoted"\n').ratings[0].label, 'x, quoted');
});

test('malformed files give clear errors naming the file, line and what was expected', () => {
  const err = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof UserError && re.test(e.message), String(re));
  err(() => parse(''), /f\.csv is empty: expected a header row/);
  err(() => parse('\n\n'), /is empty/);
  err(() => parse('item,annotator,label\n'), /has a header but no ratings/);
  err(() => parse('item,worker,score\n1,a,x\n'), /no label column in the header \(item, worker, score\): expected one of label, answer, response, or name it with --label-col/);
  err(() => parse('item,annotator,label\n1,a,x\n'.replace('annotator', 'who')), /no annotator column/);
  err(() => parse('item,annotator,label\n1,a,x\n', { itemCol: 'nope' }), /column "nope" \(--item-col\) is not in the header/);
  err(() => parse('item,annotator,label\n1,a,x\n2,b\n'), /f\.csv:3: expected 3 fields .*got 2/);
  err(() => parse('item,annotator,label\n1,a,\n'), /f\.csv:2: empty label .*a missing rating is an absent row/);
  err(() => parse('item,annotator,label\n1,a,"x\n'), /f\.csv:2: a quoted field opened here is never closed/);
  err(() => agree('item,annotator,label\n1,a,x\n2,a,y\n', 'cohen'), /at least 2 annotators; the file has 1 \(a\)/);
  err(() => agree('item,annotator,label\n1,a,x\n2,b,y\n', 'fleiss'), /no item was rated by two or more annotators/);
  err(() => agree('item,annotator,label\n1,a,x\n1,b,y\n1,c,x\n', 'cohen'), /exactly 2 annotators; the file has 3/);
  err(() => agree('item,annotator,label\n1,a,x\n1,b,y\n1,a,y\n', 'fleiss'), /f\.csv:4: annotator "a" rated item "1" again \(first on line 2\)/);
  err(() => agree(krippCsv, 'kappa'), /--metric: expected percent\|cohen\|fleiss\|krippendorff\|gwet/);
  err(() => agree(krippCsv, 'fleiss', { level: 'ordinal' }), /--level ordinal applies to --metric krippendorff only/);
  err(() => agree(krippCsv, 'fleiss', { weights: 'linear' }), /--weights linear applies to --metric cohen only/);
  err(() => agree('item,annotator,label\n1,a,x\n1,b,y\n', 'krippendorff', { level: 'interval' }), /needs numeric ratings/);
  err(() => consensusOfFile(parse('item,annotator,label\n1,a,x\n'), { method: 'em' }), /--method: expected mv\|dawid-skene\|one-coin\|glad/);
  err(() => consensusOfFile(parse('item,annotator,label\n1,a,x\n'), { method: 'dawid-skene', tie: 'random' }), /--tie random applies to --method mv only/);
});

test('consensus on the shared crowd files reads them through the aliases and reproduces the library results', () => {
  const bb = consensusOfFile(parseRatings(readFileSync(dataset('crowd', 'bluebirds', 'answer.csv'), 'utf8'), { name: 'answer.csv' }), { method: 'dawid-skene' });
  assert.equal(bb.method, 'dawid-skene');
  assert.equal(accuracy(new Map(bb.labels.map((l) => [l.item, l.label])), bluebirds().truth), 97 / 108);
  assert.equal(bb.annotators.length, 39);
  const rte = consensusOfFile(parseRatings(readFileSync(dataset('crowd', 'rte', 'rte.standardized.tsv'), 'utf8'), { name: 'rte.standardized.tsv' }), { method: 'mv', tie: 'first' });
  assert.equal(rte.method, 'mv');
  assert.equal(rte.labels.length, 800);
  assert.ok(accuracy(new Map(rte.labels.map((l) => [l.item, l.label])), snow('rte').truth) > 0.89);
  const tie = consensusOfFile(parse('item,annotator,label\n1,a,x\n1,b,y\n2,a,x\n'), { method: 'mv' });
  assert.deepEqual(tie.labels, [{ item: '1', label: null, confidence: 0.5 }, { item: '2', label: 'x', confidence: 1 }]);
  assert.equal(consensusCsv(tie), 'item,label,confidence\n1,,0.5\n2,x,1\n');
});

test('consensus annotators[].confusion: the fitted model for Dawid-Skene and one-coin, else the answers against the consensus', () => {
  // Hand-counted: a answers x,x,y on items whose majority is x,x,y; b answers x on item 3 (majority y).
  const f = parse('item,annotator,label\n1,a,x\n1,c,x\n2,a,x\n2,c,x\n3,a,y\n3,c,y\n3,b,x\n4,a,x\n4,b,y\n');
  const mv = consensusOfFile(f, { method: 'mv' });
  const conf = (r: typeof mv, w: string) => JSON.parse(JSON.stringify(r.annotators.find((a) => a.annotator === w)!.confusion));
  assert.equal(mv.labels.find((l) => l.item === '4')!.label, null, 'item 4 ties and counts for nobody');
  assert.deepEqual(conf(mv, 'a'), { x: { x: 1, y: 0 }, y: { x: 0, y: 1 } });
  assert.deepEqual(conf(mv, 'b'), { x: null, y: { x: 1, y: 0 } }, 'b answered no resolved x item: no evidence for that row');
  // Dawid-Skene on bluebirds: exactly the library's fitted confusion rows, keyed by label.
  const text = readFileSync(dataset('crowd', 'bluebirds', 'answer.csv'), 'utf8');
  const bb = consensusOfFile(parseRatings(text, { name: 'answer.csv' }), { method: 'dawid-skene' });
  const lib = dawidSkene(parseRatings(text, { name: 'answer.csv' }).ratings.map((r) => ({ item: r.item, annotator: r.annotator, label: r.label })));
  for (const a of bb.annotators) {
    const rows = lib.annotatorStats.get(a.annotator)!.confusion!;
    assert.deepEqual(lib.labelSet.map((t) => lib.labelSet.map((l) => a.confusion[t]![l])), rows, a.annotator);
  }
  // One-coin's model: the annotator's accuracy on the diagonal.
  const oc = consensusOfFile(f, { method: 'one-coin' });
  for (const a of oc.annotators) assert.ok(Math.abs(a.confusion.x!.x - a.accuracy!) < 1e-12 && Math.abs(a.confusion.y!.y - a.accuracy!) < 1e-12, a.annotator);
  // A label named like an Object.prototype member is a row and a column like any other.
  const proto = consensusOfFile(parse('item,annotator,label\n1,a,__proto__\n1,b,__proto__\n2,a,constructor\n2,b,constructor\n'), { method: 'mv' });
  assert.equal(JSON.stringify(proto.annotators[0].confusion), '{"__proto__":{"__proto__":1,"constructor":0},"constructor":{"__proto__":0,"constructor":1}}');
});

test('the real CLI: exact JSON shapes, CSV to --out or stdout, exit 2 on bad input', () => {
  const k = file('kripp.csv', krippCsv);
  const a = tessera(['agreement', k, '--metric', 'krippendorff', '--level', 'ordinal', '--json'], {});
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(Object.keys(a.json), ['metric', 'value', 'items', 'annotators']);
  assert.deepEqual([a.json.metric, a.json.items, a.json.annotators], ['krippendorff', 12, 4]);
  near(a.json.value, 0.815);

  const out = join(dir, 'out.csv');
  const c = tessera(['consensus', dataset('crowd', 'temp', 'temp.standardized.tsv'), '--method', 'mv', '--tie', 'random', '--seed', '3', '--out', out, '--json'], {});
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(Object.keys(c.json), ['method', 'labels', 'annotators']);
  assert.deepEqual(Object.keys(c.json.labels[0]), ['item', 'label', 'confidence']);
  assert.deepEqual(Object.keys(c.json.annotators[0]), ['annotator', 'accuracy', 'confusion']);
  assert.deepEqual(Object.keys(c.json.annotators[0].confusion), ['1', '2'], 'TEMP: labels 1 and 2, the rows');
  assert.equal(c.json.labels.length, 462);
  const csv = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(csv[0], 'item,label,confidence');
  assert.equal(csv.length, 463);
  assert.equal(csv[1], `${c.json.labels[0].item},${c.json.labels[0].label},${c.json.labels[0].confidence}`);

  const bad = tessera(['agreement', file('bad.csv', 'item,worker\n1,a\n'), '--metric', 'fleiss', '--json'], {});
  assert.equal(bad.code, 2);
  assert.deepEqual(Object.keys(bad.json), ['error']);
  assert.match(bad.json.error.message, /bad\.csv: no label column/);
});
