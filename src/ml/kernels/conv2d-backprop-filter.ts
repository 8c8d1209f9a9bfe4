/**
 * Conv2DBackpropFilter (dW of a 2-D convolution) for the wasm backend, NHWC, dilation 1.
 *
 * Why: tfjs-backend-wasm 4.22 ships no Conv2DBackpropFilter, so training any CNN throws. Instead
 * of a naive loop we reuse the backend's fast forward Conv2D (XNNPACK):
 *
 *   dW[a,b,ci,co] = Σ_{n,i,j} xpad[n, i·s+a, j·s+b, ci] · dy[n,i,j,co]
 *
 * is itself a convolution in which ci plays the batch, n the input channel, and dy (Ho×Wo) the
 * filter, dilated by the forward stride s:
 *
 *   dWᵀ[ci,a,b,co] = conv2d(x as [Ci,H,W,N], dy as [Ho,Wo,N,Co], stride 1, dilation s,
 *                          pad top/left = forward pad, bottom/right = whatever yields kh×kw)
 *
 * That GEMM has a tiny output and a huge reduction (Ho·Wo·N); XNNPACK streams the whole packed
 * "filter" once per block of output rows, so we split N into chunks whose filter stays in cache
 * (~16k reduction terms each) and add the chunk results in float64. A negative bottom/right pad
 * (rows that 'valid' never reads) becomes a crop of x.
 */
import {
  backend_util, Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, free, rows } from './wasm-call.ts';

/** Images per chunk: a divisor of n giving ≈ `target` reduction terms per chunk (or n). */
export function chunkImages(n: number, pixels: number, target = 16384): number {
  const want = Math.max(1, Math.round(target / pixels));
  if (want >= n) return n;
  for (let c = want; c >= Math.ceil(want / 4); c--) if (n % c === 0) return c;
  return n;
}

export function conv2dBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: BackendWasm; attrs: Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs: { dy }, backend, attrs } = args;
  let { x } = args.inputs;
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: ho, outWidth: wo,
    filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  let { inHeight: h, inWidth: w } = info;
  const bottom = (ho - 1) * sh + kh - h - padInfo.top;
  const right = (wo - 1) * sw + kw - w - padInfo.left;
  const tmp: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (tmp.push(t), t);
  if (bottom < 0 || right < 0) {
    h += Math.min(bottom, 0); w += Math.min(right, 0);
    x = keep(callWasm(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [n, h, w, ci] }));
  }
  const nc = chunkImages(n, ho * wo), chunks = n / nc;
  const x5 = keep(callWasm(backend, 'Reshape', { x }, { shape: [chunks, nc, h, w, ci] }));
  const xT = keep(callWasm(backend, 'Transpose', { x: x5 }, { perm: [0, 4, 2, 3, 1] })); // [chunks,Ci,H,W,nc]
  const dy5 = keep(callWasm(backend, 'Reshape', { x: dy }, { shape: [chunks, nc, ho, wo, co] }));
  const dyT = keep(callWasm(backend, 'Transpose', { x: dy5 }, { perm: [0, 2, 3, 1, 4] })); // [chunks,Ho,Wo,nc,Co]
  const acc = new Float64Array(ci * kh * kw * co); // [Ci,kh,kw,Co]
  for (let c = 0; c < chunks; c++) {
    const xc = chunks === 1 ? xT : rows(backend, xT, c, 1);
    const dc = chunks === 1 ? dyT : rows(backend, dyT, c, 1);
    const xr = callWasm(backend, 'Reshape', { x: xc }, { shape: [ci, h, w, nc] });
    const dr = callWasm(backend, 'Reshape', { x: dc }, { shape: [ho, wo, nc, co] });
    const conv = callWasm(backend, 'Conv2D', { x: xr, filter: dr }, {
      strides: [1, 1], dilations: [sh, sw], dataFormat: 'NHWC', dimRoundingMode: undefined,
      pad: [[0, 0], [padInfo.top, Math.max(bottom, 0)], [padInfo.left, Math.max(right, 0)], [0, 0]],
    });
    const v = backend.typedArrayFromHeap(conv) as Float32Array;
    for (let i = 0; i < v.length; i++) acc[i]! += v[i]!;
    free(backend, conv, xr, dr, ...(chunks === 1 ? [] : [xc, dc]));
  }
  free(backend, ...tmp);
  const dw = backend.makeOutput([kh, kw, ci, co], 'float32');
  const out = backend.typedArrayFromHeap(dw) as Float32Array;
  for (let c = 0; c < ci; c++) {
    for (let t = 0; t < kh * kw; t++) {
      for (let o = 0; o < co; o++) out[(t * ci + c) * co + o] = acc[(c * kh * kw + t) * co + o]!;
    }
  }
  return dw;
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
