/**
 * Image-folder reader: PNG/JPEG files (a folder, recursive, or one file) → one image record each.
 *
 * Every file is decoded in full with sharp, so a truncated or corrupt image is rejected here
 * rather than failing later in training. The stored blob is the original bytes (never
 * re-encoded: the sha256 content address is the file's own). One file is held at a time.
 */
import sharp from 'sharp';
import { errorMessage } from '../../core/errors.ts';
import type { Reader, SourceRecord } from '../types.ts';
import { DEFAULT_MAX_MEDIA_BYTES, listSourceFiles, readFilesAhead } from '../files.ts';
import { reject } from './common.ts';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg' };


/** Class of a file under `labelFromFolder`: its immediate parent folder, or null at the root. */
export function folderLabel(rel: string): string | null {
  const parts = rel.split('/');
  return parts.length >= 2 ? parts[parts.length - 2] : null;
}

/**
 * Decode `bytes` fully and describe them, or return why they are not a usable PNG/JPEG.
 * `failOn: 'warning'` makes libvips treat recoverable damage (e.g. "premature end of JPEG
 * file") as an error instead of returning grey padding.
 */
export async function probeImage(
  bytes: Uint8Array,
): Promise<{ ok: true; width: number; height: number; channels: number; format: 'png' | 'jpeg' } | { ok: false; reason: string }> {
  const img = sharp(bytes, { failOn: 'warning' });
  let meta;
  try {
    meta = await img.metadata();
  } catch (e) {
    return { ok: false, reason: `not a readable PNG or JPEG image (sharp: ${errorMessage(e).trim()})` };
  }
  if (meta.format !== 'png' && meta.format !== 'jpeg') {
    return { ok: false, reason: `expected a PNG or JPEG image, found ${meta.format ?? 'an unknown format'}` };
  }
  try {
    // metadata() reads only the header; decoding every pixel is what catches truncation.
    // stats() decodes every pixel without copying a raw pixel buffer out to JS.
    await img.stats();
    return { ok: true, width: meta.width, height: meta.height, channels: meta.channels, format: meta.format };
  } catch (e) {
    const kind = meta.format === 'png' ? 'PNG' : 'JPEG';
    return { ok: false, reason: `${kind} header is readable but the pixel data is not: truncated or corrupt (sharp: ${errorMessage(e).trim()})` };
  }
}

/**
 * Read PNG/JPEG images from a folder (recursive, sorted by relative path; other files ignored)
 * or a single file. Record: modality 'image', key = locator = relative path, blob = the
 * original bytes with the MIME type of the format found by decoding (not the extension),
 * meta {width, height, channels, format}. With `opts.labelFromFolder` the label is the
 * immediate parent folder's name; files directly in the imported folder get no label.
 */
export const readImages: Reader = async function* readImages(path, opts) {
  const maxBytes = opts.maxRecordBytes ?? DEFAULT_MAX_MEDIA_BYTES;
  const files = await listSourceFiles(path, IMAGE_EXTENSIONS, 'a PNG or JPEG image');
  for await (const { file: f, bytes } of readFilesAhead(files, maxBytes)) {
    if (typeof bytes === 'string') {
      yield reject(f.rel, bytes);
      continue;
    }
    if (bytes.length === 0) {
      yield reject(f.rel, `empty file (0 bytes); expected a PNG or JPEG image`);
      continue;
    }
    const probe = await probeImage(bytes);
    if (!probe.ok) {
      yield reject(f.rel, `${probe.reason}`);
      continue;
    }
    const record: SourceRecord = {
      locator: f.rel,
      key: f.rel,
      modality: 'image',
      blob: { bytes, mime: MIME[probe.format] },
      meta: { width: probe.width, height: probe.height, channels: probe.channels, format: probe.format },
      sourceLabel: opts.labelFromFolder ? folderLabel(f.rel) : null,
    };
    yield { ok: true, record };
  }
};
