/**
 * MaxPoolGrad for the wasm backend (NHWC, dilation 1).
 *
 * Why: the shipped kernel is wrong. Its C++ argmax starts from `std::numeric_limits<float>::min()`
 * — the smallest *positive* float, not the lowest — so a window whose values are all ≤ 0 (every
 * all-zero window after a ReLU, every all-negative one before) routes its gradient to the
 * window's first offset instead of its maximum. Measured: up to 100% error vs the cpu backend and
 * vs a float64 reference. This is a plain loop: for every output position, the first maximum
 * of its window (TF's tie rule) receives dy. O(N·Ho·Wo·kh·kw·C), run once per max-pool layer.
 */
import { backend_util, MaxPoolGrad, type KernelConfig, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo }; backend: BackendWasm; attrs: MaxPoolGradAttrs }): TensorInfo {
  const { inputs: { dy, input }, backend, attrs } = args;
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo,
    strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const out = backend.makeOutput(input.shape, 'float32');
  const x = backend.typedArrayFromHeap(input) as Float32Array; // views after makeOutput (heap growth)
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const best = new Float32Array(c), at = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let a = 0; a < kh; a++) {
          const r = i * sh + a - padInfo.top;
          if (r < 0 || r >= h) continue;
          for (let q = 0; q < kw; q++) {
            const col = j * sw + q - padInfo.left;
            if (col < 0 || col >= w) continue;
            const base = ((b * h + r) * w + col) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k]!;
              if (v > best[k]! || at[k] === -1) { best[k] = v; at[k] = base + k; }
            }
          }
        }
        const go = ((b * ho + i) * wo + j) * c;
        for (let k = 0; k < c; k++) if (at[k]! >= 0) dx[at[k]!]! += g[go + k]!;
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
