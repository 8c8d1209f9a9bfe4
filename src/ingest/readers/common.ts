import { basename } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { openBytes } from '../source.ts';
import { readLines, type Line } from '../lines.ts';
import { DEFAULT_MAX_RECORD_BYTES, type ReaderOptions, type ReadResult } from '../types.ts';

/** `file:line`, the locator people use to find a record in a text source. */
export const at = (path: string, lineNo: number) => `${basename(path)}:${lineNo}`;

export const reject = (where: string, message: string): ReadResult => ({ ok: false, reject: { where, message } });

export function maxBytes(opts: ReaderOptions): number {
  return opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
}

/** The lines of a (possibly gzipped) text file, decoded as UTF-8 (checked) or Latin-1. */
export async function linesOf(path: string, opts: ReaderOptions, encoding: 'utf8' | 'latin1' = 'utf8'): Promise<AsyncGenerator<Line>> {
  const stream = await openBytes(path);
  return readLines(stream, maxBytes(opts), encoding);
}

/**
 * The error for a text source that holds no record (blank lines only, a header row only): refused
 * like an empty file, not imported as nothing. `lastLine` is the last line read (0: the file
 * decompressed to nothing); `why` says what the lines were.
 */
export function noRecords(path: string, lastLine: number, why: string): UserError {
  const where = lastLine > 0 ? at(path, lastLine) : basename(path);
  return new UserError(`${where}: ${lastLine > 0 ? why : 'the file decompresses to 0 bytes'}; expected at least one record`, 'E_NO_RECORDS');
}

/**
 * Reject message for an empty text: such an item has nothing to label. A text of whitespace only
 * is imported, and `tessera audit` reports it as empty content (with images that hold nothing).
 */
export function emptyText(what: string): string {
  return `${what} is empty; expected a non-empty text`;
}
