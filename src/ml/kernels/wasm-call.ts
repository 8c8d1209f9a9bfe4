/**
 * Calling the wasm backend's own kernels from inside a project kernel.
 *
 * A project kernel (e.g. Conv2DBackpropFilter) is composed of fast shipped kernels (Conv2D =
 * XNNPACK, Transpose, Slice…). We call their kernel functions directly on the backend rather than
 * through `tf.*` ops: no engine bookkeeping, nothing recorded on the gradient tape, and every
 * intermediate is an explicit `TensorInfo` that we free ourselves with `free`.
 */
import { getKernel, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Runs the registered wasm kernel `name` (its current registration) and returns its one output. */
export function callWasm(
  backend: BackendWasm,
  name: string,
  inputs: Record<string, TensorInfo> | TensorInfo[], // Concat takes an array
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const k = getKernel(name, 'wasm');
  if (k == null) throw new Error(`wasm kernel ${name} is not registered`);
  const out = k.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, backend, attrs: attrs as NamedAttrMap });
  return Array.isArray(out) ? out[0]! : out;
}

/** Releases intermediates made by `callWasm` (views such as Reshape share data by ref count). */
export function free(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** Rows [start, start+count) of a float32 tensor along axis 0, copied (the shipped Slice is slow). */
export function rows(backend: BackendWasm, x: TensorInfo, start: number, count: number): TensorInfo {
  const inner = x.shape.slice(1).reduce((p, q) => p * q, 1);
  const out = backend.makeOutput([count, ...x.shape.slice(1)], x.dtype);
  const src = backend.typedArrayFromHeap(x) as Float32Array; // after makeOutput: the heap may grow
  (backend.typedArrayFromHeap(out) as Float32Array).set(src.subarray(start * inner, (start + count) * inner));
  return out;
}
