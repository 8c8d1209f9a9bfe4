// bench/engine: the tensor engine (tfjs 4.22 + wasm + project kernels, src/ml/) on this machine.
//   1. matmul GFLOP/s (square 512 / 1024, fresh operands every repetition);
//   2. per-layer conv kernels of the small CNN at batch 512 (= 256 pairs): forward Conv2D, the
//      shipped vs the project Conv2DBackpropInput, the project Conv2DBackpropFilter (none shipped);
//   3. one SimCLR pretraining step of the small CNN (src/ml/models/small-cnn.ts, 6 convs 32-32-64-
//      64-128-128, BN+ReLU, GAP, projection head 128-128; NT-Xent τ=0.5 over 256 pairs; Adam) in
//      this thread: shipped kernels (+ our Conv2DBackpropFilter, without which it cannot run) and
//      tf.layers BN; project kernels and tf.layers BN; project kernels and FastBatchNormalization
//      (the default); then data-parallel over 1 and 2 worker threads;
//   4. the same step in PyTorch (bench/pytorch_step.py, 2 threads, NCHW and channels_last),
//      installing python3-torch with apt-get if missing; engine (2 workers) and PyTorch are timed in
//      interleaved rounds (other load on the machine then hits both alike); median ratio printed.
// Views are seeded uniform noise made before timing (augmentation is not part of the step, on
// either side). Timings are wall-clock means after warm-up steps.
// Usage: npx tsx bench/engine.ts [--seed K] [--batch 256] [--steps 3] [--rounds 3] [--no-torch] [--no-stock]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initEngine, tf, useProjectKernels } from '../src/ml/engine.ts';
import { buildSmallCnn } from '../src/ml/models/small-cnn.ts';
import { createParallelTrainer, type Batch } from '../src/ml/parallel.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1]!;
};
const SEED = Number(arg('--seed', '1'));
const BATCH = Number(arg('--batch', '256'));
const STEPS = Number(arg('--steps', '3'));
const WITH_TORCH = !process.argv.includes('--no-torch');
const WITH_STOCK = !process.argv.includes('--no-stock');
const ROUNDS = Number(arg('--rounds', '3'));

function rng(seed: number) { // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(SEED);
const views = (n: number) => ({ data: Float32Array.from({ length: n * 784 }, rand), shape: [n, 28, 28, 1] as [number, number, number, number] });
const ms = (t0: number) => performance.now() - t0;
const f1 = (x: number) => x.toFixed(1);
const results: Record<string, unknown> = { seed: SEED, batch: BATCH, steps: STEPS };

console.log('# bench/engine');
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, load average ${loadavg().map(f1).join(' ')}`);
console.log(`protocol: seed ${SEED}; SimCLR step = batch ${BATCH} pairs (${2 * BATCH} images 28×28×1), small CNN + head, NT-Xent τ=0.5, Adam 1e-3; ` +
  `${STEPS} timed steps after 1 warm-up (stock: 1 timed); views are seeded noise made before timing`);
await initEngine();

// 1. matmul
for (const n of [512, 1024]) {
  const reps = n === 512 ? 8 : 3;
  let t = 0;
  for (let i = 0; i <= reps; i++) {
    const [a, b] = [tf.randomUniform([n, n], -1, 1, 'float32', SEED + i), tf.randomUniform([n, n], -1, 1, 'float32', SEED + 99 + i)];
    const t0 = performance.now();
    tf.matMul(a, b).dispose();
    if (i > 0) t += ms(t0);
    tf.dispose([a, b]);
  }
  const gflops = (2 * n ** 3 * reps) / t / 1e6;
  console.log(`matmul ${n}×${n}: ${f1(gflops)} GFLOP/s`);
  results[`matmul${n}_gflops`] = gflops;
}

// 2. conv kernels per layer (batch 2·BATCH images)
const N = 2 * BATCH;
const layers: Array<[number, number, number, number]> = [[28, 1, 32, 1], [28, 32, 32, 1], [28, 32, 64, 2], [14, 64, 64, 1], [14, 64, 128, 2], [7, 128, 128, 1]];
console.log(`\nconv kernels of the small CNN at batch ${N} (ms; 3×3 'same'):`);
console.log('layer                       forward  dx shipped  dx project  dW project');
const kernelRows: unknown[] = [];
const timeIt = (f: () => tf.Tensor, reps = 2) => {
  tf.tidy(() => { f(); });
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.tidy(() => { f(); });
  return ms(t0) / reps;
};
for (const [h, ci, co, s] of layers) {
  const x = tf.randomUniform([N, h, h, ci], -1, 1, 'float32', SEED) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, ci, co], -1, 1, 'float32', SEED) as tf.Tensor4D;
  const dy = tf.tidy(() => tf.onesLike(tf.conv2d(x, w, s, 'same'))) as tf.Tensor4D;
  const fwd = timeIt(() => tf.conv2d(x, w, s, 'same'));
  useProjectKernels(false);
  const dxStock = WITH_STOCK ? timeIt(() => tf.conv2dTranspose(dy, w, x.shape, s, 'same'), 1) : NaN;
  useProjectKernels(true);
  const dxProj = timeIt(() => tf.conv2dTranspose(dy, w, x.shape, s, 'same'));
  const dw = timeIt(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] } as never) as tf.Tensor);
  const name = `${h}×${h}×${ci}→${co} stride ${s}`;
  console.log(`${name.padEnd(27)} ${f1(fwd).padStart(7)} ${f1(dxStock).padStart(11)} ${f1(dxProj).padStart(11)} ${f1(dw).padStart(11)}`);
  kernelRows.push({ layer: name, forwardMs: fwd, dxShippedMs: dxStock, dxProjectMs: dxProj, dwProjectMs: dw });
  tf.dispose([x, w, dy]);
}
results.convKernels = kernelRows;

// 3. SimCLR step in this thread: shipped vs project kernels
const { model, encoder } = buildSmallCnn(tf, { seed: SEED });
const encParams = encoder.countParams(), allParams = model.countParams();
console.log(`\nsmall CNN: encoder ${encParams.toLocaleString('en')} parameters (incl. BN moving stats), with head ${allParams.toLocaleString('en')}`);
model.dispose();
const replicaModule = fileURLToPath(new URL('./engine-replica.ts', import.meta.url));
const batches = Array.from({ length: STEPS + 1 }, (): Batch => ({ a: views(BATCH), b: views(BATCH) }));

async function stepRate(workers: number, timed: number, label: string, batchNorm: 'fast' | 'keras' = 'fast') {
  const t = await createParallelTrainer({ module: replicaModule, config: { seed: SEED, batchNorm }, workers });
  try {
    await t.step(batches[0]!);
    const t0 = performance.now();
    let loss = 0;
    for (let i = 1; i <= timed; i++) loss = (await t.step(batches[i]!)).loss;
    const stepMs = ms(t0) / timed;
    const identical = workers > 1 ? await t.replicasIdentical() : true;
    console.log(`${label.padEnd(58)} ${f1(stepMs).padStart(8)} ms/step  ${f1((BATCH * 1000) / stepMs).padStart(6)} samples/s  (loss ${loss.toFixed(3)}${workers > 1 ? `, replicas bit-identical: ${identical}` : ''})`);
    return { stepMs, samplesPerS: (BATCH * 1000) / stepMs, identical };
  } finally {
    await t.close();
  }
}

console.log(`\nSimCLR step, batch ${BATCH} pairs (samples/s = pairs/s):`);
if (WITH_STOCK) {
  useProjectKernels(false);
  results.stepShipped = await stepRate(0, 1, 'in-thread, shipped kernels (+ our dW), tf.layers BN', 'keras');
  useProjectKernels(true);
  results.stepProjectKerasBN = await stepRate(0, STEPS, 'in-thread, project kernels, tf.layers BN', 'keras');
}
results.stepProject = await stepRate(0, STEPS, 'in-thread, project kernels + FastBatchNormalization');
results.workers1 = await stepRate(1, STEPS, '1 worker thread (project kernels + fast BN)');
results.workers2 = await stepRate(2, STEPS, '2 worker threads (project kernels + fast BN)');
const rate = (k: string) => (results[k] as { samplesPerS: number }).samplesPerS;
console.log(`scaling 1 → 2 workers: ×${(rate('workers2') / rate('workers1')).toFixed(2)}`);
if (WITH_STOCK) {
  console.log(`in-thread speed-up over the shipped kernels: ×${(rate('stepProjectKerasBN') / rate('stepShipped')).toFixed(2)} (kernels), ` +
    `×${(rate('stepProject') / rate('stepShipped')).toFixed(2)} (kernels + fast BN)`);
}

// 4. PyTorch, interleaved with the engine (2 workers) so that other load on the machine hits both alike.
if (WITH_TORCH) {
  // The first python3 on PATH may be a pyenv one; Debian's python3-torch lives in /usr/bin/python3.
  const pythons = ['python3', '/usr/bin/python3'];
  const withTorch = () => pythons.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  let python = withTorch();
  if (!python) {
    console.log('\npython3-torch missing: apt-get install -y python3-torch …');
    spawnSync('apt-get', ['install', '-y', 'python3-torch'], { stdio: ['ignore', 'ignore', 'inherit'] });
    python = withTorch();
  }
  if (!python) {
    console.log('PyTorch unavailable: skipped');
  } else {
    const script = fileURLToPath(new URL('./pytorch_step.py', import.meta.url));
    type TorchResult = { samples_per_s: number; step_ms: number; torch: string; params: number; channels_last: boolean };
    // Debian's OpenBLAS 0.3.21 mis-detects this AVX-512 CPU; name the core type explicitly.
    const runTorch = (extra: string[]) => JSON.parse(execFileSync(python!, [script, '--batch', String(BATCH), '--steps', String(STEPS), '--seed', String(SEED), '--threads', '2', ...extra],
      { env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' }, encoding: 'utf8' }).trim().split('\n').at(-1)!) as TorchResult;
    console.log(`\nengine (2 workers) vs PyTorch (2 threads; faster of NCHW / channels_last), ${ROUNDS} interleaved rounds of ${STEPS} steps:`);
    const trainer = await createParallelTrainer({ module: replicaModule, config: { seed: SEED }, workers: 2 });
    const rounds: Array<{ engine: number; torch: number; torchLayout: string; ratio: number }> = [];
    try {
      await trainer.step(batches[0]!);
      for (let r = 0; r < ROUNDS; r++) {
        const t0 = performance.now();
        for (let i = 1; i <= STEPS; i++) await trainer.step(batches[i]!);
        const engine = (BATCH * STEPS * 1000) / ms(t0);
        const runs = [runTorch([]), runTorch(['--channels-last'])];
        const best = runs.reduce((p, q) => (q.samples_per_s > p.samples_per_s ? q : p));
        if (r === 0) console.log(`PyTorch ${best.torch}, ${best.params.toLocaleString('en')} parameters`);
        rounds.push({ engine, torch: best.samples_per_s, torchLayout: best.channels_last ? 'channels_last' : 'NCHW', ratio: engine / best.samples_per_s });
        console.log(`round ${r + 1}: engine ${f1(engine)} samples/s, PyTorch ${f1(best.samples_per_s)} samples/s (${rounds.at(-1)!.torchLayout}; ` +
          `NCHW ${f1(runs[0]!.samples_per_s)}, channels_last ${f1(runs[1]!.samples_per_s)}), ratio ${rounds.at(-1)!.ratio.toFixed(2)}  [load ${f1(loadavg()[0]!)}]`);
      }
    } finally {
      await trainer.close();
    }
    const median = rounds.map((x) => x.ratio).sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
    console.log(`engine / PyTorch, median of ${ROUNDS} rounds: ${median.toFixed(2)}×  (goal ≥ 0.5×)`);
    results.torchRounds = rounds;
    results.ratioVsTorch = median;
  }
}
console.log(`\nload average at end: ${loadavg().map(f1).join(' ')}`);
console.log(JSON.stringify(results));
