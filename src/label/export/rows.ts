import type { Modality } from '../../core/modality.ts';
import type { FinalLabelRow } from '../results.ts';
import type { Answers } from '../questions.ts';

/** What every export format reads of a decided item: the item, its final label and the provenance in it. */

export interface ExportItem {
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

export interface Row {
  label: FinalLabelRow;
  item: ExportItem;
}

export type Annot = {
  id: number;
  annotator: string;
  labels: string[];
  answers?: Answers;
  at: string;
  timeMs: number;
  taxonomyVersion: number;
  suggestion: unknown;
};

export const annotationsOf = (r: FinalLabelRow): Annot[] => ((r.provenance?.annotations as Annot[] | undefined) ?? []);
type ReviewProvenance = { id: number; reviewer: string; decision: string; note: string | null; reason: string; at: string };
export const reviewOf = (r: FinalLabelRow) => (r.provenance?.review as ReviewProvenance | undefined) ?? null;
export const consensusOf = (r: FinalLabelRow) => (r.provenance?.consensus as { method: string; tie: string | null } | null | undefined) ?? null;

export const importOf = (r: FinalLabelRow) => (r.provenance?.import as { by?: string } | undefined) ?? null;

/** Where the API serves an item's bytes (image, audio) or text: relative to the server's address. */
export const contentUrl = (projectName: string, itemId: number) => `/api/projects/${encodeURIComponent(projectName)}/items/${itemId}/content`;

/**
 * What was labelled, per modality: the text inline (text), the row values inline (tabular), a
 * reference to the stored bytes (image, audio: the content URL and MIME type; the sha256 of the
 * bytes is the export's `sha256`). Keys in this order are what JSONL adds after `modality`.
 */
export function contentOf(
  item: ExportItem,
  projectName: string,
): { text: string } | { values: Record<string, unknown> } | { contentUrl: string; mime: string | null } {
  if (item.text !== null) return { text: item.text };
  if (item.values !== null) return { values: item.values };
  return { contentUrl: contentUrl(projectName, item.id), mime: item.mime };
}
