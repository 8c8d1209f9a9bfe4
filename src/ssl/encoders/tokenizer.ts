/**
 * Byte-pair-encoding tokenizer trained on the corpus (Sennrich, Haddow & Birch 2016, "Neural
 * Machine Translation of Rare Words with Subword Units").
 *
 * Normalisation: Unicode NFKC, optionally lower-cased. Pre-tokenisation: runs of letters, runs
 * of digits, and single other non-space characters; a word that follows whitespace (or starts
 * the text) begins with the marker `▁` (as in SentencePiece), so "free" and "▁free" differ.
 * Training starts from the characters seen at least `minFrequency` times (others become
 * `[UNK]`) and repeatedly merges the most frequent adjacent pair (ties: the pair whose ids are
 * smallest, so training is deterministic) until `vocabSize` or no pair occurs `minFrequency`
 * times. Encoding applies the merges by rank, as in training.
 */

export const PAD = 0;
export const UNK = 1;
export const MASK = 2;
const SPECIALS = ['[PAD]', '[UNK]', '[MASK]'];
const MARK = '▁';
const WORD = /\s+|\p{L}+|\p{N}+|[^\s\p{L}\p{N}]/gu;

export interface TokenizerJSON {
  kind: 'bpe';
  lowercase: boolean;
  /** id → piece; ids 0–2 are [PAD], [UNK], [MASK]. */
  vocab: string[];
  /** Merges in rank order, as pairs of piece ids. */
  merges: Array<[number, number]>;
}

function normalise(text: string, lowercase: boolean): string {
  const t = text.normalize('NFKC');
  return lowercase ? t.toLowerCase() : t;
}

/** Pre-tokenised words (with the word-start marker). */
function words(text: string): string[] {
  const out: string[] = [];
  let space = true;
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    if (/^\s/u.test(w)) {
      space = true;
      continue;
    }
    out.push(space ? MARK + w : w);
    space = false;
  }
  return out;
}

const KEY = 1 << 20;

export class BpeTokenizer {
  private readonly pieceId = new Map<string, number>();
  private readonly rank = new Map<number, { rank: number; id: number }>();
  private readonly cache = new Map<string, number[]>();

  private constructor(
    readonly vocab: string[],
    readonly merges: Array<[number, number]>,
    readonly lowercase: boolean,
  ) {
    vocab.forEach((p, i) => this.pieceId.set(p, i));
    merges.forEach(([a, b], r) => this.rank.set(a * KEY + b, { rank: r, id: this.pieceId.get(vocab[a] + vocab[b])! }));
  }

  get size(): number {
    return this.vocab.length;
  }

  static train(texts: string[], opts: { vocabSize: number; minFrequency?: number; lowercase?: boolean }): BpeTokenizer {
    const lowercase = opts.lowercase ?? true;
    const minFreq = Math.max(1, opts.minFrequency ?? 2);
    if (opts.vocabSize >= KEY) throw new Error(`vocabSize must be < ${KEY}`);
    const wordCount = new Map<string, number>();
    for (const t of texts) for (const w of words(normalise(t, lowercase))) wordCount.set(w, (wordCount.get(w) ?? 0) + 1);
    const charCount = new Map<string, number>();
    for (const [w, c] of wordCount) for (const ch of w) charCount.set(ch, (charCount.get(ch) ?? 0) + c);
    const vocab = [...SPECIALS];
    const chars = [...charCount].filter(([, c]) => c >= minFreq).map(([ch]) => ch).sort();
    const id = new Map<string, number>();
    for (const ch of chars) {
      id.set(ch, vocab.length);
      vocab.push(ch);
    }
    // Words as symbol arrays (sorted for determinism independent of Map order).
    const ws = [...wordCount].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const syms: number[][] = ws.map(([w]) => [...w].map((ch) => id.get(ch) ?? UNK));
    const counts = ws.map(([, c]) => c);
    const pairCount = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    const addWord = (wi: number, sign: 1 | -1) => {
      const s = syms[wi];
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === UNK || s[i + 1] === UNK) continue;
        const k = s[i] * KEY + s[i + 1];
        const c = (pairCount.get(k) ?? 0) + sign * counts[wi];
        if (c > 0) pairCount.set(k, c);
        else pairCount.delete(k);
        if (sign > 0) {
          let set = where.get(k);
          if (!set) where.set(k, (set = new Set()));
          set.add(wi);
        }
      }
    };
    for (let wi = 0; wi < syms.length; wi++) addWord(wi, 1);
    const merges: Array<[number, number]> = [];
    while (vocab.length < opts.vocabSize) {
      let best = -1;
      let bestCount = minFreq - 1;
      for (const [k, c] of pairCount) {
        if (c > bestCount || (c === bestCount && c >= minFreq && k < best)) {
          best = k;
          bestCount = c;
        }
      }
      if (best < 0) break;
      const a = Math.floor(best / KEY);
      const b = best % KEY;
      const nid = vocab.length;
      vocab.push(vocab[a] + vocab[b]);
      merges.push([a, b]);
      const affected = [...(where.get(best) ?? [])];
      where.delete(best);
      for (const wi of affected) {
        addWord(wi, -1);
        const s = syms[wi];
        const out: number[] = [];
        for (let i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
            out.push(nid);
            i++;
          } else out.push(s[i]);
        }
        syms[wi] = out;
        addWord(wi, 1);
      }
      pairCount.delete(best);
    }
    return new BpeTokenizer(vocab, merges, lowercase);
  }

  static fromJSON(j: TokenizerJSON): BpeTokenizer {
    if (j.kind !== 'bpe' || !Array.isArray(j.vocab) || !Array.isArray(j.merges)) throw new Error('not a BPE tokenizer description');
    return new BpeTokenizer(j.vocab, j.merges, j.lowercase);
  }

  toJSON(): TokenizerJSON {
    return { kind: 'bpe', lowercase: this.lowercase, vocab: this.vocab, merges: this.merges };
  }

  private encodeWord(w: string): number[] {
    const hit = this.cache.get(w);
    if (hit) return hit;
    let s = [...w].map((ch) => this.pieceId.get(ch) ?? UNK);
    for (;;) {
      let bestRank = Infinity;
      let bestAt = -1;
      for (let i = 0; i + 1 < s.length; i++) {
        const r = this.rank.get(s[i] * KEY + s[i + 1]);
        if (r && r.rank < bestRank) {
          bestRank = r.rank;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      const [a, b] = this.merges[bestRank];
      const nid = this.rank.get(a * KEY + b)!.id;
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(nid);
          i++;
        } else out.push(s[i]);
      }
      s = out;
    }
    // Collapse runs of [UNK] (one per unknown character otherwise).
    s = s.filter((x, i) => !(x === UNK && s[i - 1] === UNK));
    if (this.cache.size > 200_000) this.cache.clear();
    this.cache.set(w, s);
    return s;
  }

  /** Token ids of `text`, at most `maxLen` (longer texts are truncated). */
  encode(text: string, maxLen = Infinity): number[] {
    const out: number[] = [];
    for (const w of words(normalise(text, this.lowercase))) {
      for (const t of this.encodeWord(w)) {
        if (out.length >= maxLen) return out;
        out.push(t);
      }
    }
    return out;
  }

  decode(ids: number[]): string {
    return ids.map((i) => this.vocab[i] ?? '[UNK]').join('').replaceAll(MARK, ' ').trim();
  }
}
