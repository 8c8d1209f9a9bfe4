import { basename } from 'node:path';
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
