/**
 * Project kernels for the wasm backend, registered once by `initEngine()`.
 *
 * | kernel               | why (measured on this machine, tfjs-backend-wasm 4.22)                |
 * |----------------------|-----------------------------------------------------------------------|
 * | Conv2DBackpropFilter | missing: CNN training throws without it                                |
 * | Conv2DBackpropInput  | shipped one is a naive loop, ~10× slower than the forward Conv2D       |
 * | MaxPoolGrad          | shipped one is wrong when a window's values are all ≤ 0 (C++ argmax bug) |
 * | BatchMatMul          | shipped one leaves XNNPACK for a naive loop on any transpose/batch>1   |
 * | Tile                 | shipped one runs at ~10 M elements/s (BatchNorm gradient, broadcastTo) |
 * | Sum, Mean            | outer-axis reductions (BN moments, bias grads) transpose first: ~30× slower |
 * | Slice                | shipped one copies the whole input out of the heap for every slice    |
 * | Identity, Cast       | copies (every tensor saved for backprop was copied); float→bool wrong |
 * | FusedBatchNorm       | scalar loop, 8× slower than the same pass as an XNNPACK depthwise 1×1  |
 *
 * Everything else a small ResNet-style CNN needs for training (Relu/Step, MaxPool, AvgPool(Grad),
 * the elementwise ops of the BatchNorm gradient, Softmax…) is present and correct in wasm 4.22;
 * test/ml/kernels.test.ts checks their gradients against the cpu backend. BatchNorm training
 * itself is cheaper still with src/ml/layers/batch-norm.ts (a layer, not a kernel).
 *
 * `useProjectKernels(false)` restores the shipped kernels (benchmarks compare both);
 * Conv2DBackpropFilter stays registered either way since there is no shipped one.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs';
import { batchMatMulConfig } from './batch-matmul.ts';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { fusedBatchNormConfig } from './fused-batch-norm.ts';
import { castConfig, identityConfig } from './identity-cast.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';
import { meanConfig, sumConfig } from './reduce-sum.ts';
import { sliceConfig } from './slice.ts';
import { tileConfig } from './tile.ts';

/** kernel name → project config, given the shipped config (the wrappers fall back to it). */
const factories: Record<string, (shipped: KernelConfig | undefined) => KernelConfig> = {
  Conv2DBackpropFilter: () => conv2dBackpropFilterConfig,
  Conv2DBackpropInput: () => conv2dBackpropInputConfig,
  MaxPoolGrad: () => maxPoolGradConfig,
  BatchMatMul: (s) => batchMatMulConfig(need(s, 'BatchMatMul')),
  Tile: (s) => tileConfig(need(s, 'Tile')),
  Sum: (s) => sumConfig(need(s, 'Sum')),
  Mean: (s) => meanConfig(need(s, 'Mean')),
  Slice: (s) => sliceConfig(need(s, 'Slice')),
  Identity: (s) => identityConfig(need(s, 'Identity')),
  Cast: (s) => castConfig(need(s, 'Cast')),
  FusedBatchNorm: (s) => fusedBatchNormConfig(need(s, 'FusedBatchNorm')),
};

function need(k: KernelConfig | undefined, name: string): KernelConfig {
  if (!k) throw new Error(`tfjs-backend-wasm has no ${name} kernel to wrap (unexpected tfjs version?)`);
  return k;
}

const shipped = new Map<string, KernelConfig | undefined>();
const project = new Map<string, KernelConfig>();

function put(name: string, config: KernelConfig | undefined): void {
  if (getKernel(name, 'wasm') != null) unregisterKernel(name, 'wasm');
  if (config) registerKernel(config);
}

/** Registers the project kernels on the wasm backend (idempotent). Call after the backend is ready. */
export function registerProjectKernels(): void {
  if (project.size > 0) return;
  for (const [name, make] of Object.entries(factories)) {
    const s = getKernel(name, 'wasm');
    shipped.set(name, s);
    project.set(name, make(s));
  }
  useProjectKernels(true);
}

/**
 * `true` (default after `initEngine`): the project kernels. `false`: the shipped wasm kernels
 * (plus our Conv2DBackpropFilter, without which CNNs cannot train at all) — for benchmarks.
 */
export function useProjectKernels(on: boolean): void {
  if (project.size === 0) throw new Error('call initEngine() first');
  for (const [name, config] of project) put(name, on || !shipped.get(name) ? config : shipped.get(name));
}

/** Names of the kernels this project registers on the wasm backend. */
export const projectKernelNames: readonly string[] = Object.keys(factories);
