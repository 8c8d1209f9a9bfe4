import { UserError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { answerItem, classLabels } from './answers.ts';
import { change, record, type Actor, type TxCtx } from '../store/context.ts';
import { refuseHeldOut } from './eligibility.ts';
import { fromLabelStudio } from './label-studio.ts';
import { ensureLabelItem, finalize, isGold } from './label-items.ts';
import { answersHash, checkAnswers, classQuestion, isLegacy, type Answers } from './questions.ts';
import { putSuggestions } from './results.ts';
import { rowsState } from './row-digest.ts';
import type { Taxonomy } from './taxonomy.ts';
import { currentTaxonomy } from './taxonomies.ts';

/**
 * Importing annotations made elsewhere (or exported from Tessera) for every question kind:
 * - `as: 'final'` — finished annotations: each record's final answers become the item's final
 *   label (source `import`), with the per-annotator answers the record carries kept in its
 *   provenance (`imported: true`; the annotators are names from the file, not Tessera users).
 *   Items already decided, in review, or gold are left alone and listed.
 * - `as: 'predictions'` — pre-annotations: suggestions shown with tasks (annotators see the
 *   answers, never the source).
 * Formats: JSONL (Tessera's export, or `{"sourceKey"|"sha256"|"item", "answers"|"labels",
 * "annotations"?, "source"?, "confidence"?}` per line) and Label Studio JSON (tasks with
 * `annotations` — the ground-truth one is final — and `predictions`; label-studio.ts maps the
 * result types). A record names its item by source key, content sha256, the sha256 of its text
 * (Label Studio tasks from elsewhere), or — in a file from this same project — its item id.
 * Every answer is checked against the item (offsets, image size, duration). One transaction:
 * a file with one bad record imports nothing, and the error names the record.
 * Exporting and importing back gives the same answers (test/label/kinds-http.test.ts).
 */
export const ANNOTATION_IMPORT_FORMATS = ['jsonl', 'label-studio'] as const;
export const ANNOTATION_IMPORT_AS = ['final', 'predictions'] as const;

export interface ImportAnnotationsOptions {
  format: string;
  as: string;
  /** The file's name, for messages and provenance. */
  name: string;
  /** Predictions: the source recorded with the suggestions (default: the file's model_version / source, else `import:NAME`). */
  source?: string;
}

export interface ImportAnnotationsReport {
  format: string;
  as: string;
  file: string;
  records: number;
  /** Items given final answers, or suggestions. */
  items: number;
  skipped: Array<{ item: number; where: string; reason: string }>;
}

interface ImportedAnnotation {
  annotator: string;
  answers: Record<string, unknown>;
  at: string | null;
  timeMs: number | null;
}

interface Rec {
  /** `FILE:LINE` or `FILE[task i]`. */
  where: string;
  keys: { sourceKey?: string; sha256?: string; textSha256?: string; itemId?: number };
  final?: Record<string, unknown>;
  annotations: ImportedAnnotation[];
  prediction?: { answers: Record<string, unknown>; source?: string; confidence: number | null };
}

type ItemInfo = { id: number; modality: string; text: string | null; meta: string; source_key: string; sha256: string };

export async function importAnnotations(store: Store, project: Project, actor: Actor, text: string, opts: ImportAnnotationsOptions): Promise<ImportAnnotationsReport> {
  if (!(ANNOTATION_IMPORT_FORMATS as readonly string[]).includes(opts.format)) throw new UserError(`format: expected ${ANNOTATION_IMPORT_FORMATS.join('|')}, got "${opts.format}"`);
  if (!(ANNOTATION_IMPORT_AS as readonly string[]).includes(opts.as)) throw new UserError(`as: expected ${ANNOTATION_IMPORT_AS.join('|')}, got "${opts.as}"`);
  return change(store, project, actor, async (ctx) => {
    const taxonomy = await currentTaxonomy(ctx.conn, project.id);
    const records = opts.format === 'jsonl' ? jsonlRecords(text, opts.name, taxonomy, project.name) : [];
    const report: ImportAnnotationsReport = { format: opts.format, as: opts.as, file: opts.name, records: 0, items: 0, skipped: [] };
    const resolved: Array<{ rec: Rec; item: ItemInfo }> = [];
    if (opts.format === 'label-studio') {
      // Label Studio results are read against the item (boxes need its size), so items first.
      const tasks = parseJsonArray(text, opts.name);
      for (let i = 0; i < tasks.length; i++) {
        const keys = labelStudioKeys(tasks[i], `${opts.name}[task ${i}]`, project.name);
        const item = await findItem(ctx, keys, `${opts.name}[task ${i}]`);
        resolved.push({ rec: labelStudioRecord(tasks[i], `${opts.name}[task ${i}]`, taxonomy, item, opts.as, keys), item });
      }
    } else for (const rec of records) resolved.push({ rec, item: await findItem(ctx, rec.keys, rec.where) });
    report.records = resolved.length;
    if (resolved.length === 0) throw new UserError(`${opts.name}: no record to import`);
    const seen = new Map<number, string>();
    for (const { rec, item } of resolved) {
      const was = seen.get(item.id);
      if (was) throw new UserError(`${rec.where}: item ${item.id} (${item.source_key}) is also ${was}; one record per item`);
      seen.set(item.id, rec.where);
    }
    // A test split's items are never labelled (their suggestions are harmless: they are never served).
    if (opts.as === 'final') await refuseHeldOut(ctx.conn, project.id, resolved.map((r) => r.item.id), 'import');
    const at = nowIso();
    const hashes: Array<{ item: number; answersSha256: string | null }> = [];
    if (opts.as === 'predictions') {
      const entries = resolved.map(({ rec, item }) => {
        if (!rec.prediction) throw new UserError(`${rec.where}: no prediction to import (JSONL: "answers" or "labels"; Label Studio: "predictions")`);
        const answers = check(taxonomy, rec.prediction.answers, item, `${rec.where}: answers`, true);
        hashes.push({ item: item.id, answersSha256: answersHash(answers) });
        return { itemId: item.id, answers, source: opts.source ?? rec.prediction.source ?? `import:${opts.name}`, confidence: rec.prediction.confidence };
      });
      await putSuggestions(ctx, entries);
      report.items = entries.length;
    } else {
      const legacy = isLegacy(taxonomy);
      const cls = classQuestion(taxonomy);
      for (const { rec, item } of resolved) {
        if (!rec.final) throw new UserError(`${rec.where}: no final answers (JSONL: "answers" or "labels"; Label Studio: a ground_truth annotation, or a single annotation)`);
        const answers = check(taxonomy, rec.final, item, `${rec.where}: answers`, false);
        const annotations = rec.annotations.map((a, k) => {
          const checked = check(taxonomy, a.answers, item, `${rec.where}: annotations[${k}] (${a.annotator})`, false);
          return { annotator: a.annotator, labels: classLabels(taxonomy, checked), ...(legacy ? {} : { answers: checked }), at: a.at, timeMs: a.timeMs, taxonomyVersion: taxonomy.version, imported: true };
        });
        if (await isGold(ctx.conn, item.id)) {
          report.skipped.push({ item: item.id, where: rec.where, reason: 'gold item' });
          continue;
        }
        const li = await ensureLabelItem(ctx.conn, project.id, item.id);
        if (li.status !== 'open') {
          report.skipped.push({ item: item.id, where: rec.where, reason: li.status === 'done' ? 'already decided' : 'in review' });
          continue;
        }
        await finalize(ctx, item.id, {
          labels: cls ? classLabels(taxonomy, answers) : [],
          answers: legacy ? null : answers,
          source: 'import',
          confidence: null,
          taxonomyVersion: taxonomy.version,
          provenance: { source: 'import', round: li.round, taxonomyVersion: taxonomy.version, import: { file: opts.name, format: opts.format, record: rec.where, by: actor.name, at }, consensus: null, review: null, annotations },
        });
        hashes.push({ item: item.id, answersSha256: answersHash(answers) });
        report.items++;
      }
    }
    // Final answers are label_items rows the log vouches for (row-digest.ts); suggestions are not governed rows.
    const rows = opts.as === 'final' ? { rows: await rowsState(ctx.conn, { label_items: hashes.map((h) => h.item) }) } : {};
    await record(ctx, 'label.import', `project:${project.id}`, { file: opts.name, format: opts.format, as: opts.as, records: report.records, items: report.items, skipped: report.skipped, taxonomyVersion: taxonomy.version, answers: hashes, ...rows });
    return report;
  });
}

function check(taxonomy: Taxonomy, raw: Record<string, unknown>, item: ItemInfo, where: string, partial: boolean): Answers {
  return checkAnswers(taxonomy.questions, raw, { where, version: taxonomy.version, item: answerItem({ id: item.id, modality: item.modality as never, text: item.text, meta: parseJson(item.meta, {}) }), scores: partial, partial });
}

async function findItem(ctx: TxCtx, keys: Rec['keys'], where: string): Promise<ItemInfo> {
  const base = () => ctx.conn.selectFrom('items').select(['id', 'modality', 'text', 'meta', 'source_key', 'sha256']).where('project_id', '=', ctx.project.id);
  if (keys.sourceKey !== undefined) {
    const r = await base().where('source_key', '=', keys.sourceKey).executeTakeFirst();
    if (r) return r;
  }
  for (const h of [keys.sha256, keys.textSha256]) {
    if (h === undefined) continue;
    const r = await base().where('sha256', '=', h).orderBy('id').executeTakeFirst();
    if (r) return r;
  }
  if (keys.itemId !== undefined) {
    const r = await base().where('id', '=', keys.itemId).executeTakeFirst();
    if (r) return r;
  }
  const tried = [keys.sourceKey !== undefined && `source key ${JSON.stringify(keys.sourceKey)}`, keys.sha256 && `sha256 ${keys.sha256}`, keys.textSha256 && 'its text', keys.itemId !== undefined && `item id ${keys.itemId}`].filter(Boolean);
  throw new UserError(`${where}: no item of project ${ctx.project.name} matches ${tried.length ? tried.join(', ') : 'this record (give sourceKey, sha256 or item)'}`);
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A record's answers: `answers`, or legacy `labels` (the class question's). */
function answersOfRecord(r: Record<string, unknown>, taxonomy: Taxonomy, where: string): Record<string, unknown> | undefined {
  if (r.answers !== undefined) {
    const a = obj(r.answers);
    if (!a) throw new UserError(`${where}: "answers" must be an object {question: answer}`);
    return a;
  }
  if (r.labels !== undefined) {
    const cls = classQuestion(taxonomy);
    if (!cls) throw new UserError(`${where}: "labels" answer the single/multi question and this taxonomy has none: give "answers"`);
    return { [cls.name]: r.labels };
  }
  return undefined;
}

function jsonlRecords(text: string, name: string, taxonomy: Taxonomy, projectName: string): Rec[] {
  const out: Rec[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${name}:${i + 1}`;
    let r: Record<string, unknown> | undefined;
    try {
      r = obj(JSON.parse(line));
    } catch (e) {
      throw new UserError(`${where}: not JSON (${(e as Error).message})`);
    }
    if (!r) throw new UserError(`${where}: expected a JSON object per line`);
    const answers = answersOfRecord(r, taxonomy, where);
    const provenance = obj(r.provenance);
    const list = (Array.isArray(r.annotations) ? r.annotations : Array.isArray(provenance?.annotations) ? provenance!.annotations : []) as unknown[];
    const annotations = list.map((a, k): ImportedAnnotation => {
      const o = obj(a);
      const w = `${where}: annotations[${k}]`;
      if (!o || typeof o.annotator !== 'string') throw new UserError(`${w}: expected {"annotator", "answers" or "labels"}`);
      const ans = answersOfRecord(o, taxonomy, w);
      if (!ans) throw new UserError(`${w}: no "answers" or "labels"`);
      return { annotator: o.annotator, answers: ans, at: str(o.at) ?? null, timeMs: typeof o.timeMs === 'number' ? o.timeMs : null };
    });
    const sameProject = r.project === undefined || r.project === projectName;
    const confidence = typeof r.confidence === 'number' ? r.confidence : null;
    out.push({
      where,
      keys: { sourceKey: str(r.sourceKey), sha256: str(r.sha256), itemId: sameProject && Number.isInteger(r.item) ? (r.item as number) : undefined },
      final: answers,
      annotations,
      prediction: answers ? { answers, source: str(r.model) ?? (typeof r.source === 'string' && !['consensus', 'review', 'import'].includes(r.source) ? r.source : undefined), confidence } : undefined,
    });
  });
  return out;
}

function parseJsonArray(text: string, name: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${name}: not JSON (${(e as Error).message}); a Label Studio export is one JSON array of tasks`);
  }
  if (!Array.isArray(v)) throw new UserError(`${name}: expected a JSON array of Label Studio tasks`);
  return v;
}

/**
 * How a Label Studio task names its item. The task's own `id` is not used (in a file from Label
 * Studio it is Label Studio's); an image or audio URL that is this project's content URL (as
 * Tessera exports it) names the item by id.
 */
function labelStudioKeys(task: unknown, where: string, projectName: string): Rec['keys'] {
  const t = obj(task);
  if (!t) throw new UserError(`${where}: expected a task object {"data", "annotations"|"predictions"}`);
  const meta = obj(t.meta) ?? {};
  const data = obj(t.data) ?? {};
  const url = str(data.image) ?? str(data.audio);
  const prefix = `/api/projects/${encodeURIComponent(projectName)}/items/`;
  const id = url?.startsWith(prefix) && url.endsWith('/content') ? url.slice(prefix.length, -'/content'.length) : '';
  return {
    sourceKey: str(meta.sourceKey),
    sha256: str(meta.sha256),
    textSha256: typeof data.text === 'string' ? sha256Hex(data.text) : undefined,
    itemId: /^\d+$/.test(id) ? Number(id) : undefined,
  };
}

function labelStudioRecord(task: unknown, where: string, taxonomy: Taxonomy, item: ItemInfo, as: string, keys: Rec['keys']): Rec {
  const t = obj(task)!;
  const lsItem = { modality: item.modality, text: item.text, meta: parseJson<Record<string, unknown>>(item.meta, {}) };
  const anns = (Array.isArray(t.annotations) ? t.annotations : []).map((a, k) => ({ a: obj(a), k })).filter(({ a }) => a && a.was_cancelled !== true);
  const read = (a: Record<string, unknown>, w: string) => fromLabelStudio(taxonomy.questions, a.result, lsItem, `${w}.result`);
  let final: Record<string, unknown> | undefined;
  const annotations: ImportedAnnotation[] = [];
  if (as === 'final' && anns.length) {
    const truth = anns.filter(({ a }) => a!.ground_truth === true);
    const decided = truth.length ? truth[truth.length - 1] : anns.length === 1 ? anns[0] : undefined;
    if (!decided) throw new UserError(`${where}: ${anns.length} annotations and none is ground_truth: mark the final one "ground_truth": true`);
    final = read(decided.a!, `${where}.annotations[${decided.k}]`);
    for (const { a, k } of anns) {
      if (a === decided.a) continue;
      const meta = obj(a!.meta) ?? {};
      const annotator = str(meta.annotator) ?? (a!.completed_by !== undefined ? `label-studio:${JSON.stringify(a!.completed_by)}` : `label-studio:annotation-${String(a!.id ?? k)}`);
      annotations.push({ annotator, answers: read(a!, `${where}.annotations[${k}]`), at: str(a!.created_at) ?? null, timeMs: typeof a!.lead_time === 'number' ? Math.round(a!.lead_time * 1000) : null });
    }
  }
  let prediction: Rec['prediction'];
  const preds = (Array.isArray(t.predictions) ? t.predictions : []).map(obj).filter((p): p is Record<string, unknown> => p !== undefined);
  if (as === 'predictions' && preds.length) {
    // The most confident prediction (the first among equals).
    const best = preds.reduce((b, p) => ((typeof p.score === 'number' ? p.score : -1) > (typeof b.score === 'number' ? b.score : -1) ? p : b));
    prediction = { answers: read(best, `${where}.predictions[${preds.indexOf(best)}]`), source: str(best.model_version), confidence: typeof best.score === 'number' && best.score >= 0 && best.score <= 1 ? best.score : null };
  }
  return { where, keys, final, annotations, prediction };
}
