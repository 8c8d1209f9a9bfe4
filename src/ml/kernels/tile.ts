/**
 * Tile for the wasm backend as block copies (memmove via `copyWithin`, doubling).
 *
 * Why: the shipped kernel computes a source index per output element and runs at ~10 M
 * elements/s — tiling a [1,1,1,32] scale to [256,28,28,32] (what the BatchNorm gradient and
 * `broadcastTo` do) took 700 ms, more than the convolution itself. Here each output period is
 * written once and then replicated by doubling copies, i.e. at memory speed.
 *
 * Runs of axes with rep 1 are merged first, so the recursion only walks axes that repeat.
 */
import { Tile, util, type KernelConfig, type KernelFunc, type TensorInfo, type TileAttrs } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Arr = Float32Array | Int32Array | Uint8Array;

export function makeTile(shipped: KernelFunc): KernelFunc {
  return ((args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: TileAttrs }): TensorInfo => {
    const { inputs: { x }, backend, attrs: { reps } } = args;
    if (x.dtype === 'string' || x.dtype === 'complex64') return shipped(args as never) as TensorInfo;
    const outShape = x.shape.map((d, i) => d * reps[i]!);
    const out = backend.makeOutput(outShape, x.dtype);
    if (util.sizeFromShape(outShape) === 0) return out;
    // Merge consecutive axes with rep 1 (they copy as one contiguous row).
    const shape: number[] = [], rep: number[] = [];
    x.shape.forEach((d, i) => {
      const r = reps[i]!;
      if (r === 1 && rep.length > 0 && rep[rep.length - 1] === 1) shape[shape.length - 1]! *= d;
      else { shape.push(d); rep.push(r); }
    });
    const rank = shape.length;
    const inStride = new Array<number>(rank), outStride = new Array<number>(rank);
    for (let d = rank - 1, si = 1, so = 1; d >= 0; d--) {
      inStride[d] = si; outStride[d] = so;
      si *= shape[d]!; so *= shape[d]! * rep[d]!;
    }
    // Views taken after makeOutput (which may grow the heap and detach older views).
    const src = backend.typedArrayFromHeap(x) as Arr;
    const dst = backend.typedArrayFromHeap(out) as Arr;
    const replicate = (off: number, len: number, times: number) => {
      for (let have = 1; have < times;) {
        const n = Math.min(have, times - have);
        dst.copyWithin(off + have * len, off, off + n * len);
        have += n;
      }
    };
    const fill = (d: number, inOff: number, outOff: number): void => {
      const len = shape[d]! * outStride[d]!; // one period of axis d in the output
      if (d === rank - 1) dst.set(src.subarray(inOff, inOff + shape[d]!), outOff);
      else for (let i = 0; i < shape[d]!; i++) fill(d + 1, inOff + i * inStride[d]!, outOff + i * outStride[d]!);
      replicate(outOff, len, rep[d]!);
    };
    fill(0, 0, 0);
    return out;
  }) as unknown as KernelFunc;
}

export function tileConfig(shipped: KernelConfig): KernelConfig {
  return { kernelName: Tile, backendName: 'wasm', kernelFunc: makeTile(shipped.kernelFunc), setupFunc: shipped.setupFunc };
}
