import type { Line } from './lines.ts';

/** One CSV record: the line it starts on and its fields, or why it could not be parsed. */
export type CsvRecord = { lineNo: number; fields: string[] } | { lineNo: number; error: string };

/**
 * RFC 4180 records over physical lines: a quoted field may span lines, `""` is a literal quote.
 * Written here rather than with csv-parse because csv-parse stops for good after an over-long
 * record (measured: CSV_MAX_RECORD_SIZE ends the stream), and every bad record must be reported
 * with its line while the rest still import under --skip-invalid.
 */
export async function* readCsvRecords(
  lines: AsyncIterable<Line>,
  opts: { delimiter?: string; maxBytes: number },
): AsyncGenerator<CsvRecord> {
  const delimiter = opts.delimiter ?? ',';
  let pending: string[] = [];
  let pendingLen = 0;
  let startLine = 0;
  let quotes = 0; // quote characters seen in the pending record; odd = inside a quoted field

  for await (const line of lines) {
    if ('error' in line) {
      if (pending.length > 0) {
        yield { lineNo: startLine, error: `record starting here runs into line ${line.lineNo}, which is unreadable: ${line.error}` };
        pending = [];
        pendingLen = 0;
        quotes = 0;
      } else {
        yield line;
      }
      continue;
    }
    if (pending.length === 0) {
      if (line.text === '') continue; // blank lines separate nothing in CSV; skip them
      startLine = line.lineNo;
    }
    pending.push(line.text);
    pendingLen += line.text.length + 1;
    quotes += countQuotes(line.text);
    if (quotes % 2 === 1) {
      if (pendingLen > opts.maxBytes) {
        yield {
          lineNo: startLine,
          error: `unbalanced quotes: a quoted field opened on line ${startLine} is still open at line ${line.lineNo} (${pendingLen.toLocaleString('en')} bytes); expected a closing "`,
        };
        pending = [];
        pendingLen = 0;
        quotes = 0;
      }
      continue;
    }
    const text = pending.join('\n');
    pending = [];
    pendingLen = 0;
    quotes = 0;
    const parsed = parseCsvRecord(text, delimiter);
    yield typeof parsed === 'string' ? { lineNo: startLine, error: parsed } : { lineNo: startLine, fields: parsed };
  }
  if (pending.length > 0) {
    yield { lineNo: startLine, error: `unbalanced quotes: a quoted field opened on line ${startLine} is never closed (end of file reached); expected a closing "` };
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** Splits one complete record into fields; returns an error message for a malformed quote. */
export function parseCsvRecord(text: string, delimiter = ','): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return `unbalanced quotes in field ${fields.length + 1}`;
        value += text.slice(j, q);
        if (text[q + 1] === '"') {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== delimiter) return `unexpected character ${JSON.stringify(text[i])} after the closing quote of field ${fields.length}; expected "${delimiter}" or end of line`;
      i++;
    } else {
      const d = text.indexOf(delimiter, i);
      const value = d === -1 ? text.slice(i) : text.slice(i, d);
      if (value.includes('"')) return `stray quote inside unquoted field ${fields.length + 1}; quote the whole field and double inner quotes ("")`;
      fields.push(value);
      if (d === -1) return fields;
      i = d + 1;
    }
  }
}
