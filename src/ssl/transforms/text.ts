/**
 * Text views. `maskTokens` is BERT's masked-language-model corruption (Devlin et al. 2019,
 * §3.1): choose `rate` of the real tokens (at least one per text); of those, 80% become
 * [MASK], 10% a random token, 10% stay. `dropTokens` deletes tokens at random (a cheap extra
 * view for contrastive text training; never empties a text).
 */
import type { Rng } from '../rng.ts';
import { MASK } from '../encoders/tokenizer.ts';
import type { TokenBatch } from '../encoders/text.ts';

export interface MaskedTokens {
  /** Corrupted input ids. */
  input: TokenBatch;
  /** Flat positions (b·L + l) of the chosen tokens. */
  positions: Int32Array;
  /** Original ids at those positions. */
  targets: Int32Array;
}

/** Ids < `firstRegular` are special tokens and are never drawn as random replacements. */
export function maskTokens(tb: TokenBatch, rate: number, vocabSize: number, rng: Rng, firstRegular = 3): MaskedTokens {
  const ids = tb.ids.slice();
  const pos: number[] = [];
  const tgt: number[] = [];
  for (let b = 0; b < tb.B; b++) {
    const n = tb.lengths[b];
    const chosen: number[] = [];
    for (let l = 0; l < n; l++) if (rng.next() < rate) chosen.push(l);
    if (chosen.length === 0 && n > 0) chosen.push(rng.int(n));
    for (const l of chosen) {
      const at = b * tb.L + l;
      pos.push(at);
      tgt.push(ids[at]);
      const r = rng.next();
      if (r < 0.8) ids[at] = MASK;
      else if (r < 0.9) ids[at] = firstRegular + rng.int(vocabSize - firstRegular);
    }
  }
  return { input: { ...tb, ids }, positions: Int32Array.from(pos), targets: Int32Array.from(tgt) };
}

export function dropTokens(tb: TokenBatch, rate: number, rng: Rng): TokenBatch {
  if (!(rate > 0)) return tb;
  const ids = new Int32Array(tb.ids.length);
  const lengths = new Int32Array(tb.B);
  for (let b = 0; b < tb.B; b++) {
    const n = tb.lengths[b];
    let k = 0;
    for (let l = 0; l < n; l++) {
      if (n > 1 && rng.next() < rate) continue;
      ids[b * tb.L + k++] = tb.ids[b * tb.L + l];
    }
    if (k === 0) ids[b * tb.L + k++] = tb.ids[b * tb.L];
    lengths[b] = k;
  }
  return { ...tb, ids, lengths };
}
