/**
 * The label-efficiency benchmark's SSL encoder: a saved one (--encoder), else one cached under the
 * cache root by data, pretext, epochs and seed, else pretrained now on the training items (no
 * labels) and cached. And the embeddings the arms read (the items as they are, and under each
 * test-time view).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../../src/core/errors.ts';
import { pretrain, type Encoder, type ModalityData } from '../../src/ssl/index.ts';
import { SslEncoder } from '../../src/ssl/encoder.ts';
import type { Features } from '../../src/probe/features.ts';
import type { LabelEfficiencyOptions } from '../../src/cli/label-efficiency-contract.ts';
import type { BenchData } from './datasets.ts';
import { viewsFor } from './train-api.ts';

export interface CachedEncoder {
  dir: string;
  /** Epochs the saved encoder was trained for (its encoder.json; a checkpoint of a run still going has fewer than its folder name says). */
  epochs: number;
  /** Epochs the folder name announces, when it follows the cache naming. */
  plannedEpochs: number | null;
  pretrainedNow: boolean;
  pretrainSeconds: number | null;
}

type CacheOptions = Pick<LabelEfficiencyOptions, 'encoderDir' | 'cacheDir' | 'pretrainEpochs' | 'seed' | 'log'>;

/** Cache key of the data: the dataset name; a CSV pair adds a hash of both files and the columns. */
function cacheName(bd: BenchData, csvHash: string | null): string {
  return csvHash ? `${bd.name}-${csvHash}` : bd.name;
}

async function trainedEpochs(dir: string): Promise<number> {
  const f = JSON.parse(await readFile(join(dir, 'encoder.json'), 'utf8')) as { epochs?: unknown };
  return typeof f.epochs === 'number' ? f.epochs : NaN;
}

/** Any cached encoder of this data and pretext: this seed first, then the most epochs; null when none. */
async function findCached(base: string, pretext: string, opts: CacheOptions): Promise<CachedEncoder | null> {
  if (!existsSync(opts.cacheDir)) return null;
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-${pretext}-e(\\d+)-s(\\d+)$`);
  const found = readdirSync(opts.cacheDir)
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m && existsSync(join(opts.cacheDir, x.n, 'encoder.json')) && statSync(join(opts.cacheDir, x.n)).isDirectory())
    .map((x) => ({ dir: join(opts.cacheDir, x.n), epochs: Number(x.m![1]), seed: Number(x.m![2]) }))
    .sort((a, b) => Number(b.seed === opts.seed) - Number(a.seed === opts.seed) || b.epochs - a.epochs);
  return found.length ? { dir: found[0].dir, epochs: await trainedEpochs(found[0].dir), plannedEpochs: found[0].epochs, pretrainedNow: false, pretrainSeconds: null } : null;
}

/** The encoder folder to use: --encoder, else a cached one, else pretrain now and cache it. */
export async function resolveEncoder(bd: BenchData, trainData: ModalityData, pretext: string, opts: CacheOptions, csvHash: string | null): Promise<CachedEncoder> {
  if (opts.encoderDir) {
    if (!existsSync(join(opts.encoderDir, 'encoder.json'))) throw new UserError(`--encoder ${opts.encoderDir}: no encoder.json there (expected a folder written by Encoder.save)`);
    return { dir: opts.encoderDir, epochs: await trainedEpochs(opts.encoderDir), plannedEpochs: null, pretrainedNow: false, pretrainSeconds: null };
  }
  const base = cacheName(bd, csvHash);
  if (opts.pretrainEpochs === undefined) {
    const found = await findCached(base, pretext, opts);
    if (found) return found;
  }
  const epochs = opts.pretrainEpochs ?? bd.pretrainEpochs;
  const dir = join(opts.cacheDir, `${base}-${pretext}-e${epochs}-s${opts.seed}`);
  if (existsSync(join(dir, 'encoder.json'))) return { dir, epochs: await trainedEpochs(dir), plannedEpochs: epochs, pretrainedNow: false, pretrainSeconds: null };
  const seconds = await pretrainInto(dir, trainData, pretext, epochs, bd.pretrainBatch, opts);
  return { dir, epochs, plannedEpochs: epochs, pretrainedNow: true, pretrainSeconds: seconds };
}

/** Pretrains an encoder and saves it to `dir` (written beside it first, then renamed: a crash leaves no half cache entry); returns the seconds it took. */
async function pretrainInto(dir: string, trainData: ModalityData, pretext: string, epochs: number, batch: number, opts: CacheOptions): Promise<number> {
  opts.log(`pretraining ${pretext} for ${epochs} epochs on ${trainData.modality === 'text' ? trainData.texts.length : 'the'} training items (no labels) → ${dir}`);
  const res = await pretrain(trainData, {
    pretext,
    epochs,
    batch,
    seed: opts.seed,
    onEpoch: (e) => opts.log(`  pretrain epoch ${e.epoch}/${epochs}: loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(1)} s)`),
  });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await res.encoder.save(tmp);
  res.encoder.dispose();
  await mkdir(dirname(dir), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return res.seconds;
}

export async function embedAll(enc: Encoder, data: ModalityData): Promise<Features> {
  const data32 = await enc.embed(data);
  return { rows: data32.length / enc.dim, dim: enc.dim, data: data32 };
}

/** Every item's embedding under each test-time view but the first (the item as it is: `embedAll`), in inference mode. */
export async function embedViews(enc: Encoder, data: ModalityData, batch = 256): Promise<Features[]> {
  const tta = enc instanceof SslEncoder ? viewsFor(enc).tta : null;
  if (!tta || !(enc instanceof SslEncoder)) throw new UserError('test-time views are defined for image encoders only');
  const n = enc.backbone.count(data);
  const out: Features[] = [];
  for (let v = 1; v < tta.count; v++) {
    const f: Features = { rows: n, dim: enc.dim, data: new Float32Array(n * enc.dim) };
    for (let s = 0; s < n; s += batch) {
      const idx = Int32Array.from({ length: Math.min(batch, n - s) }, (_, i) => s + i);
      const t = tta.forward(data, idx, v);
      f.data.set(await t.data(), s * enc.dim);
      t.dispose();
    }
    out.push(f);
  }
  return out;
}
