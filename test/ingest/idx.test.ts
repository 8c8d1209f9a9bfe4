import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/core/errors.ts';
import { findLabelsFile, readIdx } from '../../src/ingest/readers/idx.ts';
import type { ReadResult, SourceRecord } from '../../src/ingest/types.ts';

/** An IDX file: magic 00 00 08 <ndims>, big-endian dims, then bytes. */
function idx(dims: number[], data: Uint8Array, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, type, dims.length]);
  const v = new DataView(out.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const N = 7;
const ROWS = 3;
const COLS = 4;
const pixels = Uint8Array.from({ length: N * ROWS * COLS }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.from({ length: N }, (_, i) => (i * 3) % 10);
const imagesFile = idx([N, ROWS, COLS], pixels);
const labelsFile = idx([N], labels);

async function collect(path: string) {
  const records: SourceRecord[] = [];
  for await (const r of readIdx(path, {}) as AsyncIterable<ReadResult>) {
    assert.ok(r.ok, 'IDX yields no per-record rejects');
    records.push(r.record);
  }
  return records;
}

function checkRecords(records: SourceRecord[], name: string, withLabels: boolean) {
  assert.equal(records.length, N);
  records.forEach((r, i) => {
    assert.equal(r.locator, `${name}#${i}`);
    assert.equal(r.key, r.locator);
    assert.equal(r.modality, 'image');
    assert.equal(r.blob!.mime, 'image/x-raw-gray8');
    assert.deepEqual(Array.from(r.blob!.bytes), Array.from(pixels.subarray(i * ROWS * COLS, (i + 1) * ROWS * COLS)));
    assert.deepEqual(r.meta, { width: COLS, height: ROWS, channels: 1, index: i });
    assert.equal(r.sourceLabel, withLabels ? String(labels[i]) : null);
  });
}

const isUserError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UserError, `expected a UserError, got ${e}`);
  assert.match(e.message, re);
  return true;
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-idx-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('plain IDX with labels beside it', async () => {
  const d = join(dir, 'plain');
  await mkdir(d);
  await writeFile(join(d, 'train-images-idx3-ubyte'), imagesFile);
  await writeFile(join(d, 'train-labels-idx1-ubyte'), labelsFile);
  checkRecords(await collect(join(d, 'train-images-idx3-ubyte')), 'train-images-idx3-ubyte', true);
});

test('gzipped IDX (detected by magic bytes), larger than one stream chunk', async () => {
  const d = join(dir, 'gz');
  await mkdir(d);
  // 3,000 images of 28×28 = 2.35 MB decompressed: many 64 KiB chunks, records straddle chunk borders
  const n = 3000;
  const big = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7 + (i >> 10)) % 256);
  const lab = Uint8Array.from({ length: n }, (_, i) => i % 10);
  await writeFile(join(d, 't10k-images-idx3-ubyte.gz'), gzipSync(idx([n, 28, 28], big)));
  await writeFile(join(d, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([n], lab)));
  const records = await collect(join(d, 't10k-images-idx3-ubyte.gz'));
  assert.equal(records.length, n);
  for (const i of [0, 1, 83, 1234, n - 1]) {
    assert.equal(records[i].locator, `t10k-images-idx3-ubyte.gz#${i}`);
    assert.equal(records[i].sourceLabel, String(i % 10));
    assert.deepEqual(records[i].meta, { width: 28, height: 28, channels: 1, index: i });
    assert.deepEqual(records[i].blob!.bytes, big.subarray(i * 784, (i + 1) * 784));
  }
});

test('gzip is decided by content, not by name; labels may differ in compression', async () => {
  const d = join(dir, 'mixed');
  await mkdir(d);
  await writeFile(join(d, 'images-idx3-ubyte'), gzipSync(imagesFile)); // gzipped, no .gz
  await writeFile(join(d, 'labels-idx1-ubyte.gz'), labelsFile); // plain, named .gz
  assert.equal(await findLabelsFile(join(d, 'images-idx3-ubyte')), join(d, 'labels-idx1-ubyte.gz'));
  checkRecords(await collect(join(d, 'images-idx3-ubyte')), 'images-idx3-ubyte', true);
});

test('no labels file beside it: records have no label', async () => {
  const d = join(dir, 'nolabels');
  await mkdir(d);
  await writeFile(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(imagesFile));
  assert.equal(await findLabelsFile(join(d, 'train-images-idx3-ubyte.gz')), null);
  checkRecords(await collect(join(d, 'train-images-idx3-ubyte.gz')), 'train-images-idx3-ubyte.gz', false);
});

test('findLabelsFile: the dotted Kaggle naming', async () => {
  const d = join(dir, 'dotted');
  await mkdir(d);
  await writeFile(join(d, 'train-images.idx3-ubyte'), imagesFile);
  await writeFile(join(d, 'train-labels.idx1-ubyte'), labelsFile);
  assert.equal(await findLabelsFile(join(d, 'train-images.idx3-ubyte')), join(d, 'train-labels.idx1-ubyte'));
});

test('truncated images file: UserError with the file, expected and actual bytes (plain and gz)', async () => {
  const d = join(dir, 'trunc');
  await mkdir(d);
  const cut = imagesFile.subarray(0, imagesFile.length - 10); // 16 + 84 = 100 expected, 90 present
  await writeFile(join(d, 'a-images-idx3-ubyte'), cut);
  await assert.rejects(
    collect(join(d, 'a-images-idx3-ubyte')),
    isUserError(/^a-images-idx3-ubyte: truncated: the header declares 7 images of 3×4 pixels, so 100 bytes are expected, but the file holds 90 \(10 missing\)/),
  );
  await writeFile(join(d, 'b-images-idx3-ubyte.gz'), gzipSync(cut));
  await assert.rejects(
    collect(join(d, 'b-images-idx3-ubyte.gz')),
    isUserError(/^b-images-idx3-ubyte\.gz: truncated: .* 100 bytes \(decompressed\) are expected, but the file holds 90/),
  );
  // a cut gzip stream (the compressed file itself truncated)
  const gz = gzipSync(imagesFile);
  await writeFile(join(d, 'c-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 12));
  await assert.rejects(collect(join(d, 'c-images-idx3-ubyte.gz')), isUserError(/^c-images-idx3-ubyte\.gz: cannot decompress the file \(.*unexpected end of file/));
  // trailing bytes are as wrong as missing ones
  await writeFile(join(d, 'd-images-idx3-ubyte'), Buffer.concat([imagesFile, Buffer.from([1, 2, 3])]));
  await assert.rejects(collect(join(d, 'd-images-idx3-ubyte')), isUserError(/^d-images-idx3-ubyte: unexpected trailing data: .* 100 bytes are expected, but the file holds 103 \(3 too many\)/));
  // header cut short
  await writeFile(join(d, 'e-images-idx3-ubyte'), imagesFile.subarray(0, 10));
  await assert.rejects(collect(join(d, 'e-images-idx3-ubyte')), isUserError(/^e-images-idx3-ubyte: truncated IDX header: expected 16 bytes, found 10/));
});

test('labels: count mismatch and truncation are UserErrors naming the files', async () => {
  const d = join(dir, 'labelbad');
  await mkdir(d);
  await writeFile(join(d, 'train-images-idx3-ubyte'), imagesFile);
  await writeFile(join(d, 'train-labels-idx1-ubyte'), idx([N + 1], new Uint8Array(N + 1)));
  await assert.rejects(
    collect(join(d, 'train-images-idx3-ubyte')),
    isUserError(/^train-labels-idx1-ubyte declares 8 labels but train-images-idx3-ubyte declares 7 images; expected one label per image/),
  );
  await writeFile(join(d, 'train-labels-idx1-ubyte'), labelsFile.subarray(0, labelsFile.length - 2));
  await assert.rejects(
    collect(join(d, 'train-images-idx3-ubyte')),
    isUserError(/^train-labels-idx1-ubyte: truncated: the header declares 7 labels, so 15 bytes are expected, but the file holds 13 \(2 missing\)/),
  );
  await writeFile(join(d, 'train-labels-idx1-ubyte'), imagesFile);
  await assert.rejects(collect(join(d, 'train-images-idx3-ubyte')), isUserError(/^train-labels-idx1-ubyte: IDX labels file must have 1 dimension\(s\), found 3/));
});

test('bad headers and unusable paths are UserErrors', async () => {
  const d = join(dir, 'headers');
  await mkdir(d);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty-images', new Uint8Array(0), /^empty-images: empty file; expected an IDX images file/],
    ['text-images', new TextEncoder().encode('hello world, not idx'), /^text-images: not an IDX file: expected magic bytes 00 00 08 03, found 68 65 6c 6c/],
    ['float-images', idx([1, 1, 1], new Uint8Array(4), 0x0d), /^float-images: IDX element type 0x0d \(float\) is not supported; expected 0x08 \(unsigned byte\)/],
    ['t-labels-idx1-ubyte', labelsFile, /^t-labels-idx1-ubyte: IDX images file must have 3 dimension\(s\), found 1 — this looks like a labels file/],
    ['zero-images', idx([0, 28, 28], new Uint8Array(0)), /^zero-images: IDX header declares a zero dimension \(0 × 28 × 28\)/],
  ];
  for (const [name, bytes, re] of cases) {
    await writeFile(join(d, name), bytes);
    await assert.rejects(collect(join(d, name)), isUserError(re), name);
  }
  await assert.rejects(collect(join(d, 'missing-images-idx3-ubyte')), isUserError(/missing-images-idx3-ubyte: file not found/));
  await assert.rejects(collect(d), isUserError(/headers: is not a file; expected an IDX images file/));
});

test('stopping early releases the streams (no hang, no error)', async () => {
  const d = join(dir, 'early');
  await mkdir(d);
  await writeFile(join(d, 'x-images-idx3-ubyte.gz'), gzipSync(imagesFile));
  await writeFile(join(d, 'x-labels-idx1-ubyte.gz'), gzipSync(labelsFile));
  let n = 0;
  for await (const r of readIdx(join(d, 'x-images-idx3-ubyte.gz'), {})) {
    assert.ok(r.ok);
    if (++n === 2) break;
  }
  assert.equal(n, 2);
});

// Real data when present (Debian package dataset-fashion-mnist; plain test runs do not need it).
const FASHION = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
test('Fashion-MNIST t10k (if installed): 10,000 28×28 images, 1,000 per class', { skip: !existsSync(FASHION) && 'dataset-fashion-mnist not installed' }, async () => {
  const counts = new Map<string, number>();
  let n = 0;
  for await (const r of readIdx(FASHION, {})) {
    assert.ok(r.ok);
    assert.equal(r.record.blob!.bytes.length, 784);
    counts.set(r.record.sourceLabel!, (counts.get(r.record.sourceLabel!) ?? 0) + 1);
    n++;
  }
  assert.equal(n, 10000);
  assert.deepEqual([...counts.keys()].sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  for (const c of counts.values()) assert.equal(c, 1000);
});
