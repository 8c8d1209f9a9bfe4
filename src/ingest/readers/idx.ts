/**
 * IDX reader (the MNIST / Fashion-MNIST format): an images file (magic 0x00000803, unsigned
 * bytes, n × rows × cols), gzipped or not, plus its labels file found beside it by name.
 *
 * Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): big-endian; bytes 0–1 are zero,
 * byte 2 is the element type (0x08 = unsigned byte), byte 3 the number of dimensions, then one
 * uint32 per dimension, then the elements in row-major order.
 *
 * Memory: the files are streamed (through a streaming gunzip when compressed) and cut into
 * records with a small reassembly buffer; nothing holds a whole decompressed file. Before the
 * first record is yielded both files are checked end to end — headers, counts, and exact
 * (decompressed) lengths — so a truncated or mismatched source fails as a whole, with a
 * UserError, instead of importing half. For gzipped files that costs one extra streaming
 * decompression pass (no buffering), which is cheap next to importing.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { UserError, errorMessage } from '../../core/errors.ts';
import type { Reader, SourceRecord } from '../types.ts';

const IDX_UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

export interface IdxHeader {
  /** Dimension sizes, e.g. [n, rows, cols] for images, [n] for labels. */
  dims: number[];
  /** Header length in bytes: 4 + 4 · dims.length. */
  headerBytes: number;
  /** Payload length the header implies (elements × 1 byte). */
  payloadBytes: number;
}

/** Is the file gzip-compressed? Decided by its first two bytes (1f 8b), never by its name. */
export async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Pulls exact-length pieces out of a stream of chunks. Holds at most one chunk plus the
 * piece being assembled.
 */
class ByteReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private done = false;
  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    private readonly onError: (e: unknown) => never,
  ) {}

  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) return false;
      let r;
      try {
        r = await this.it.next();
      } catch (e) {
        this.onError(e);
      }
      if (r.done) {
        this.done = true;
        return false;
      }
      this.chunk = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** The next `n` bytes (a fresh array), or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n && (await this.fill())) {
      const take = Math.min(n - got, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + take), got);
      this.pos += take;
      got += take;
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Consume the rest of the stream; returns how many bytes it held. */
  async drain(): Promise<number> {
    let count = 0;
    while (await this.fill()) {
      count += this.chunk.length - this.pos;
      this.pos = this.chunk.length;
    }
    return count;
  }
}

/** A (decompressed) byte stream over an IDX file; `close()` releases it early. */
async function openIdx(path: string): Promise<{ reader: ByteReader; gz: boolean; close: () => void }> {
  const name = basename(path);
  let gz: boolean;
  try {
    gz = await isGzipFile(path);
  } catch (e) {
    throw new UserError(`${name}: cannot read the file (${errorMessage(e)})`);
  }
  const file = createReadStream(path, { highWaterMark: 1 << 16 });
  const stream = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on('error', (e) => stream.destroy(e));
  const reader = new ByteReader(stream[Symbol.asyncIterator](), (e) => {
    throw new UserError(`${name}: cannot ${gz ? 'decompress' : 'read'} the file (${errorMessage(e)})`);
  });
  return {
    reader,
    gz,
    close: () => {
      stream.destroy();
      file.destroy();
    },
  };
}

/** Parse and check an IDX header: unsigned bytes, `expectDims` dimensions, none zero. */
async function readHeader(reader: ByteReader, name: string, expectDims: number, kind: string): Promise<IdxHeader> {
  const magic = await reader.read(4);
  if (magic.length === 0) throw new UserError(`${name}: empty file; expected an IDX ${kind} file`);
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0) {
    const hex = Array.from(magic, (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new UserError(
      `${name}: not an IDX file: expected magic bytes 00 00 08 0${expectDims}, found ${hex || 'nothing'}`,
    );
  }
  const type = magic[2];
  const ndims = magic[3];
  if (type !== IDX_UBYTE) {
    throw new UserError(
      `${name}: IDX element type 0x${type.toString(16).padStart(2, '0')} (${TYPE_NAMES[type] ?? 'unknown'}) is not supported; expected 0x08 (unsigned byte)`,
    );
  }
  if (ndims !== expectDims) {
    const hint =
      ndims === 1 && expectDims === 3
        ? ' — this looks like a labels file; pass the images file (…-images-idx3-ubyte) and the labels are found beside it'
        : '';
    throw new UserError(`${name}: IDX ${kind} file must have ${expectDims} dimension(s), found ${ndims}${hint}`);
  }
  const raw = await reader.read(4 * ndims);
  if (raw.length < 4 * ndims) {
    throw new UserError(`${name}: truncated IDX header: expected ${4 + 4 * ndims} bytes, found ${4 + raw.length}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 * i, false));
  if (dims.some((d) => d === 0)) {
    throw new UserError(`${name}: IDX header declares a zero dimension (${dims.join(' × ')}); expected at least one ${kind === 'labels' ? 'label' : 'image'} of at least 1×1`);
  }
  return { dims, headerBytes: 4 + 4 * ndims, payloadBytes: dims.reduce((a, b) => a * b, 1) };
}

/**
 * Check one IDX file end to end (streaming): header, then the exact length. Returns its header.
 * Throws UserError naming the file, the expected and the actual byte counts.
 */
async function checkIdxFile(path: string, expectDims: number, kind: string): Promise<IdxHeader> {
  const name = basename(path);
  const { reader, gz, close } = await openIdx(path);
  try {
    const h = await readHeader(reader, name, expectDims, kind);
    const payload = gz ? await reader.drain() : (await stat(path)).size - h.headerBytes;
    if (payload !== h.payloadBytes) {
      const expected = h.headerBytes + h.payloadBytes;
      const actual = h.headerBytes + payload;
      const what = kind === 'images' ? `${h.dims[0]} images of ${h.dims[1]}×${h.dims[2]} pixels` : `${h.dims[0]} labels`;
      throw new UserError(
        `${name}: ${payload < h.payloadBytes ? 'truncated' : 'unexpected trailing data'}: the header declares ${what}, ` +
          `so ${expected} bytes${gz ? ' (decompressed)' : ''} are expected, but the file holds ${actual}` +
          (payload > h.payloadBytes ? ` (${actual - expected} too many)` : ` (${expected - actual} missing)`),
      );
    }
    return h;
  } finally {
    close();
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/**
 * The labels file beside an IDX images file, found by name: `images` → `labels` and
 * `idx3` → `idx1` (so `train-images-idx3-ubyte.gz` → `train-labels-idx1-ubyte.gz`,
 * `train-images.idx3-ubyte` → `train-labels.idx1-ubyte`), with or without `.gz`.
 * Returns null when the name has no `images` or no such file exists.
 */
export async function findLabelsFile(imagesPath: string): Promise<string | null> {
  const name = basename(imagesPath);
  if (!name.includes('images')) return null;
  const base = name.replace('images', 'labels').replace('idx3', 'idx1');
  const stem = base.endsWith('.gz') ? base.slice(0, -3) : base;
  const candidates = base.endsWith('.gz') ? [base, stem] : [base, `${base}.gz`];
  for (const c of candidates) {
    const p = join(dirname(imagesPath), c);
    if (await isFile(p)) return p;
  }
  return null;
}

/**
 * Read an IDX images file. Record per image: modality 'image', key = locator =
 * `${basename}#${index}`, blob = rows·cols raw grayscale bytes ('image/x-raw-gray8'),
 * meta {width, height, channels: 1, index}, label = the labels file's value as a string
 * (null when no labels file is found beside it).
 */
export const readIdx: Reader = async function* readIdx(path) {
  const abs = resolve(path);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new UserError(`${path}: file not found; expected an IDX images file (e.g. train-images-idx3-ubyte.gz)`);
  if (!st.isFile()) throw new UserError(`${path}: is not a file; expected an IDX images file (e.g. train-images-idx3-ubyte.gz)`);
  if (st.size === 0) throw new UserError(`${basename(abs)}: empty file; expected an IDX images file`);
  const name = basename(abs);

  const img = await checkIdxFile(abs, 3, 'images');
  const [n, rows, cols] = img.dims;
  const labelsPath = await findLabelsFile(abs);
  if (labelsPath) {
    const lab = await checkIdxFile(labelsPath, 1, 'labels');
    if (lab.dims[0] !== n) {
      throw new UserError(
        `${basename(labelsPath)} declares ${lab.dims[0]} labels but ${name} declares ${n} images; expected one label per image`,
      );
    }
  }

  const images = await openIdx(abs);
  const labels = labelsPath ? await openIdx(labelsPath) : null;
  const changed = (file: string) => new UserError(`${file}: the file changed while it was being read`);
  try {
    await images.reader.read(img.headerBytes);
    if (labels) await labels.reader.read(8);
    const size = rows * cols;
    for (let index = 0; index < n; index++) {
      const pixels = await images.reader.read(size);
      if (pixels.length !== size) throw changed(name);
      let sourceLabel: string | null = null;
      if (labels) {
        const l = await labels.reader.read(1);
        if (l.length !== 1) throw changed(basename(labelsPath!));
        sourceLabel = String(l[0]);
      }
      const locator = `${name}#${index}`;
      const record: SourceRecord = {
        locator,
        key: locator,
        modality: 'image',
        blob: { bytes: pixels, mime: 'image/x-raw-gray8' },
        meta: { width: cols, height: rows, channels: 1, index },
        sourceLabel,
      };
      yield { ok: true, record };
    }
  } finally {
    images.close();
    labels?.close();
  }
};
