import { UserError } from '../core/errors.ts';
import { exportAllowed, refusalPayload, residencyPolicy } from '../audit/residency.ts';
import type { Store } from '../store/db.ts';
import { listItems, type ItemRow } from '../store/items.ts';
import type { Project } from '../store/projects.ts';
import { change, record, type Actor } from './context.ts';
import { listFinalLabels, type FinalLabelRow } from './results.ts';
import { currentTaxonomy } from './taxonomies.ts';

/**
 * Export of final labels with provenance: JSONL (one decided item per line, full provenance),
 * CSV (one row per item, provenance summarised in columns), Label Studio JSON (tasks with each
 * annotation as a Label Studio annotation and the final label as the ground-truth one).
 * An export is audit-logged (who took which labels out, how many, in which format).
 * Residency: items tagged for a region the project does not export to are left out, and the
 * refusal is audit-logged (`residency.refused`) in the same transaction (src/audit/residency.ts).
 */
export const EXPORT_FORMATS = ['jsonl', 'csv', 'label-studio'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportResult {
  format: ExportFormat;
  contentType: string;
  items: number;
  body: string;
  /** Items withheld by the residency policy (tagged for a region the project does not export to); audit-logged. */
  refused?: { items: number; regions: Record<string, number> };
}

interface Row {
  label: FinalLabelRow;
  item: ItemRow;
}

type Annot = { id: number; annotator: string; labels: string[]; at: string; timeMs: number; taxonomyVersion: number; suggestion: unknown };

const annotationsOf = (r: FinalLabelRow): Annot[] => ((r.provenance?.annotations as Annot[] | undefined) ?? []);
const reviewOf = (r: FinalLabelRow) => (r.provenance?.review as { id: number; reviewer: string; decision: string; note: string | null; reason: string; at: string } | undefined) ?? null;
const consensusOf = (r: FinalLabelRow) => (r.provenance?.consensus as { method: string; tie: string | null } | null | undefined) ?? null;

export async function exportLabels(store: Store, project: Project, actor: Actor, format: string): Promise<ExportResult> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UserError(`format: expected ${EXPORT_FORMATS.join('|')}, got "${format}"`);
  const fmt = format as ExportFormat;
  return change(store, project, actor, async (ctx) => {
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    let rows: Row[] = [];
    for (let after = 0; ; ) {
      const page = await listFinalLabels(ctx.conn, project.id, { after, limit: 1000 });
      if (page.length === 0) break;
      const items = new Map((await listItems(ctx.conn, project.id, { after: page[0].itemId - 1, limit: page[page.length - 1].itemId - page[0].itemId + 1 })).map((i) => [i.id, i]));
      for (const l of page) rows.push({ label: l, item: items.get(l.itemId)! });
      after = page[page.length - 1].itemId;
    }
    const policy = residencyPolicy(project);
    const refused = rows.filter((r) => !exportAllowed(policy, r.item.residency));
    const refusal = refused.length ? refusalPayload('export', refused.map((r) => ({ id: r.item.id, region: r.item.residency })), policy, { format: fmt }) : null;
    if (refusal) {
      await record(ctx, 'residency.refused', `project:${project.id}`, refusal);
      rows = rows.filter((r) => exportAllowed(policy, r.item.residency));
    }
    await record(ctx, 'export', `project:${project.id}`, { format: fmt, items: rows.length, taxonomyVersion: taxonomy.version });
    const body = fmt === 'jsonl' ? toJsonl(rows, project) : fmt === 'csv' ? toCsv(rows) : toLabelStudio(rows, taxonomy.kind, project.name);
    const contentType = fmt === 'jsonl' ? 'application/x-ndjson' : fmt === 'csv' ? 'text/csv; charset=utf-8' : 'application/json';
    return { format: fmt, contentType, items: rows.length, body, ...(refusal ? { refused: { items: refusal.items, regions: refusal.regions } } : {}) };
  });
}

function toJsonl(rows: Row[], project: Project): string {
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
      }),
    )
    .map((s) => s + '\n')
    .join('');
}

const CSV_HEADER = ['item', 'source_key', 'labels', 'source', 'confidence', 'taxonomy_version', 'decided_at', 'method', 'annotators', 'annotator_labels', 'reviewer', 'review_decision', 'review_reason'];

/** RFC 4180 quoting: only fields with a comma, quote or line break are quoted. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(rows: Row[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const { label: l } of rows) {
    const ann = annotationsOf(l);
    const review = reviewOf(l);
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
      ]
        .map(csvField)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** Label Studio's JSON export format: one task per item, `choices` results. */
function toLabelStudio(rows: Row[], kind: 'single' | 'multi', projectName: string): string {
  const result = (labels: string[]) => [{ from_name: 'label', to_name: 'item', type: 'choices', value: { choices: labels }, ...(kind === 'multi' ? { meta: { multiple: true } } : {}) }];
  const tasks = rows.map(({ label: l, item }) => {
    const review = reviewOf(l);
    const annotations: Array<Record<string, unknown>> = annotationsOf(l).map((a) => ({
      id: a.id,
      completed_by: a.annotator,
      created_at: a.at,
      lead_time: a.timeMs / 1000,
      ground_truth: false,
      result: result(a.labels),
      meta: { taxonomyVersion: a.taxonomyVersion },
    }));
    annotations.push({
      id: -l.itemId,
      completed_by: review ? review.reviewer : `consensus:${consensusOf(l)?.method ?? ''}`,
      created_at: l.decidedAt ?? '',
      lead_time: 0,
      ground_truth: true,
      result: result(l.labels ?? []),
      meta: { taxonomyVersion: l.taxonomyVersion, source: l.source, confidence: l.confidence, review },
    });
    return {
      id: l.itemId,
      data: item.text !== null ? { text: item.text } : item.values ? { ...item.values } : { [item.modality === 'audio' ? 'audio' : 'image']: `/api/projects/${encodeURIComponent(projectName)}/items/${l.itemId}/content` },
      meta: { sourceKey: l.sourceKey, sha256: item.sha256 },
      annotations,
    };
  });
  return JSON.stringify(tasks, null, 2) + '\n';
}
