/**
 * Identity and Cast for the wasm backend.
 *
 * Identity — why: the shipped kernel copies the whole tensor. tfjs-core calls it for every tensor
 * it saves for the backward pass (`engine.clone`), so training copied every activation once more
 * (62 full copies per step of the small CNN). Tensors are immutable, so, like the cpu backend and
 * like wasm's own Reshape, we share the data and count a reference instead.
 *
 * Cast — why: same-dtype casts (`cast(step(x), 'float32')` in the ReLU gradient, in `moments`…)
 * were copies too: now shared the same way. And the shipped float32→bool cast copies values
 * into a Uint8Array, truncating 0.5 to false; a bool cast must be `x != 0`. Other casts:
 * shipped kernel.
 */
import { Cast, Identity, util, type CastAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function identityConfig(shipped: KernelConfig): KernelConfig {
  const kernelFunc = ((args: { inputs: { x: TensorInfo }; backend: BackendWasm }): TensorInfo =>
    args.inputs.x.dtype === 'string' ? shipped.kernelFunc(args as never) as TensorInfo : share(args.backend, args.inputs.x)) as unknown as KernelFunc;
  return { kernelName: Identity, backendName: 'wasm', kernelFunc, setupFunc: shipped.setupFunc };
}

export function castConfig(shipped: KernelConfig): KernelConfig {
  const kernelFunc = ((args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: CastAttrs }): TensorInfo => {
    const { inputs: { x }, backend, attrs: { dtype } } = args;
    if (dtype === x.dtype && dtype !== 'string') return share(backend, x);
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
      const out = backend.makeOutput(x.shape, 'bool');
      if (util.sizeFromShape(x.shape) === 0) return out;
      const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array; // after makeOutput (heap growth)
      const dst = backend.typedArrayFromHeap(out) as Uint8Array;
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    return shipped.kernelFunc(args as never) as TensorInfo;
  }) as unknown as KernelFunc;
  return { kernelName: Cast, backendName: 'wasm', kernelFunc, setupFunc: shipped.setupFunc };
}
