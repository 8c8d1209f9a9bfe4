import type { Token } from '../core/tokens.ts';
import { cohenKappa } from './agreement/cohen.ts';
import { fleissKappa } from './agreement/fleiss.ts';
import { byCodeUnit } from './encode.ts';
import { intervalAgreement, type Interval, type IntervalAgreement } from './intervals.ts';
import { byItem, type RegionAnswer } from './regions.ts';
import type { Answer, ConsensusResult } from './types.ts';

/**
 * Text spans: `[start, end)` code-point offsets into an item's text with a label (named
 * entities, evidence, PII…). Tokens come from src/core/tokens.ts.
 *
 * Agreement
 * - Pairwise F1 between annotators, exact (same start, end, label) and overlap (same label,
 *   overlapping, optimal one-to-one matching): Hripcsak & Rothschild 2005 (intervals.ts). F1 is
 *   the measure to use for spans because κ needs a count of negatives, which spans lack.
 * - Token-level κ over BIO tags (IOB2: Ramshaw & Marcus 1995; Tjong Kim Sang & Veenstra 1999):
 *   each token of an item is tagged `B-L` (first token of a span labelled L), `I-L` (inside) or
 *   `O`; then Cohen's κ (Cohen 1960; two annotators, over the tokens of the items both
 *   annotated) and Fleiss' κ (Fleiss 1971; every annotator, missing ratings allowed) treat every
 *   token as a unit and every tag as a category. Being dominated by `O`, token κ reads higher
 *   than span F1 on sparse annotations (Brandsen et al. 2020, "Creating a dataset for named entity
 *   recognition in the archaeology domain", LREC); report both.
 *
 * Layers: a question that allows overlapping spans is tagged one label at a time (a layer per
 * label, tags B/I/O of that label), since one BIO sequence cannot hold two spans on a token; a
 * question without overlaps has one layer over all its labels. Within a layer, a token a span
 * touches belongs to the span that starts first.
 *
 * Consensus: every (item, layer, token) is one question answered by each annotator with a tag,
 * aggregated by the project's method (majority vote, Dawid-Skene, …: `aggregate`), and the
 * decided tags are decoded back to spans (a span starts at `B-L`, or at `I-L` after a tag that
 * does not continue L). A decoded span ends on token boundaries; where annotators drew that same
 * token range with the same label, it takes the offsets most of them used (ties: the earliest
 * start, then the earliest end), so consensus keeps boundaries inside a token that people drew.
 * When every annotator gave the same spans, consensus is exactly those spans.
 */
export type Span = Interval;

export const OUTSIDE = 'O';

/** Label groups tagged together: one over all labels, or one per label when spans may overlap. */
export const spanLayers = (labels: readonly string[], overlapping: boolean): string[][] => (overlapping ? labels.map((l) => [l]) : [[...labels]]);

/** Tags of a set of labels: O, then B-L and I-L for each label. */
export const tagSet = (labels: readonly string[]): string[] => [OUTSIDE, ...labels.flatMap((l) => [`B-${l}`, `I-${l}`])];

/** Indices of the first and last token a span touches, or null when it touches none. */
export function tokenRange(tokens: readonly Token[], s: { start: number; end: number }): [number, number] | null {
  let first = -1;
  let last = -1;
  for (let t = 0; t < tokens.length; t++) {
    if (tokens[t].end > s.start && tokens[t].start < s.end) {
      if (first < 0) first = t;
      last = t;
    }
  }
  return first < 0 ? null : [first, last];
}

/** BIO tags of one layer (the spans whose label is in `layer`). */
export function bioTags(tokens: readonly Token[], spans: readonly Span[], layer: readonly string[]): string[] {
  const tags = new Array<string>(tokens.length).fill(OUTSIDE);
  const taken = new Uint8Array(tokens.length);
  const mine = spans.filter((s) => layer.includes(s.label)).sort((a, b) => a.start - b.start || a.end - b.end || byCodeUnit(a.label, b.label));
  for (const s of mine) {
    const r = tokenRange(tokens, s);
    if (!r) continue;
    let first = true;
    for (let t = r[0]; t <= r[1]; t++) {
      if (taken[t]) continue;
      tags[t] = `${first ? 'B' : 'I'}-${s.label}`;
      taken[t] = 1;
      first = false;
    }
  }
  return tags;
}

/** BIO tags back to spans on token boundaries (an `I-L` that does not continue L starts a span). */
export function decodeBio(tokens: readonly Token[], tags: readonly string[]): Span[] {
  const out: Span[] = [];
  let open: { label: string; first: number; last: number } | null = null;
  const close = () => {
    if (open) out.push({ start: tokens[open.first].start, end: tokens[open.last].end, label: open.label });
    open = null;
  };
  tags.forEach((tag, t) => {
    if (tag === OUTSIDE) return close();
    const kind = tag.slice(0, 2);
    const label = tag.slice(2);
    if (kind === 'I-' && open && open.label === label && open.last === t - 1) open.last = t;
    else {
      close();
      open = { label, first: t, last: t };
    }
  });
  close();
  return out;
}

/** A multiset key of a span list, for "did everyone give the same spans". */
const spanKey = (spans: readonly Span[]) => spans.map((s) => `${s.start}:${s.end}:${s.label}`).sort(byCodeUnit).join('|');

export interface SpanItem {
  item: string;
  tokens: readonly Token[];
  answers: ReadonlyArray<{ annotator: string; spans: readonly Span[] }>;
}

export interface TokenKappa {
  /** Tokens (units) counted, over every layer. */
  tokens: number;
  /** Cohen's κ when exactly two annotators; else null. */
  cohen: number | null;
  fleiss: number | null;
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/** Token-level κ over BIO tags (units: each layer's tokens of each item). */
export function tokenKappa(items: readonly SpanItem[], layers: readonly (readonly string[])[]): TokenKappa {
  const annotators = [...new Set(items.flatMap((i) => i.answers.map((a) => a.annotator)))].sort(byCodeUnit);
  const col = new Map(annotators.map((a, k) => [a, k]));
  const matrix: (string | null)[][] = [];
  for (const it of items) {
    const tagsBy = new Map<string, string[][]>();
    for (const a of it.answers) tagsBy.set(a.annotator, layers.map((l) => bioTags(it.tokens, a.spans, l)));
    layers.forEach((_, li) => {
      for (let t = 0; t < it.tokens.length; t++) {
        const row = new Array<string | null>(annotators.length).fill(null);
        for (const [a, tags] of tagsBy) row[col.get(a)!] = tags[li][t];
        matrix.push(row);
      }
    });
  }
  const rated = matrix.filter((r) => r.filter((v) => v !== null).length >= 2);
  const cohen = annotators.length === 2 && rated.length > 0 ? finiteOrNull(cohenKappa(rated.map((r) => r[0]), rated.map((r) => r[1])).value) : null;
  const fleiss = rated.length > 0 ? finiteOrNull(fleissKappa(rated).value) : null;
  return { tokens: rated.length, cohen, fleiss };
}

export interface SpanAgreement extends IntervalAgreement {
  tokenKappa: TokenKappa;
}

export function spanAgreement(items: readonly SpanItem[], layers: readonly (readonly string[])[]): SpanAgreement {
  const regions: RegionAnswer<Span>[] = items.flatMap((i) => i.answers.map((a) => ({ item: i.item, annotator: a.annotator, regions: a.spans })));
  return { ...intervalAgreement(regions), tokenKappa: tokenKappa(items, layers) };
}

export interface SpanConsensus {
  spans: Span[];
  /** The least confident token decision (its posterior or vote share). */
  confidence: number;
  /** Every annotator gave the same spans. */
  unanimous: boolean;
  /** Tokens left tied (decoded as O). */
  unresolvedTokens: number;
}

/** Token-answer item key: item, layer and token index. */
const tokenKey = (item: string, layer: number, t: number) => `${item}\u001f${layer}\u001f${t}`;

/**
 * Span consensus for every item in `items` by a token-level vote. `aggregate` runs the
 * project's method over token answers (item = one token of one layer) with the label set
 * `tagSet(labels)`; a method that learns annotators (Dawid-Skene) should be given every item of
 * the project, so it learns from all of them.
 */
export function spanConsensus(
  items: readonly SpanItem[],
  labels: readonly string[],
  overlapping: boolean,
  aggregate: (answers: readonly Answer[], labelSet: readonly string[]) => ConsensusResult,
): Map<string, SpanConsensus> {
  const layers = spanLayers(labels, overlapping);
  const answers: Answer[] = [];
  for (const it of items) {
    for (const a of it.answers) {
      layers.forEach((l, li) => bioTags(it.tokens, a.spans, l).forEach((tag, t) => answers.push({ item: tokenKey(it.item, li, t), annotator: a.annotator, label: tag })));
    }
  }
  const r = answers.length ? aggregate(answers, tagSet(labels)) : null;
  const out = new Map<string, SpanConsensus>();
  for (const it of items) {
    let confidence = 1;
    let unresolved = 0;
    const spans: Span[] = [];
    layers.forEach((_, li) => {
      const tags = it.tokens.map((_, t) => {
        const key = tokenKey(it.item, li, t);
        const c = r?.confidence.get(key);
        if (c !== undefined) confidence = Math.min(confidence, c);
        const tag = r?.labels.get(key);
        if (tag === null) unresolved++;
        return tag ?? OUTSIDE;
      });
      for (const s of decodeBio(it.tokens, tags)) spans.push(snap(it, s));
    });
    const keys = it.answers.map((a) => spanKey(a.spans));
    const unanimous = it.answers.length > 0 && keys.every((k) => k === keys[0]);
    out.set(it.item, { spans: sortSpans(unanimous ? [...it.answers[0].spans] : spans), confidence, unanimous, unresolvedTokens: unresolved });
  }
  return out;
}

export const sortSpans = <S extends Span>(spans: S[]): S[] => spans.sort((a, b) => a.start - b.start || a.end - b.end || byCodeUnit(a.label, b.label));

/** A decoded span takes the offsets most annotators used for that token range and label. */
function snap(it: SpanItem, s: Span): Span {
  const range = tokenRange(it.tokens, s)!;
  const counts = new Map<string, { start: number; end: number; n: number }>();
  for (const a of it.answers) {
    for (const x of a.spans) {
      if (x.label !== s.label) continue;
      const r = tokenRange(it.tokens, x);
      if (!r || r[0] !== range[0] || r[1] !== range[1]) continue;
      const k = `${x.start}:${x.end}`;
      const c = counts.get(k) ?? { start: x.start, end: x.end, n: 0 };
      c.n++;
      counts.set(k, c);
    }
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n || a.start - b.start || a.end - b.end)[0];
  return best ? { start: best.start, end: best.end, label: s.label } : s;
}

/** item → annotator → spans, from CSV-like rows (used by the file CLI). */
export const spansByItem = (answers: readonly RegionAnswer<Span>[]) => byItem(answers);
