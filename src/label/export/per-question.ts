import { UserError } from '../../core/errors.ts';
import { bioTags, spanLayers } from '../../consensus/spans.ts';
import { own } from '../../core/dict.ts';
import { sliceCodePoints, tokenise, TOKENISATION } from '../../core/tokens.ts';
import type { FinalLabelRow } from '../results.ts';
import { itemDimensions, labelNames, type BoxValue, type Question, type SpanValue } from '../questions.ts';
import { contentUrl, type Row } from './rows.ts';

/** The formats of one question: its spans as CoNLL (IOB2) or JSONL offsets, its boxes as COCO. */

/** The one question of `kind` a per-question format exports: the named one, or the only one. */
export function pickQuestion(questions: readonly Question[], kind: Question['kind'], fmt: string, name?: string): Question {
  const of = questions.filter((q) => q.kind === kind);
  if (name !== undefined) {
    const q = of.find((x) => x.name === name);
    if (!q) {
      const known = of.map((x) => x.name).join(', ') || `it has no ${kind} question`;
      throw new UserError(`question: "${name}" is not a ${kind} question of this taxonomy (${known})`);
    }
    return q;
  }
  if (of.length === 1) return of[0];
  throw new UserError(
    of.length === 0
      ? `format ${fmt} exports a ${kind} question and this taxonomy has none`
      : `format ${fmt}: name the ${kind} question to export (question=${of.map((x) => x.name).join('|')})`,
  );
}

const finalOf = (l: FinalLabelRow, q: Question) => own(l.answers ?? {}, q.name);

/**
 * CoNLL (IOB2): per decided text item, `# item = ID` and `# source_key = KEY` comment lines, one
 * `token<TAB>tag` line per token, a blank line after the item. Tokenisation (src/core/tokens.ts)
 * is stated in the first line. A question that allows overlapping spans cannot be written as one
 * tag column: refused (use spans-jsonl).
 */
export async function* conllChunks(pages: AsyncIterable<Row[]>, projectName: string, q: Question): AsyncGenerator<string> {
  yield `# tessera CoNLL export of project ${projectName}, question ${q.name}; tags: IOB2 (B-label, I-label, O); ${TOKENISATION}\n\n`;
  const layer = spanLayers(labelNames(q), false)[0];
  for await (const rows of pages) {
    let out = '';
    for (const { label: l, item } of rows) {
      const spans = finalOf(l, q) as SpanValue[] | undefined;
      if (!spans || item.text === null) continue;
      const tokens = tokenise(item.text);
      const tags = bioTags(tokens, spans, layer);
      out += `# item = ${l.itemId}\n# source_key = ${l.sourceKey.replace(/[\r\n]/g, ' ')}\n` + tokens.map((t, k) => `${t.text}\t${tags[k]}\n`).join('') + '\n';
    }
    yield out;
  }
}

/** One JSON object per decided text item: its text and the question's spans with their text (code-point offsets). */
export async function* spansJsonlChunks(pages: AsyncIterable<Row[]>, projectName: string, q: Question): AsyncGenerator<string> {
  for await (const rows of pages) {
    let out = '';
    for (const { label: l, item } of rows) {
      const spans = finalOf(l, q) as SpanValue[] | undefined;
      if (!spans || item.text === null) continue;
      const text = item.text;
      out +=
        JSON.stringify({
          project: projectName,
          item: l.itemId,
          sourceKey: l.sourceKey,
          question: q.name,
          offsets: 'codepoints',
          text,
          spans: spans.map((s) => ({ start: s.start, end: s.end, label: s.label, text: sliceCodePoints(text, s.start, s.end) })),
        }) + '\n';
    }
    yield out;
  }
}

/**
 * COCO object detection JSON (Lin et al. 2014; cocodataset.org "Data format"): `images` (id = the
 * item id, file_name = its content URL, width, height), `annotations` (bbox [x, y, w, h] in
 * pixels, area, iscrowd 0, category_id), `categories` (the question's labels, ids from 1 in
 * taxonomy order). Streamed in two passes over the decided items (images, then annotations).
 */
export async function* cocoChunks(pages: () => AsyncIterable<Row[]>, projectName: string, q: Question): AsyncGenerator<string> {
  const names = labelNames(q);
  const info = { description: `tessera export of project ${projectName}, question ${q.name}`, version: '1.0', date_created: new Date().toISOString() };
  const categories = names.map((name, k) => ({ id: k + 1, name, supercategory: q.name }));
  yield `{"info":${JSON.stringify(info)},"licenses":[],"categories":${JSON.stringify(categories)},"images":[`;
  let first = true;
  for await (const rows of pages()) {
    let out = '';
    for (const { label: l, item } of rows) {
      const dims = itemDimensions(item);
      if (finalOf(l, q) === undefined || !dims?.width) continue;
      const image = { id: l.itemId, file_name: contentUrl(projectName, l.itemId), width: dims.width, height: dims.height, tessera_source_key: l.sourceKey };
      out += (first ? '\n' : ',\n') + JSON.stringify(image);
      first = false;
    }
    yield out;
  }
  yield '],"annotations":[';
  first = true;
  let id = 0;
  for await (const rows of pages()) {
    let out = '';
    for (const { label: l } of rows) {
      for (const b of (finalOf(l, q) as BoxValue[] | undefined) ?? []) {
        const box = { id: ++id, image_id: l.itemId, category_id: names.indexOf(b.label) + 1, bbox: [b.x, b.y, b.w, b.h], area: b.w * b.h, iscrowd: 0 };
        out += (first ? '\n' : ',\n') + JSON.stringify(box);
        first = false;
      }
    }
    yield out;
  }
  yield '\n]}\n';
}
