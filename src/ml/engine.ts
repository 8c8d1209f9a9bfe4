import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerProjectKernels } from './kernels/index.ts';

let ready: Promise<typeof tf> | undefined;

/**
 * Initialises the tensor engine once: tfjs on the wasm backend. Fails loudly when wasm cannot
 * start — the pure-JS cpu backend is 100–400× slower, so silently falling back would turn a
 * 20-minute pretraining into days. Also registers the project's wasm kernels
 * (`Conv2DBackpropFilter`, a fast `Conv2DBackpropInput`; see src/ml/kernels/index.ts).
 */
export function initEngine(): Promise<typeof tf> {
  ready ??= (async () => {
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    if (!ok || tf.getBackend() !== 'wasm') {
      throw new Error(`the wasm tensor backend could not start (active backend: ${tf.getBackend()}); refusing to fall back to the slow cpu backend`);
    }
    registerProjectKernels();
    return tf;
  })();
  return ready;
}

export { tf };
export { useConvKernels, projectKernelNames } from './kernels/index.ts';
