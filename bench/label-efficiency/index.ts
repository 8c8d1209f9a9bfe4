/**
 * The label-efficiency benchmark behind `tessera bench label-efficiency`: how much accuracy a
 * label budget buys with SSL + active learning, against random labels and against training from
 * scratch, on one dataset (a shared benchmark set or any labelled text CSV pair).
 *
 * The arms (arms.ts) share one SSL encoder (encoder-cache.ts: the modality's default pretext or
 * `pretext`, pretrained on the training items without labels, cached) and train through the
 * loop's trainClassifier; the report (report.ts) gives labelsTo95pct, the labels each SSL curve
 * needed to reach 95% of full supervision's accuracy, and a learning-curve SVG (svg.ts).
 *
 * src/ never imports this folder: the CLI command loads this module at run time and checks it
 * against src/cli/label-efficiency-contract.ts, which `labelEfficiencyBench` below implements.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../../src/core/errors.ts';
import { sha256Hex } from '../../src/core/hash.ts';
import { subsetData } from '../../src/ssl/data.ts';
import { defaultPretext, loadEncoder, pretextsFor, type Encoder } from '../../src/ssl/index.ts';
import { SslEncoder } from '../../src/ssl/encoder.ts';
import type { LabelEfficiencyBench, LabelEfficiencyOptions, LabelEfficiencyReport } from '../../src/cli/label-efficiency-contract.ts';
import { prepareArms } from './arms.ts';
import { loadBenchData, type BenchData } from './datasets.ts';
import { resolveEncoder, type CachedEncoder } from './encoder-cache.ts';
import { runArmTasks } from './jobs.ts';
import { buildReport, curveChart } from './report.ts';
import { armSettings, fullSchedule, roundSizes, type ArmOptions, type ArmSettings } from './settings.ts';
import { learningCurveSvg } from './svg.ts';
import { armTasks, gatherArms, type ArmTaskResult } from './tasks.ts';
import { viewsFor } from './train-api.ts';

export { ARMS, type Arm, type LabelEfficiencyOptions, type LabelEfficiencyReport } from '../../src/cli/label-efficiency-contract.ts';
export { BENCH_DATASETS, FASHION_MNIST_DIR, type BenchSource } from './datasets.ts';

/** A hash of a CSV pair and its columns (the encoder cache's key for that data), null for a shared dataset. */
async function csvHashOf(opts: LabelEfficiencyOptions): Promise<string | null> {
  if (!opts.csv) return null;
  const c = opts.csv;
  return sha256Hex(Buffer.concat([await readFile(c.train), Buffer.from('\0'), await readFile(c.test), Buffer.from(`\0${c.textColumn}\0${c.labelColumn}`)])).slice(0, 12);
}

/** The run's encoder: resolved (cached or pretrained now), loaded and checked against the data. */
async function openEncoder(bd: BenchData, opts: LabelEfficiencyOptions, csvHash: string | null): Promise<{ cached: CachedEncoder; base: Encoder }> {
  const pretext = opts.pretext ?? defaultPretext(bd.modality);
  const known = pretextsFor(bd.modality);
  if (!known.includes(pretext)) throw new UserError(`--pretext ${JSON.stringify(pretext)} is not a pretext for ${bd.modality} data (${bd.name}); use one of: ${known.join(', ')}`);
  const cached = await resolveEncoder(bd, subsetData(bd.data, bd.train), pretext, opts, csvHash);
  const base = await loadEncoder(cached.dir);
  if (base.modality !== bd.modality) {
    base.dispose();
    throw new UserError(`encoder ${cached.dir} is for ${base.modality} data, ${bd.name} is ${bd.modality}`);
  }
  opts.log(`encoder: ${cached.dir} (${base.pretext}, ${cached.epochs} epochs${cached.pretrainedNow ? `, pretrained now in ${cached.pretrainSeconds?.toFixed(0)} s` : ', cached'})`);
  if (cached.plannedEpochs !== null && cached.epochs < cached.plannedEpochs) {
    opts.log(`warning: ${cached.dir} holds ${cached.epochs} of ${cached.plannedEpochs} pretraining epochs (a checkpoint of an unfinished or running pretraining); the report says so`);
  }
  return { cached, base };
}

/** Runs every task: in this process, or (jobs > 1) on worker threads that each load the data and the encoder themselves. */
async function runTasks(bd: BenchData, base: Encoder, encoderDir: string, armOpts: ArmOptions, s: ArmSettings, jobs: number, log: (line: string) => void): Promise<{ tasks: ReturnType<typeof armTasks>; done: ArmTaskResult[] }> {
  const sizes = roundSizes(armOpts.budget, armOpts.rounds);
  const tasks = armTasks(sizes);
  if (jobs > 1) {
    // Each job loads the data and embeds it itself; this process only hands out tasks.
    base.dispose();
    const jobOpts: ArmOptions = { ...armOpts, encoderDir, pretext: undefined, pretrainEpochs: undefined };
    log(`${Math.min(jobs, tasks.length)} jobs (one process thread each) share ${tasks.length} tasks: the active curve, ${sizes.length} random curve point(s), scratch, full supervision`);
    return { tasks, done: await runArmTasks(tasks, jobs, jobOpts, log) };
  }
  const arms = await prepareArms(bd, base, armOpts, s, log);
  try {
    const done: ArmTaskResult[] = [];
    for (const t of tasks) done.push(await arms.run(t));
    return { tasks, done };
  } finally {
    arms.dispose();
  }
}

/** Loads the data, checks the options against it and logs what it is. */
async function openData(opts: LabelEfficiencyOptions): Promise<BenchData> {
  const bd = await loadBenchData(opts);
  if (opts.tta && bd.modality !== 'image') throw new UserError(`--tta needs an image dataset (its test-time views are image shifts); ${bd.name} is ${bd.modality}`);
  const labelled = bd.train.filter((i) => bd.y[i] >= 0).length;
  if (opts.budget > labelled) throw new UserError(`--budget ${opts.budget} is more than the ${labelled} labelled training items`);
  return bd;
}

export async function runLabelEfficiency(opts: LabelEfficiencyOptions): Promise<LabelEfficiencyReport> {
  const t0 = performance.now();
  const { log, ...armOpts } = opts;
  const s = armSettings(armOpts);
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) throw new UserError(`--jobs expects a whole number of processes from 1 to 16, got ${opts.jobs}`);
  const bd = await openData(opts);
  const pool = bd.train.filter((i) => bd.y[i] >= 0);
  const csvHash = await csvHashOf(opts);
  log(`${bd.name}: ${bd.modality}, ${bd.train.length} training items (${pool.length} labelled), ${bd.test.length} test items, ${bd.classes.length} classes; split: ${bd.split}`);
  const { cached, base } = await openEncoder(bd, opts, csvHash);
  const encoderPretext = base.pretext;
  const ttaViews = opts.tta && base instanceof SslEncoder ? viewsFor(base).tta : null;
  const tta = ttaViews ? { count: ttaViews.count, describe: ttaViews.describe } : null;
  if (tta) log(`test-time views: ${tta.count - 1} more embeddings of every item per encoder (${tta.describe})`);
  const { tasks, done } = await runTasks(bd, base, cached.dir, armOpts, s, jobs, log);
  const arms = gatherArms(tasks, done);
  const svgPath = opts.svgPath ?? opts.reportPath.replace(/\.json$/i, '') + '.svg';
  const facts = { opts: armOpts, s, bd, encoder: { ...cached, pretext: encoderPretext }, tta, sizes: roundSizes(opts.budget, opts.rounds), jobs: Math.min(jobs, tasks.length), full: fullSchedule(armOpts, pool.length, s.epochs), svgPath, seconds: (performance.now() - t0) / 1000 };
  const report = buildReport(facts, arms);
  await mkdir(dirname(svgPath), { recursive: true });
  await writeFile(svgPath, learningCurveSvg(curveChart(report, arms)));
  await mkdir(dirname(opts.reportPath), { recursive: true });
  await writeFile(opts.reportPath, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** What `tessera bench label-efficiency` loads (src/cli/commands/bench.ts). */
export const labelEfficiencyBench: LabelEfficiencyBench = { runLabelEfficiency };
