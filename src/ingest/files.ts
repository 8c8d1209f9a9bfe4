import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { UserError, errorMessage } from '../core/errors.ts';
import { fsCode, linkLoopError } from './fs-errors.ts';

/**
 * Largest media file (WAV, PNG, JPEG) read when `maxRecordBytes` is not given. The text
 * readers' 1 MiB default would reject ordinary recordings and photos, so media files get
 * their own bound; larger files are rejected before they are read.
 */
export const DEFAULT_MAX_MEDIA_BYTES = 256 << 20;

/** One file of a source: its absolute path and its path relative to the imported folder ('/'-separated). */
export interface SourceFile {
  abs: string;
  rel: string;
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The files a media reader should read from PATH: PATH itself when it is a file (its
 * extension must be one of `extensions`), else every file below the folder whose extension
 * matches (case-insensitive), sorted by relative path. Hidden entries (names starting with
 * '.', e.g. macOS `._x.wav` resource forks, `.git`) are skipped; symbolic links are followed
 * once (cycles of folders are cut) and dangling ones skipped. Throws UserError when PATH is
 * missing or holds no such file, or when a link loops (never resolves), naming that link.
 */
export async function listSourceFiles(path: string, extensions: readonly string[], what: string): Promise<SourceFile[]> {
  const exts = new Set(extensions.map((e) => e.toLowerCase()));
  const root = resolve(path);
  let st;
  try {
    st = await stat(root);
  } catch (e) {
    throw linkLoopError(path, e) ?? new UserError(`${path}: cannot read (${errorMessage(e)}); expected ${what} or a folder of them`);
  }
  if (st.isFile()) {
    if (!exts.has(extname(root).toLowerCase())) {
      throw new UserError(`${path}: expected ${what} (${[...exts].join(', ')}) or a folder of them`);
    }
    return [{ abs: root, rel: basename(root) }];
  }
  if (!st.isDirectory()) throw new UserError(`${path}: expected ${what} or a folder of them`);

  const out: SourceFile[] = [];
  const seenDirs = new Set<string>();
  const walk = async (dir: string, relDir: string): Promise<void> => {
    const real = await realpath(dir);
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw new UserError(`${relDir || path}: cannot list folder (${errorMessage(e)})`);
    }
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue;
      const abs = join(dir, ent.name);
      const rel = relDir ? `${relDir}/${ent.name}` : ent.name;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const t = await stat(abs).catch((e: unknown) => {
          if (fsCode(e) === 'ELOOP') throw linkLoopError(abs, e);
          return null; // dangling links are skipped
        });
        isDir = !!t?.isDirectory();
        isFile = !!t?.isFile();
      }
      if (isDir) await walk(abs, rel);
      else if (isFile && exts.has(extname(ent.name).toLowerCase())) out.push({ abs, rel });
    }
  };
  await walk(root, '');
  if (out.length === 0) throw new UserError(`${path}: no ${[...exts].join(' / ')} files in the folder or its sub-folders; expected ${what} or more`);
  out.sort((a, b) => byCodePoint(a.rel, b.rel));
  return out;
}

/**
 * Read a file of at most `maxBytes`; returns the bytes or a reject message naming the file.
 * The size is checked before reading, so an oversized file is never buffered.
 */
export async function readBoundedFile(f: SourceFile, maxBytes: number): Promise<Uint8Array | string> {
  try {
    const { size } = await stat(f.abs);
    if (size > maxBytes) return `file is ${size} bytes, larger than the ${maxBytes}-byte limit (maxRecordBytes)`;
    return await readFile(f.abs);
  } catch (e) {
    return `cannot read file (${errorMessage(e)})`;
  }
}

/**
 * The files' contents in order, reading file i+1 while the caller works on file i (so disk
 * and decoding overlap). At most two files are held at once. Never rejects: a file that
 * cannot be read comes back as its reject message (see readBoundedFile).
 */
export async function* readFilesAhead(files: SourceFile[], maxBytes: number): AsyncGenerator<{ file: SourceFile; bytes: Uint8Array | string }> {
  let next = files.length > 0 ? readBoundedFile(files[0], maxBytes) : null;
  for (let i = 0; i < files.length; i++) {
    const bytes = await next!;
    next = i + 1 < files.length ? readBoundedFile(files[i + 1], maxBytes) : null;
    yield { file: files[i], bytes };
  }
}

