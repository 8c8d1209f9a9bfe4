import { UserError } from '../core/errors.ts';
import { exportAllowed, refusalPayload, residencyPolicy } from '../audit/residency.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor } from '../store/context.ts';
import { finalLabelOf } from './results.ts';
import { currentTaxonomy } from './taxonomies.ts';
import { isLegacy, type Question } from './questions.ts';
import type { Conn } from '../store/tx.ts';
import { csvChunks, jsonlChunks } from './export/flat.ts';
import { labelStudioChunks } from './export/label-studio-tasks.ts';
import { cocoChunks, conllChunks, pickQuestion, spansJsonlChunks } from './export/per-question.ts';
import type { Row } from './export/rows.ts';

export { csvField, spreadsheetSafe } from './export/flat.ts';

/**
 * Export of final labels with provenance: JSONL (one decided item per line, full provenance),
 * CSV (one row per item, provenance summarised in columns), Label Studio JSON (tasks with each
 * annotation as a Label Studio annotation and the final label as the ground-truth one).
 * With `content: 'include'` (the default) JSONL and CSV also carry what was labelled, so training
 * data needs no join: the text (text items), the row values (tabular), a content reference (image,
 * audio: the API content URL and MIME type beside the sha256), and the item's metadata. Fields
 * are only ever added: JSONL keys after the existing ones, CSV columns after the existing ones;
 * `content: 'none'` gives the labels-and-provenance file alone. docs/export.md is the user's guide.
 * CSV cells that a spreadsheet would run as a formula are neutralised (`spreadsheetSafe` in
 * ./export/flat.ts); JSONL and Label Studio JSON are exact. The per-question formats (CoNLL,
 * spans JSONL, COCO) are in ./export/per-question.ts.
 * An export is audit-logged (who took which labels out, how many, in which format, with content or not).
 * Residency: items tagged for a region the project does not export to are left out, and the
 * refusal is audit-logged (`residency.refused`) in the same transaction (src/audit/residency.ts).
 *
 * Streaming, so a project of a million items exports in bounded memory: `openExport` writes the
 * audit events in one short transaction (counts come from one aggregate query), then `chunks()`
 * reads the decided items a keyset page at a time (label_items_status_item index, no transaction
 * held open) and yields one string per page; nothing holds more than one page. The HTTP route and
 * the CLI pull it with backpressure. Labels decided while a long export runs may or may not be in it; the audit event
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
export async function openExport(
  store: Store,
  project: Project,
  actor: Actor,
  format: string,
  opts: { pageSize?: number; content?: string; question?: string } = {},
): Promise<ExportStream> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UserError(`format: expected ${EXPORT_FORMATS.join('|')}, got "${format}"`);
  const fmt = format as ExportFormat;
  const content = opts.content ?? 'include';
  if (!(EXPORT_CONTENT as readonly string[]).includes(content)) throw new UserError(`content: expected ${EXPORT_CONTENT.join('|')}, got "${content}"`);
  if (fmt === 'label-studio' && content === 'none') {
    throw new UserError('content: "none" applies to jsonl and csv; a Label Studio task needs its data (use --content include, the default)');
  }
  if (QUESTION_FORMATS[fmt] && content === 'none') throw new UserError(`content: "none" applies to jsonl and csv; ${fmt} holds what was labelled by nature`);
  if (opts.question !== undefined && !QUESTION_FORMATS[fmt]) {
    throw new UserError(`question: applies to ${Object.keys(QUESTION_FORMATS).join(', ')} (one question per file); ${fmt} holds every question`);
  }
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
    if (fmt === 'conll' && question?.overlapping) {
      throw new UserError(
        `format conll: question "${question.name}" allows overlapping spans, which one BIO tag per token cannot hold; export spans-jsonl instead`,
      );
    }
    await record(ctx, 'export', `project:${project.id}`, {
      format: fmt,
      items,
      taxonomyVersion: taxonomy.version,
      content,
      ...(question ? { question: question.name } : {}),
    });
    return { items, refused, taxonomy, question };
  });
  const contentType =
    fmt === 'jsonl' || fmt === 'spans-jsonl'
      ? 'application/x-ndjson'
      : fmt === 'csv'
        ? 'text/csv; charset=utf-8'
        : fmt === 'conll'
          ? 'text/plain; charset=utf-8'
          : 'application/json';
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
