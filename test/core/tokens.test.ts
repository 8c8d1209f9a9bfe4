import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codePointLength, codePointOffset, sliceCodePoints, tokenise } from '../../src/core/tokens.ts';

test('tokens: runs of letters/marks/digits, other non-space code points alone, offsets in code points', () => {
  assert.deepEqual(tokenise("Don't pay £100 now!"), [
    { start: 0, end: 3, text: 'Don' },
    { start: 3, end: 4, text: "'" },
    { start: 4, end: 5, text: 't' },
    { start: 6, end: 9, text: 'pay' },
    { start: 10, end: 11, text: '£' },
    { start: 11, end: 14, text: '100' },
    { start: 15, end: 18, text: 'now' },
    { start: 18, end: 19, text: '!' },
  ]);
});

test('tokens: an emoji is one code point (two UTF-16 code units), so offsets after it differ from JS indices', () => {
  const text = '😀 Call Anna';
  assert.equal(text.length, 12);
  assert.equal(codePointLength(text), 11);
  const t = tokenise(text);
  assert.deepEqual(t.map((x) => [x.start, x.end, x.text]), [[0, 1, '😀'], [2, 6, 'Call'], [7, 11, 'Anna']]);
  assert.equal(sliceCodePoints(text, 7, 11), 'Anna');
  assert.equal(codePointOffset(text, text.indexOf('Anna')), 7);
  // A combining mark stays inside its word.
  assert.deepEqual(tokenise('cafe\u0301 ok').map((x) => x.text), ['cafe\u0301', 'ok']);
});
