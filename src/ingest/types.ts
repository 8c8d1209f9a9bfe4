import type { Modality } from '../core/modality.ts';

/**
 * One record read from a source, before it becomes an item.
 * Readers are pure-ish async generators: they read files, never the store.
 */
export interface SourceRecord {
  /** Where it came from, for people: `file.jsonl:12`, `sub/dir/x.png`, `train-images-idx3-ubyte.gz#17`. */
  locator: string;
  /** Idempotency key inside a project: the id column's value when there is one, else the locator. */
  key: string;
  modality: Modality;
  /** Text payload (text modality). */
  text?: string;
  /** Row values (tabular modality), keyed by column name; numbers for numeric columns. */
  values?: Record<string, string | number | null>;
  /** Binary payload (image, audio): the bytes stored as a blob. */
  blob?: { bytes: Uint8Array; mime: string };
  /** Format facts (width/height, sample rate, duration, original encoding, extra columns…). */
  meta: Record<string, unknown>;
  /** A label found in the source (not a human annotation). */
  sourceLabel?: string | null;
}

/** A record the reader could not accept: where it is and what was wrong with it. */
export interface RejectedRecord {
  where: string;
  message: string;
}

export type ReadResult = { ok: true; record: SourceRecord } | { ok: false; reject: RejectedRecord };

export const FORMATS = ['jsonl', 'csv', 'sms', 'trec', 'idx', 'wav', 'images', 'tabular', 'digits'] as const;
export type Format = (typeof FORMATS)[number];

/** Options every reader gets; each uses the ones that apply to it. */
export interface ReaderOptions {
  /** Column / field names (jsonl, csv, tabular). */
  idColumn?: string;
  textColumn?: string;
  labelColumn?: string;
  /** Tabular: explicit column types `name:num,name:cat` (else a preset or inference). */
  columns?: string;
  /** Tabular/csv: whether the first row is a header (default: true for csv, preset for tabular). */
  header?: boolean;
  /** Tabular preset name, e.g. `nsl-kdd`. */
  preset?: string;
  /** Audio: target sample rate of the project (Hz). */
  sampleRate?: number;
  /** Audio: label from the file name, e.g. `{label}_{speaker}_{index}.wav`. */
  labelPattern?: string;
  /** Images: take the class from the sub-folder name. */
  labelFromFolder?: boolean;
  /** Text encoding of line-based sources (default utf8; the TREC preset reads latin1: its files are ISO-8859-1). */
  encoding?: 'utf8' | 'latin1';
  /** Longest record accepted, in bytes (default 1 MiB); longer ones are rejected, never buffered whole. */
  maxRecordBytes?: number;
}

export type Reader = (path: string, opts: ReaderOptions) => AsyncIterable<ReadResult>;

export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;
