import type { Project } from '../../store/projects.ts';
import { annotationsOf, consensusOf, contentOf, reviewOf, type Row } from './rows.ts';

/**
 * JSONL (one decided item per line, full provenance) and CSV (one row per item, provenance
 * summarised in columns). Fields are only ever added, after the existing ones, so readers of an
 * older file keep working. CSV cells a spreadsheet would run as a formula are neutralised.
 */

export async function* jsonlChunks(pages: AsyncIterable<Row[]>, project: Project, withContent: boolean, legacy: boolean): AsyncGenerator<string> {
  for await (const rows of pages) yield toJsonl(rows, project, withContent, legacy);
}

export async function* csvChunks(pages: AsyncIterable<Row[]>, project: Project, withContent: boolean, legacy: boolean): AsyncGenerator<string> {
  yield [...CSV_HEADER, ...(withContent ? CSV_CONTENT_HEADER : []), ...(legacy ? [] : ['answers'])].join(',') + '\n';
  for await (const rows of pages) yield toCsvRows(rows, project, withContent, legacy);
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

const CSV_HEADER = [
  'item',
  'source_key',
  'labels',
  'source',
  'confidence',
  'taxonomy_version',
  'decided_at',
  'method',
  'annotators',
  'annotator_labels',
  'reviewer',
  'review_decision',
  'review_reason',
];
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
      ? [
          item.sha256,
          item.modality,
          'text' in c ? c.text : '',
          'values' in c ? JSON.stringify(c.values) : '',
          'contentUrl' in c ? c.contentUrl : '',
          'mime' in c ? c.mime : '',
          JSON.stringify(item.meta),
        ]
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
