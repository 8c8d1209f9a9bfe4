/**
 * Text offsets and the tokenisation that span agreement, span consensus and the CoNLL/BIO export
 * share (a token-classification model trained on the export must tokenise the same way).
 *
 * Offsets are **code points**, not UTF-16 code units: `[start, end)` indexes `Array.from(text)`,
 * as Python's `str`, spaCy's character offsets and Label Studio's exports do. An emoji such as
 * 😀 (U+1F600, two UTF-16 code units) is one position. A browser's selection gives UTF-16 indices:
 * convert with `codePointOffset` (or `Array.from(text.slice(0, i)).length`).
 *
 * Tokens: a maximal run of letters, combining marks and digits (Unicode \p{L}\p{M}\p{N}) is one
 * token; every other code point that is not white space is a token of its own ("don't" →
 * `don`, `'`, `t`; "U.S." → `U`, `.`, `S`, `.`); white space separates tokens and is never part
 * of one.
 */
export interface Token {
  /** Code-point offsets, end exclusive. */
  start: number;
  end: number;
  text: string;
}

/** The tokenisation rule, as stated in exports. */
export const TOKENISATION = 'tokens are maximal runs of letters, marks and digits (\\p{L}\\p{M}\\p{N}); any other non-space code point is a token of its own; offsets are code points';

const WORD = /[\p{L}\p{M}\p{N}]/u;
const SPACE = /\s/u;

/** Number of code points in `text`. */
export const codePointLength = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/** The code-point offset of UTF-16 index `i` (which must not split a surrogate pair). */
export const codePointOffset = (text: string, i: number): number => codePointLength(text.slice(0, i));

/** `text[start, end)` in code points. */
export const sliceCodePoints = (text: string, start: number, end: number): string => Array.from(text).slice(start, end).join('');

export function tokenise(text: string): Token[] {
  const cps = Array.from(text);
  const out: Token[] = [];
  let i = 0;
  while (i < cps.length) {
    const c = cps[i];
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    let j = i + 1;
    if (WORD.test(c)) while (j < cps.length && WORD.test(cps[j])) j++;
    out.push({ start: i, end: j, text: cps.slice(i, j).join('') });
    i = j;
  }
  return out;
}
