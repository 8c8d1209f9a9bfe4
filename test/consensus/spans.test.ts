import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cohenKappaTable } from '../../src/consensus/agreement/cohen.ts';
import { majority } from '../../src/consensus/majority.ts';
import { dawidSkene } from '../../src/consensus/dawid-skene.ts';
import { intervalAgreement } from '../../src/consensus/intervals.ts';
import { bioTags, decodeBio, spanAgreement, spanConsensus, spanLayers, type Span, type SpanItem } from '../../src/consensus/spans.ts';
import { tokenise } from '../../src/core/tokens.ts';

const near = (a: number | null, b: number, eps = 1e-12) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} vs ${b}`);
const TEXT = 'Alice met Bob in New York.';
// Tokens: Alice [0,5) met [6,9) Bob [10,13) in [14,16) New [17,20) York [21,25) . [25,26)
const tokens = tokenise(TEXT);
const LABELS = ['PER', 'LOC'];
const span = (start: number, end: number, label: string): Span => ({ start, end, label });
const A = [span(0, 5, 'PER'), span(10, 13, 'PER'), span(17, 25, 'LOC')];
const B = [span(0, 5, 'PER'), span(10, 13, 'LOC'), span(21, 25, 'LOC')];

test('spans: BIO tags and back (IOB2), one layer over all labels', () => {
  const tags = bioTags(tokens, A, LABELS);
  assert.deepEqual(tags, ['B-PER', 'O', 'B-PER', 'O', 'B-LOC', 'I-LOC', 'O']);
  assert.deepEqual(decodeBio(tokens, tags), A);
  // An I- that does not continue its label starts a span.
  assert.deepEqual(decodeBio(tokens, ['I-PER', 'O', 'O', 'O', 'B-LOC', 'I-PER', 'O']), [span(0, 5, 'PER'), span(17, 20, 'LOC'), span(21, 25, 'PER')]);
});

test('spans: pairwise F1 by hand — exact 1/3, overlap 2/3 (Hripcsak & Rothschild 2005: 2·matches / (|A| + |B|))', () => {
  // Exact: only PER [0,5) is in both → 2·1/(3+3). Overlap: PER [0,5) and LOC [17,25)~[21,25) → 2·2/6.
  const r = intervalAgreement([{ item: 'x', annotator: 'a', regions: A }, { item: 'x', annotator: 'b', regions: B }]);
  assert.equal(r.pairs, 1);
  near(r.f1.exact, 1 / 3);
  near(r.f1.overlap, 2 / 3);
});

test('spans: F1 equals positive specific agreement, the limit of κ as negatives grow (Hripcsak & Rothschild 2005)', () => {
  // a = 20 spans both marked, b = 5 only A, c = 10 only B: F1 = 2a/(2a+b+c) = 40/55.
  const a = 20;
  const b = 5;
  const c = 10;
  const answers = [
    { item: 'i', annotator: 'A', regions: [...Array.from({ length: a + b }, (_, k) => span(10 * k, 10 * k + 5, 'X'))] },
    { item: 'i', annotator: 'B', regions: [...Array.from({ length: a }, (_, k) => span(10 * k, 10 * k + 5, 'X')), ...Array.from({ length: c }, (_, k) => span(1000 + 10 * k, 1000 + 10 * k + 5, 'X'))] },
  ];
  const f1 = intervalAgreement(answers).f1.exact!;
  near(f1, 40 / 55);
  // κ of the 2×2 table with d negatives approaches F1 as d grows (their central result).
  const kappa = (d: number) => cohenKappaTable([[a, b], [c, d]]).value;
  assert.ok(Math.abs(kappa(1e3) - f1) > Math.abs(kappa(1e6) - f1));
  near(kappa(1e9), f1, 1e-6);
});

test('spans: the mean is over annotator pairs that have a span between them, each over the items both annotated', () => {
  const r = intervalAgreement([
    { item: '1', annotator: 'a', regions: A },
    { item: '1', annotator: 'b', regions: B },
    // c annotated item 2 only, with a: neither marked anything there → the pair (a, c) is left out.
    { item: '2', annotator: 'a', regions: [] },
    { item: '2', annotator: 'c', regions: [] },
    // b and c share no item: left out too.
  ]);
  assert.equal(r.pairs, 1);
  near(r.f1.overlap, 2 / 3);
});

test('spans: token-level κ over BIO tags by hand — Cohen 4/11, Fleiss 11/32', () => {
  // Tags A: B-PER O B-PER O B-LOC I-LOC O; B: B-PER O B-LOC O O B-LOC O. p_o = 4/7.
  // Cohen: p_e = (2·1 + 3·4 + 1·2 + 1·0)/49 = 16/49 → κ = (28−16)/(49−16) = 12/33.
  // Fleiss: π = (3, 7, 3, 1)/14 → p_e = 68/196 = 17/49 → κ = (28−17)/(49−17) = 11/32.
  const items: SpanItem[] = [{ item: 'x', tokens, answers: [{ annotator: 'a', spans: A }, { annotator: 'b', spans: B }] }];
  const r = spanAgreement(items, spanLayers(LABELS, false));
  assert.equal(r.tokenKappa.tokens, 7);
  near(r.tokenKappa.cohen, 4 / 11);
  near(r.tokenKappa.fleiss, 11 / 32);
});

test('spans: overlapping questions are tagged one label per layer', () => {
  const nested = [span(17, 25, 'LOC'), span(17, 25, 'ORG')];
  const layers = spanLayers(['LOC', 'ORG'], true);
  assert.deepEqual(layers.map((l) => bioTags(tokens, nested, l)), [
    ['O', 'O', 'O', 'O', 'B-LOC', 'I-LOC', 'O'],
    ['O', 'O', 'O', 'O', 'B-ORG', 'I-ORG', 'O'],
  ]);
  const c = spanConsensus([{ item: 'x', tokens, answers: [{ annotator: 'a', spans: nested }, { annotator: 'b', spans: nested }] }], ['LOC', 'ORG'], true, (ans, labels) => majority(ans, { labels }));
  assert.deepEqual(c.get('x')!.spans, nested);
});

test('spans: token majority vote, decoded and snapped to the offsets annotators drew (3 annotators by hand)', () => {
  // a, b: PER [0,5) LOC [17,25); c: PER [0,3) (part of "Alice") and LOC [21,25).
  // Votes: Alice B-PER 3/3; New B-LOC 2/3; York I-LOC 2/3 → PER [0,5), LOC [17,25); confidence 2/3.
  const item: SpanItem = {
    item: 'x',
    tokens,
    answers: [
      { annotator: 'a', spans: [span(0, 5, 'PER'), span(17, 25, 'LOC')] },
      { annotator: 'b', spans: [span(0, 5, 'PER'), span(17, 25, 'LOC')] },
      { annotator: 'c', spans: [span(0, 3, 'PER'), span(21, 25, 'LOC')] },
    ],
  };
  const mv = (ans: Parameters<typeof majority>[0], labels: readonly string[]) => majority(ans, { labels });
  const r = spanConsensus([item], LABELS, false, mv).get('x')!;
  assert.deepEqual(r.spans, [span(0, 5, 'PER'), span(17, 25, 'LOC')]);
  near(r.confidence, 2 / 3);
  assert.equal(r.unanimous, false);
  // Boundaries inside a token survive when most drew them: two of three chose "Ali" [0,3).
  const inside: SpanItem = { item: 'y', tokens, answers: [{ annotator: 'a', spans: [span(0, 3, 'PER')] }, { annotator: 'b', spans: [span(0, 3, 'PER')] }, { annotator: 'c', spans: [span(0, 5, 'PER')] }] };
  assert.deepEqual(spanConsensus([inside], LABELS, false, mv).get('y')!.spans, [span(0, 3, 'PER')]);
  // Two annotators who disagree on a token: tied (unresolved), decoded as O.
  const tie: SpanItem = { item: 'z', tokens, answers: [{ annotator: 'a', spans: A }, { annotator: 'b', spans: B }] };
  const t = spanConsensus([tie], LABELS, false, mv).get('z')!;
  assert.deepEqual(t.spans, [span(0, 5, 'PER')]);
  assert.equal(t.unresolvedTokens, 3);
  near(t.confidence, 0.5);
  // Unanimous answers are the consensus exactly.
  const same: SpanItem = { item: 'u', tokens, answers: [{ annotator: 'a', spans: [span(1, 4, 'PER')] }, { annotator: 'b', spans: [span(1, 4, 'PER')] }] };
  const u = spanConsensus([same], LABELS, false, mv).get('u')!;
  assert.deepEqual([u.spans, u.unanimous, u.confidence], [[span(1, 4, 'PER')], true, 1]);
});

test('spans: Dawid-Skene over BIO tags, fitted once over every item, decoded per item', () => {
  // a and b mark "New" alone as LOC on every item, c marks "New York": DS sides with the two
  // consistent annotators (c's confusion matrix learns that c's I-LOC on "York" means O).
  const items: SpanItem[] = Array.from({ length: 6 }, (_, k) => ({
    item: `i${k}`,
    tokens,
    answers: [
      { annotator: 'a', spans: [span(17, 20, 'LOC')] },
      { annotator: 'b', spans: [span(17, 20, 'LOC')] },
      { annotator: 'c', spans: [span(17, 25, 'LOC')] },
    ],
  }));
  let calls = 0;
  const r = spanConsensus(items, LABELS, false, (ans, labels) => {
    calls++;
    assert.equal(ans.length, 6 * 3 * tokens.length, 'one answer per item, annotator and token');
    return dawidSkene(ans, { labels });
  });
  assert.equal(calls, 1);
  for (const c of r.values()) assert.deepEqual(c.spans, [span(17, 20, 'LOC')]);
});
