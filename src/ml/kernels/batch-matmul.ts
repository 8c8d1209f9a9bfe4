/**
 * BatchMatMul for the wasm backend that always reaches the XNNPACK GEMM.
 *
 * Why: the shipped kernel uses XNNPACK only for a single un-transposed product; any
 * `transposeA`/`transposeB` or batch > 1 falls into a naive C++ triple loop that is 10–50× slower
 * (measured at 1024²: 21 GFLOP/s plain, 1.9 with transposeB, 0.4 with transposeA). Every
 * Dense-layer gradient (x·dyᵀ, dy·Wᵀ), every similarity matrix z·zᵀ and all attention products
 * hit that loop. Here transposes are made explicit (a cheap memory pass) and batches are
 * looped (or folded into the rows when b is shared), so each product is a plain XNNPACK GEMM.
 * Outer-dim broadcasting other than "one side has batch 1" falls back to the shipped kernel.
 */
import { BatchMatMul, util, type BatchMatMulAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, free, rows } from './wasm-call.ts';

/** Below this many multiply-adds per product, looping over a batch costs more than it gains. */
const SMALL = 24 * 24 * 24;

type Args = { inputs: { a: TensorInfo; b: TensorInfo }; backend: BackendWasm; attrs: BatchMatMulAttrs };

export function makeBatchMatMul(shipped: KernelFunc): KernelFunc {
  return ((args: Args): TensorInfo => {
    const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
    const ra = a.shape.length, rb = b.shape.length;
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = util.sizeFromShape(outerA), batchB = util.sizeFromShape(outerB);
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    const mkn = a.shape[ra - 1]! * a.shape[ra - 2]! * b.shape[transposeB ? rb - 2 : rb - 1]!;
    if (batchB > 1 && mkn < SMALL || // per-product overhead would beat the GEMM gain (measured)
        a.dtype !== 'float32' || b.dtype !== 'float32' || (!sameOuter && batchA !== 1 && batchB !== 1) ||
        util.sizeFromShape(a.shape) === 0 || util.sizeFromShape(b.shape) === 0 ||
        (!transposeA && !transposeB && batchA === 1 && batchB === 1)) {
      return shipped(args as never) as TensorInfo;
    }
    const tmp: TensorInfo[] = [];
    const keep = (t: TensorInfo) => (tmp.push(t), t);
    const as3 = (t: TensorInfo, batch: number, rank: number, transpose: boolean) => {
      const r = keep(callWasm(backend, 'Reshape', { x: t }, { shape: [batch, t.shape[rank - 2], t.shape[rank - 1]] }));
      return transpose ? keep(callWasm(backend, 'Transpose', { x: r }, { perm: [0, 2, 1] })) : r;
    };
    let a3 = as3(a, batchA, ra, transposeA), b3 = as3(b, batchB, rb, transposeB); // [batch, M, K], [batch, K, N]
    const m = a3.shape[1]!, k = a3.shape[2]!, n = b3.shape[2]!;
    if (k !== b3.shape[1]) throw new Error(`BatchMatMul: inner dimensions ${k} and ${b3.shape[1]} differ (shapes ${a.shape} and ${b.shape})`);
    const outShape = [...(batchA >= batchB ? outerA : outerB), m, n];
    const gemm = (x: TensorInfo, y: TensorInfo) => shipped({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as TensorInfo;
    let out: TensorInfo;
    if (batchB === 1) {
      // b shared by every batch of a: fold the batches into the rows of one product.
      a3 = keep(callWasm(backend, 'Reshape', { x: a3 }, { shape: [1, batchA * m, k] }));
      out = keep(gemm(a3, b3));
    } else {
      const parts: TensorInfo[] = [];
      for (let i = 0; i < batchB; i++) {
        const ai = batchA === 1 ? a3 : keep(rows(backend, a3, i, 1));
        const bi = keep(rows(backend, b3, i, 1));
        parts.push(keep(gemm(ai, bi)));
      }
      out = parts.length === 1 ? parts[0]! : keep(callWasm(backend, 'Concat', parts, { axis: 0 }));
    }
    const result = callWasm(backend, 'Reshape', { x: out }, { shape: outShape });
    free(backend, ...tmp);
    return result;
  }) as unknown as KernelFunc;
}

export function batchMatMulConfig(shipped: KernelConfig): KernelConfig {
  return { kernelName: BatchMatMul, backendName: 'wasm', kernelFunc: makeBatchMatMul(shipped.kernelFunc), setupFunc: shipped.setupFunc };
}
