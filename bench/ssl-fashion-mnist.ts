// bench/ssl-fashion-mnist (issue #3): self-supervised pretraining on the 60,000 Fashion-MNIST
// training images WITHOUT labels, then the early probe with the exact balanced label subsets of
// ../shared/protocols/fashion-mnist-label-subsets.json (600 and 100 labels, seeds 0–2), scored on
// all 10,000 test images: kNN (k = 5, cosine) and linear (L2 logistic regression, λ by 3-fold CV
// on the labelled subset) probes of the SSL encoder, the same architecture randomly initialised
// (BN statistics calibrated on the training images, seeded like the probe) and raw pixels.
// The encoder is checkpointed after every epoch under bench/.cache/encoders/ (git-ignored), so an
// interrupted run resumes and other benches (label-efficiency) reuse it.
// Data: Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, MIT), Debian package dataset-fashion-mnist.
// Usage: npx tsx bench/ssl-fashion-mnist.ts [--epochs 12] [--batch 256] [--workers 2] [--seed 0]
//        [--pretext simclr] [--config JSON] [--train-subset N] [--test-subset N] [--tag NAME]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { cpus, loadavg } from 'node:os';
import { pretrain, loadEncoder, randomEncoder, type Encoder, type ModalityData } from '../src/ssl/index.ts';
import { scoreRepresentation, type ProbeScores } from '../src/probe/probe.ts';
import type { Features } from '../src/probe/features.ts';
import { FASHION_MNIST_DIR } from './label-efficiency/datasets.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const EPOCHS = Number(arg('--epochs', '12'));
const BATCH = Number(arg('--batch', '256'));
const WORKERS = Number(arg('--workers', String(cpus().length)));
const SEED = Number(arg('--seed', '0'));
const PRETEXT = arg('--pretext', 'simclr');
const CONFIG = JSON.parse(arg('--config', '{}')) as Record<string, unknown>;
const TRAIN_SUBSET = Number(arg('--train-subset', '60000'));
const TEST_SUBSET = Number(arg('--test-subset', '10000'));
const TAG = arg('--tag', '');
const DIR = FASHION_MNIST_DIR;

function idx(file: string, kind: 'images' | 'labels'): { data: Uint8Array; count: number } {
  if (!existsSync(file)) throw new Error(`${file} not found: apt-get install -y dataset-fashion-mnist`);
  const b = gunzipSync(readFileSync(file));
  const count = b.readUInt32BE(4);
  return { data: new Uint8Array(b.buffer, b.byteOffset + (kind === 'images' ? 16 : 8)), count };
}
function images(file: string, limit: number): ModalityData & { modality: 'image' } {
  const { data, count } = idx(file, 'images');
  const n = Math.min(count, limit);
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = data[i] / 255;
  return { modality: 'image', pixels, count: n, height: 28, width: 28, channels: 1 };
}
const train = images(`${DIR}/train-images-idx3-ubyte.gz`, 60000);
// --train-subset (quick experiments) limits what pretraining sees; the probes always use the protocol subsets.
const pretrainData: ModalityData = TRAIN_SUBSET < train.count ? { ...train, count: TRAIN_SUBSET, pixels: train.pixels.subarray(0, TRAIN_SUBSET * 784) } : train;
const test = images(`${DIR}/t10k-images-idx3-ubyte.gz`, TEST_SUBSET);
const trainY = Int32Array.from(idx(`${DIR}/train-labels-idx1-ubyte.gz`, 'labels').data);
const testY = Int32Array.from(idx(`${DIR}/t10k-labels-idx1-ubyte.gz`, 'labels').data.subarray(0, test.count));
const subsets = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../shared/protocols/fashion-mnist-label-subsets.json'), 'utf8')) as Record<string, number[]>;

const name = `fashion-mnist-${PRETEXT}-e${EPOCHS}-s${SEED}${TRAIN_SUBSET < 60000 ? `-n${TRAIN_SUBSET}` : ''}${TAG ? `-${TAG}` : ''}`;
const ckpt = resolve(import.meta.dirname, '.cache/encoders', name);
console.log(`# bench/ssl-fashion-mnist  ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`protocol: ${PRETEXT} on ${Math.min(TRAIN_SUBSET, train.count).toLocaleString('en')} training images (no labels), ${EPOCHS} epochs, batch ${BATCH}, seed ${SEED}, ${WORKERS} worker threads, config ${JSON.stringify(CONFIG)}; ` +
  `probes on the protocol subsets (600, 100 labels × seeds 0–2) → ${test.count.toLocaleString('en')} test images. checkpoint ${ckpt}`);

// Pretraining (resumes from the checkpoint when one exists).
const t0 = performance.now();
let encoder: Encoder;
let pretrainSeconds = 0;
let finalLoss = NaN;
const done = existsSync(`${ckpt}/train/state.json`) ? (JSON.parse(readFileSync(`${ckpt}/train/state.json`, 'utf8')) as { epoch: number; seconds: number; losses: number[] }) : null;
if (done && done.epoch >= EPOCHS) {
  encoder = await loadEncoder(ckpt);
  pretrainSeconds = done.seconds;
  finalLoss = done.losses.at(-1)!;
  console.log(`pretraining: reused ${ckpt} (${done.epoch} epochs, ${done.seconds.toFixed(0)} s of training when it ran)`);
} else {
  const res = await pretrain(pretrainData, {
    pretext: PRETEXT, epochs: EPOCHS, batch: BATCH, seed: SEED, workers: WORKERS, config: CONFIG,
    checkpointDir: ckpt, resumeFrom: done ? ckpt : undefined,
    onEpoch: ({ epoch, loss, seconds }) => console.log(`  epoch ${epoch}/${EPOCHS}: loss ${loss.toFixed(4)}  ${seconds.toFixed(0)} s  (${((BATCH * Math.floor(Math.min(TRAIN_SUBSET, train.count) / BATCH)) / seconds).toFixed(0)} images/s)`),
  });
  encoder = res.encoder;
  pretrainSeconds = res.seconds;
  finalLoss = res.finalLoss;
  console.log(`pretraining: ${res.epochs} epochs, ${pretrainSeconds.toFixed(0)} s training (${((performance.now() - t0) / 1000).toFixed(0)} s wall incl. start-up), final loss ${finalLoss.toFixed(4)}  (goal ≤ 1,800 s)`);
}

// Probes.
const feats = (data: Float32Array, rows: number, dim: number): Features => ({ rows, dim, data });
const rawPixels = (d: ModalityData & { modality: 'image' }, rows: number[]) => {
  const out = new Float32Array(rows.length * 784);
  rows.forEach((r, i) => out.set(d.pixels.subarray(r * 784, (r + 1) * 784), i * 784));
  return out;
};
const subsetImages = (rows: number[]): ModalityData => ({ ...train, count: rows.length, pixels: rawPixels(train, rows) });
const sslTest = await encoder.embed(test);
const table: Record<string, Record<string, ProbeScores[]>> = {};
for (const labels of [600, 100]) table[labels] = { ssl: [], random_init: [], raw: [] };
for (const seed of [0, 1, 2]) {
  // The random-init baseline of probe seed s (its test embedding serves both label counts).
  const rnd = await randomEncoder(train, { pretext: PRETEXT, seed, config: CONFIG });
  const rndTest = await rnd.embed(test);
  for (const labels of [600, 100]) {
    const rows = subsets[`${labels}_seed${seed}`];
    const y = Int32Array.from([...rows.map((r) => trainY[r]), ...testY]);
    const split = { train: rows.map((_, i) => i), test: Array.from(testY, (_, i) => rows.length + i) };
    const both = (a: Float32Array, b: Float32Array) => { const o = new Float32Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; };
    const sub = subsetImages(rows);
    const reps: Record<string, Features> = {
      ssl: feats(both(await encoder.embed(sub), sslTest), y.length, encoder.dim),
      random_init: feats(both(await rnd.embed(sub), rndTest), y.length, rnd.dim),
      raw: feats(both(rawPixels(train, rows), test.pixels), y.length, 784),
    };
    for (const [r, f] of Object.entries(reps)) table[labels][r].push(scoreRepresentation(f, y, 10, split, seed));
  }
  rnd.dispose();
}
const mean = (xs: ProbeScores[], k: keyof ProbeScores) => xs.reduce((s, x) => s + x[k], 0) / xs.length;
const ref: Record<string, Record<string, string>> = {
  600: { ssl: 'kNN 0.718 lin 0.775', random_init: 'lin 0.687', raw: 'lin 0.772' },
  100: { ssl: 'kNN 0.599 lin 0.673', random_init: 'lin 0.593', raw: 'lin 0.675' },
};
const summary: Record<string, unknown> = { name, pretext: PRETEXT, epochs: EPOCHS, batch: BATCH, workers: WORKERS, seed: SEED, config: CONFIG, pretrainSeconds, finalLoss, train: train.count, test: test.count };
console.log('\nlabels  representation  kNN     linear  linear macro-F1   (mean of seeds 0–2; PyTorch GPU reference)');
for (const labels of [600, 100]) {
  const row: Record<string, unknown> = {};
  for (const r of ['ssl', 'random_init', 'raw']) {
    const s = table[labels][r];
    row[r] = { knn: mean(s, 'knn'), linear: mean(s, 'linear'), linearMacroF1: mean(s, 'linearMacroF1'), perSeedLinear: s.map((x) => x.linear) };
    console.log(`${String(labels).padEnd(7)} ${r.padEnd(15)} ${mean(s, 'knn').toFixed(3)}   ${mean(s, 'linear').toFixed(3)}   ${mean(s, 'linearMacroF1').toFixed(3)}            (${ref[labels][r]})`);
  }
  summary[labels] = row;
}
const lin = (l: number, r: string) => (summary[l] as Record<string, { linear: number }>)[r].linear;
console.log(`\ngoal: linear probe ≥ 0.780 at 600 labels → ${lin(600, 'ssl').toFixed(3)} ${lin(600, 'ssl') >= 0.78 ? 'MET' : 'NOT MET'}; ` +
  `≥ 5 pts over random init → ${((lin(600, 'ssl') - lin(600, 'random_init')) * 100).toFixed(1)} pts ${lin(600, 'ssl') - lin(600, 'random_init') >= 0.05 ? 'MET' : 'NOT MET'}; ` +
  `vs raw pixels ${((lin(600, 'ssl') - lin(600, 'raw')) * 100).toFixed(1)} pts at 600, ${((lin(100, 'ssl') - lin(100, 'raw')) * 100).toFixed(1)} at 100`);
mkdirSync(resolve(import.meta.dirname, 'out'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'out', `${name}.json`), JSON.stringify(summary, null, 2));
encoder.dispose();
