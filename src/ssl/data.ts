import sharp from 'sharp';
import { UserError } from '../core/errors.ts';
import type { Modality } from '../core/modality.ts';
import type { Store } from '../store/db.ts';
import { iterateItemPayloads, type ItemPayload } from '../store/items.ts';
import { parseWav } from '../ingest/wav.ts';
import type { ModalityData } from './types.ts';

/** A project's items of one modality, decoded for the encoders, with their ids and source labels. */
export interface LoadedData {
  itemIds: number[];
  labels: Array<string | null>;
  data: ModalityData;
}

/** The modality a project holds (the most frequent one when it mixes them). */
export async function projectModality(store: Store, projectId: number): Promise<Modality> {
  const r = await store.db
    .selectFrom('items')
    .select(['modality', (e) => e.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .groupBy('modality')
    .orderBy('n', 'desc')
    .executeTakeFirst();
  if (!r) throw new UserError('the project has no items; import data first');
  return r.modality;
}

export interface LoadOptions {
  /** Images larger than this (either side) or of mixed sizes are resized to size×size. */
  imageSize?: number;
  /** Expected audio sample rate (the project's). */
  sampleRate?: number;
}

export async function loadModalityData(store: Store, projectId: number, modality: Modality, opts: LoadOptions = {}): Promise<LoadedData> {
  const itemIds: number[] = [];
  const labels: Array<string | null> = [];
  const payloads: ItemPayload[] = [];
  const keep = (p: ItemPayload) => {
    itemIds.push(p.id);
    labels.push(p.sourceLabel);
  };
  if (modality === 'text') {
    const texts: string[] = [];
    for await (const p of iterateItemPayloads(store.db, projectId, 'text')) {
      keep(p);
      texts.push(p.text ?? '');
    }
    return { itemIds, labels, data: { modality, texts } };
  }
  if (modality === 'tabular') {
    const raw: Array<Record<string, number | string | null>> = [];
    for await (const p of iterateItemPayloads(store.db, projectId, 'tabular')) {
      keep(p);
      raw.push(JSON.parse(p.data ?? '{}'));
    }
    const names = [...new Set(raw.flatMap((r) => Object.keys(r)))];
    const columns = names.map((name) => ({ name, type: raw.every((r) => r[name] === null || r[name] === undefined || typeof r[name] === 'number') ? ('num' as const) : ('cat' as const) }));
    const rows = raw.map((r) => columns.map((c) => r[c.name] ?? null));
    return { itemIds, labels, data: { modality, rows, columns } };
  }
  if (modality === 'audio') {
    const waves: Float32Array[] = [];
    let sampleRate = opts.sampleRate ?? 0;
    for await (const p of iterateItemPayloads(store.db, projectId, 'audio')) {
      keep(p);
      const wav = parseWav(p.bytes!);
      if (sampleRate && wav.sampleRate !== sampleRate) throw new UserError(`item ${p.id}: audio at ${wav.sampleRate} Hz, expected the project's ${sampleRate} Hz`);
      sampleRate = wav.sampleRate;
      waves.push(wav.channels[0]);
    }
    return { itemIds, labels, data: { modality, waves, sampleRate } };
  }
  for await (const p of iterateItemPayloads(store.db, projectId, 'image')) {
    keep(p);
    payloads.push(p);
  }
  return { itemIds, labels, data: await decodeImages(payloads, opts.imageSize ?? 32) };
}

/**
 * Decodes image items to N×H×W×C floats in [0, 1]. Same-size images no larger than `size` keep
 * their size (MNIST stays 28×28); otherwise every image is resized (cover + centre crop) to
 * size×size. Grayscale unless some image has colour.
 */
async function decodeImages(items: ItemPayload[], size: number): Promise<ModalityData & { modality: 'image' }> {
  const metas = items.map((p) => JSON.parse(p.meta) as { width: number; height: number; channels: number });
  const same = metas.every((m) => m.width === metas[0]?.width && m.height === metas[0]?.height);
  const height = same && metas.length && metas[0].height <= size ? metas[0].height : size;
  const width = same && metas.length && metas[0].width <= size ? metas[0].width : size;
  const channels = metas.some((m) => m.channels >= 3) ? 3 : 1;
  const per = height * width * channels;
  const pixels = new Float32Array(items.length * per);
  for (let i = 0; i < items.length; i++) {
    const p = items[i];
    const m = metas[i];
    let raw: Uint8Array;
    if (p.mime === 'image/x-raw-gray8' && m.width === width && m.height === height && channels === 1) raw = p.bytes!;
    else {
      const input = p.mime === 'image/x-raw-gray8' ? sharp(p.bytes!, { raw: { width: m.width, height: m.height, channels: 1 } }) : sharp(p.bytes!);
      let img = input.resize(width, height, { fit: 'cover' });
      img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
      raw = await img.raw().toBuffer();
    }
    for (let j = 0; j < per; j++) pixels[i * per + j] = raw[j] / 255;
  }
  return { modality: 'image', pixels, count: items.length, height, width, channels };
}

/** The entries of `data` at `idx`, in that order. */
export function subsetData(data: ModalityData, idx: number[]): ModalityData {
  switch (data.modality) {
    case 'text':
      return { modality: 'text', texts: idx.map((i) => data.texts[i]) };
    case 'audio':
      return { modality: 'audio', sampleRate: data.sampleRate, waves: idx.map((i) => data.waves[i]) };
    case 'tabular':
      return { modality: 'tabular', columns: data.columns, rows: idx.map((i) => data.rows[i]) };
    case 'image': {
      const per = data.height * data.width * data.channels;
      const pixels = new Float32Array(idx.length * per);
      idx.forEach((i, k) => pixels.set(data.pixels.subarray(i * per, (i + 1) * per), k * per));
      return { ...data, pixels, count: idx.length };
    }
  }
}
