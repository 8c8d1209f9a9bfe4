/**
 * Tabular encoder: fitted preprocessing + an MLP.
 *
 * Preprocessing (fitted on the data, saved with the encoder):
 *  - numeric columns: optional log1p for non-negative, strongly right-skewed columns
 *    (`numeric: 'auto'`: skewness > 2, typical of byte counts and durations), then
 *    standardisation (x − mean) / std, clipped to ±`clip`; a missing value becomes 0 (the
 *    mean) and, for columns that had missing values when fitted, a 0/1 indicator feature;
 *  - categorical columns: the `maxCategories` most frequent values get ids 1…K (ties by value),
 *    anything else — unseen or missing — id 0; each column has its own embedding of width
 *    min(maxEmbed, round(1.6·(K+1)^0.56)) (fast.ai's rule of thumb).
 * Encoder: concat(numeric, embeddings) → Dense+ReLU layers → a final linear layer whose output
 * is the embedding.
 */
import { tf } from '../../ml/engine.ts';
import { UserError } from '../../core/errors.ts';
import type { ModalityData } from '../types.ts';
import { num, numList, type Config } from '../config.ts';
import { Params, addDense, dense, dropout, gatherRows, type Tensor } from '../nn.ts';
import { Rng } from '../rng.ts';
import { expectModality, type Backbone, type BackboneSpec, type ModalityKit } from './backbone.ts';

export const TABULAR_DEFAULTS: Config = {
  /** 'auto' (log1p for skewed non-negative columns) or 'standard' (standardise only). */
  numeric: 'auto',
  /** Standardised values are clipped to ±clip. */
  clip: 10,
  maxCategories: 1000,
  maxEmbed: 16,
  /** Hidden widths; the last entry is the embedding width. */
  widths: [256, 256, 256],
  dropout: 0,
};

type TabularData = Extract<ModalityData, { modality: 'tabular' }>;

interface NumPrep {
  column: number;
  log: boolean;
  mean: number;
  std: number;
  /** Has a missing-value indicator feature. */
  indicator: boolean;
}

interface CatPrep {
  column: number;
  values: string[];
  embed: number;
}

export interface TabularPrep {
  columns: Array<{ name: string; type: 'num' | 'cat' }>;
  num: NumPrep[];
  cat: CatPrep[];
  clip: number;
}

/** Preprocessed matrix: numeric features (standardised + indicators) and categorical ids. */
export interface TabularMatrix {
  n: number;
  /** n × numFeatures. */
  num: Float32Array;
  /** n × catCount. */
  cat: Int32Array;
}

function toNumber(v: number | string | null | undefined): number {
  if (v === null || v === undefined || v === '') return NaN;
  return typeof v === 'number' ? v : Number(v);
}

function toCategory(v: number | string | null | undefined): string | null {
  if (v === null || v === undefined || v === '') return null;
  return String(v);
}

export function fitTabular(data: TabularData, c: Config): TabularPrep {
  const mode = c.numeric;
  if (mode !== 'auto' && mode !== 'standard') throw new UserError(`config.encoder.numeric must be "auto" or "standard", got ${JSON.stringify(mode)}`);
  const clip = num(c, 'clip', { min: 0.1, where: 'config.encoder' });
  const maxCat = num(c, 'maxCategories', { min: 1, int: true, where: 'config.encoder' });
  const maxEmbed = num(c, 'maxEmbed', { min: 1, int: true, where: 'config.encoder' });
  const { rows, columns } = data;
  if (columns.length === 0) throw new UserError('tabular data has no columns');
  rows.forEach((r, i) => {
    if (r.length !== columns.length) throw new UserError(`tabular row ${i} has ${r.length} values, expected ${columns.length} (one per column)`);
  });
  const numPrep: NumPrep[] = [];
  const catPrep: CatPrep[] = [];
  columns.forEach((col, j) => {
    if (col.type === 'num') {
      const xs: number[] = [];
      let missing = 0;
      for (const r of rows) {
        const v = toNumber(r[j]);
        if (Number.isFinite(v)) xs.push(v);
        else missing++;
      }
      let log = false;
      if (mode === 'auto' && xs.length > 2) {
        let min = Infinity;
        let m = 0;
        for (const x of xs) {
          m += x;
          if (x < min) min = x;
        }
        m /= xs.length;
        let m2 = 0;
        let m3 = 0;
        for (const x of xs) {
          m2 += (x - m) ** 2;
          m3 += (x - m) ** 3;
        }
        m2 /= xs.length;
        m3 /= xs.length;
        const skew = m2 > 0 ? m3 / m2 ** 1.5 : 0;
        log = min >= 0 && skew > 2;
      }
      const t = log ? xs.map((x) => Math.log1p(x)) : xs;
      const mean = t.length ? t.reduce((a, b) => a + b, 0) / t.length : 0;
      const variance = t.length ? t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length : 0;
      numPrep.push({ column: j, log, mean, std: Math.sqrt(variance) || 1, indicator: missing > 0 });
    } else if (col.type === 'cat') {
      const counts = new Map<string, number>();
      for (const r of rows) {
        const v = toCategory(r[j]);
        if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const values = [...counts]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, maxCat)
        .map(([v]) => v);
      catPrep.push({ column: j, values, embed: Math.min(maxEmbed, Math.max(1, Math.round(1.6 * (values.length + 1) ** 0.56))) });
    } else {
      throw new UserError(`tabular column ${JSON.stringify(col.name)} has type ${JSON.stringify((col as { type: unknown }).type)}; expected "num" or "cat"`);
    }
  });
  return { columns: columns.map((c) => ({ name: c.name, type: c.type })), num: numPrep, cat: catPrep, clip };
}

export function numFeatureCount(p: TabularPrep): number {
  return p.num.length + p.num.filter((n) => n.indicator).length;
}

export function transformTabular(p: TabularPrep, data: TabularData): TabularMatrix {
  const { rows, columns } = data;
  if (columns.length !== p.columns.length || columns.some((c, j) => c.name !== p.columns[j].name || c.type !== p.columns[j].type)) {
    throw new UserError(
      `tabular columns differ from the encoder's: expected ${p.columns.map((c) => `${c.name}:${c.type}`).join(', ')}; got ${columns.map((c) => `${c.name}:${c.type}`).join(', ')}`,
    );
  }
  const n = rows.length;
  const F = numFeatureCount(p);
  const C = p.cat.length;
  const numOut = new Float32Array(n * F);
  const catOut = new Int32Array(n * C);
  const ids = p.cat.map((c) => new Map(c.values.map((v, i) => [v, i + 1])));
  const indicatorAt: number[] = [];
  let k = p.num.length;
  for (const q of p.num) indicatorAt.push(q.indicator ? k++ : -1);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== columns.length) throw new UserError(`tabular row ${i} has ${r.length} values, expected ${columns.length}`);
    p.num.forEach((q, f) => {
      let v = toNumber(r[q.column]);
      const missing = !Number.isFinite(v);
      if (missing) v = 0;
      else {
        if (q.log) v = Math.log1p(Math.max(0, v));
        v = Math.max(-p.clip, Math.min(p.clip, (v - q.mean) / q.std));
      }
      numOut[i * F + f] = v;
      if (indicatorAt[f] >= 0) numOut[i * F + indicatorAt[f]] = missing ? 1 : 0;
    });
    p.cat.forEach((q, c) => {
      const v = toCategory(r[q.column]);
      catOut[i * C + c] = v === null ? 0 : (ids[c].get(v) ?? 0);
    });
  }
  return { n, num: numOut, cat: catOut };
}

export class TabularBackbone implements Backbone {
  readonly modality = 'tabular' as const;
  readonly params = new Params();
  readonly dim: number;
  readonly numFeatures: number;
  readonly widths: number[];
  readonly rate: number;
  private readonly cache = new WeakMap<unknown[], TabularMatrix>();

  constructor(
    readonly prep: TabularPrep,
    readonly encoder: Config,
    rng: Rng,
  ) {
    this.widths = numList(encoder, 'widths', 'config.encoder').map((w) => Math.max(1, Math.round(w)));
    this.rate = num(encoder, 'dropout', { min: 0, max: 0.9, where: 'config.encoder' });
    this.numFeatures = numFeatureCount(prep);
    this.dim = this.widths[this.widths.length - 1];
    prep.cat.forEach((c, i) => this.params.add(`cat${i}/emb`, [c.values.length + 1, c.embed], { normal: 0.1 }, rng));
    let inDim = this.numFeatures + prep.cat.reduce((s, c) => s + c.embed, 0);
    if (inDim === 0) throw new UserError('tabular data has no usable columns');
    this.widths.forEach((w, l) => {
      addDense(this.params, `l${l}`, inDim, w, rng, l + 1 < this.widths.length ? 'he' : 'glorot');
      inDim = w;
    });
  }

  get catCount(): number {
    return this.prep.cat.length;
  }

  spec(): BackboneSpec {
    return { modality: 'tabular', encoder: structuredClone(this.encoder), prep: this.prep, inputShape: [this.numFeatures, this.prep.cat.length] };
  }

  count(data: ModalityData): number {
    return expectModality(data, 'tabular').rows.length;
  }

  /** Preprocessed matrix of `data` (cached per rows array). */
  matrix(data: ModalityData): TabularMatrix {
    const d = expectModality(data, 'tabular');
    let m = this.cache.get(d.rows);
    if (!m) {
      m = transformTabular(this.prep, d);
      this.cache.set(d.rows, m);
    }
    return m;
  }

  /** Rows `idx` of a matrix (copies). */
  rows(m: TabularMatrix, idx: Int32Array): { num: Float32Array; cat: Int32Array } {
    const F = this.numFeatures;
    const C = this.catCount;
    const numOut = new Float32Array(idx.length * F);
    const catOut = new Int32Array(idx.length * C);
    idx.forEach((i, b) => {
      numOut.set(m.num.subarray(i * F, (i + 1) * F), b * F);
      catOut.set(m.cat.subarray(i * C, (i + 1) * C), b * C);
    });
    return { num: numOut, cat: catOut };
  }

  forward(x: { num: Float32Array; cat: Int32Array }, B: number, opts: { training: boolean; rng?: Rng }): Tensor {
    const F = this.numFeatures;
    const C = this.catCount;
    const parts: Tensor[] = [];
    if (F > 0) parts.push(tf.tensor2d(x.num, [B, F]));
    for (let c = 0; c < C; c++) {
      const ids = new Int32Array(B);
      for (let b = 0; b < B; b++) ids[b] = x.cat[b * C + c];
      parts.push(gatherRows(this.params.get(`cat${c}/emb`), tf.tensor1d(ids, 'int32')));
    }
    let h = parts.length === 1 ? parts[0] : tf.concat(parts, 1);
    const L = this.widths.length;
    for (let l = 0; l < L; l++) {
      h = dense(this.params, `l${l}`, h);
      if (l + 1 < L) {
        h = tf.relu(h);
        if (opts.training && this.rate > 0 && opts.rng) h = dropout(h, this.rate, opts.rng.seed());
      }
    }
    return h;
  }

  embed(data: ModalityData, idx: Int32Array): tf.Tensor2D {
    const m = this.matrix(data);
    return tf.tidy(() => this.forward(this.rows(m, idx), idx.length, { training: false }) as tf.Tensor2D);
  }

  dispose(): void {
    this.params.dispose();
  }
}

export const tabularKit: ModalityKit<TabularBackbone> = {
  modality: 'tabular',
  defaults: TABULAR_DEFAULTS,
  create(data, encoder, rng) {
    return new TabularBackbone(fitTabular(expectModality(data, 'tabular'), encoder), encoder, rng);
  },
  restore(spec: BackboneSpec) {
    return new TabularBackbone(spec.prep as TabularPrep, spec.encoder, new Rng(0));
  },
};
