import { UserError } from '../core/errors.ts';
import { exportAllowed, refusalPayload, residencyPolicy } from '../audit/residency.ts';
import type { Modality } from '../core/modality.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor } from '../store/context.ts';
import { finalLabelOf, type FinalLabelRow } from './results.ts';
import { currentTaxonomy } from './taxonomies.ts';
import { bioTags, spanLayers } from '../consensus/spans.ts';
import { own } from '../core/dict.ts';
import { sliceCodePoints, tokenise, TOKENISATION } from '../core/tokens.ts';
import { toLabelStudio } from './label-studio.ts';
import { classQuestion, isLegacy, itemDimensions, labelNames, storedAnswers, type Answers, type BoxValue, type Question, type SpanValue } from './questions.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Export of final labels with provenance: JSONL (one decided item per line, full provenance),
 * CSV (one row per item, provenance summarised in columns), Label Studio JSON (tasks with each
 * annotation as a Label Studio annotation and the final label as the ground-truth one).
 * With `content: 'include'` (the default) JSONL and CSV also carry what was labelled, so training
 * data needs no join: the text (text items), the row values (tabular), a content reference (image,
 * audio: the API content URL and MIME type beside the sha256), and the item's metadata. Fields
 * are only ever added: JSONL keys after the existing ones, CSV columns after the existing ones;
 * `content: 'none'` gives the labels-and-provenance file alone. docs/export.md is the user's guide.
 * CSV cells that a spreadsheet would run as a formula are neutralised (see `spreadsheetSafe`);
 * JSONL and Label Studio JSON are exact.
 * An export is audit-logged (who took which labels out, how many, in which format, with content or not).
 * Residency: items tagged for a region the project does not export to are left out, and the
 * refusal is audit-logged (`residency.refused`) in the same transaction (src/audit/residency.ts).
 *
 * Streaming (issue #8, 1,000,000 items): `openExport` writes the audit events in one short
 * transaction (counts come from one aggregate query), then `chunks()` reads the decided items
 * a keyset page at a time (label_items_status_item index, no transaction held open) and yields
 * one string per page; nothing holds more than one page. The HTTP route and the CLI pull it with
 * backpressure. Labels decided while a long export runs may or may not be in it; the audit event
 * counts the items decided when it started.
 */
export const EXPORT_FORMATS = ['jsonl', 'csv', 'label-studio', 'conll', 'spans-jsonl', 'coco'] as const;
/** Formats of one question: spans (CoNLL/BIO, JSONL offsets) or boxes (COCO). */
const QUESTION_FORMATS: Partial<Record<ExportFormat, Question['kind']>> = { conll: 'spans', 'spans-jsonl': 'spans', coco: 'boxes' };
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Whether JSONL and CSV carry the items' content and metadata (`include`) or labels alone (`none`). */
export const EXPORT_CONTENT = ['include', 'none'] as const;
export type ExportContent = (typeof EXPORT_CONTENT)[number];

export interface ExportHead {
  format: ExportFormat;
  content: ExportContent;
  contentType: string;
  /** Items decided (and exportable) when the export started: what the audit event records. */
  items: number;
  /** Items withheld by the residency policy (tagged for a region the project does not export to); audit-logged. */
  refused?: { items: number; regions: Record<string, number> };
}

export interface ExportStream extends ExportHead {
  /** The file, one chunk per page of items (the last chunk closes it). Pull it once. */
  chunks(): AsyncGenerator<string, void, undefined>;
}

export interface ExportResult extends ExportHead {
  body: string;
}

interface ExportItem {
  id: number;
  modality: Modality;
  text: string | null;
  values: Record<string, unknown> | null;
  sha256: string;
  residency: string;
  meta: Record<string, unknown>;
  /** MIME type of the stored bytes (image, audio); null for text and tabular items. */
  mime: string | null;
}

interface Row {
  label: FinalLabelRow;
  item: ExportItem;
}

type Annot = { id: number; annotator: string; labels: string[]; answers?: Answers; at: string; timeMs: number; taxonomyVersion: number; suggestion: unknown };

const annotationsOf = (r: FinalLabelRow): Annot[] => ((r.provenance?.annotations as Annot[] | undefined) ?? []);
const reviewOf = (r: FinalLabelRow) => (r.provenance?.review as { id: number; reviewer: string; decision: string; note: string | null; reason: string; at: string } | undefined) ?? null;
const consensusOf = (r: FinalLabelRow) => (r.provenance?.consensus as { method: string; tie: string | null } | null | undefined) ?? null;

/** Items per page of the export stream (one query, one chunk). */
export const EXPORT_PAGE = 500;

/**
 * One page of decided items with what the export needs of the item, in item order from `after`
 * (exported so tests can EXPLAIN it: label_items_status_item, then items by primary key).
 */
export function exportPageQuery(db: Conn, projectId: number, after: number, limit: number) {
  return db
    .selectFrom('label_items')
    .innerJoin('items', 'items.id', 'label_items.item_id')
    .leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256')
    .select([
      'label_items.item_id',
      'items.source_key',
      'label_items.status',
      'label_items.final_labels',
      'label_items.final_source',
      'label_items.final_confidence',
      'label_items.final_taxonomy_version',
      'label_items.decided_at',
      'label_items.final_provenance',
      'label_items.final_answers',
      'items.modality',
      'items.text',
      'items.data',
      'items.sha256',
      'items.residency',
      'items.meta',
      'blobs.mime',
    ])
    .where('label_items.project_id', '=', projectId)
    .where('label_items.status', '=', 'done')
    .where('label_items.item_id', '>', after)
    .orderBy('label_items.item_id')
    .limit(limit);
}

/** Decided items per residency region (one aggregate query over the status index). */
async function decidedByRegion(db: Conn, projectId: number): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('label_items')
    .innerJoin('items', 'items.id', 'label_items.item_id')
    .select(['items.residency', (e) => e.fn.countAll<number>().as('n')])
    .where('label_items.project_id', '=', projectId)
    .where('label_items.status', '=', 'done')
    .groupBy('items.residency')
    .execute();
  return new Map(rows.map((r) => [r.residency, Number(r.n)]));
}

/**
 * Starts an export: checks the format, writes the audit events (and a residency refusal) in
 * one transaction, and returns the counts with `chunks()`, which streams the file.
 */
export async function openExport(store: Store, project: Project, actor: Actor, format: string, opts: { pageSize?: number; content?: string; question?: string } = {}): Promise<ExportStream> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UserError(`format: expected ${EXPORT_FORMATS.join('|')}, got "${format}"`);
  const fmt = format as ExportFormat;
  const content = opts.content ?? 'include';
  if (!(EXPORT_CONTENT as readonly string[]).includes(content)) throw new UserError(`content: expected ${EXPORT_CONTENT.join('|')}, got "${content}"`);
  if (fmt === 'label-studio' && content === 'none') throw new UserError('content: "none" applies to jsonl and csv; a Label Studio task needs its data (use --content include, the default)');
  if (QUESTION_FORMATS[fmt] && content === 'none') throw new UserError(`content: "none" applies to jsonl and csv; ${fmt} holds what was labelled by nature`);
  if (opts.question !== undefined && !QUESTION_FORMATS[fmt]) throw new UserError(`question: applies to ${Object.keys(QUESTION_FORMATS).join(', ')} (one question per file); ${fmt} holds every question`);
  const withContent = content === 'include';
  const pageSize = opts.pageSize ?? EXPORT_PAGE;
  const policy = residencyPolicy(project);
  const head = await change(store, project, actor, async (ctx) => {
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    const byRegion = await decidedByRegion(ctx.conn, project.id);
    let items = 0;
    let refusedItems = 0;
    const refusedRegions: Record<string, number> = {};
    for (const [region, n] of [...byRegion].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (exportAllowed(policy, region)) items += n;
      else {
        refusedItems += n;
        refusedRegions[region] = n;
      }
    }
    let refused: ExportHead['refused'];
    if (refusedItems > 0) {
      // The first 1,000 refused ids, as refusalPayload lists them (in item order).
      const first = await ctx.conn
        .selectFrom('label_items')
        .innerJoin('items', 'items.id', 'label_items.item_id')
        .select(['label_items.item_id as id', 'items.residency as region'])
        .where('label_items.project_id', '=', project.id)
        .where('label_items.status', '=', 'done')
        .where('items.residency', 'in', Object.keys(refusedRegions))
        .orderBy('label_items.item_id')
        .limit(1000)
        .execute();
      const payload = { ...refusalPayload('export', first, policy, { format: fmt }), items: refusedItems, regions: refusedRegions };
      await record(ctx, 'residency.refused', `project:${project.id}`, payload);
      refused = { items: refusedItems, regions: refusedRegions };
    }
    const question = QUESTION_FORMATS[fmt] ? pickQuestion(taxonomy.questions, QUESTION_FORMATS[fmt]!, fmt, opts.question) : undefined;
    if (fmt === 'conll' && question?.overlapping) throw new UserError(`format conll: question "${question.name}" allows overlapping spans, which one BIO tag per token cannot hold; export spans-jsonl instead`);
    await record(ctx, 'export', `project:${project.id}`, { format: fmt, items, taxonomyVersion: taxonomy.version, content, ...(question ? { question: question.name } : {}) });
    return { items, refused, taxonomy, question };
  });
  const contentType = fmt === 'jsonl' || fmt === 'spans-jsonl' ? 'application/x-ndjson' : fmt === 'csv' ? 'text/csv; charset=utf-8' : fmt === 'conll' ? 'text/plain; charset=utf-8' : 'application/json';
  const pages = () => exportPages(store.db, project.id, pageSize, (r) => exportAllowed(policy, r.item.residency));
  const t = head.taxonomy;
  const legacy = isLegacy(t);
  const chunks = () => {
    switch (fmt) {
      case 'jsonl':
        return jsonlChunks(pages(), project, withContent, legacy);
      case 'csv':
        return csvChunks(pages(), project, withContent, legacy);
      case 'label-studio':
        return labelStudioChunks(pages(), t.questions, project.name);
      case 'conll':
        return conllChunks(pages(), project.name, head.question!);
      case 'spans-jsonl':
        return spansJsonlChunks(pages(), project.name, head.question!);
      case 'coco':
        return cocoChunks(pages, project.name, head.question!);
    }
  };
  return { format: fmt, content: content as ExportContent, contentType, items: head.items, ...(head.refused ? { refused: head.refused } : {}), chunks };
}

/** The whole export as one string (small projects, tests): prefer `openExport(…).chunks()`. */
export async function exportLabels(store: Store, project: Project, actor: Actor, format: string, opts: { content?: string } = {}): Promise<ExportResult> {
  const { chunks, ...head } = await openExport(store, project, actor, format, opts);
  let body = '';
  for await (const c of chunks()) body += c;
  return { ...head, body };
}

/** Decided, exportable items a page at a time (keyset on item id; one short query per page). */
async function* exportPages(db: Conn, projectId: number, pageSize: number, allowed: (r: Row) => boolean): AsyncGenerator<Row[]> {
  for (let after = 0; ; ) {
    const page = await exportPageQuery(db, projectId, after, pageSize).execute();
    if (page.length === 0) return;
    const rows: Row[] = [];
    for (const r of page) {
      const row: Row = {
        label: finalLabelOf(r),
        item: {
          id: r.item_id,
          modality: r.modality,
          text: r.text,
          values: r.data ? JSON.parse(r.data) : null,
          sha256: r.sha256,
          residency: r.residency,
          meta: JSON.parse(r.meta) as Record<string, unknown>,
          mime: r.mime ?? null,
        },
      };
      if (allowed(row)) rows.push(row);
    }
    if (rows.length > 0) yield rows;
    if (page.length < pageSize) return;
    after = page[page.length - 1].item_id;
  }
}

async function* jsonlChunks(pages: AsyncIterable<Row[]>, project: Project, withContent: boolean, legacy: boolean): AsyncGenerator<string> {
  for await (const rows of pages) yield toJsonl(rows, project, withContent, legacy);
}

async function* csvChunks(pages: AsyncIterable<Row[]>, project: Project, withContent: boolean, legacy: boolean): AsyncGenerator<string> {
  yield [...CSV_HEADER, ...(withContent ? CSV_CONTENT_HEADER : []), ...(legacy ? [] : ['answers'])].join(',') + '\n';
  for await (const rows of pages) yield toCsvRows(rows, project, withContent, legacy);
}

/** Where the API serves an item's bytes (image, audio) or text: relative to the server's address. */
const contentUrl = (projectName: string, itemId: number) => `/api/projects/${encodeURIComponent(projectName)}/items/${itemId}/content`;

/**
 * What was labelled, per modality: the text inline (text), the row values inline (tabular), a
 * reference to the stored bytes (image, audio: the content URL and MIME type; the sha256 of the
 * bytes is the export's `sha256`). Keys in this order are what JSONL adds after `modality`.
 */
function contentOf(item: ExportItem, projectName: string): { text: string } | { values: Record<string, unknown> } | { contentUrl: string; mime: string | null } {
  if (item.text !== null) return { text: item.text };
  if (item.values !== null) return { values: item.values };
  return { contentUrl: contentUrl(projectName, item.id), mime: item.mime };
}

/**
 * Label Studio JSON is one array: streamed element by element, byte for byte what
 * `JSON.stringify(tasks, null, 2) + "\n"` gives (elements indented by two spaces; `[]` when empty).
 */
async function* labelStudioChunks(pages: AsyncIterable<Row[]>, questions: readonly Question[], projectName: string): AsyncGenerator<string> {
  let first = true;
  for await (const rows of pages) {
    let out = '';
    for (const row of rows) {
      out += (first ? '[\n  ' : ',\n  ') + JSON.stringify(labelStudioTask(row, questions, projectName), null, 2).replace(/\n/g, '\n  ');
      first = false;
    }
    yield out;
  }
  yield first ? '[]\n' : '\n]\n';
}

function toJsonl(rows: Row[], project: Project, withContent: boolean, legacy: boolean): string {
  return rows
    .map(({ label: l, item }) =>
      JSON.stringify({
        project: project.name,
        item: l.itemId,
        sourceKey: l.sourceKey,
        sha256: item.sha256,
        labels: l.labels,
        source: l.source,
        confidence: l.confidence,
        taxonomyVersion: l.taxonomyVersion,
        decidedAt: l.decidedAt,
        provenance: l.provenance,
        ...(withContent ? { modality: item.modality, ...contentOf(item, project.name), meta: item.meta } : {}),
        ...(legacy ? {} : { answers: l.answers ?? {} }),
      }),
    )
    .map((s) => s + '\n')
    .join('');
}

const CSV_HEADER = ['item', 'source_key', 'labels', 'source', 'confidence', 'taxonomy_version', 'decided_at', 'method', 'annotators', 'annotator_labels', 'reviewer', 'review_decision', 'review_reason'];
/** Appended with content: the columns above keep their places. `values` and `meta` are JSON. */
const CSV_CONTENT_HEADER = ['sha256', 'modality', 'text', 'values', 'content_url', 'mime', 'meta'];

/** RFC 4180 quoting: only fields with a comma, quote or line break are quoted. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** First characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Formula injection (CWE-1236): a label, text or name such as `=HYPERLINK("http://…"&A1)` or
 * `@SUM(…)` would run when the CSV is opened in a spreadsheet. OWASP's rule: a string cell that
 * starts with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, which spreadsheets
 * take as "this is text" (and hide). Numbers the export writes itself are left alone.
 */
export function spreadsheetSafe(v: unknown): unknown {
  return typeof v === 'string' && FORMULA_START.test(v) ? `'${v}` : v;
}

/** A CSV cell of the label export: neutralised against formulas, then RFC 4180-quoted. */
const exportCell = (v: unknown) => csvField(spreadsheetSafe(v));

function toCsvRows(rows: Row[], project: Project, withContent: boolean, legacy: boolean): string {
  const lines: string[] = [];
  for (const { label: l, item } of rows) {
    const ann = annotationsOf(l);
    const review = reviewOf(l);
    const c = withContent ? contentOf(item, project.name) : null;
    const content = c
      ? [item.sha256, item.modality, 'text' in c ? c.text : '', 'values' in c ? JSON.stringify(c.values) : '', 'contentUrl' in c ? c.contentUrl : '', 'mime' in c ? c.mime : '', JSON.stringify(item.meta)]
      : [];
    lines.push(
      [
        l.itemId,
        l.sourceKey,
        (l.labels ?? []).join('|'),
        l.source,
        l.confidence,
        l.taxonomyVersion,
        l.decidedAt,
        consensusOf(l)?.method ?? '',
        ann.map((a) => a.annotator).join('|'),
        ann.map((a) => a.labels.join('+')).join('|'),
        review?.reviewer ?? '',
        review?.decision ?? '',
        review?.reason ?? '',
        ...content,
        ...(legacy ? [] : [JSON.stringify(l.answers ?? {})]),
      ]
        .map(exportCell)
        .join(','),
    );
  }
  return lines.map((l) => l + '\n').join('');
}

/** The names the `choices` results point at: `<Choices name="label" toName="item">` over the object tag `name="item"`. */
const LABEL_STUDIO_FROM = 'label';
const LABEL_STUDIO_TO = 'item';

/**
 * One Label Studio task per item, in the form Label Studio's task import accepts
 * (label_studio/tasks/serializers.py, BaseTaskSerializerBulk, and tasks/validation.py):
 * - `completed_by` is left out. Label Studio takes only a user id of its own organisation or
 *   `{"email": …}` of a member there, and refuses the whole import for anything else (it did for
 *   the annotator names this export used to write); without it the annotations belong to the user
 *   who imports. Who answered what stays in the task's `meta` (Label Studio keeps it) and in each
 *   annotation's `meta`.
 * - an annotation's `id` becomes Label Studio's `import_id`: Tessera's annotation id (a positive
 *   integer). The ground-truth annotation (the final label) is not one of Tessera's: no id.
 * - `data` holds what the labelling config's object tag reads (docs/export.md): `$text`,
 *   `$image` or `$audio` (the content URL), or `$values` (the row as an object, for `<Table>`).
 */
function labelStudioTask({ label: l, item }: Row, questions: readonly Question[], projectName: string) {
  const legacy = isLegacy({ questions });
  const cls = classQuestion({ questions });
  const kind = cls?.kind;
  const result = legacy
    ? (labels: string[]) => [{ from_name: LABEL_STUDIO_FROM, to_name: LABEL_STUDIO_TO, type: 'choices', value: { choices: labels }, ...(kind === 'multi' ? { meta: { multiple: true } } : {}) }]
    : (answers: Answers) => toLabelStudio(questions, answers, item);
  // Per annotation: its answers, or (written before questions existed) its labels as the class question's.
  const answersOf = (labels: string[], answers: Answers | undefined): Answers => answers ?? storedAnswers(null, labels, cls?.name);
  const review = reviewOf(l);
  const anns = annotationsOf(l);
  const decidedBy = review ? review.reviewer : l.source === 'import' ? `import:${importOf(l)?.by ?? ''}` : `consensus:${consensusOf(l)?.method ?? ''}`;
  const annotations: Array<Record<string, unknown>> = anns.map((a) => ({
    ...(Number.isInteger(a.id) && a.id > 0 ? { id: a.id } : {}),
    created_at: a.at,
    lead_time: a.timeMs / 1000,
    ground_truth: false,
    result: legacy ? (result as (x: string[]) => unknown)(a.labels) : (result as (x: Answers) => unknown)(answersOf(a.labels, a.answers)),
    meta: { annotator: a.annotator, taxonomyVersion: a.taxonomyVersion },
  }));
  annotations.push({
    created_at: l.decidedAt ?? '',
    lead_time: 0,
    ground_truth: true,
    result: legacy ? (result as (x: string[]) => unknown)(l.labels ?? []) : (result as (x: Answers) => unknown)(l.answers ?? answersOf(l.labels ?? [], undefined)),
    meta: { decidedBy, taxonomyVersion: l.taxonomyVersion, source: l.source, confidence: l.confidence, review },
  });
  return {
    id: l.itemId,
    data: item.text !== null ? { text: item.text } : item.values ? { values: item.values } : { [item.modality === 'audio' ? 'audio' : 'image']: contentUrl(projectName, l.itemId) },
    meta: { sourceKey: l.sourceKey, sha256: item.sha256, annotators: anns.map((a) => a.annotator), decidedBy },
    annotations,
  };
}

const importOf = (r: FinalLabelRow) => (r.provenance?.import as { by?: string } | undefined) ?? null;

/** The one question of `kind` a per-question format exports: the named one, or the only one. */
function pickQuestion(questions: readonly Question[], kind: Question['kind'], fmt: string, name?: string): Question {
  const of = questions.filter((q) => q.kind === kind);
  if (name !== undefined) {
    const q = of.find((x) => x.name === name);
    if (!q) throw new UserError(`question: "${name}" is not a ${kind} question of this taxonomy (${of.map((x) => x.name).join(', ') || `it has no ${kind} question`})`);
    return q;
  }
  if (of.length === 1) return of[0];
  throw new UserError(of.length === 0 ? `format ${fmt} exports a ${kind} question and this taxonomy has none` : `format ${fmt}: name the ${kind} question to export (question=${of.map((x) => x.name).join('|')})`);
}

const finalOf = (l: FinalLabelRow, q: Question) => own(l.answers ?? {}, q.name);

/**
 * CoNLL (IOB2): per decided text item, `# item = ID` and `# source_key = KEY` comment lines, one
 * `token<TAB>tag` line per token, a blank line after the item. Tokenisation (src/core/tokens.ts)
 * is stated in the first line. A question that allows overlapping spans cannot be written as one
 * tag column: refused (use spans-jsonl).
 */
async function* conllChunks(pages: AsyncIterable<Row[]>, projectName: string, q: Question): AsyncGenerator<string> {
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
async function* spansJsonlChunks(pages: AsyncIterable<Row[]>, projectName: string, q: Question): AsyncGenerator<string> {
  for await (const rows of pages) {
    let out = '';
    for (const { label: l, item } of rows) {
      const spans = finalOf(l, q) as SpanValue[] | undefined;
      if (!spans || item.text === null) continue;
      out += JSON.stringify({ project: projectName, item: l.itemId, sourceKey: l.sourceKey, question: q.name, offsets: 'codepoints', text: item.text, spans: spans.map((s) => ({ start: s.start, end: s.end, label: s.label, text: sliceCodePoints(item.text!, s.start, s.end) })) }) + '\n';
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
async function* cocoChunks(pages: () => AsyncIterable<Row[]>, projectName: string, q: Question): AsyncGenerator<string> {
  const names = labelNames(q);
  const info = { description: `tessera export of project ${projectName}, question ${q.name}`, version: '1.0', date_created: new Date().toISOString() };
  yield `{"info":${JSON.stringify(info)},"licenses":[],"categories":${JSON.stringify(names.map((name, k) => ({ id: k + 1, name, supercategory: q.name })))},"images":[`;
  let first = true;
  for await (const rows of pages()) {
    let out = '';
    for (const { label: l, item } of rows) {
      const dims = itemDimensions(item);
      if (finalOf(l, q) === undefined || !dims?.width) continue;
      out += (first ? '\n' : ',\n') + JSON.stringify({ id: l.itemId, file_name: contentUrl(projectName, l.itemId), width: dims.width, height: dims.height, tessera_source_key: l.sourceKey });
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
        out += (first ? '\n' : ',\n') + JSON.stringify({ id: ++id, image_id: l.itemId, category_id: names.indexOf(b.label) + 1, bbox: [b.x, b.y, b.w, b.h], area: b.w * b.h, iscrowd: 0 });
        first = false;
      }
    }
    yield out;
  }
  yield '\n]}\n';
}
