import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../../src/core/errors.ts';
import { folderLabel, readImages } from '../../src/ingest/readers/images.ts';
import type { ReadResult, ReaderOptions, SourceRecord } from '../../src/ingest/types.ts';

async function collect(path: string, opts: ReaderOptions = {}) {
  const records: SourceRecord[] = [];
  const rejects: { where: string; message: string }[] = [];
  for await (const r of readImages(path, opts) as AsyncIterable<ReadResult>) {
    if (r.ok) records.push(r.record);
    else rejects.push(r.reject);
  }
  return { records, rejects };
}

/** A noisy image (so compression cannot make it tiny and truncation hits pixel data). */
function noisy(width: number, height: number, channels: 1 | 3 | 4, seed: number) {
  const px = Buffer.alloc(width * height * channels);
  let s = seed;
  for (let i = 0; i < px.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    px[i] = s >>> 24;
  }
  return sharp(px, { raw: { width, height, channels } });
}

let dir: string;
let png: Buffer;
let jpeg: Buffer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-images-'));
  png = await noisy(32, 24, 3, 1).png().toBuffer();
  jpeg = await noisy(40, 30, 3, 2).jpeg({ quality: 90 }).toBuffer();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('folderLabel: the immediate parent folder, none at the root', () => {
  assert.equal(folderLabel('x.png'), null);
  assert.equal(folderLabel('cat/x.png'), 'cat');
  assert.equal(folderLabel('train/dog/x.png'), 'dog');
});

test('folder: PNG and JPEG read, sorted, other files ignored, original bytes kept; labels from folders', async () => {
  const root = join(dir, 'classes');
  await mkdir(join(root, 'cat'), { recursive: true });
  await mkdir(join(root, 'dog', 'puppies'), { recursive: true });
  await writeFile(join(root, 'cat', 'b.png'), png);
  await writeFile(join(root, 'cat', 'a.JPG'), jpeg);
  await writeFile(join(root, 'dog', 'x.jpeg'), jpeg);
  await writeFile(join(root, 'dog', 'puppies', 'p.PNG'), png);
  await writeFile(join(root, 'loose.png'), png);
  await writeFile(join(root, 'README.md'), '# not an image');
  await writeFile(join(root, 'cat', 'photo.gif'), 'GIF89a ignored by extension');

  const { records, rejects } = await collect(root, { labelFromFolder: true });
  assert.deepEqual(rejects, []);
  assert.deepEqual(
    records.map((r) => [r.key, r.sourceLabel]),
    [
      ['cat/a.JPG', 'cat'],
      ['cat/b.png', 'cat'],
      ['dog/puppies/p.PNG', 'puppies'],
      ['dog/x.jpeg', 'dog'],
      ['loose.png', null],
    ],
  );
  const a = records[0];
  assert.equal(a.locator, 'cat/a.JPG');
  assert.equal(a.modality, 'image');
  assert.equal(a.blob!.mime, 'image/jpeg');
  assert.deepEqual(Buffer.from(a.blob!.bytes), jpeg);
  assert.deepEqual(a.meta, { width: 40, height: 30, channels: 3, format: 'jpeg' });
  const b = records[1];
  assert.equal(b.blob!.mime, 'image/png');
  assert.deepEqual(Buffer.from(b.blob!.bytes), png);
  assert.deepEqual(b.meta, { width: 32, height: 24, channels: 3, format: 'png' });

  // without labelFromFolder nothing is labelled
  const plain = await collect(root);
  assert.ok(plain.records.every((r) => r.sourceLabel === null));
});

test('grayscale and RGBA PNGs report their channels; a single file is keyed by its base name', async () => {
  const gray = join(dir, 'gray.png');
  await writeFile(gray, await noisy(8, 8, 1, 3).toColourspace('b-w').png().toBuffer());
  const rgba = join(dir, 'rgba.png');
  await writeFile(rgba, await noisy(5, 7, 4, 4).png().toBuffer());
  const g = await collect(gray, { labelFromFolder: true });
  assert.equal(g.records[0].key, 'gray.png');
  assert.equal(g.records[0].sourceLabel, null);
  assert.deepEqual(g.records[0].meta, { width: 8, height: 8, channels: 1, format: 'png' });
  const c = await collect(rgba);
  assert.deepEqual(c.records[0].meta, { width: 5, height: 7, channels: 4, format: 'png' });
});

test('bad files are rejected, naming the file and sharp’s reason', async () => {
  const root = join(dir, 'bad');
  await mkdir(root);
  await writeFile(join(root, 'good.png'), png);
  await writeFile(join(root, 'text.png'), 'this is a text file, not a PNG');
  await writeFile(join(root, 'cut.png'), png.subarray(0, Math.floor(png.length / 2)));
  await writeFile(join(root, 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await writeFile(join(root, 'empty.jpeg'), '');
  await writeFile(join(root, 'webp.png'), await noisy(4, 4, 3, 5).webp().toBuffer());
  await writeFile(join(root, 'really-png.jpg'), png); // wrong extension, valid content: accepted as PNG

  const { records, rejects } = await collect(root);
  assert.deepEqual(records.map((r) => [r.key, r.blob!.mime]), [
    ['good.png', 'image/png'],
    ['really-png.jpg', 'image/png'],
  ]);
  const msg = Object.fromEntries(rejects.map((r) => [r.where, r.message]));
  assert.deepEqual(Object.keys(msg).sort(), ['cut.jpg', 'cut.png', 'empty.jpeg', 'text.png', 'webp.png']);
  assert.match(msg['text.png'], /^not a readable PNG or JPEG image \(sharp: .*unsupported image format/);
  assert.match(msg['cut.png'], /^PNG header is readable but the pixel data is not: truncated or corrupt \(sharp: .+\)/);
  assert.match(msg['cut.jpg'], /^JPEG header is readable but the pixel data is not: truncated or corrupt \(sharp: .*premature end/i);
  assert.match(msg['empty.jpeg'], /^empty file \(0 bytes\); expected a PNG or JPEG image/);
  assert.match(msg['webp.png'], /^expected a PNG or JPEG image, found webp/);
});

test('maxRecordBytes rejects large files by name before reading them', async () => {
  const file = join(dir, 'big.png');
  await writeFile(file, png);
  const { rejects } = await collect(file, { maxRecordBytes: 100 });
  assert.equal(rejects[0].where, 'big.png');
  assert.match(rejects[0].message, new RegExp(`^file is ${png.length} bytes, larger than the 100-byte limit`));
});

test('whole-source errors are UserErrors', async () => {
  await assert.rejects(collect(join(dir, 'missing')), (e: unknown) => e instanceof UserError && /missing: cannot read/.test(e.message));
  const none = join(dir, 'none');
  await mkdir(none);
  await writeFile(join(none, 'a.txt'), 'x');
  await assert.rejects(collect(none), (e: unknown) => e instanceof UserError && /none: no \.png \/ \.jpg \/ \.jpeg files/.test(e.message));
  await assert.rejects(collect(join(none, 'a.txt')), (e: unknown) => e instanceof UserError && /a\.txt: expected a PNG or JPEG image/.test(e.message));
});
