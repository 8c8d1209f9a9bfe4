import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readLines, type Line } from '../../src/ingest/lines.ts';
import { parseCsvRecord, readCsvRecords, type CsvRecord } from '../../src/ingest/csv.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const bytes = (...chunks: (string | number[])[]) => Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))));

test('lines: CRLF, BOM, no trailing newline, chunk boundaries', async () => {
  const lines = await collect(readLines(bytes([0xef, 0xbb, 0xbf], 'a,b\r\nsecond li', 'ne\nlast'), 100));
  assert.deepEqual(lines, [
    { lineNo: 1, text: 'a,b' },
    { lineNo: 2, text: 'second line' },
    { lineNo: 3, text: 'last' },
  ]);
});

test('lines: an over-long line is reported with its size and skipped without buffering it', async () => {
  const big = 'x'.repeat(10 * 1024 * 1024);
  const lines = await collect(readLines(bytes('ok\n', big.slice(0, 5_000_000), big.slice(5_000_000), '\nafter\n'), 1 << 20));
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0], { lineNo: 1, text: 'ok' });
  assert.equal(lines[1].lineNo, 2);
  assert.match((lines[1] as { error: string }).error, /10,485,760 bytes, over the limit of 1,048,576/);
  assert.deepEqual(lines[2], { lineNo: 3, text: 'after' });
});

test('lines: invalid UTF-8 names the byte and offset; latin1 decodes it', async () => {
  const src = () => bytes('good\n', [0x61, 0x62, 0xff, 0x63, 0x0a], 'caf', [0xc3], '\n');
  const lines = await collect(readLines(src(), 100));
  assert.deepEqual(lines[0], { lineNo: 1, text: 'good' });
  assert.match((lines[1] as { error: string }).error, /invalid UTF-8 \(byte 0xff at offset 2\)/);
  assert.match((lines[2] as { error: string }).error, /byte 0xc3 at offset 3 starts an incomplete sequence/);
  const latin = await collect(readLines(src(), 100, 'latin1'));
  assert.deepEqual(latin[1], { lineNo: 2, text: 'abÿc' });
});

test('csv: RFC 4180 fields, escaped quotes, empty trailing field', () => {
  assert.deepEqual(parseCsvRecord('a,"b,c","say ""hi""",'), ['a', 'b,c', 'say "hi"', '']);
  assert.deepEqual(parseCsvRecord(''), ['']);
  assert.match(parseCsvRecord('a,b"c') as string, /stray quote inside unquoted field 2/);
  assert.match(parseCsvRecord('"a"x,b') as string, /unexpected character "x" after the closing quote of field 1/);
});

async function csv(text: string, maxBytes = 1000): Promise<CsvRecord[]> {
  return collect(readCsvRecords(readLines(bytes(text), maxBytes) as AsyncIterable<Line>, { maxBytes }));
}

test('csv: multi-line quoted field keeps its start line; unbalanced quote reported at its line', async () => {
  const recs = await csv('h1,h2\n1,"two\nlines"\n2,"never closed\n3,x\n');
  assert.deepEqual(recs[0], { lineNo: 1, fields: ['h1', 'h2'] });
  assert.deepEqual(recs[1], { lineNo: 2, fields: ['1', 'two\nlines'] });
  assert.equal(recs.length, 3);
  assert.equal(recs[2].lineNo, 4);
  assert.match((recs[2] as { error: string }).error, /unbalanced quotes: a quoted field opened on line 4 is never closed/);
});

test('csv: an unbalanced quote stops swallowing the file once the record passes the size limit', async () => {
  const body = Array.from({ length: 50 }, (_, i) => `${i},text number ${i}`).join('\n');
  const recs = await csv(`id,text\n1,"oops\n${body}\n`, 200);
  const bad = recs.find((r) => 'error' in r) as { lineNo: number; error: string };
  assert.equal(bad.lineNo, 2);
  assert.match(bad.error, /still open at line \d+/);
  assert.ok(recs.filter((r) => 'fields' in r).length > 30, 'records after the runaway quote are read again');
});
