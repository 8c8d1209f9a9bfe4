/**
 * Conv2DBackpropInput (dx of a 2-D convolution, a.k.a. transposed conv) for the wasm backend,
 * NHWC, dilation 1.
 *
 * Why: the shipped kernel is a plain C++ loop, ~10× slower than the XNNPACK forward Conv2D
 * (measured: 2 GFLOP/s vs 22). We express dx with forward Conv2D calls, one per stride phase
 * ("sub-pixel" decomposition), so no multiply is spent on the zeros a dilated dy would hold:
 *
 *   dx[h] = Σ_{i,a : i·s + a − pt = h} dy[i] · w[a]          (per axis, channels contracted)
 *
 * Input rows h = s·q + r (phase r) only meet taps a ≡ r + pt (mod s): a = a0 + s·t, and then
 * i = q + c − t with c = (r + pt − a0)/s. So phase r is a stride-1 convolution of dy with the
 * flipped sub-filter w[a0::s] (channels swapped: [Ta,Tb,Co,Ci]), padded by Ta−1−c on top.
 * Stride 1 is the single-phase case (a plain "full" correlation with the rotated filter); for
 * stride > 1 the phase outputs are interleaved into dx by a JS copy loop (the shipped Concat
 * and 5-D Transpose that could do it are 3–25× slower).
 */
import {
  backend_util, Conv2DBackpropInput, type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasm, free } from './wasm-call.ts';

/** Phase r of one axis: first tap a0, tap count, rows of dx in it, dy rows read [first, last]. */
function phase(r: number, pad: number, k: number, s: number, inSize: number) {
  const a0 = (r + pad) % s;
  if (a0 >= k || r >= inSize) return null;
  const taps = Math.ceil((k - a0) / s);
  const c = (r + pad - a0) / s;
  const rows = Math.ceil((inSize - r) / s);
  return { a0, taps, rows, first: c - (taps - 1), last: rows - 1 + c };
}

type Phase = NonNullable<ReturnType<typeof phase>>;

/** dx of one phase, [N, ph.rows, pw.rows, Ci], as one stride-1 Conv2D; null if it reads no dy. */
function phaseConv(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, ph: Phase, pw: Phase, s: [number, number]): TensorInfo | null {
  const [n, ho, wo, co] = dy.shape as [number, number, number, number];
  const [kh, kw, ci] = filter.shape as [number, number, number, number];
  if (ph.last < 0 || pw.last < 0 || ph.first > ho - 1 || pw.first > wo - 1) return null;
  const tmp: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (tmp.push(t), t);
  // Sub-filter: taps a0, a0+s, …, flipped in both spatial axes, channels swapped → [Ta,Tb,Co,Ci].
  let f = keep(callWasm(backend, 'StridedSlice', { x: filter }, {
    begin: [ph.a0, pw.a0, 0, 0], end: [kh, kw, ci, co], strides: [s[0], s[1], 1, 1],
    beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
  }));
  if (ph.taps > 1 || pw.taps > 1) f = keep(callWasm(backend, 'Reverse', { x: f }, { dims: [0, 1] }));
  f = keep(callWasm(backend, 'Transpose', { x: f }, { perm: [0, 1, 3, 2] }));
  // dy rows first..last: crop what lies inside, zero-pad what lies outside.
  const r0 = Math.max(ph.first, 0), r1 = Math.min(ph.last, ho - 1);
  const c0 = Math.max(pw.first, 0), c1 = Math.min(pw.last, wo - 1);
  const src = r0 > 0 || c0 > 0 || r1 < ho - 1 || c1 < wo - 1
    ? keep(callWasm(backend, 'Slice', { x: dy }, { begin: [0, r0, c0, 0], size: [n, r1 - r0 + 1, c1 - c0 + 1, co] }))
    : dy;
  const out = callWasm(backend, 'Conv2D', { x: src, filter: f }, {
    strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC', dimRoundingMode: undefined,
    pad: [[0, 0], [r0 - ph.first, ph.last - r1], [c0 - pw.first, pw.last - c1], [0, 0]],
  });
  free(backend, ...tmp);
  return out;
}

export function conv2dBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: Conv2DBackpropInputAttrs }): TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput (wasm): only NHWC is supported');
  const info = backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, filterHeight: kh, filterWidth: kw,
    strideHeight: sh, strideWidth: sw, padInfo } = info;
  const parts: Array<{ rh: number; rw: number; rows: number; cols: number; t: TensorInfo }> = [];
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const ph = phase(rh, padInfo.top, kh, sh, h), pw = phase(rw, padInfo.left, kw, sw, w);
      const t = ph && pw ? phaseConv(backend, dy, filter, ph, pw, [sh, sw]) : null;
      if (t) parts.push({ rh, rw, rows: ph!.rows, cols: pw!.rows, t });
    }
  }
  if (sh === 1 && sw === 1 && parts.length === 1) return parts[0]!.t;
  const out = backend.makeOutput([n, h, w, ci], 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array; // views after makeOutput (heap growth)
  if (parts.length < sh * sw) dst.fill(0); // phases no tap reaches stay zero
  for (const { rh, rw, rows, cols, t } of parts) {
    const src = backend.typedArrayFromHeap(t) as Float32Array;
    let i = 0;
    for (let b = 0; b < n; b++) {
      for (let q = 0; q < rows; q++) {
        let o = ((b * h + q * sh + rh) * w + rw) * ci;
        for (let p = 0; p < cols; p++, o += sw * ci) for (let c = 0; c < ci; c++) dst[o + c] = src[i++]!;
      }
    }
  }
  free(backend, ...parts.map((p) => p.t));
  return out;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as KernelFunc,
};
