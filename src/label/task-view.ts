import { parseJson } from '../core/json.ts';
import { getItem, type ItemRow } from '../store/items.ts';
import { isLegacy, itemDimensions, type Answers, type Dimensions, type Question } from './questions.ts';
import type { LabelSettings } from './settings.ts';
import type { Taxonomy } from './taxonomy.ts';
import type { Conn } from '../store/tx.ts';

/**
 * What an annotator is shown with a task: the item's content (never its source, source label or
 * metadata), the taxonomy, and at most a suggestion's labels.
 */
export interface Task {
  id: number;
  expiresAt: string;
  item: AnnotatorItem;
  /** `kind`/`labels`: the single/multi question, when there is one (legacy clients); `questions`: all of them. */
  taxonomy: { version: number; kind?: 'single' | 'multi'; labels?: Taxonomy['labels']; questions: Question[]; guidelines: string };
  /** A suggestion's labels (and, beyond one legacy question, its answers): never its source. */
  suggestion: { labels: string[]; answers?: Answers } | null;
}

/** What an annotator may see of an item: content only, and what its answers are checked against. */
export interface AnnotatorItem {
  id: number;
  modality: ItemRow['modality'];
  text: string | null;
  values: Record<string, unknown> | null;
  content: { mime: string; size: number } | null;
  /**
   * What answers are checked against — text: length in code points; image: width/height in
   * source pixels; audio: duration in seconds. Served with tasks of a taxonomy beyond one
   * single/multi question (a legacy task is unchanged).
   */
  dimensions?: Dimensions | null;
}

export const annotatorView = (i: ItemRow, withDimensions = false): AnnotatorItem => ({
  id: i.id,
  modality: i.modality,
  text: i.text,
  values: i.values,
  content: i.blob ? { mime: i.blob.mime, size: i.blob.size } : null,
  ...(withDimensions ? { dimensions: itemDimensions(i) } : {}),
});

/** The suggestion kept with a lease (assignments.suggestion, JSON). */
export interface StoredSuggestion {
  labels: string[];
  /** Pre-annotations of every question (beyond one legacy question). */
  answers?: Answers;
  source: string;
  confidence: number | null;
}

/**
 * A lease as the annotator sees it. The suggestion stored with the lease is shown only while the
 * project shows suggestions: switching them off hides it from leases taken before, too.
 */
export async function taskOf(
  db: Conn,
  projectId: number,
  a: { id: number; item_id: number; expires_at: string; suggestion: string | null },
  t: Taxonomy,
  settings: Pick<LabelSettings, 'showSuggestions'>,
): Promise<Task> {
  const s = settings.showSuggestions ? parseJson<StoredSuggestion | null>(a.suggestion, null) : null;
  return {
    id: a.id,
    expiresAt: a.expires_at,
    item: annotatorView(await getItem(db, projectId, a.item_id), !isLegacy(t)),
    taxonomy: { version: t.version, ...(t.kind ? { kind: t.kind, labels: t.labels } : {}), questions: t.questions, guidelines: t.guidelines },
    suggestion: s ? { labels: s.labels, ...(s.answers ? { answers: s.answers } : {}) } : null,
  };
}
