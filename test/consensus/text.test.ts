import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levenshtein, normalisedEditDistance, textAgreement, textMedoid, wordErrorRate } from '../../src/consensus/text.ts';

const near = (a: number | null, b: number, eps = 1e-12) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} vs ${b}`);

test('text: Levenshtein kitten → sitting = 3 (Levenshtein 1966; the textbook example)', () => {
  assert.equal(levenshtein([...'kitten'], [...'sitting']), 3);
  near(normalisedEditDistance('kitten', 'sitting'), 3 / 7);
  near(normalisedEditDistance('', ''), 0);
  // Code points: an emoji is one edit, not two.
  near(normalisedEditDistance('a😀', 'ab'), 1 / 2);
  // Normalised first: white space runs and NFC.
  near(normalisedEditDistance('caf\u00e9  au lait', ' cafe\u0301 au lait'), 0);
});

test('text: WER of the Jurafsky & Martin example — 6 substitutions, 3 insertions, 1 deletion over 13 words = 76.9%', () => {
  // Speech and Language Processing (Jurafsky & Martin), "Word Error Rate": the alignment of a
  // Switchboard utterance; WER = 100·(6 + 3 + 1)/13 = 76.9%.
  const ref = 'i UM the PHONE IS i LEFT THE portable PHONE UPSTAIRS last night';
  const hyp = 'i GOT IT TO the FULLEST i LOVE TO portable FORM OF STORES last night';
  near(wordErrorRate(ref, hyp), 10 / 13);
});

test('text: agreement is the mean over items of the mean over pairs; WER symmetrised', () => {
  const r = textAgreement([
    { item: '1', annotator: 'a', text: 'kitten' },
    { item: '1', annotator: 'b', text: 'sitting' },
    { item: '2', annotator: 'a', text: 'the cat sat' },
    { item: '2', annotator: 'b', text: 'the cat sat' },
    { item: '3', annotator: 'a', text: 'alone' },
  ]);
  assert.equal(r.items, 2);
  near(r.editDistance, (3 / 7 + 0) / 2);
  // Item 1: one word each, substituted: WER 1 both ways; item 2: 0.
  near(r.wer, 0.5);
});

test('text: consensus is the medoid under normalised edit distance; ties go to the first annotator by name', () => {
  // abc–abd 1/3, abc–xyz 1, abd–xyz 1: abc and abd tie (4/3); "ann" comes first.
  const r = textMedoid([{ annotator: 'zed', text: 'xyz' }, { annotator: 'bob', text: 'abd' }, { annotator: 'ann', text: 'abc' }])!;
  assert.deepEqual([r.text, r.annotator, r.unanimous], ['abc', 'ann', false]);
  near(r.confidence, 1 - 4 / 3 / 2);
  assert.deepEqual(textMedoid([{ annotator: 'a', text: 'same  text' }, { annotator: 'b', text: 'same text' }]), { text: 'same  text', annotator: 'a', confidence: 1, unanimous: true });
});
