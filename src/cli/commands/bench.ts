import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UserError } from '../../core/errors.ts';
import { FIXMATCH_DEFAULTS, type FixMatchOptions } from '../../train/fixmatch.ts';
import type { TrainMethod } from '../../train/train-classifier.ts';
import { act, makeOut, parseIntOption, parseNumberOption } from '../context.ts';
import { ARMS, BENCH_DATASET_NAMES, FASHION_MNIST_DIR, type LabelEfficiencyBench, type LabelEfficiencyOptions, type LabelEfficiencyReport } from '../label-efficiency-contract.ts';

/** The checkout's root (this file is src/cli/commands/bench.ts). */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * The benchmark is not part of the product: it lives in bench/label-efficiency/ and src/ never
 * imports bench/. So the command loads it when it runs, by a path computed from the checkout's
 * root (bin/tessera.js registers tsx, so the .ts module loads as the rest of src does), and
 * holds it to src/cli/label-efficiency-contract.ts, which the module's export is typed against.
 */
async function loadLabelEfficiencyBench(): Promise<LabelEfficiencyBench> {
  const file = join(ROOT, 'bench', 'label-efficiency', 'index.ts');
  if (!existsSync(file)) throw new UserError(`the label-efficiency benchmark is not in this installation (no ${file}); run it from a checkout`);
  const mod = (await import(pathToFileURL(file).href)) as { labelEfficiencyBench: LabelEfficiencyBench };
  return mod.labelEfficiencyBench;
}

/** Flags that decide how a run trains and where it finds its data (shared with bench/label-efficiency.ts). */
export interface LabelEfficiencyRunFlags {
  strategy: string;
  rounds: number;
  fixmatch?: boolean | 'all' | 'final';
  fixmatchMu?: number;
  fixmatchTau?: number;
  noisyStudent?: boolean;
  refit?: boolean;
  ensemble?: true | number;
  ensembleScratch?: boolean;
  keep?: 'best' | 'final';
  selectWith?: 'head' | 'model';
  method?: TrainMethod;
  priorShift?: boolean;
  tta?: boolean;
  minSteps?: number;
  encoder?: string;
  pretext?: string;
  pretrainEpochs?: number;
  epochs?: number;
  fullEpochs?: number;
  jobs?: number;
  sslEncoderLr?: number;
  cacheDir?: string;
  datasets?: string;
}

/** Every flag of `tessera bench label-efficiency`. */
export interface LabelEfficiencyFlags extends LabelEfficiencyRunFlags {
  dataset?: string;
  train?: string;
  test?: string;
  textColumn?: string;
  labelColumn?: string;
  budget: number;
  seed: number;
  report?: string;
  svg?: string;
  json?: boolean;
}

const positive = (name: string) => (v: string) => {
  const n = parseIntOption(name)(v);
  if (n < 1) throw new UserError(`${name} expects a whole number ≥ 1, got "${v}"`);
  return n;
};

/** `--ensemble` alone means one fine-tuned model beside the head. */
const ensembleOf = (v: true | number | undefined): number | undefined => (v === true ? 1 : v);

/** --fixmatch [all|final] as the benchmark's setting. */
const fixmatchOf = (v: LabelEfficiencyRunFlags['fixmatch']): boolean | 'final' => (v === 'final' ? 'final' : Boolean(v));

/**
 * The run flags (LabelEfficiencyRunFlags), added to `cmd`: the command's and the multi-dataset
 * script's (bench/label-efficiency.ts), which parses its flags with this same definition.
 */
export function addLabelEfficiencyRunOptions(cmd: Command): Command {
  return (
    cmd
      .option('--strategy <s>', 'active-learning strategy after the TypiClust cold start: badge|margin|entropy|least-confidence|k-center|random', 'badge')
      .option('--rounds <n>', 'selection rounds = points on the learning curve', positive('--rounds'), 4)
      .option('--fixmatch [when]', "FixMatch on the unlabelled training items (τ 0.95, μ 7, λu 1) in every fine-tuning run (all, the default) or only in each budget arm's final training (final)", (v: string) => {
        if (v !== 'all' && v !== 'final') throw new UserError(`--fixmatch expects all or final, got "${v}"`);
        return v;
      })
      // Ranges are checked by the benchmark (fixmatch.ts resolveFixMatch).
      .option('--fixmatch-mu <μ>', 'with --fixmatch: unlabelled batch = μ × the labelled batch (default 7; a smaller μ makes a step cheaper)', parseNumberOption('--fixmatch-mu'))
      .option('--fixmatch-tau <τ>', 'with --fixmatch: confidence a pseudo-label needs (default 0.95)', parseNumberOption('--fixmatch-tau'))
      .option('--noisy-student', "noisy-student self-training in each budget arm's final training, kept only when it validates better")
      .option('--refit', 'train every fine-tuned winner again on all its labels, its validation items too, replaying its learning-rate schedule to the validated step (not with --noisy-student)')
      .option('--ensemble [models]', 'let the average of the probabilities of the linear head and this many fine-tuned models (default 1; at most 8) compete on the validation split too, kept only when it validates strictly better than both (with --method auto; not with --noisy-student)', positive('--ensemble'))
      .option('--ensemble-scratch', "with --ensemble: in the SSL arms the ensemble also averages a network fine-tuned from random initialisation (scratch_random's encoder) on the same labels, head, SSL networks and it weighing a third each")
      // --keep, --select-with and --method are checked by the benchmark (bench/label-efficiency/settings.ts).
      .option('--keep <weights>', 'which weights every fine-tuning run keeps: final (the whole schedule, last weights; the default) or best (early stopping on the validation split, best weights restored)')
      .option('--select-with <probs>', "whose probabilities the uncertainty strategies read after round 0: head (a linear head on the frozen SSL embeddings; the default) or model (the classifier the previous round trained, calibrated)")
      // `--train` is the generic mode's training CSV, so the classifier choice is `--method`.
      .option('--method <m>', "every arm's classifier: linear | fine-tune | auto (the better of the two on the validation split; the default)")
      .option('--prior-shift', "move every classifier's probabilities from its labels' class prior to the prior EM estimates on the unlabelled training items (Saerens et al. 2002): active selection skews the labels' class mix (not with --noisy-student)")
      .option('--tta', 'test-time augmentation: every model predicts (on validation too) with its logits averaged over the image and its one-pixel shifts — the networks over the shifted images, the linear heads over their frozen embeddings, which they also train on (image datasets)')
      .option('--min-steps <n>', 'every fine-tuning run at least this many optimiser steps (default 40 × --epochs; with --keep best, early stopping may not end it sooner)', parseIntOption('--min-steps'))
      .option('--encoder <dir>', 'use this saved SSL encoder instead of the cache')
      .option('--pretext <name>', "pretext to pretrain the SSL encoder with (default: the modality's: mlm, simclr, audio-contrastive, vime); cached per pretext; not with --encoder")
      .option('--pretrain-epochs <n>', "pretraining epochs (default: a cached encoder of this dataset, else the dataset's default)", positive('--pretrain-epochs'))
      .option('--epochs <n>', 'fine-tuning epochs per arm (default 30; a run is at least --min-steps long; with --keep best early stopping may end it sooner)', positive('--epochs'))
      .option('--full-epochs <n>', 'fine-tuning epochs for full_supervised (default: as many as fit in ~600 steps, at most --epochs)', positive('--full-epochs'))
      // The 0–10 range is checked by the benchmark.
      .option('--ssl-encoder-lr <ratio>', "SSL arms' encoder learning rate as a fraction of the head's (default 0.1; scratch uses 1)", parseNumberOption('--ssl-encoder-lr'))
      .option('--jobs <n>', "worker threads sharing the arms' tasks (default 1; one core each): the same numbers as one job, in about the longest job's time", positive('--jobs'))
      .option('--cache-dir <dir>', 'encoder cache (default bench/.cache/encoders)')
      .option('--datasets <dir>', 'the shared datasets folder (default ../shared/datasets beside the checkout)')
  );
}

/** The default report file name's variant suffix: every non-default setting named, defaults add nothing. */
export function reportSuffix(o: { fixmatch: boolean | 'final'; fixmatchSettings?: FixMatchOptions; noisyStudent?: boolean; refit?: boolean; ensemble?: number; ensembleScratch?: boolean; keep?: 'best' | 'final'; pretext?: string; selectWith?: 'head' | 'model'; train?: TrainMethod; priorShift?: boolean; tta?: boolean }): string {
  const fm = o.fixmatchSettings ?? {};
  const fmSettings = `${fm.mu !== undefined && fm.mu !== FIXMATCH_DEFAULTS.mu ? `-mu${fm.mu}` : ''}${fm.tau !== undefined && fm.tau !== FIXMATCH_DEFAULTS.tau ? `-tau${fm.tau}` : ''}`;
  return `${o.pretext ? `-${o.pretext}` : ''}${o.train && o.train !== 'auto' ? `-${o.train}` : ''}${o.fixmatch ? `-fixmatch${o.fixmatch === 'final' ? '-final' : ''}${fmSettings}` : ''}${o.noisyStudent ? '-noisy-student' : ''}${o.refit ? '-refit' : ''}${o.ensemble ? `-ensemble${o.ensemble > 1 ? o.ensemble : ''}${o.ensembleScratch ? '-scratch' : ''}` : ''}${o.keep === 'best' ? '-keep-best' : ''}${o.selectWith === 'model' ? '-select-model' : ''}${o.priorShift ? '-prior-shift' : ''}${o.tta ? '-tta' : ''}`;
}

/** --dataset or the generic CSV mode's four flags, not both, not part of them. */
function checkSource(f: LabelEfficiencyFlags): void {
  const generic = [f.train, f.test, f.textColumn, f.labelColumn];
  if (f.dataset !== undefined && generic.some((g) => g !== undefined)) throw new UserError('give either --dataset or --train/--test/--text-column/--label-column, not both');
  if (f.dataset === undefined) {
    const missing = (['--train', '--test', '--text-column', '--label-column'] as const).filter((_, i) => generic[i] === undefined);
    if (missing.length === 4) throw new UserError('give --dataset NAME, or --train FILE --test FILE --text-column C --label-column L');
    if (missing.length) throw new UserError(`generic CSV mode needs ${missing.join(', ')}`);
  }
}

/** The options the run flags decide, defaults filled in where the command fills them (bench/label-efficiency.ts records them). */
export function labelEfficiencyRunSettings(f: LabelEfficiencyRunFlags) {
  return {
    strategy: f.strategy,
    rounds: f.rounds,
    fixmatch: fixmatchOf(f.fixmatch),
    fixmatchSettings: { mu: f.fixmatchMu, tau: f.fixmatchTau },
    noisyStudent: Boolean(f.noisyStudent),
    refit: Boolean(f.refit),
    ensemble: ensembleOf(f.ensemble),
    ensembleScratch: Boolean(f.ensembleScratch),
    keep: f.keep,
    selectWith: f.selectWith,
    train: f.method,
    priorShift: Boolean(f.priorShift),
    tta: Boolean(f.tta),
    minSteps: f.minSteps,
    encoderDir: f.encoder && resolve(f.encoder),
    pretext: f.pretext,
    pretrainEpochs: f.pretrainEpochs,
    epochs: f.epochs,
    fullEpochs: f.fullEpochs,
    sslEncoderLrRatio: f.sslEncoderLr,
    jobs: f.jobs,
    cacheDir: resolve(f.cacheDir ?? join(ROOT, 'bench', '.cache', 'encoders')),
    datasetsDir: resolve(f.datasets ?? process.env.TESSERA_DATASETS ?? join(ROOT, '..', 'shared', 'datasets')),
    fashionDir: process.env.TESSERA_FASHION_MNIST ?? FASHION_MNIST_DIR,
  } satisfies Partial<LabelEfficiencyOptions>;
}

/** The benchmark's options from the flags (the command's, and the multi-dataset script's per dataset and seed). */
export function labelEfficiencyOptions(f: LabelEfficiencyFlags, log: (line: string) => void): LabelEfficiencyOptions {
  checkSource(f);
  const name = f.dataset ?? `csv-${(f.train ?? '').replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '')}`;
  const run = labelEfficiencyRunSettings(f);
  return {
    dataset: f.dataset,
    csv: f.dataset === undefined ? { train: f.train!, test: f.test!, textColumn: f.textColumn!, labelColumn: f.labelColumn! } : undefined,
    budget: f.budget,
    seed: f.seed,
    ...run,
    reportPath: resolve(f.report ?? join(ROOT, 'bench', 'out', `label-efficiency-${name}-b${f.budget}-${f.strategy}-s${f.seed}${reportSuffix(run)}.json`)),
    svgPath: f.svg && resolve(f.svg),
    log,
  };
}

export function registerBench(program: Command) {
  const bench = program.command('bench').description('benchmarks that report one JSON document');
  const le = bench
    .command('label-efficiency')
    .description('accuracy a label budget buys: SSL + active learning vs SSL + random labels vs training from scratch vs every label')
    .option('--dataset <name>', `a shared dataset: ${BENCH_DATASET_NAMES.join('|')}`)
    .option('--train <file>', 'generic mode: a labelled text CSV (header row) to train on')
    .option('--test <file>', 'generic mode: the labelled text CSV to test on')
    .option('--text-column <c>', 'generic mode: the text column')
    .option('--label-column <l>', 'generic mode: the label column')
    .requiredOption('--budget <n>', 'labels the budget arms may buy', positive('--budget'))
    .option('--seed <k>', 'seed (pretraining, selection, splits, training)', parseIntOption('--seed'), 0);
  addLabelEfficiencyRunOptions(le)
    .option('--report <file>', 'JSON report (default bench/out/label-efficiency-<dataset>-b<budget>-<strategy>-s<seed>.json)')
    .option('--svg <file>', 'learning-curve SVG (default: the report path with .svg)')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: LabelEfficiencyFlags) => {
        const out = makeOut(Boolean(f.json));
        const opts = labelEfficiencyOptions(f, out.log);
        const r = await (await loadLabelEfficiencyBench()).runLabelEfficiency(opts);
        out.result(r, () => human(r));
      }),
    );
}

function human(r: LabelEfficiencyReport): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const lines = [`label efficiency — ${r.dataset}, budget ${r.budget}, ${r.strategy}, seed ${r.seed} (${r.seconds.toFixed(0)} s)`, 'arm               accuracy  macro-F1'];
  for (const a of ARMS) lines.push(`${a.padEnd(16)} ${pct(r.results[a].accuracy).padStart(9)} ${pct(r.results[a].macroF1).padStart(9)}`);
  lines.push(`labels to 95% of full supervision: active ${r.labelsTo95pct.active ?? 'not reached'}, random ${r.labelsTo95pct.random ?? 'not reached'}`);
  lines.push(`report: ${String(r.details.report)}  curve: ${String(r.details.svg)}`);
  return lines.join('\n');
}
