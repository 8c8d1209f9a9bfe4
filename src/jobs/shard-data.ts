import sharp from 'sharp';
import { UserError } from '../core/errors.ts';
import type { Modality } from '../core/modality.ts';
import { parseWav } from '../ingest/wav.ts';
import type { ModalityData } from '../ssl/types.ts';
import type { Store } from '../store/db.ts';

/**
 * The corpus-wide decisions an encoder's input depends on, made once over the whole project so
 * that every shard decodes its items exactly as `loadModalityData` (src/ssl/data.ts) decodes the
 * whole corpus: tabular column names (first-appearance order) and types, the image size and
 * channel count, the audio sample rate. A shard decoded with its own local decisions could differ
 * (a column numeric in one shard and categorical in the corpus; images resized in one shard only).
 */
export type ShardPlan =
  | { modality: 'text' }
  | { modality: 'tabular'; columns: Array<{ name: string; type: 'num' | 'cat' }> }
  | { modality: 'image'; height: number; width: number; channels: number }
  | { modality: 'audio'; sampleRate: number | null };

/** Item ids (ascending) of one modality in a project, and the plan, in one pass over metadata. */
export async function planShards(store: Store, projectId: number, modality: Modality, opts: { imageSize?: number } = {}): Promise<{ itemIds: number[]; plan: ShardPlan }> {
  const itemIds: number[] = [];
  const page = 5000;
  let after = 0;
  const names = new Map<string, boolean>(); // column → every value numeric or missing
  const sizes = { same: true, first: undefined as { width: number; height: number } | undefined, colour: false };
  for (;;) {
    const rows = await store.db
      .selectFrom('items')
      .select(['id', 'data', 'meta'])
      .where('project_id', '=', projectId)
      .where('modality', '=', modality)
      .where('id', '>', after)
      .orderBy('id')
      .limit(page)
      .execute();
    for (const r of rows) {
      itemIds.push(r.id);
      if (modality === 'tabular') {
        const rec = JSON.parse(r.data ?? '{}') as Record<string, unknown>;
        for (const [k, v] of Object.entries(rec)) {
          const num = v === null || v === undefined || typeof v === 'number';
          names.set(k, (names.get(k) ?? true) && num);
        }
      } else if (modality === 'image') {
        const m = JSON.parse(r.meta) as { width: number; height: number; channels: number };
        if (!sizes.first) sizes.first = m;
        else if (m.width !== sizes.first.width || m.height !== sizes.first.height) sizes.same = false;
        if (m.channels >= 3) sizes.colour = true;
      }
    }
    if (rows.length < page) break;
    after = rows[rows.length - 1].id;
  }
  if (itemIds.length === 0) throw new UserError('the project has no items; import data first');
  if (modality === 'tabular') {
    // A column missing from a row counts as missing (numeric-compatible), as in loadModalityData.
    return { itemIds, plan: { modality, columns: [...names].map(([name, num]) => ({ name, type: num ? 'num' : 'cat' })) } };
  }
  if (modality === 'image') {
    const size = opts.imageSize ?? 32;
    const f = sizes.first!;
    const height = sizes.same && f.height <= size ? f.height : size;
    const width = sizes.same && f.width <= size ? f.width : size;
    return { itemIds, plan: { modality, height, width, channels: sizes.colour ? 3 : 1 } };
  }
  if (modality === 'audio') return { itemIds, plan: { modality, sampleRate: null } };
  return { itemIds, plan: { modality: 'text' } };
}

/** The items of a project with ids in [lo, hi] (the plan's modality), decoded by the plan. */
export async function loadShard(store: Store, projectId: number, plan: ShardPlan, lo: number, hi: number, expectedSampleRate?: number): Promise<{ itemIds: number[]; data: ModalityData }> {
  const rows = await store.db
    .selectFrom('items')
    .leftJoin('blobs', 'blobs.sha256', 'items.blob_sha256')
    .select(['items.id', 'items.text', 'items.data', 'blobs.bytes', 'blobs.mime', 'items.meta'])
    .where('items.project_id', '=', projectId)
    .where('items.modality', '=', plan.modality)
    .where('items.id', '>=', lo)
    .where('items.id', '<=', hi)
    .orderBy('items.id')
    .execute();
  const itemIds = rows.map((r) => r.id);
  switch (plan.modality) {
    case 'text':
      return { itemIds, data: { modality: 'text', texts: rows.map((r) => r.text ?? '') } };
    case 'tabular': {
      const cols = plan.columns;
      return {
        itemIds,
        data: {
          modality: 'tabular',
          columns: cols,
          rows: rows.map((r) => {
            const rec = JSON.parse(r.data ?? '{}') as Record<string, number | string | null>;
            return cols.map((c) => rec[c.name] ?? null);
          }),
        },
      };
    }
    case 'audio': {
      let sampleRate = expectedSampleRate ?? plan.sampleRate ?? 0;
      const waves = rows.map((r) => {
        const wav = parseWav(r.bytes!);
        if (sampleRate && wav.sampleRate !== sampleRate) throw new UserError(`item ${r.id}: audio at ${wav.sampleRate} Hz, expected ${sampleRate} Hz`);
        sampleRate = wav.sampleRate;
        return wav.channels[0];
      });
      return { itemIds, data: { modality: 'audio', waves, sampleRate } };
    }
    case 'image': {
      const { height, width, channels } = plan;
      const per = height * width * channels;
      const pixels = new Float32Array(rows.length * per);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        const m = JSON.parse(r.meta) as { width: number; height: number; channels: number };
        let raw: Uint8Array;
        if (r.mime === 'image/x-raw-gray8' && m.width === width && m.height === height && channels === 1) raw = r.bytes!;
        else {
          const input = r.mime === 'image/x-raw-gray8' ? sharp(r.bytes!, { raw: { width: m.width, height: m.height, channels: 1 } }) : sharp(r.bytes!);
          let img = input.resize(width, height, { fit: 'cover' });
          img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
          raw = await img.raw().toBuffer();
        }
        for (let j = 0; j < per; j++) pixels[i * per + j] = raw[j] / 255;
      }
      return { itemIds, data: { modality: 'image', pixels, count: rows.length, height, width, channels } };
    }
  }
}
