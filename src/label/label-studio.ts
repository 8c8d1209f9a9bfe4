import { dict, own } from '../core/dict.ts';
import { UserError } from '../core/errors.ts';
import { sliceCodePoints } from '../core/tokens.ts';
import { isClassKind, itemDimensions, type Answers, type BoxValue, type Question, type SpanValue } from './questions.ts';

/**
 * Answers ↔ Label Studio results, one result type per question kind (the names Label Studio's
 * labelling config tags give them; `from_name` is the question's name, `to_name` the object tag,
 * always `item`):
 * - single / multi → `choices` `{"choices": [...]}`;
 * - spans → one `labels` result per span `{"start", "end", "text", "labels": [label]}`, offsets in
 *   code points (as Label Studio stores them since it fixed emoji offsets);
 * - boxes → one `rectanglelabels` result per box `{"x", "y", "width", "height", "rotation": 0,
 *   "rectanglelabels": [label]}` in percent of the image, with `original_width`/`original_height`
 *   in pixels beside the value (Label Studio's convention); read back to pixels rounded to 1e-6;
 * - segments → one `labels` result per segment `{"start", "end", "channel": 0, "labels": [label]}`
 *   in seconds (the `<Labels>` of an `<Audio>` tag);
 * - rating → `rating` `{"rating": n}`; text → `textarea` `{"text": ["..."]}`.
 * docs/export.md shows the labelling config these results fit.
 */
export interface LabelStudioResult {
  id?: string;
  from_name: string;
  to_name: string;
  type: string;
  value: Record<string, unknown>;
  original_width?: number;
  original_height?: number;
  image_rotation?: number;
  /** Predictions: a region's confidence. */
  score?: number;
  meta?: Record<string, unknown>;
}

export const LS_TO = 'item';

export interface LsItem {
  modality: string;
  text: string | null;
  meta: Record<string, unknown>;
}

const pct = (v: number, of: number) => (100 * v) / of;
const px = (v: number, of: number) => Math.round(((v * of) / 100) * 1e6) / 1e6;

/** Every answered question as Label Studio results, in question order. */
export function toLabelStudio(questions: readonly Question[], answers: Answers, item: LsItem): LabelStudioResult[] {
  const out: LabelStudioResult[] = [];
  const dims = itemDimensions({ modality: item.modality as never, text: item.text, meta: item.meta });
  for (const q of questions) {
    const v = own(answers, q.name);
    if (v === undefined) continue;
    const base = { from_name: q.name, to_name: LS_TO };
    switch (q.kind) {
      case 'single':
      case 'multi':
        out.push({ ...base, type: 'choices', value: { choices: v as string[] }, ...(q.kind === 'multi' ? { meta: { multiple: true } } : {}) });
        break;
      case 'spans':
        (v as SpanValue[]).forEach((s, i) => out.push({ id: `${q.name}-${i}`, ...base, type: 'labels', value: { start: s.start, end: s.end, text: sliceCodePoints(item.text ?? '', s.start, s.end), labels: [s.label] } }));
        break;
      case 'segments':
        (v as SpanValue[]).forEach((s, i) => out.push({ id: `${q.name}-${i}`, ...base, type: 'labels', value: { start: s.start, end: s.end, channel: 0, labels: [s.label] } }));
        break;
      case 'boxes': {
        const W = dims?.width ?? 1;
        const H = dims?.height ?? 1;
        (v as BoxValue[]).forEach((b, i) =>
          out.push({
            id: `${q.name}-${i}`,
            ...base,
            type: 'rectanglelabels',
            original_width: W,
            original_height: H,
            image_rotation: 0,
            value: { x: pct(b.x, W), y: pct(b.y, H), width: pct(b.w, W), height: pct(b.h, H), rotation: 0, rectanglelabels: [b.label] },
            ...(b.score !== undefined ? { score: b.score } : {}),
          }),
        );
        break;
      }
      case 'rating':
        out.push({ ...base, type: 'rating', value: { rating: v as number } });
        break;
      case 'text':
        out.push({ ...base, type: 'textarea', value: { text: [v as string] } });
        break;
    }
  }
  return out;
}

/** What each question kind reads from a result: its `type` and the value key holding the label(s). */
const TYPES: Record<Question['kind'], { types: string[]; labelsKey?: string }> = {
  single: { types: ['choices'], labelsKey: 'choices' },
  multi: { types: ['choices'], labelsKey: 'choices' },
  spans: { types: ['labels', 'hypertextlabels'], labelsKey: 'labels' },
  segments: { types: ['labels'], labelsKey: 'labels' },
  boxes: { types: ['rectanglelabels'], labelsKey: 'rectanglelabels' },
  rating: { types: ['rating'] },
  text: { types: ['textarea'] },
};

/**
 * Label Studio results → raw answers by question (checked afterwards with questions.ts
 * checkAnswers against the item). A result whose `from_name` is not a question, or whose type
 * does not fit the question's kind, is an error naming `where`. Relation results (`type:
 * "relation"`) are skipped. Boxes need `original_width`/`original_height` or the item's size.
 */
export function fromLabelStudio(questions: readonly Question[], results: unknown, item: LsItem, where: string): Record<string, unknown> {
  if (!Array.isArray(results)) throw new UserError(`${where}: expected a list of results`);
  const byName = new Map(questions.map((q) => [q.name, q]));
  const out = dict<unknown>();
  const dims = itemDimensions({ modality: item.modality as never, text: item.text, meta: item.meta });
  results.forEach((r, i) => {
    const w = `${where}[${i}]`;
    if (!r || typeof r !== 'object') throw new UserError(`${w}: expected a result object`);
    const res = r as Record<string, unknown>;
    if (res.type === 'relation') return;
    const q = typeof res.from_name === 'string' ? byName.get(res.from_name) : undefined;
    if (!q) throw new UserError(`${w}.from_name: ${JSON.stringify(res.from_name)} is not a question of this taxonomy (${questions.map((x) => x.name).join(', ')})`);
    const spec = TYPES[q.kind];
    if (typeof res.type !== 'string' || !spec.types.includes(res.type)) throw new UserError(`${w}.type: question "${q.name}" is ${q.kind}: expected a ${spec.types.join(' or ')} result, got ${JSON.stringify(res.type)}`);
    const value = res.value as Record<string, unknown> | undefined;
    if (!value || typeof value !== 'object') throw new UserError(`${w}.value: expected an object`);
    const one = (): string => {
      const l = value[spec.labelsKey!];
      if (!Array.isArray(l) || l.length !== 1) throw new UserError(`${w}.value.${spec.labelsKey}: expected exactly one label, got ${JSON.stringify(l)}`);
      return l[0] as string;
    };
    const list = () => (out[q.name] as unknown[] | undefined) ?? (out[q.name] = []);
    if (isClassKind(q.kind)) {
      if (out[q.name] !== undefined) throw new UserError(`${w}: a second choices result for question "${q.name}"`);
      out[q.name] = value.choices;
    } else if (q.kind === 'spans' || q.kind === 'segments') {
      (list() as unknown[]).push({ start: value.start, end: value.end, label: one() });
    } else if (q.kind === 'boxes') {
      const W = typeof res.original_width === 'number' ? res.original_width : dims?.width;
      const H = typeof res.original_height === 'number' ? res.original_height : dims?.height;
      if (!W || !H) throw new UserError(`${w}: a rectanglelabels result needs original_width/original_height (or an item with a known size)`);
      if (value.rotation !== undefined && value.rotation !== 0) throw new UserError(`${w}.value.rotation: rotated boxes are not supported (got ${JSON.stringify(value.rotation)})`);
      const n = (k: string) => {
        if (typeof value[k] !== 'number') throw new UserError(`${w}.value.${k}: expected a number (percent)`);
        return value[k] as number;
      };
      const box: Record<string, unknown> = { x: px(n('x'), W), y: px(n('y'), H), w: px(n('width'), W), h: px(n('height'), H), label: one() };
      if (typeof res.score === 'number') box.score = res.score;
      (list() as unknown[]).push(box);
    } else if (q.kind === 'rating') out[q.name] = value.rating;
    else if (q.kind === 'text') {
      const t = value.text;
      out[q.name] = Array.isArray(t) ? t.join('\n') : t;
    }
  });
  // Label Studio has no result for "nothing to mark": a region question without results is [].
  for (const q of questions) if ((q.kind === 'spans' || q.kind === 'boxes' || q.kind === 'segments') && out[q.name] === undefined) out[q.name] = [];
  return out;
}
