/**
 * Data-parallel training over worker_threads (wasm runs one thread per Node isolate, so this is
 * how training uses every core).
 *
 * Each worker holds a replica of the model. Every step the main thread splits the batch along
 * axis 0 into one contiguous shard per worker; each worker computes the loss and gradients of
 * its shard; the gradients are combined in a fixed order by the main thread through
 * SharedArrayBuffers; every replica then applies the *same* combined gradient with its own
 * optimizer, so the replicas stay bit-identical (they start from rank 0's weights).
 *
 * ## Replica module (what a pretext task provides)
 * A module (path or file URL; TypeScript is fine) exporting
 *
 *   export function createReplica(config: unknown, ctx: ReplicaContext): Replica | Promise<Replica>
 *
 *   interface Replica {
 *     trainableVariables: tf.Variable[];   // same order and shapes on every replica
 *                                           // (tf.layers: model.trainableWeights.map(w => w.read() as tf.Variable))
 *     lossAndGrads(batch, ctx: StepContext): { loss: number | tf.Scalar; grads: tf.Tensor[] }   (or a Promise)
 *                                           // grads[i] ↔ trainableVariables[i]; the trainer disposes them
 *                                           // (optionally `reduction: 'mean' | 'sum'`, see below)
 *     optimizer?: tf.Optimizer;             // default tf.train.adam(1e-3)
 *     stateVariables?: tf.Variable[];       // non-trainable state changed by a step (BatchNorm moving
 *                                           // statistics); averaged over workers by shard size each step
 *     [method: string]: unknown;            // anything else is callable with trainer.call(method, …args)
 *   }
 *
 * Gradient reduction. 'mean' (default): `loss`/`grads` are the mean over the shard; the trainer
 * takes Σ_k (n_k/N)·g_k — exactly the full-batch gradient of a per-sample mean loss.
 * 'sum': for losses that couple the whole batch (contrastive losses with every other sample as
 * negative): the replica calls `ctx.allGather(z)` inside `lossAndGrads` to get every shard's
 * embeddings (as constants), computes the full-batch loss L with only its own rows differentiable,
 * and returns L and ∂L/∂θ through its rows; the trainer takes Σ_k g_k (= the full-batch
 * gradient) and reports the mean of the losses (all equal to L).
 * Per-shard batch statistics (BatchNorm in training mode) are per worker, as in PyTorch DDP
 * without SyncBN; results with BN then depend slightly on the worker count.
 *
 * Randomness inside a replica (augmentations, dropout) should be derived from `ctx.step` and
 * `ctx.shardOffset + i` (the row's index in the whole batch), so results do not depend on the
 * worker count. Examples: bench/engine-replica.ts (SimCLR, 'sum'), test/ml/fixtures/tiny-replica.ts.
 *
 * ## Trainer side
 *   const trainer = await createParallelTrainer({ module: 'src/ssl/my-replica.ts', config, workers: 2 });
 *   for (…) { const { loss } = await trainer.step({ x: { data: f32, shape: [B, 28, 28, 1] } }); }
 *   const weights = await trainer.getWeights();   // trainable then state, from rank 0
 *   await trainer.call('setLearningRate', [1e-4]); // any replica method, on every worker
 *   await trainer.close();
 *
 * `workers: 0` runs one replica in this thread (no workers; same API, for small jobs and tests).
 * An error in any worker during a step or a weight transfer rejects it and terminates all workers
 * (replicas would diverge); an error in `call` only rejects that call.
 */
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as tfType from '@tensorflow/tfjs';

/** A batch: named typed arrays (split along axis 0 of `shape`) or plain arrays (split by index). */
export type BatchValue = { data: Float32Array | Int32Array | Uint8Array; shape: number[] } | unknown[];
export type Batch = Record<string, BatchValue>;

export interface ReplicaContext {
  rank: number;
  worldSize: number;
}

export interface StepContext extends ReplicaContext {
  /** 0-based step counter (same on every worker). */
  step: number;
  /** Rows in this shard and in the whole batch; index of this shard's first row in the batch. */
  shardSize: number;
  batchSize: number;
  shardOffset: number;
  /** Every worker's `x` in rank order (blocks until all workers called it; same call order everywhere). */
  allGather(x: Float32Array): Float32Array[];
}

export interface Replica {
  trainableVariables: tfType.Variable[];
  lossAndGrads(batch: Batch, ctx: StepContext): LossAndGrads | Promise<LossAndGrads>;
  optimizer?: tfType.Optimizer;
  stateVariables?: tfType.Variable[];
}
export interface LossAndGrads {
  loss: number | tfType.Scalar;
  grads: tfType.Tensor[];
  /** How the trainer combines shards (must agree across workers); default 'mean'. */
  reduction?: 'mean' | 'sum';
}
export interface ShardResult { loss: number; reduction: 'mean' | 'sum' }

export interface ParallelOptions {
  /** Path (absolute or relative to the cwd) or URL of the replica module. */
  module: string | URL;
  /** Passed to `createReplica` in every worker (must be structured-cloneable). */
  config?: unknown;
  /** Worker threads; default `os.availableParallelism()`; 0 = in this thread. */
  workers?: number;
}

export interface ParallelTrainer {
  readonly workers: number;
  /** One synchronous data-parallel step on the whole batch. */
  step(batch: Batch): Promise<{ loss: number }>;
  /** trainableVariables then stateVariables, from rank 0. */
  getWeights(): Promise<Float32Array[]>;
  /** Sets every replica's weights (same order as `getWeights`). */
  setWeights(weights: Float32Array[]): Promise<void>;
  /** Calls `replica[method](...args)` on every worker (or only `rank`); results in rank order. */
  call<T = unknown>(method: string, args?: unknown[], rank?: number): Promise<T[]>;
  /** True when every replica's weights are bit-identical to rank 0's. */
  replicasIdentical(): Promise<boolean>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Replica host: the per-worker side (also used in-thread for `workers: 0`).

export interface Layout { shapes: number[][]; names: string[]; gradSize: number; stateSize: number }

export class ReplicaHost {
  private constructor(private tf: typeof tfType, private replica: Replica, private optimizer: tfType.Optimizer) {}

  static async create(moduleUrl: string, config: unknown, ctx: ReplicaContext): Promise<ReplicaHost> {
    const { initEngine } = await import('./engine.ts');
    const tf = await initEngine();
    const mod = (await import(moduleUrl)) as { createReplica?: (c: unknown, x: ReplicaContext) => Replica | Promise<Replica> };
    if (typeof mod.createReplica !== 'function') throw new Error(`${moduleUrl} does not export createReplica(config, ctx)`);
    const replica = await mod.createReplica(config, ctx);
    const names = replica.trainableVariables.map((v) => v.name);
    if (new Set(names).size !== names.length) throw new Error(`replica trainableVariables have duplicate names: ${names.join(', ')}`);
    return new ReplicaHost(tf, replica, replica.optimizer ?? tf.train.adam(1e-3));
  }

  private get all(): tfType.Variable[] { return [...this.replica.trainableVariables, ...(this.replica.stateVariables ?? [])]; }

  layout(): Layout {
    const size = (vs: tfType.Variable[]) => vs.reduce((s, v) => s + v.size, 0);
    return {
      shapes: this.all.map((v) => v.shape), names: this.all.map((v) => v.name),
      gradSize: size(this.replica.trainableVariables), stateSize: size(this.replica.stateVariables ?? []),
    };
  }

  /** Runs lossAndGrads; writes flat grads into `grads` and flat state into `state`; returns the loss. */
  async compute(batch: Batch, ctx: StepContext, grads: Float32Array, state: Float32Array): Promise<ShardResult> {
    const { loss, grads: g, reduction = 'mean' } = await this.replica.lossAndGrads(batch, ctx);
    const vars = this.replica.trainableVariables;
    if (g.length !== vars.length) throw new Error(`lossAndGrads returned ${g.length} gradients for ${vars.length} variables`);
    let o = 0;
    g.forEach((t, i) => {
      if (t.size !== vars[i]!.size) throw new Error(`gradient ${i} (${vars[i]!.name}) has shape ${t.shape}, variable ${vars[i]!.shape}`);
      grads.set(t.dataSync() as Float32Array, o);
      o += t.size;
    });
    o = 0;
    for (const v of this.replica.stateVariables ?? []) { state.set(v.dataSync() as Float32Array, o); o += v.size; }
    const value = typeof loss === 'number' ? loss : loss.dataSync()[0]!;
    this.tf.dispose(g);
    if (typeof loss !== 'number') loss.dispose();
    return { loss: value, reduction };
  }

  /** Applies the combined gradient with the replica's optimizer and sets the averaged state. */
  apply(grads: Float32Array, state: Float32Array): void {
    const { tf } = this;
    tf.tidy(() => {
      let o = 0;
      const named: Record<string, tfType.Tensor> = {};
      for (const v of this.replica.trainableVariables) { named[v.name] = tf.tensor(grads.subarray(o, o + v.size), v.shape); o += v.size; }
      this.optimizer.applyGradients(named);
      o = 0;
      for (const v of this.replica.stateVariables ?? []) { v.assign(tf.tensor(state.subarray(o, o + v.size), v.shape)); o += v.size; }
    });
  }

  getWeights(): Float32Array[] { return this.all.map((v) => Float32Array.from(v.dataSync() as Float32Array)); }

  setWeights(ws: Float32Array[]): void {
    const vars = this.all;
    if (ws.length !== vars.length) throw new Error(`setWeights: ${ws.length} arrays for ${vars.length} variables`);
    this.tf.tidy(() => vars.forEach((v, i) => v.assign(this.tf.tensor(ws[i]!, v.shape))));
  }

  async call(method: string, args: unknown[]): Promise<unknown> {
    const f = (this.replica as unknown as Record<string, unknown>)[method];
    if (typeof f !== 'function') throw new Error(`replica has no method ${method}`);
    return await (f as (...a: unknown[]) => unknown).apply(this.replica, args);
  }
}

// ---------------------------------------------------------------------------------------------
// Main side.

/** Contiguous shard bounds: sizes differ by at most one, the first ones larger. */
export function shardBounds(n: number, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let r = 0, start = 0; r < k; r++) {
    const len = Math.floor(n / k) + (r < n % k ? 1 : 0);
    out.push([start, start + len]);
    start += len;
  }
  return out;
}

function batchRows(batch: Batch): number {
  const sizes = Object.entries(batch).map(([k, v]) => [k, Array.isArray(v) ? v.length : v.shape[0] ?? 0] as const);
  if (sizes.length === 0) throw new Error('empty batch');
  const n = sizes[0]![1];
  for (const [k, s] of sizes) if (s !== n) throw new Error(`batch field ${k} has ${s} rows, ${sizes[0]![0]} has ${n}`);
  return n;
}

function shard(batch: Batch, start: number, end: number): { part: Batch; transfer: ArrayBuffer[] } {
  const part: Batch = {};
  const transfer: ArrayBuffer[] = [];
  for (const [key, v] of Object.entries(batch)) {
    if (Array.isArray(v)) { part[key] = v.slice(start, end); continue; }
    const inner = v.shape.slice(1).reduce((p, q) => p * q, 1);
    if (v.data.length !== inner * (v.shape[0] ?? 0)) throw new Error(`batch field ${key}: ${v.data.length} values for shape [${v.shape}]`);
    const data = v.data.slice(start * inner, end * inner);
    transfer.push(data.buffer as ArrayBuffer);
    part[key] = { data, shape: [end - start, ...v.shape.slice(1)] };
  }
  return { part, transfer };
}

/** Σ_k w_k·g_k (rank order, float64 accumulation) into `out`. */
function combine(parts: Float32Array[], weights: number[], out: Float32Array): void {
  const acc = new Float64Array(out.length);
  parts.forEach((g, k) => { const w = weights[k]!; for (let i = 0; i < acc.length; i++) acc[i]! += w * g[i]!; });
  out.set(acc);
}

function moduleHref(m: string | URL): string {
  if (m instanceof URL) return m.href;
  return /^[a-z]+:\/\//i.test(m) ? m : pathToFileURL(resolvePath(m)).href;
}

export async function createParallelTrainer(opts: ParallelOptions): Promise<ParallelTrainer> {
  const k = opts.workers ?? availableParallelism();
  if (!Number.isInteger(k) || k < 0) throw new Error(`workers must be a non-negative integer, got ${k}`);
  return k === 0 ? createInline(opts) : createThreaded(opts, k);
}

async function createInline(opts: ParallelOptions): Promise<ParallelTrainer> {
  const host = await ReplicaHost.create(moduleHref(opts.module), opts.config, { rank: 0, worldSize: 1 });
  const layout = host.layout();
  const grads = new Float32Array(layout.gradSize), state = new Float32Array(layout.stateSize);
  let step = 0;
  return {
    workers: 0,
    async step(batch) {
      const n = batchRows(batch);
      const ctx: StepContext = { rank: 0, worldSize: 1, step: step++, shardSize: n, batchSize: n, shardOffset: 0, allGather: (x) => [x] };
      const { loss } = await host.compute(batch, ctx, grads, state);
      host.apply(grads, state);
      return { loss };
    },
    async getWeights() { return host.getWeights(); },
    async setWeights(w) { host.setWeights(w); },
    async call<T>(method: string, args: unknown[] = []) { return [await host.call(method, args)] as T[]; },
    async replicasIdentical() { return true; },
    async close() {},
  };
}

type Reply = { type: 'reply'; id: number; ok: true; value: unknown } | { type: 'reply'; id: number; ok: false; error: string };
type Gather = { type: 'gather'; rank: number; data: Float32Array };

/**
 * Workers run TypeScript: `new Worker(file.ts, { execArgv: ['--import', 'tsx'] })` fails on
 * Node 20 ("Unknown file extension .ts": the entry is resolved before the hooks exist), so a
 * one-line script registers tsx's ESM hooks in the worker and then imports the entry.
 */
export function tsWorkerBootstrap(entryHref: string): string {
  return `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((m) => { m.register(); return import(${JSON.stringify(entryHref)}); })`;
}
const WORKER_BOOTSTRAP = tsWorkerBootstrap(new URL('./parallel-worker.ts', import.meta.url).href);

async function createThreaded(opts: ParallelOptions, k: number): Promise<ParallelTrainer> {
  const signal = new Int32Array(new SharedArrayBuffer(4 * k));
  const ports = Array.from({ length: k }, () => new MessageChannel());
  const workers = ports.map((ch, rank) => new Worker(WORKER_BOOTSTRAP, {
    eval: true,
    workerData: { module: moduleHref(opts.module), config: opts.config, rank, worldSize: k, signal, gatherPort: ch.port2 },
    transferList: [ch.port2 as never],
  }));
  let nextId = 1;
  let failed: Error | undefined;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let gathered: Float32Array[] = [];
  let arrived = 0;
  const fail = (e: Error) => {
    if (failed) return;
    failed = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
    for (const w of workers) void w.terminate();
  };
  workers.forEach((w, rank) => {
    w.on('message', (m: Reply | Gather) => {
      if (m.type === 'gather') {
        gathered[rank] = m.data;
        if (++arrived === k) {
          const parts = gathered;
          gathered = [];
          arrived = 0;
          ports.forEach((ch, r) => { ch.port1.postMessage(parts); Atomics.store(signal, r, 1); Atomics.notify(signal, r); });
        }
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value); else p.reject(new Error(`worker ${rank}: ${m.error}`));
    });
    w.on('error', (e) => fail(new Error(`worker ${rank} crashed: ${e.message}`)));
    w.on('exit', (code) => { if (!failed && code !== 0) fail(new Error(`worker ${rank} exited with code ${code}`)); });
  });
  const request = <T>(rank: number, msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> => {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      workers[rank]!.postMessage({ ...msg, id }, transfer);
    });
  };
  const all = <T>(msg: Record<string, unknown>) => Promise.all(workers.map((_, r) => request<T>(r, msg)));
  const guard = async <T>(p: Promise<T>): Promise<T> => { try { return await p; } catch (e) { fail(e as Error); throw e; } };

  const layouts = await guard(all<Layout>({ type: 'init' }));
  const layout = layouts[0]!;
  for (const [r, l] of layouts.entries()) {
    if (JSON.stringify(l) !== JSON.stringify(layout)) { fail(new Error(`replica ${r} layout differs from replica 0`)); throw failed; }
  }
  const gradBufs = Array.from({ length: k }, () => new Float32Array(new SharedArrayBuffer(4 * Math.max(layout.gradSize, 1))));
  const stateBufs = Array.from({ length: k }, () => new Float32Array(new SharedArrayBuffer(4 * Math.max(layout.stateSize, 1))));
  const sumGrad = new Float32Array(new SharedArrayBuffer(4 * Math.max(layout.gradSize, 1)));
  const sumState = new Float32Array(new SharedArrayBuffer(4 * Math.max(layout.stateSize, 1)));
  await guard(Promise.all(workers.map((_, r) => request(r, { type: 'buffers', grads: gradBufs[r], state: stateBufs[r], sumGrad, sumState }))));
  const w0 = await guard(request<Float32Array[]>(0, { type: 'getWeights' }));
  await guard(all({ type: 'setWeights', weights: w0 }));

  let step = 0;
  return {
    workers: k,
    async step(batch) {
      const n = batchRows(batch);
      if (n < k) throw new Error(`batch of ${n} rows cannot be split over ${k} workers`);
      const bounds = shardBounds(n, k);
      const s = step++;
      const results = await guard(Promise.all(bounds.map(([a, b], r) => {
        const { part, transfer } = shard(batch, a, b);
        return request<ShardResult>(r, { type: 'compute', batch: part, ctx: { step: s, shardSize: b - a, batchSize: n, shardOffset: a } }, transfer);
      })));
      const reduction = results[0]!.reduction;
      if (results.some((x) => x.reduction !== reduction)) { fail(new Error('workers returned different gradient reductions')); throw failed; }
      const share = bounds.map(([a, b]) => (b - a) / n);
      const gw = reduction === 'sum' ? bounds.map(() => 1) : share;
      combine(gradBufs.map((g) => g.subarray(0, layout.gradSize)), gw, sumGrad.subarray(0, layout.gradSize));
      combine(stateBufs.map((g) => g.subarray(0, layout.stateSize)), share, sumState.subarray(0, layout.stateSize));
      await guard(all({ type: 'apply' }));
      const loss = reduction === 'sum' ? results.reduce((p, q) => p + q.loss, 0) / k : results.reduce((p, q, r) => p + q.loss * share[r]!, 0);
      return { loss };
    },
    getWeights: () => guard(request<Float32Array[]>(0, { type: 'getWeights' })),
    async setWeights(weights) { await guard(all({ type: 'setWeights', weights })); },
    call<T>(method: string, args: unknown[] = [], rank?: number) { // a failed call does not stop the trainer
      return rank === undefined ? all<T>({ type: 'call', method, args }) : request<T>(rank, { type: 'call', method, args }).then((v) => [v]);
    },
    async replicasIdentical() {
      const ws = await guard(all<Float32Array[]>({ type: 'getWeights' }));
      const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
      return ws.every((w) => w.length === ws[0]!.length && w.every((a, i) => same(a, ws[0]![i]!)));
    },
    async close() {
      failed ??= new Error('trainer closed');
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
