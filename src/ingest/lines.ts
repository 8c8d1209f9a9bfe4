import type { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';

/** One physical line: its 1-based number and bytes (without \n or \r\n), or why it was unusable. */
export type Line =
  | { lineNo: number; text: string }
  | { lineNo: number; error: string };

/**
 * Splits a byte stream into lines without ever holding more than `maxBytes` of one line:
 * a longer line is reported (with its length) and skipped, not buffered. Each line is checked
 * for valid UTF-8 (or decoded as Latin-1, which cannot be invalid). A UTF-8 BOM at the start is dropped.
 */
export async function* readLines(
  stream: Readable,
  maxBytes: number,
  encoding: 'utf8' | 'latin1' = 'utf8',
): AsyncGenerator<Line> {
  let lineNo = 1;
  let parts: Buffer[] = [];
  let partLen = 0;
  let overflow = 0; // bytes of the current line dropped after it passed maxBytes
  let first = true;

  const finish = (chunk: Buffer): Line => {
    let bytes = parts.length === 0 ? chunk : Buffer.concat([...parts, chunk]);
    const total = partLen + chunk.length + overflow;
    parts = [];
    partLen = 0;
    if (overflow > 0 || total > maxBytes) {
      overflow = 0;
      return { lineNo, error: `line is ${total.toLocaleString('en')} bytes, over the limit of ${maxBytes.toLocaleString('en')} (raise --max-record-bytes if it is real)` };
    }
    if (first && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    first = false;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    if (encoding === 'latin1') return { lineNo, text: bytes.toString('latin1') };
    if (!isUtf8(bytes)) return { lineNo, error: `invalid UTF-8 (${describeInvalidUtf8(bytes)}), expected UTF-8 text` };
    return { lineNo, text: bytes.toString('utf8') };
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        const rest = chunk.subarray(pos);
        if (overflow > 0 || partLen + rest.length > maxBytes) {
          overflow += partLen + rest.length;
          parts = [];
          partLen = 0;
        } else {
          parts.push(Buffer.from(rest)); // copy: the stream may reuse its chunk
          partLen += rest.length;
        }
        break;
      }
      const line = finish(chunk.subarray(pos, nl));
      yield line;
      lineNo++;
      pos = nl + 1;
    }
  }
  if (partLen > 0 || overflow > 0) yield finish(Buffer.alloc(0));
}

/** Where the first invalid UTF-8 sequence is, for the error message. */
export function describeInvalidUtf8(b: Uint8Array): string {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return `byte 0x${hex(c)} at offset ${i}`;
    for (let k = 1; k <= n; k++) {
      if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return `byte 0x${hex(c)} at offset ${i} starts an incomplete sequence`;
    }
    i += n + 1;
  }
  return 'overlong or surrogate sequence';
}

const hex = (c: number) => c.toString(16).padStart(2, '0');
