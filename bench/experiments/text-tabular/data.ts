// The dev protocol's data: the TRAINING files only, read with the project's readers, and a
// seeded stratified 80/20 carve into an unlabelled pool (labels are drawn from it, unsupervised
// representations are fitted on it) and a dev-test part that is only ever scored.
// TREC.test, KDDTest+ and the SMS test part (the benches' seeded 20% holdout) are never read.
import { resolve } from 'node:path';
import { mulberry32, shuffled } from '../../../src/core/rng.ts';
import { TABULAR_PRESETS } from '../../../src/ingest/presets.ts';
import { readSms, readTrec } from '../../../src/ingest/readers/text.ts';
import { readTabular } from '../../../src/ingest/readers/tabular.ts';
import type { Reader, SourceRecord } from '../../../src/ingest/types.ts';

export const DATASETS_DIR = resolve(import.meta.dirname, '../../../../shared/datasets');
export const DATASETS = ['trec-coarse', 'trec-fine', 'sms', 'nsl-kdd'] as const;
export type DatasetName = (typeof DATASETS)[number];

export type DevData =
  | { kind: 'text'; name: DatasetName; texts: string[]; y: Int32Array; classes: string[]; pool: number[]; devTest: number[]; metric: 'accuracy' | 'macroF1' }
  | {
      kind: 'tabular';
      name: DatasetName;
      rows: Array<Array<number | string | null>>;
      columns: Array<{ name: string; type: 'num' | 'cat' }>;
      y: Int32Array;
      classes: string[];
      pool: number[];
      devTest: number[];
      metric: 'accuracy' | 'macroF1';
    };

async function records(reader: Reader, path: string, opts: Record<string, unknown> = {}): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const r of reader(path, opts)) {
    if (!r.ok) throw new Error(`${r.reject.where}: ${r.reject.message}`);
    out.push(r.record);
  }
  return out;
}

function indexLabels(labels: string[]): { y: Int32Array; classes: string[] } {
  const classes = [...new Set(labels)].sort();
  const at = new Map(classes.map((c, i) => [c, i]));
  return { y: Int32Array.from(labels, (l) => at.get(l)!), classes };
}

/** Stratified: ⌊20%⌋ of each class (seeded) to dev-test, the rest to the pool. */
export function carveDev(y: Int32Array, seed = 0, fraction = 0.2): { pool: number[]; devTest: number[] } {
  const rand = mulberry32(seed ^ 0xdef);
  const byClass = new Map<number, number[]>();
  y.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const pool: number[] = [];
  const devTest: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = shuffled(byClass.get(c)!, rand);
    const k = Math.floor(idx.length * fraction);
    devTest.push(...idx.slice(0, k));
    pool.push(...idx.slice(k));
  }
  return { pool: pool.sort((a, b) => a - b), devTest: devTest.sort((a, b) => a - b) };
}

export async function loadDev(name: DatasetName): Promise<DevData> {
  if (name === 'trec-coarse' || name === 'trec-fine') {
    const recs = await records(readTrec, resolve(DATASETS_DIR, 'text/trec/TREC.train'));
    const labels = recs.map((r) => (name === 'trec-fine' ? String(r.meta.fineLabel) : r.sourceLabel!));
    const { y, classes } = indexLabels(labels);
    return { kind: 'text', name, texts: recs.map((r) => r.text!), y, classes, ...carveDev(y), metric: 'accuracy' };
  }
  if (name === 'sms') {
    const recs = await records(readSms, resolve(DATASETS_DIR, 'text/sms-spam/SMSSpamCollection'));
    // The benches' holdout (label-efficiency/datasets.ts seededHoldout): mulberry32(0), r < 0.2 → test, in
    // file order. Those rows are dropped here, before anything else looks at them.
    const r = mulberry32(0);
    const train = recs.filter(() => !(r() < 0.2));
    const { y, classes } = indexLabels(train.map((t) => t.sourceLabel!));
    return { kind: 'text', name, texts: train.map((t) => t.text!), y, classes, ...carveDev(y), metric: 'macroF1' };
  }
  const recs = await records(readTabular, resolve(DATASETS_DIR, 'tabular/nsl-kdd/KDDTrain+_20Percent.txt'), { preset: 'nsl-kdd' });
  const columns = TABULAR_PRESETS['nsl-kdd'].columns.filter((c) => c.type === 'num' || c.type === 'cat') as Array<{ name: string; type: 'num' | 'cat' }>;
  const rows = recs.map((rec) => columns.map((c) => rec.values![c.name] ?? null));
  const { y, classes } = indexLabels(recs.map((rec) => rec.sourceLabel!));
  return { kind: 'tabular', name, rows, columns, y, classes, ...carveDev(y), metric: 'accuracy' };
}
