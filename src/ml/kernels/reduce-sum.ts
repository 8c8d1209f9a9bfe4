/**
 * Sum and Mean over outer axes for the wasm backend, as one XNNPACK average pooling.
 *
 * Why: the shipped kernels only reduce innermost axes; any other axis set is first transposed
 * (a slow strided copy) and then summed. Per-channel sums of NHWC activations — BatchNorm
 * moments and its gradient, bias gradients, global average pooling — reduce outer axes and took
 * 150 ms per [512,28,28,32] tensor. Viewed as [P, M, 1, Q], reducing M is an average pooling
 * with an M×1 window over Q channels, which XNNPACK streams at memory speed (5 ms).
 *
 * Handles float32 and a contiguous block of reduced axes that excludes the last axis; the rest
 * (innermost axes, gaps, int dtypes) goes to the shipped kernel. Sum = mean · M.
 */
import { Mean, Sum, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, free } from './wasm-call.ts';

function makeReduce(shipped: KernelFunc, mean: boolean): KernelFunc {
  return ((args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs }): TensorInfo => {
    const { inputs: { x }, backend, attrs: { axis, keepDims } } = args;
    const rank = x.shape.length;
    const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((p, q) => p - q);
    const first = axes[0] ?? 0, last = axes[axes.length - 1] ?? 0;
    if (x.dtype !== 'float32' || axes.length === 0 || last === rank - 1 || last - first + 1 !== axes.length ||
        util.sizeFromShape(x.shape) === 0) {
      return shipped(args as never) as TensorInfo;
    }
    const p = util.sizeFromShape(x.shape.slice(0, first));
    const m = util.sizeFromShape(x.shape.slice(first, last + 1));
    const q = util.sizeFromShape(x.shape.slice(last + 1));
    const x4 = callWasm(backend, 'Reshape', { x }, { shape: [p, m, 1, q] });
    const pooled = callWasm(backend, 'AvgPool', { x: x4 }, { filterSize: [m, 1], strides: [1, 1], pad: 'valid' }); // [P,1,1,Q]
    if (!mean) {
      const v = backend.typedArrayFromHeap(pooled) as Float32Array;
      for (let i = 0; i < v.length; i++) v[i]! *= m;
    }
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const out = callWasm(backend, 'Reshape', { x: pooled }, { shape: outShape });
    free(backend, x4, pooled);
    return out;
  }) as unknown as KernelFunc;
}

export function sumConfig(shipped: KernelConfig): KernelConfig {
  return { kernelName: Sum, backendName: 'wasm', kernelFunc: makeReduce(shipped.kernelFunc, false), setupFunc: shipped.setupFunc };
}

export function meanConfig(shipped: KernelConfig): KernelConfig {
  return { kernelName: Mean, backendName: 'wasm', kernelFunc: makeReduce(shipped.kernelFunc, true), setupFunc: shipped.setupFunc };
}
