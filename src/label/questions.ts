import { dict, own, type Dict } from '../core/dict.ts';
import { UserError } from '../core/errors.ts';
import { canonicalJson } from '../core/json.ts';
import { sha256Hex } from '../core/hash.ts';
import { codePointLength } from '../core/tokens.ts';
import type { ItemRow } from '../store/items.ts';

/**
 * Questions: what a taxonomy version asks about an item. Each has a name and a kind:
 * - `single` / `multi`: one label / any number of labels for the whole item (today's classes);
 * - `spans`: `[start, end)` code-point offsets into the item's text, each with a label;
 * - `boxes`: `x, y, w, h` in the image's source pixels, each with a label;
 * - `segments`: `start, end` in seconds of the audio, each with a label;
 * - `rating`: an integer on the question's scale min..max;
 * - `text`: free text (a transcription, a note).
 * A taxonomy has at most one single/multi question, the "class question": its answers are the
 * `labels` of submits, final labels, gold, suggestions and bulk labels, as before questions
 * existed; a legacy taxonomy `{kind, labels}` is that one question, named `label`.
 * Pure: validation, answer checks against an item, label mapping of answers. Storage is
 * taxonomies.ts; docs/labelling.md ("Questions and kinds") is the user's guide.
 */
export const QUESTION_KINDS = ['single', 'multi', 'spans', 'boxes', 'segments', 'rating', 'text'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
export type ClassKind = 'single' | 'multi';
export const REGION_KINDS = ['spans', 'boxes', 'segments'] as const;
export type RegionKind = (typeof REGION_KINDS)[number];

export interface LabelDef {
  name: string;
  description?: string;
  examples?: string[];
}

export interface Scale {
  min: number;
  max: number;
  /** A name per point of the scale, min first. */
  labels?: string[];
}

export interface Question {
  name: string;
  kind: QuestionKind;
  /** single, multi, spans, boxes, segments. */
  labels?: LabelDef[];
  /** spans, boxes, segments: whether two regions may overlap (default: spans and segments no, boxes yes). */
  overlapping?: boolean;
  /** rating. */
  scale?: Scale;
  /** Which part of a multimodal item the question is about (free text, kept for clients). */
  part?: string;
  /** Must be answered (default true; single/multi questions always are). */
  required: boolean;
}

/** The name a legacy taxonomy's one question gets. */
export const LEGACY_QUESTION = 'label';

export const isClassKind = (k: QuestionKind): k is ClassKind => k === 'single' || k === 'multi';
export const isRegionKind = (k: QuestionKind): k is RegionKind => (REGION_KINDS as readonly string[]).includes(k);
export const hasLabels = (k: QuestionKind) => isClassKind(k) || isRegionKind(k);

export const labelNames = (t: { labels?: readonly LabelDef[] }) => (t.labels ?? []).map((l) => l.name);

/** The class (single/multi) question, if the taxonomy has one. */
export const classQuestion = (t: { questions: readonly Question[] }): (Question & { kind: ClassKind; labels: LabelDef[] }) | undefined =>
  t.questions.find((q) => isClassKind(q.kind)) as (Question & { kind: ClassKind; labels: LabelDef[] }) | undefined;

/** Whether a taxonomy is exactly a legacy one (one single/multi question named `label`). */
export const isLegacy = (t: { questions: readonly Question[] }) => t.questions.length === 1 && isClassKind(t.questions[0].kind) && t.questions[0].name === LEGACY_QUESTION;

export const legacyQuestion = (kind: ClassKind, labels: LabelDef[]): Question => ({ name: LEGACY_QUESTION, kind, labels, required: true });

// ---- Taxonomy questions ------------------------------------------------------------------------

export interface QuestionInput {
  name?: unknown;
  kind?: unknown;
  labels?: unknown;
  overlapping?: unknown;
  scale?: unknown;
  part?: unknown;
  required?: unknown;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const MAX_QUESTIONS = 20;

/** Validates one list of label definitions; `where` prefixes every message (`labels`, `questions[1].labels`). */
export function checkLabelDefs(input: unknown, where: string): LabelDef[] {
  if (!Array.isArray(input) || input.length === 0) throw new UserError(`${where}: expected at least one label`);
  const names = new Set<string>();
  return input.map((l, i): LabelDef => {
    const name = typeof l?.name === 'string' ? l.name.trim() : '';
    if (!name || name.length > 200) throw new UserError(`${where}[${i}].name: expected 1–200 characters`);
    if (names.has(name)) throw new UserError(`${where}[${i}].name: "${name}" appears twice`);
    names.add(name);
    const out: LabelDef = { name };
    if (l.description !== undefined) out.description = String(l.description);
    if (l.examples !== undefined) {
      if (!Array.isArray(l.examples) || l.examples.some((e: unknown) => typeof e !== 'string')) throw new UserError(`${where}[${i}].examples: expected a list of strings`);
      out.examples = [...l.examples];
    }
    return out;
  });
}

/** Validates the questions of a new version (messages name `questions[i].field`). */
export function checkQuestions(input: unknown): Question[] {
  if (!Array.isArray(input) || input.length === 0) throw new UserError('questions: expected at least one question');
  if (input.length > MAX_QUESTIONS) throw new UserError(`questions: at most ${MAX_QUESTIONS} questions, got ${input.length}`);
  const names = new Set<string>();
  const out = (input as QuestionInput[]).map((q, i): Question => {
    const w = `questions[${i}]`;
    if (!q || typeof q !== 'object') throw new UserError(`${w}: expected an object {"name", "kind", …}`);
    if (typeof q.name !== 'string' || !NAME.test(q.name)) throw new UserError(`${w}.name: expected a letter then up to 63 letters, digits, "_" or "-", got ${JSON.stringify(q.name)}`);
    if (names.has(q.name)) throw new UserError(`${w}.name: "${q.name}" appears twice`);
    names.add(q.name);
    if (!(QUESTION_KINDS as readonly unknown[]).includes(q.kind)) throw new UserError(`${w}.kind: expected ${QUESTION_KINDS.join('|')}, got ${JSON.stringify(q.kind)}`);
    const kind = q.kind as QuestionKind;
    const out: Question = { name: q.name, kind, required: true };
    if (hasLabels(kind)) {
      out.labels = checkLabelDefs(q.labels, `${w}.labels`);
      if (kind === 'single' && out.labels.length < 2) throw new UserError(`${w}.labels: a single-label question needs at least two labels to choose from`);
    } else if (q.labels !== undefined) throw new UserError(`${w}.labels: a ${kind} question has no labels`);
    if (isRegionKind(kind)) {
      if (q.overlapping !== undefined && typeof q.overlapping !== 'boolean') throw new UserError(`${w}.overlapping: expected true or false`);
      out.overlapping = (q.overlapping as boolean | undefined) ?? kind === 'boxes';
    } else if (q.overlapping !== undefined) throw new UserError(`${w}.overlapping: only spans, boxes and segments questions have it`);
    if (kind === 'rating') out.scale = checkScale(q.scale, `${w}.scale`);
    else if (q.scale !== undefined) throw new UserError(`${w}.scale: only rating questions have a scale`);
    if (q.part !== undefined) {
      if (typeof q.part !== 'string' || q.part.length === 0 || q.part.length > 200) throw new UserError(`${w}.part: expected 1–200 characters`);
      out.part = q.part;
    }
    if (q.required !== undefined) {
      if (typeof q.required !== 'boolean') throw new UserError(`${w}.required: expected true or false`);
      if (isClassKind(kind) && !q.required) throw new UserError(`${w}.required: a ${kind} question is always required (consensus, gold and suggestions rely on every answer having it)`);
      out.required = q.required;
    }
    return out;
  });
  const classes = out.filter((q) => isClassKind(q.kind));
  if (classes.length > 1) throw new UserError(`questions: at most one single/multi question per taxonomy version, got ${classes.map((q) => `"${q.name}"`).join(', ')} (ask the others as a new project, or combine their labels)`);
  return out;
}

function checkScale(input: unknown, w: string): Scale {
  const s = input as { min?: unknown; max?: unknown; labels?: unknown } | undefined;
  if (!s || typeof s !== 'object') throw new UserError(`${w}: a rating question needs a scale {"min": 1, "max": N}`);
  if (!Number.isInteger(s.min) || (s.min as number) < 0) throw new UserError(`${w}.min: expected an integer ≥ 0, got ${JSON.stringify(s.min)}`);
  if (!Number.isInteger(s.max) || (s.max as number) <= (s.min as number) || (s.max as number) - (s.min as number) > 100) throw new UserError(`${w}.max: expected an integer above min and at most min + 100, got ${JSON.stringify(s.max)}`);
  const out: Scale = { min: s.min as number, max: s.max as number };
  if (s.labels !== undefined) {
    const n = out.max - out.min + 1;
    if (!Array.isArray(s.labels) || s.labels.length !== n || s.labels.some((l) => typeof l !== 'string' || l.length > 200)) throw new UserError(`${w}.labels: expected ${n} names (one per point, ${out.min} first)`);
    out.labels = [...(s.labels as string[])];
  }
  return out;
}

/**
 * What a new version may do to a question of the previous version with the same name: keep its
 * kind (a single-label question may become multi-label, not the reverse) and not narrow a
 * rating scale (stored answers would fall outside it). Dropping a question is allowed: its
 * answers stay on record.
 */
export function checkQuestionChange(prev: Question, next: Question, w: string): void {
  if (prev.kind !== next.kind && !(prev.kind === 'single' && next.kind === 'multi')) {
    if (prev.kind === 'multi' && next.kind === 'single') throw new UserError(`${w}.kind: a multi-label question cannot become single-label (items may hold several labels); create a new project`);
    throw new UserError(`${w}.kind: question "${next.name}" was ${prev.kind} in the previous version and cannot become ${next.kind}: give the new question another name`);
  }
  if (prev.scale && next.scale && (next.scale.min > prev.scale.min || next.scale.max < prev.scale.max)) {
    throw new UserError(`${w}.scale: the scale of "${next.name}" was ${prev.scale.min}..${prev.scale.max}; a new version may widen it, not narrow it (answers already given would fall outside)`);
  }
}

// ---- Answers -----------------------------------------------------------------------------------

export interface SpanValue {
  start: number;
  end: number;
  label: string;
}
export interface BoxValue {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
  /** Predictions only: the model's confidence in (0, 1]. */
  score?: number;
}
export type SegmentValue = SpanValue;
export type AnswerValue = string[] | SpanValue[] | BoxValue[] | number | string;
/** Answers by question name; a question left unanswered is absent. */
export type Answers = Dict<AnswerValue>;

/** What a question's geometry is checked against: the item's text length, image size or audio duration. */
export interface Dimensions {
  /** Text items: the text's length in code points. */
  length?: number;
  /** Image items: source pixels. */
  width?: number;
  height?: number;
  /** Audio items: seconds. */
  duration?: number;
}

const positive = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

/** An item's dimensions, from its text or its metadata (images: width/height; audio: durationSec). */
export function itemDimensions(item: Pick<ItemRow, 'modality' | 'text' | 'meta'>): Dimensions | null {
  if (item.text !== null) return { length: codePointLength(item.text) };
  if (item.modality === 'image') {
    const width = positive(item.meta.width);
    const height = positive(item.meta.height);
    return width && height ? { width, height } : null;
  }
  if (item.modality === 'audio') {
    const duration = positive(item.meta.durationSec);
    return duration ? { duration } : null;
  }
  return null;
}

export interface CheckContext {
  /** Prefix of every message: `body/answers` (submit), `answers` (files). */
  where: string;
  version: number;
  /** The item answered: its text (spans), dimensions, modality and id (messages). */
  item: { id: number; modality: string; text: string | null; dims: Dimensions | null };
  /** Predictions may carry a box `score`. */
  scores?: boolean;
  /** Only the questions given are checked (a prediction may answer some of them). */
  partial?: boolean;
}

const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : JSON.stringify(v) ?? String(v));

/**
 * Checks answers against the questions and the item; returns them normalised (spans and
 * segments in order, unanswered optional questions left out). Every message names the field
 * (`body/answers/entities/2/end`) and what was expected.
 */
export function checkAnswers(questions: readonly Question[], input: unknown, ctx: CheckContext): Answers {
  const w = ctx.where;
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new UserError(`${w}: expected an object {"question name": answer, …}`);
  const given = input as Record<string, unknown>;
  const byName = new Map(questions.map((q) => [q.name, q]));
  for (const k of Object.keys(given)) {
    if (!byName.has(k)) throw new UserError(`${w}/${k}: not a question of taxonomy version ${ctx.version} (${questions.map((q) => q.name).join(', ')})`);
  }
  const out = dict<AnswerValue>();
  for (const q of questions) {
    const v = own(given, q.name);
    const at = `${w}/${q.name}`;
    if (v === undefined || v === null) {
      if (q.required && !ctx.partial) throw new UserError(`${at}: required (a ${q.kind} question${isRegionKind(q.kind) ? '; give [] when there is nothing to mark' : ''})`);
      continue;
    }
    out[q.name] = checkValue(q, v, at, ctx);
  }
  return out;
}

function labelOf(q: Question, v: unknown, at: string, version: number): string {
  const names = labelNames(q);
  if (typeof v !== 'string' || !names.includes(v)) throw new UserError(`${at}: ${describe(v)} is not a label of question "${q.name}" in taxonomy version ${version} (${names.join(', ')})`);
  return v;
}

function closed(o: unknown, keys: readonly string[], optional: readonly string[], at: string): Record<string, unknown> {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new UserError(`${at}: expected an object {${keys.map((k) => `"${k}"`).join(', ')}}`);
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) throw new UserError(`${at}/${k}: unknown field (expected ${[...keys, ...optional].join(', ')})`);
  for (const k of keys) if (!(k in o)) throw new UserError(`${at}/${k}: required`);
  return o as Record<string, unknown>;
}

const MAX_REGIONS = 10000;

function checkValue(q: Question, v: unknown, at: string, ctx: CheckContext): AnswerValue {
  const { item, version } = ctx;
  switch (q.kind) {
    case 'single':
    case 'multi': {
      if (!Array.isArray(v)) throw new UserError(`${at}: expected a list of label names`);
      const labels = v.map((l, i) => labelOf(q, l, `${at}/${i}`, version));
      if (new Set(labels).size !== labels.length) throw new UserError(`${at}: a label appears twice`);
      if (q.kind === 'single' && labels.length !== 1) throw new UserError(`${at}: question "${q.name}" is single-label: give exactly one label, got ${labels.length}`);
      return labels;
    }
    case 'spans': {
      if (item.text === null) throw new UserError(`${at}: a spans question needs a text item; item ${item.id} is ${item.modality}`);
      const len = item.dims?.length ?? codePointLength(item.text);
      const cps = Array.from(item.text);
      const spans = regionList(v, at).map((o, i): SpanValue => {
        const s = closed(o, ['start', 'end', 'label'], [], `${at}/${i}`);
        for (const k of ['start', 'end'] as const) if (!Number.isInteger(s[k]) || (s[k] as number) < 0) throw new UserError(`${at}/${i}/${k}: expected a whole number of code points ≥ 0, got ${describe(s[k])}`);
        const start = s.start as number;
        const end = s.end as number;
        if (end > len) throw new UserError(`${at}/${i}/end: ${end} is past the end of the text (${len} code points; offsets count code points, so an emoji is one)`);
        if (end <= start) throw new UserError(`${at}/${i}/end: expected more than start (${start}), got ${end}`);
        if (cps.slice(start, end).every((c) => /\s/u.test(c))) throw new UserError(`${at}/${i}: the span [${start}, ${end}) covers only white space`);
        return { start, end, label: labelOf(q, s.label, `${at}/${i}/label`, version) };
      });
      return checkOverlaps(q, spans, at, (a, b) => a.start < b.end && b.start < a.end, (s) => `[${s.start}, ${s.end}) ${s.label}`, true);
    }
    case 'segments': {
      if (item.modality !== 'audio') throw new UserError(`${at}: a segments question needs an audio item; item ${item.id} is ${item.modality}`);
      const duration = item.dims?.duration;
      if (duration === undefined) throw new UserError(`${at}: item ${item.id} has no duration in its metadata (durationSec) to check segments against`);
      const segs = regionList(v, at).map((o, i): SegmentValue => {
        const s = closed(o, ['start', 'end', 'label'], [], `${at}/${i}`);
        for (const k of ['start', 'end'] as const) if (typeof s[k] !== 'number' || !Number.isFinite(s[k]) || (s[k] as number) < 0) throw new UserError(`${at}/${i}/${k}: expected seconds ≥ 0, got ${describe(s[k])}`);
        const start = s.start as number;
        const end = s.end as number;
        if (end > duration) throw new UserError(`${at}/${i}/end: ${end} s is past the end of the audio (${duration} s)`);
        if (end <= start) throw new UserError(`${at}/${i}/end: expected more than start (${start}), got ${end}`);
        return { start, end, label: labelOf(q, s.label, `${at}/${i}/label`, version) };
      });
      return checkOverlaps(q, segs, at, (a, b) => a.start < b.end && b.start < a.end, (s) => `[${s.start}, ${s.end}) ${s.label}`, true);
    }
    case 'boxes': {
      if (item.modality !== 'image') throw new UserError(`${at}: a boxes question needs an image item; item ${item.id} is ${item.modality}`);
      const W = item.dims?.width;
      const H = item.dims?.height;
      if (W === undefined || H === undefined) throw new UserError(`${at}: item ${item.id} has no width/height in its metadata to check boxes against`);
      const boxes = regionList(v, at).map((o, i): BoxValue => {
        const b = closed(o, ['x', 'y', 'w', 'h', 'label'], ctx.scores ? ['score'] : [], `${at}/${i}`);
        for (const k of ['x', 'y', 'w', 'h'] as const) if (typeof b[k] !== 'number' || !Number.isFinite(b[k])) throw new UserError(`${at}/${i}/${k}: expected a number of source pixels, got ${describe(b[k])}`);
        const [x, y, bw, bh] = [b.x, b.y, b.w, b.h] as number[];
        if (x < 0) throw new UserError(`${at}/${i}/x: expected ≥ 0, got ${x}`);
        if (y < 0) throw new UserError(`${at}/${i}/y: expected ≥ 0, got ${y}`);
        if (bw <= 0) throw new UserError(`${at}/${i}/w: expected > 0, got ${bw}`);
        if (bh <= 0) throw new UserError(`${at}/${i}/h: expected > 0, got ${bh}`);
        if (x + bw > W) throw new UserError(`${at}/${i}/w: x + w = ${x + bw} is past the image's right edge (width ${W} source pixels)`);
        if (y + bh > H) throw new UserError(`${at}/${i}/h: y + h = ${y + bh} is past the image's bottom edge (height ${H} source pixels)`);
        const out: BoxValue = { x, y, w: bw, h: bh, label: labelOf(q, b.label, `${at}/${i}/label`, version) };
        if (b.score !== undefined) {
          if (typeof b.score !== 'number' || !(b.score > 0 && b.score <= 1)) throw new UserError(`${at}/${i}/score: expected a number in (0, 1], got ${describe(b.score)}`);
          out.score = b.score;
        }
        return out;
      });
      const inter = (a: BoxValue, b: BoxValue) => Math.min(a.x + a.w, b.x + b.w) > Math.max(a.x, b.x) && Math.min(a.y + a.h, b.y + b.h) > Math.max(a.y, b.y);
      return checkOverlaps(q, boxes, at, inter, (b) => `(${b.x}, ${b.y}, ${b.w}, ${b.h}) ${b.label}`, false);
    }
    case 'rating': {
      const s = q.scale!;
      if (!Number.isInteger(v) || (v as number) < s.min || (v as number) > s.max) throw new UserError(`${at}: expected a whole number from ${s.min} to ${s.max}, got ${describe(v)}`);
      return v as number;
    }
    case 'text': {
      if (typeof v !== 'string') throw new UserError(`${at}: expected a string, got ${describe(v)}`);
      if (v.length > 100000) throw new UserError(`${at}: at most 100000 characters, got ${v.length}`);
      if (q.required && !ctx.partial && v.trim() === '') throw new UserError(`${at}: required: expected some text`);
      return v;
    }
  }
}

function regionList(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new UserError(`${at}: expected a list (empty when there is nothing to mark)`);
  if (v.length > MAX_REGIONS) throw new UserError(`${at}: at most ${MAX_REGIONS} regions, got ${v.length}`);
  return v;
}

/** Same regions twice are refused always; overlapping ones unless the question allows them. Spans and segments come back sorted. */
function checkOverlaps<R extends { label: string }>(q: Question, regions: R[], at: string, overlaps: (a: R, b: R) => boolean, show: (r: R) => string, sort: boolean): R[] {
  const idx = regions.map((_, i) => i);
  const key = (r: R) => canonicalJson(r);
  const seen = new Map<string, number>();
  for (const i of idx) {
    const k = key(regions[i]);
    const j = seen.get(k);
    if (j !== undefined) throw new UserError(`${at}/${i}: the same region as ${at}/${j} (${show(regions[i])})`);
    seen.set(k, i);
  }
  if (!q.overlapping) {
    for (let i = 0; i < regions.length; i++) {
      for (let j = 0; j < i; j++) {
        if (overlaps(regions[i], regions[j])) throw new UserError(`${at}/${i}: overlaps ${at}/${j} (${show(regions[i])} and ${show(regions[j])}); question "${q.name}" does not allow overlapping regions`);
      }
    }
  }
  if (!sort) return regions;
  return (regions as unknown as SpanValue[]).sort((a, b) => a.start - b.start || a.end - b.end || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)) as unknown as R[];
}

/** A content hash of answers (canonical JSON), for audit payloads. */
export const answersHash = (a: Answers | null): string | null => (a === null ? null : sha256Hex(canonicalJson(a)));

export const sameAnswer = (a: AnswerValue | undefined, b: AnswerValue | undefined) => {
  if (Array.isArray(a) && Array.isArray(b) && a.every((x) => typeof x === 'string') && b.every((x) => typeof x === 'string')) {
    return a.length === b.length && (a as string[]).every((x) => (b as string[]).includes(x));
  }
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
};

export const sameAnswers = (qs: readonly Question[], a: Answers, b: Answers) => qs.every((q) => sameAnswer(own(a, q.name), own(b, q.name)));

/** Labels an answer uses (labelled kinds), for taxonomy-change checks. */
export function answerLabels(q: Question, v: AnswerValue | undefined): string[] {
  if (v === undefined || !hasLabels(q.kind) || !Array.isArray(v)) return [];
  return isClassKind(q.kind) ? (v as string[]) : (v as Array<{ label: string }>).map((r) => r.label);
}

/**
 * An answer carried through a label mapping (old label → new labels): renamed and merged labels
 * follow it; a region whose label was split cannot be carried (null: a person must choose).
 * Class answers: as mapLabels (duplicates merged).
 */
export function mapAnswer(q: Question, v: AnswerValue, map: ReadonlyMap<string, readonly string[]>): AnswerValue | null {
  if (!hasLabels(q.kind) || !Array.isArray(v)) return v;
  if (isClassKind(q.kind)) {
    const out: string[] = [];
    for (const l of v as string[]) {
      const m = map.get(l) ?? [l];
      if (m.length !== 1) return null;
      if (!out.includes(m[0])) out.push(m[0]);
    }
    return out;
  }
  const out: Array<{ label: string }> = [];
  for (const r of v as Array<{ label: string }>) {
    const m = map.get(r.label) ?? [r.label];
    if (m.length !== 1) return null;
    out.push({ ...r, label: m[0] });
  }
  return out as AnswerValue;
}

/**
 * Stored answers as one object: the JSON answers column (null before migration 013 or for a
 * legacy taxonomy) with the class question's answer taken from its `labels` column, which
 * stays authoritative for it (the class question may have been renamed since).
 */
export function storedAnswers(answersJson: string | null | undefined, labels: readonly string[] | null, className: string | undefined): Answers {
  const out = dict<AnswerValue>();
  if (answersJson) {
    const parsed = JSON.parse(answersJson) as Record<string, AnswerValue>;
    for (const k of Object.keys(parsed)) out[k] = parsed[k];
  }
  if (className !== undefined && labels !== null) out[className] = [...labels];
  return out;
}
