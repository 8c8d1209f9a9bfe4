import { basename, resolve } from 'node:path';
import { sql } from 'kysely';
import { CancelledError, UserError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { nowIso } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import { appendAudit } from '../store/audit.ts';
import { redactRecord } from './redact.ts';
import { redactPii } from './pii.ts';
import { writeItems, type NewItem } from '../store/items.ts';
import { ensureProject, type ProjectSettings } from '../store/projects.ts';
import { guessFormat, impliedPreset, readerFor } from './formats.ts';
import type { Format, ReaderOptions, RejectedRecord, SourceRecord } from './types.ts';

export interface ImportRequest {
  project: string;
  path: string;
  format?: Format;
  options: ReaderOptions;
  /** Import the valid records and report the rest, instead of importing nothing. */
  skipInvalid?: boolean;
  /** Residency tag for these items (default: the project's region). */
  region?: string;
  /** Replace PII (src/ingest/pii.ts) before anything is hashed or stored: the original is never stored. */
  redactPii?: boolean;
  /** Who asked (recorded in the audit log). */
  actor: string;
  /** Settings for a project created by this import. */
  projectSettings?: Partial<ProjectSettings>;
}

export interface ImportReport {
  imported: number;
  unchanged: number;
  rejected: number;
  errors: RejectedRecord[];
  /** With redactPii: records that had PII replaced. */
  redacted?: number;
  /**
   * Only on a refused import (records rejected, no skipInvalid): the valid records that were not
   * imported because of the rejected ones, as they would have counted (`--skip-invalid` imports them).
   */
  wouldImport?: { new: number; unchanged: number };
}

export interface ImportHooks {
  signal?: AbortSignal;
  onProgress?(p: { records: number; imported: number; unchanged: number; rejected: number }): void;
  /** Every rejected record (the report keeps only the first MAX_REPORTED_ERRORS). */
  onReject?(r: RejectedRecord): void;
  /** After the import committed: which project and import source (for monitors). */
  onCommitted?(c: { projectId: number; sourceId: number; imported: number }): void;
}

export const MAX_REPORTED_ERRORS = 1000;
const BATCH = 1000;

/** Thrown (and so rolling the transaction back) when records were rejected without --skip-invalid. */
export class ImportRejectedError extends UserError {
  constructor(readonly report: ImportReport) {
    super(refusalMessage(report), 'E_IMPORT_REJECTED');
  }
}

/** "import refused: 1 record rejected, so the 3 valid records (2 new, 1 unchanged) were not imported either; …" */
export function refusalMessage(r: ImportReport): string {
  const w = r.wouldImport ?? { new: 0, unchanged: 0 };
  const valid = w.new + w.unchanged;
  const head = `import refused: ${r.rejected.toLocaleString('en')} record${r.rejected === 1 ? '' : 's'} rejected`;
  if (valid === 0) return `${head} and none valid: nothing imported; fix the source`;
  const them = valid === 1 ? 'the 1 valid record' : `the ${valid.toLocaleString('en')} valid records`;
  return `${head}, so ${them} (${w.new} new, ${w.unchanged} unchanged) ${valid === 1 ? 'was' : 'were'} not imported either; fix the rejected records, or pass --skip-invalid to import the valid ones`;
}

/**
 * Streams a source into a project as one transaction: all records or none (unless skipInvalid).
 * Memory stays bounded by one batch of records whatever the size of the source.
 */
export async function runImport(store: Store, req: ImportRequest, hooks: ImportHooks = {}): Promise<ImportReport> {
  const path = resolve(req.path);
  const format = req.format ?? guessFormat(path);
  const options: ReaderOptions = { ...req.options, preset: req.options.preset ?? impliedPreset(path) };
  const reader = await readerFor(format);
  const report: ImportReport = { imported: 0, unchanged: 0, rejected: 0, errors: [], ...(req.redactPii ? { redacted: 0 } : {}) };
  const rejectRecord = (rec: RejectedRecord) => {
    // Reader messages may quote the content: with redaction on, they are redacted too.
    const r = req.redactPii ? { where: rec.where, message: redactPii(rec.message) } : rec;
    report.rejected++;
    if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push(r);
    hooks.onReject?.(r);
  };

  const committed = await store.db.transaction().execute(async (trx) => {
    const { project } = await ensureProject(trx, req.project, req.projectSettings);
    const readerOptions: ReaderOptions = { ...options, sampleRate: options.sampleRate ?? project.settings.sampleRate };
    const residency = req.region ?? project.settings.region;
    const startedAt = nowIso();
    const source = await trx
      .insertInto('import_sources')
      .values({ project_id: project.id, path, format, options: JSON.stringify(req.redactPii ? { ...readerOptions, redactPii: true } : readerOptions), status: 'running', started_at: startedAt, imported: 0, unchanged: 0, rejected: 0, errors: '[]' })
      .returning('id')
      .executeTakeFirstOrThrow();

    let batch: NewItem[] = [];
    let records = 0;
    const flush = async () => {
      if (hooks.signal?.aborted) throw new CancelledError('import cancelled; nothing was imported');
      const outcomes = await writeItems(store, trx, project.id, source.id, batch, startedAt);
      outcomes.forEach((o, i) => {
        if (o.kind === 'inserted') report.imported++;
        else if (o.kind === 'unchanged') report.unchanged++;
        else rejectRecord({ where: batch[i].locator, message: o.message });
      });
      batch = [];
      hooks.onProgress?.({ records, ...report });
    };
    for await (const r of reader(path, readerOptions)) {
      records++;
      const nul = r.ok ? nulIn(r.record) : null;
      if (!r.ok) rejectRecord(r.reject);
      else if (nul) rejectRecord({ where: r.record.locator, message: `${nul} holds a NUL character (U+0000); expected text without NUL (PostgreSQL cannot store it, so no store accepts it)` });
      else if (req.redactPii) {
        const red = redactRecord(r.record);
        if (red.redacted) report.redacted!++;
        batch.push(toNewItem(red.record, residency));
      } else batch.push(toNewItem(r.record, residency));
      if (batch.length >= BATCH) await flush();
    }
    await flush();

    // A source that holds no record (a header row only, blank lines only) imports nothing: refused
    // like an empty file rather than recorded as an import of nothing. Text readers say it with the
    // line first; this covers every other reader.
    if (records === 0) throw new UserError(`${basename(path)}: no records found; expected at least one record`, 'E_NO_RECORDS');
    if (report.rejected > 0 && !req.skipInvalid) {
      throw new ImportRejectedError({ ...report, imported: 0, unchanged: 0, wouldImport: { new: report.imported, unchanged: report.unchanged } });
    }
    await trx
      .updateTable('import_sources')
      .set({ status: 'committed', finished_at: nowIso(), imported: report.imported, unchanged: report.unchanged, rejected: report.rejected, errors: JSON.stringify(report.errors.slice(0, 100)) })
      .where('id', '=', source.id)
      .execute();
    await appendAudit(trx, store.dialect, {
      projectId: project.id,
      actor: req.actor,
      action: 'import',
      subject: `import_source:${source.id}`,
      payload: { path, format, imported: report.imported, unchanged: report.unchanged, rejected: report.rejected, ...(req.redactPii ? { redactPii: true, redacted: report.redacted } : {}) },
    });
    return { projectId: project.id, sourceId: source.id, imported: report.imported };
  });
  if (store.dialect === 'postgres' && report.imported >= ANALYZE_AFTER) await refreshPlannerStats(store);
  hooks.onCommitted?.(committed);
  return report;
}

/** Imports at least this large refresh PostgreSQL's statistics of `items` once committed. */
const ANALYZE_AFTER = 50_000;

/**
 * PostgreSQL plans from statistics that autovacuum refreshes only on its own schedule (a minute or
 * more after a commit; an analyze that ran while a big import was uncommitted saw none of its
 * rows). The first run of bench/scale-1m.ts measured a label-filtered first page of items at
 * 575 ms right after a 1,000,000-item import, where the same query takes < 1 ms on the analyzed
 * table: this makes the statistics current at once instead of waiting for autovacuum. ANALYZE
 * samples a bounded number of rows. Best effort: the import has committed whatever happens here.
 */
async function refreshPlannerStats(store: Store): Promise<void> {
  try {
    await sql`ANALYZE items`.execute(store.db);
  } catch {
    // Statistics are an optimisation; autovacuum will refresh them anyway.
  }
}

/**
 * Where a record's strings (id, text, label, values, metadata and their keys) hold U+0000, e.g.
 * `field "text" at character 5`, or null. PostgreSQL text and JSON cannot hold it (the import
 * failed there with an internal error while SQLite stored it), so it is refused on both stores.
 */
export function nulIn(r: SourceRecord): string | null {
  const stack: Array<[unknown, string]> = [[r.meta, 'metadata'], [r.values, 'values'], [r.sourceLabel, 'the label'], [r.text, 'the text'], [r.key, 'the id']];
  while (stack.length > 0) {
    const [v, what] = stack.pop()!;
    if (typeof v === 'string') {
      const i = v.indexOf('\u0000');
      if (i >= 0) return `${what} (at character ${i})`;
    } else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return `a field name in ${what}`;
        stack.push([x, what === 'metadata' || what === 'values' ? `field "${k}"` : `${what}.${k}`]);
      }
    }
  }
  return null;
}

/** Hashes the content (what an exact-duplicate audit compares) and encodes the payload. */
export function toNewItem(r: SourceRecord, residency: string): NewItem {
  let text: string | null = null;
  let data: string | null = null;
  let blob: NewItem['blob'] = null;
  let sha256: string;
  if (r.blob) {
    sha256 = sha256Hex(r.blob.bytes);
    blob = { sha256, mime: r.blob.mime, bytes: r.blob.bytes };
  } else if (r.values) {
    data = JSON.stringify(r.values);
    sha256 = sha256Hex(data);
  } else {
    text = r.text ?? '';
    sha256 = sha256Hex(text);
  }
  return {
    sourceKey: r.key,
    modality: r.modality,
    text,
    data,
    blob,
    meta: JSON.stringify(r.meta),
    locator: r.locator,
    residency,
    sha256,
    sourceLabel: r.sourceLabel ?? null,
  };
}
