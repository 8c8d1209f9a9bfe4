import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname, join, normalize, sep } from 'node:path';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';

/**
 * A small streaming tar.gz writer and reader (POSIX ustar, with PAX records for long paths) for
 * backup archives: regular files only, read and written in chunks so memory stays bounded whatever
 * the size of the store. Archives open with standard tools (`tar tzf backup.tar.gz`).
 */

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type: '0' | 'x', mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.fill(' ', 148, 156);
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A PAX record "LEN path=VALUE\n", where LEN counts the whole record including itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len++;
  return Buffer.from(`${len}${body}`, 'utf8');
}

export class TarGzWriter {
  private readonly gz: Gzip;
  private readonly out: WriteStream;
  private readonly done: Promise<void>;
  private failed?: Error;

  constructor(path: string) {
    this.gz = createGzip({ level: 6 });
    this.out = createWriteStream(path, { flags: 'wx' });
    this.gz.pipe(this.out);
    this.done = new Promise((res, rej) => {
      const fail = (e: Error) => {
        this.failed = e;
        rej(e);
      };
      this.gz.on('error', fail);
      this.out.on('error', fail);
      this.out.on('close', () => res());
    });
    this.done.catch(() => {});
  }

  private async write(b: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.gz.write(b)) await Promise.race([once(this.gz, 'drain'), this.done]);
  }

  private async entryHeader(name: string, size: number): Promise<void> {
    if (Buffer.byteLength(name) > 100) {
      const pax = paxRecord('path', name);
      await this.write(header(`PaxHeaders/${name.slice(-80)}`.slice(0, 100), pax.length, 'x', Date.now()));
      await this.write(pax);
      await this.pad(pax.length);
    }
    await this.write(header(name, size, '0', Date.now()));
  }

  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest) await this.write(Buffer.alloc(BLOCK - rest));
  }

  /** Adds a file from disk; returns its size and sha256 (as written). */
  async addFile(name: string, path: string): Promise<{ size: number; sha256: string }> {
    const size = statSync(path).size;
    await this.entryHeader(name, size);
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      // A file that grows while it is archived: its first `size` bytes are what the header promised.
      const part = n + chunk.length > size ? chunk.subarray(0, size - n) : chunk;
      h.update(part);
      n += part.length;
      await this.write(part);
      if (n === size) break;
    }
    if (n !== size) throw new Error(`${path} shrank from ${size} to ${n} bytes while it was archived`);
    await this.pad(size);
    return { size, sha256: h.digest('hex') };
  }

  async addBuffer(name: string, data: Buffer): Promise<{ size: number; sha256: string }> {
    await this.entryHeader(name, data.length);
    await this.write(data);
    await this.pad(data.length);
    return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  }

  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    this.gz.end();
    await this.done;
  }

  /** Stops writing after a failure (the caller removes the file). */
  async abort(): Promise<void> {
    this.gz.destroy();
    this.out.destroy();
    await this.done.catch(() => {});
  }
}

/** A malformed, truncated or unsafe archive. */
export class ArchiveError extends Error {}

export interface ExtractedEntry {
  name: string;
  size: number;
  sha256: string;
}

/** An entry name that stays inside the destination: relative, no `..`, no absolute path. */
function safeName(name: string): string {
  const n = normalize(name);
  if (!name || name.startsWith('/') || n.startsWith('..') || n.split(sep).includes('..') || n.includes('\0')) throw new ArchiveError(`unsafe path in archive: "${name}"`);
  return n;
}

function parseOctal(b: Buffer, at: number, len: number): number {
  const s = b.toString('ascii', at, at + len).replace(/\0.*$/, '').trim();
  if (!/^[0-7]*$/.test(s)) throw new ArchiveError(`bad number "${s}" in a tar header`);
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === parseOctal(h, 148, 8);
}

/**
 * Extracts every regular file of a tar.gz into `dest`, hashing each one as it is written.
 * Throws ArchiveError on a truncated or corrupt archive (bad gzip data, a bad header checksum,
 * an entry cut short, no end-of-archive marker) or an unsafe path.
 */
export async function extractTarGz(file: string, dest: string): Promise<ExtractedEntry[]> {
  const entries: ExtractedEntry[] = [];
  let buf: Buffer = Buffer.alloc(0);
  let cur: { name: string; size: number; left: number; out?: WriteStream; hash: ReturnType<typeof createHash>; pax: boolean; paxData: Buffer[] } | undefined;
  let pad = 0;
  let paxPath: string | undefined;
  let ended = false;
  let writeError: Error | undefined;
  const gunzip = createGunzip();
  const src = createReadStream(file);
  src.on('error', (e) => gunzip.destroy(e));
  src.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        if (ended) {
          buf = Buffer.alloc(0);
          break;
        }
        if (cur) {
          const take = Math.min(cur.left, buf.length);
          if (take > 0) {
            const part = buf.subarray(0, take);
            if (cur.pax) cur.paxData.push(Buffer.from(part));
            else {
              cur.hash.update(part);
              if (!cur.out!.write(part)) await once(cur.out!, 'drain');
            }
            cur.left -= take;
            buf = buf.subarray(take);
          }
          if (cur.left > 0) break;
          if (cur.pax) {
            const text = Buffer.concat(cur.paxData).toString('utf8');
            const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
            paxPath = m ? m[1] : undefined;
          } else {
            cur.out!.end();
            await once(cur.out!, 'close');
            if (writeError) throw writeError;
            entries.push({ name: cur.name, size: cur.size, sha256: cur.hash.digest('hex') });
          }
          pad = (BLOCK - (cur.size % BLOCK)) % BLOCK;
          cur = undefined;
        }
        if (pad > 0) {
          const take = Math.min(pad, buf.length);
          pad -= take;
          buf = buf.subarray(take);
          if (pad > 0) break;
        }
        if (buf.length < BLOCK) break;
        const h = buf.subarray(0, BLOCK);
        buf = buf.subarray(BLOCK);
        if (h.every((b) => b === 0)) {
          ended = true;
          continue;
        }
        if (!checksumOk(h)) throw new ArchiveError('a tar header fails its checksum: the archive is corrupt');
        const type = String.fromCharCode(h[156] || 48);
        const size = parseOctal(h, 124, 12);
        const prefix = h.toString('utf8', 345, 500).replace(/\0.*$/s, '');
        const base = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
        if (type === 'x') {
          cur = { name: '', size, left: size, hash: createHash('sha256'), pax: true, paxData: [] };
          continue;
        }
        if (type !== '0') throw new ArchiveError(`unexpected tar entry of type "${type}" (${base}): a Tessera backup holds regular files only`);
        const name = safeName(paxPath ?? (prefix ? `${prefix}/${base}` : base));
        paxPath = undefined;
        const path = join(dest, name);
        mkdirSync(dirname(path), { recursive: true });
        const out = createWriteStream(path, { flags: 'wx' });
        // Errors surface through the awaited writes and close; a stream destroyed on abort must not throw.
        out.on('error', (e) => (writeError ??= e));
        cur = { name, size, left: size, out, hash: createHash('sha256'), pax: false, paxData: [] };
        if (size === 0) continue;
      }
    }
  } catch (e) {
    cur?.out?.destroy();
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError(`cannot read the archive, it is truncated or corrupt (${(e as Error).message})`);
  }
  if (cur || pad > 0) {
    cur?.out?.destroy();
    throw new ArchiveError(`the archive ends inside ${cur?.name ? `"${cur.name}"` : 'an entry'}: it is truncated`);
  }
  if (!ended) throw new ArchiveError('the archive has no end-of-archive marker: it is truncated');
  return entries;
}
