/**
 * The tensor engine: tfjs 4.22 on the wasm backend (XNNPACK), set up once per thread.
 *
 *   const tf = await initEngine();
 *
 * Besides selecting wasm it registers the project's kernels (src/ml/kernels/: a missing
 * Conv2DBackpropFilter, a fast Conv2DBackpropInput, and fixes for slow or wrong shipped kernels —
 * see the table in src/ml/kernels/index.ts). Related pieces:
 *   - src/ml/layers/batch-norm.ts   FastBatchNormalization (3× cheaper BN training on wasm)
 *   - src/ml/models/small-cnn.ts    the small image CNN used for pretraining
 *   - src/ml/parallel.ts            data-parallel training over worker_threads (wasm is one
 *                                   thread per isolate in Node)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerProjectKernels } from './kernels/index.ts';

let ready: Promise<typeof tf> | undefined;

/**
 * Initialises the tensor engine once: tfjs on the wasm backend. Fails loudly when wasm cannot
 * start — the pure-JS cpu backend is 100–400× slower, so silently falling back would turn a
 * 20-minute pretraining into days. Also registers the project's wasm kernels.
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
export { useProjectKernels, projectKernelNames } from './kernels/index.ts';
