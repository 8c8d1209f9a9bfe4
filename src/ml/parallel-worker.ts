/**
 * Worker entry of src/ml/parallel.ts: hosts one replica and answers the main thread's requests
 * (init, buffers, compute, apply, getWeights, setWeights, call). `allGather` blocks this thread
 * with Atomics.wait and receives the gathered parts synchronously from its own MessagePort, so
 * it can be called inside a gradient tape.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ReplicaHost, type Batch, type StepContext } from './parallel.ts';

const { module, config, rank, worldSize, signal, gatherPort } = workerData as {
  module: string; config: unknown; rank: number; worldSize: number; signal: Int32Array; gatherPort: MessagePort;
};
const port = parentPort!;
let host: ReplicaHost | undefined;
let bufs: { grads: Float32Array; state: Float32Array; sumGrad: Float32Array; sumState: Float32Array } | undefined;

function allGather(x: Float32Array): Float32Array[] {
  port.postMessage({ type: 'gather', rank, data: x });
  for (;;) {
    Atomics.wait(signal, rank, 0, 1000);
    if (Atomics.load(signal, rank) === 0) continue;
    const m = receiveMessageOnPort(gatherPort);
    if (!m) continue; // signalled before the message became visible: wait for it
    Atomics.store(signal, rank, 0);
    return m.message as Float32Array[];
  }
}

type Msg = { id: number; type: string; [k: string]: unknown };

async function handle(m: Msg): Promise<unknown> {
  switch (m.type) {
    case 'init':
      host = await ReplicaHost.create(module, config, { rank, worldSize });
      return host.layout();
    case 'buffers':
      bufs = m as unknown as typeof bufs;
      return null;
    case 'compute': {
      const c = m.ctx as Omit<StepContext, 'rank' | 'worldSize' | 'allGather'>;
      return await host!.compute(m.batch as Batch, { ...c, rank, worldSize, allGather }, bufs!.grads, bufs!.state);
    }
    case 'apply':
      host!.apply(bufs!.sumGrad.subarray(0, host!.layout().gradSize), bufs!.sumState.subarray(0, host!.layout().stateSize));
      return null;
    case 'getWeights':
      return host!.getWeights();
    case 'setWeights':
      host!.setWeights(m.weights as Float32Array[]);
      return null;
    case 'call':
      return await host!.call(m.method as string, m.args as unknown[]);
    default:
      throw new Error(`unknown request ${m.type}`);
  }
}

// Requests are handled strictly in order (a step's compute must finish before its apply).
let queue = Promise.resolve();
port.on('message', (m: Msg) => {
  queue = queue.then(async () => {
    try {
      port.postMessage({ type: 'reply', id: m.id, ok: true, value: await handle(m) });
    } catch (e) {
      const err = e as Error;
      port.postMessage({ type: 'reply', id: m.id, ok: false, error: err.stack ?? err.message });
    }
  });
});
