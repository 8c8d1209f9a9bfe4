/**
 * A minimal neural-network toolkit over tfjs-core ops: named parameters with seeded init,
 * the layers the SSL encoders need (dense, layer/batch norm, embedding, conv), dropout and an
 * AdamW optimiser whose whole state can be checkpointed.
 *
 * Why not tfjs-layers: pretraining needs custom losses over several views, exact control of
 * every random draw (seeded init, seeded dropout), and saving optimiser moments for an exact
 * resume; a functional style over named variables gives that in a few hundred lines.
 *
 * wasm gaps handled here: `UnsortedSegmentSum` (the gradient of `tf.gather`, hence of every
 * embedding lookup) is not registered on the wasm backend, so `gatherRows` carries its own
 * gradient built from `scatterND` (which sums duplicate indices).
 */
import { tf } from '../ml/engine.ts';
import type { Rng } from './rng.ts';

export type Tensor = tf.Tensor;
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
export type Init = 'zeros' | 'ones' | 'glorot' | 'he' | { normal: number } | { uniform: number };

function fans(shape: number[]): [number, number] {
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [receptive * shape[shape.length - 2], receptive * shape[shape.length - 1]];
}

/** Initial values drawn from `rng` (so the same seed gives the same weights on any machine). */
export function initValues(shape: number[], init: Init, rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (init === 'zeros') return out;
  if (init === 'ones') return out.fill(1);
  const [fanIn, fanOut] = fans(shape);
  if (init === 'glorot') {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
  } else if (init === 'he') {
    const std = Math.sqrt(2 / fanIn);
    for (let i = 0; i < n; i++) out[i] = std * rng.normal();
  } else if ('normal' in init) {
    for (let i = 0; i < n; i++) out[i] = init.normal * rng.normal();
  } else {
    for (let i = 0; i < n; i++) out[i] = rng.uniform(-init.uniform, init.uniform);
  }
  return out;
}

/**
 * Named variables. Names are ours (`block0/attn/qkv/w`); the tfjs variables are left unnamed so
 * that several models can live in one process without name clashes in tfjs' registry.
 */
export class Params {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly frozen = new Set<string>();
  /** Variables owned elsewhere (a tfjs-layers model): not disposed here. */
  private readonly borrowed = new Set<string>();

  /** Registers a variable created elsewhere (e.g. a tfjs-layers model's weight) under `name`. */
  adopt(name: string, v: tf.Variable, trainable: boolean): void {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    this.vars.set(name, v);
    this.borrowed.add(name);
    if (!trainable) this.frozen.add(name);
  }

  add(name: string, shape: number[], init: Init, rng: Rng, trainable = true): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    const values = initValues(shape, init, rng);
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), trainable));
    this.vars.set(name, v);
    if (!trainable) this.frozen.add(name);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`unknown parameter ${name}`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Trainable variables in definition order. */
  trainable(): Array<[string, tf.Variable]> {
    return [...this.vars].filter(([n]) => !this.frozen.has(n));
  }

  /** Every variable (trainable or not: batch-norm running statistics are saved too). */
  named(): NamedTensor[] {
    return [...this.vars].map(([name, tensor]) => ({ name, tensor }));
  }

  /** Overwrites every variable from `map` (names and shapes must match exactly). */
  assign(map: tf.NamedTensorMap, prefix = ''): void {
    for (const [name, v] of this.vars) {
      const t = map[prefix + name];
      if (!t) throw new Error(`checkpoint has no weight "${prefix + name}"`);
      if (t.shape.join('x') !== v.shape.join('x')) {
        throw new Error(`checkpoint weight "${prefix + name}" has shape [${t.shape}], the model expects [${v.shape}]`);
      }
      v.assign(t as tf.Tensor);
    }
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const [n, v] of this.vars) if (!this.borrowed.has(n)) v.dispose();
    this.vars.clear();
  }
}

// ---- layers --------------------------------------------------------------------------------

export function addDense(p: Params, name: string, inDim: number, outDim: number, rng: Rng, init: Init = 'glorot'): void {
  p.add(`${name}/w`, [inDim, outDim], init, rng);
  p.add(`${name}/b`, [outDim], 'zeros', rng);
}

/**
 * 2-D matrix product a·b whose gradients use explicit transposes: wasm's BatchMatMul takes a
 * slow path (~10×) whenever transposeA/transposeB is set, which the stock gradient does.
 * `transposeB` computes a·bᵀ the same way.
 */
export function mm(a: Tensor, b: Tensor, transposeB = false): Tensor {
  const f = tf.customGrad((...args) => {
    const [x, y] = args as [tf.Tensor2D, tf.Tensor2D];
    (args[2] as tf.GradSaveFunc)([x, y]);
    return {
      value: tf.matMul(x, transposeB ? (tf.transpose(y) as tf.Tensor2D) : y),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor2D;
        const [sx, sy] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dx = tf.matMul(g, transposeB ? sy : (tf.transpose(sy) as tf.Tensor2D));
        const dyw = transposeB ? tf.matMul(tf.transpose(g) as tf.Tensor2D, sx) : tf.matMul(tf.transpose(sx) as tf.Tensor2D, g);
        return [dx, dyw];
      },
    };
  });
  return f(a, b) as Tensor;
}

/** x[..., in] · W + b, any leading dims. */
export function dense(p: Params, name: string, x: Tensor): Tensor {
  const w = p.get(`${name}/w`);
  const b = p.get(`${name}/b`);
  if (x.rank === 2) return tf.add(mm(x, w), b);
  const [inDim, outDim] = w.shape as [number, number];
  const lead = x.shape.slice(0, -1);
  const y = tf.add(mm(tf.reshape(x, [-1, inDim]), w), b);
  return tf.reshape(y, [...lead, outDim]);
}

export function addLayerNorm(p: Params, name: string, dim: number, rng: Rng): void {
  p.add(`${name}/g`, [dim], 'ones', rng);
  p.add(`${name}/b`, [dim], 'zeros', rng);
}

export function layerNorm(p: Params, name: string, x: Tensor, eps = 1e-5): Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(xhat, p.get(`${name}/g`)), p.get(`${name}/b`));
}

export function addBatchNorm(p: Params, name: string, channels: number, rng: Rng): void {
  p.add(`${name}/g`, [channels], 'ones', rng);
  p.add(`${name}/b`, [channels], 'zeros', rng);
  p.add(`${name}/mean`, [channels], 'zeros', rng, false);
  p.add(`${name}/var`, [channels], 'ones', rng, false);
}

export interface BnMode {
  /** Normalise with the batch's statistics (and update the running ones) instead of the running ones. */
  training: boolean;
  /** Running-average momentum (new = m·old + (1−m)·batch). */
  momentum?: number;
  /** Update the running statistics when training (false for extra views of the same batch). */
  update?: boolean;
}

/** Batch norm over every axis but the last (channels). */
export function batchNorm(p: Params, name: string, x: Tensor, mode: BnMode, eps = 1e-5): Tensor {
  const g = p.get(`${name}/g`);
  const b = p.get(`${name}/b`);
  const rm = p.get(`${name}/mean`);
  const rv = p.get(`${name}/var`);
  let mean: Tensor;
  let variance: Tensor;
  if (mode.training) {
    const axes = x.shape.map((_, i) => i).slice(0, -1);
    ({ mean, variance } = tf.moments(x, axes));
    if (mode.update !== false) {
      const m = mode.momentum ?? 0.9;
      const n = x.size / x.shape[x.rank - 1];
      const unbiased = n > 1 ? n / (n - 1) : 1;
      rm.assign(tf.add(tf.mul(rm, m), tf.mul(mean, 1 - m)));
      rv.assign(tf.add(tf.mul(rv, m), tf.mul(variance, (1 - m) * unbiased)));
    }
  } else {
    mean = rm;
    variance = rv;
  }
  const scale = tf.mul(g, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(tf.sub(x, mean), scale), b);
}

export function addConv(p: Params, name: string, k: number, inC: number, outC: number, rng: Rng, bias = false): void {
  p.add(`${name}/w`, [k, k, inC, outC], 'he', rng);
  if (bias) p.add(`${name}/b`, [outC], 'zeros', rng);
}

export function conv(p: Params, name: string, x: Tensor, stride = 1): Tensor {
  const y = tf.conv2d(x as tf.Tensor4D, p.get(`${name}/w`) as tf.Tensor4D, stride, 'same');
  return p.has(`${name}/b`) ? tf.add(y, p.get(`${name}/b`)) : y;
}

/**
 * Rows `ids` of a 2-D tensor, differentiable on wasm: the gradient scatters `dy` back with
 * `scatterND` (duplicates add up), since the stock gradient needs `UnsortedSegmentSum`.
 */
export function gatherRows(table: Tensor, ids: tf.Tensor1D): Tensor {
  const rows = table.shape[0];
  const idx2 = tf.reshape(ids, [-1, 1]) as tf.Tensor2D;
  const f = tf.customGrad((...args) => {
    const t = args[0] as tf.Tensor;
    // Tensors the gradient needs must be saved: the forward pass's other tensors are freed
    // before backprop runs.
    (args[1] as tf.GradSaveFunc)([idx2]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.scatterND(saved[0], dy as tf.Tensor, [rows, ...t.shape.slice(1)]),
    };
  });
  return f(table) as Tensor;
}

export function dropout(x: Tensor, rate: number, seed: number | undefined): Tensor {
  if (!(rate > 0) || seed === undefined) return x;
  return tf.dropout(x, rate, undefined, seed);
}

/**
 * GELU, sigmoid approximation x·σ(1.702x) (Hendrycks & Gimpel 2016, §2): wasm's tanh and pow
 * kernels are ~7× slower than its sigmoid, and there is no Gelu kernel.
 */
export function gelu(x: Tensor): Tensor {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
}

/**
 * 1-D convolution over [B, L, C] ('same' length, dilation `dil`) as im2col: `k` shifted slices
 * concatenated on channels, then one matrix product — uses wasm's fast 2-D matmul path and
 * needs no conv-backprop kernels.
 */
export function conv1d(p: Params, name: string, x: Tensor, k: number, dil = 1): Tensor {
  const [B, L, C] = x.shape as [number, number, number];
  const half = (dil * (k - 1)) / 2;
  const left = Math.floor(half);
  const padded = tf.pad(x, [[0, 0], [left, dil * (k - 1) - left], [0, 0]]);
  const cols = k === 1 ? x : tf.concat(Array.from({ length: k }, (_, i) => tf.slice(padded, [0, i * dil, 0], [B, L, C])), 2);
  const w = p.get(`${name}/w`);
  const y = tf.add(mm(tf.reshape(cols, [B * L, k * C]), w), p.get(`${name}/b`));
  return tf.reshape(y, [B, L, w.shape[1] as number]);
}

export function addConv1d(p: Params, name: string, k: number, inC: number, outC: number, rng: Rng): void {
  p.add(`${name}/w`, [k * inC, outC], 'he', rng);
  p.add(`${name}/b`, [outC], 'zeros', rng);
}

// ---- optimiser -----------------------------------------------------------------------------

export interface AdamWConfig {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
}

/**
 * AdamW (Loshchilov & Hutter 2019: Adam with decoupled weight decay). Decay is skipped for
 * 1-D parameters (biases, norm gains). Moments are plain variables so that a checkpoint holds
 * them and a resumed run takes exactly the same steps.
 */
export class AdamW {
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly params: Array<[string, tf.Variable]>,
    private readonly cfg: AdamWConfig,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** One update with learning rate `lr` (the schedule's value for this step). */
  apply(grads: Map<string, Tensor>, lr: number): void {
    this.step++;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, clip } = this.cfg;
    const t = this.step;
    const c1 = 1 - Math.pow(b1, t);
    const c2 = 1 - Math.pow(b2, t);
    tf.tidy(() => {
      let scale: Tensor | null = null;
      if (clip > 0) {
        const sq = [...grads.values()].map((g) => tf.sum(tf.square(g)));
        const norm = tf.sqrt(tf.addN(sq));
        scale = tf.minimum(1, tf.div(clip, tf.add(norm, 1e-6)));
      }
      for (const [name, p] of this.params) {
        let g = grads.get(name);
        if (!g) continue;
        if (scale) g = tf.mul(g, scale);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        let upd = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        if (wd > 0 && p.rank > 1) upd = tf.add(upd, tf.mul(p, wd));
        p.assign(tf.sub(p, tf.mul(upd, lr)));
      }
    });
  }

  named(): NamedTensor[] {
    const out: NamedTensor[] = [];
    for (const [name] of this.params) {
      out.push({ name: `adam/m/${name}`, tensor: this.m.get(name)! });
      out.push({ name: `adam/v/${name}`, tensor: this.v.get(name)! });
    }
    return out;
  }

  load(map: tf.NamedTensorMap, step: number): void {
    for (const [name] of this.params) {
      for (const [kind, store] of [['m', this.m], ['v', this.v]] as const) {
        const t = map[`adam/${kind}/${name}`];
        if (!t) throw new Error(`checkpoint has no optimiser state for "${name}"`);
        store.get(name)!.assign(t as tf.Tensor);
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

/** Linear warm-up then cosine decay to `floor`·lr. */
export function lrAt(step: number, total: number, lr: number, warmup: number, floor = 0.1): number {
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  const p = Math.min(1, (step - warmup) / span);
  return lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
