// bench/label-efficiency: `tessera bench label-efficiency` over several shared datasets and
// seeds, one summary table (mean over seeds) — SSL + active learning vs SSL + random labels vs
// training from scratch vs every label. Each (dataset, seed) run writes its own JSON report and
// learning-curve SVG under bench/out/. Encoders are cached in bench/.cache/encoders/ (pretrained
// once per dataset, pretext, epochs and seed).
// Usage: npx tsx bench/label-efficiency.ts [--only digits,sms-spam] [--budget 100] [--seeds 0,1,2]
//        [--strategy badge] [--rounds 4] [--fixmatch [final]] [--fixmatch-mu 7] [--fixmatch-tau 0.95] [--noisy-student] [--refit] [--ensemble [K]] [--ensemble-scratch] [--keep best] [--select-with model] [--method auto|linear|fine-tune] [--prior-shift] [--tta] [--min-steps 1200] [--encoder DIR | --pretext P] [--pretrain-epochs E] [--epochs 30] [--full-epochs E] [--jobs N]
// --noisy-student compares noisy-student self-training (src/train/noisy-student.ts) with plain
// training in every budget arm's final training: the kept model and the teacher's test accuracy
// are both reported. --encoder DIR uses a saved encoder instead of the cache.
// --record: per dataset, a record under bench/results/label-efficiency/ and a line in
// bench/results/test-evaluations.jsonl (bench/results/record-label-efficiency.ts; then `npm run results`).
import { resolve } from 'node:path';
import { activeLearningVerdict } from '../src/loop/economics.ts';
import { ARMS, BENCH_DATASETS, FASHION_MNIST_DIR, reportSuffix, runLabelEfficiency, type LabelEfficiencyReport } from '../src/train/label-efficiency.ts';
import { lap, recordLabelEfficiency } from './results/record-label-efficiency.ts';
import { nonDefaultFlags, startRun } from './results/records.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const only = arg('--only', 'digits,sms-spam').split(',').filter(Boolean);
const budget = Number(arg('--budget', '100'));
const seeds = arg('--seeds', '0').split(',').map(Number);
const strategy = arg('--strategy', 'badge');
const rounds = Number(arg('--rounds', '4'));
// --fixmatch: every fine-tuning run; --fixmatch final: only each budget arm's final training.
const fixmatch: boolean | 'final' = process.argv.includes('--fixmatch') ? (arg('--fixmatch', '') === 'final' ? 'final' : true) : false;
// FixMatch's μ and τ where not the paper's 7 and 0.95 (runLabelEfficiency checks them).
const fixmatchSettings = {
  mu: process.argv.includes('--fixmatch-mu') ? Number(arg('--fixmatch-mu', '')) : undefined,
  tau: process.argv.includes('--fixmatch-tau') ? Number(arg('--fixmatch-tau', '')) : undefined,
};
const noisyStudent = process.argv.includes('--noisy-student');
// --refit: every fine-tuned winner trained again on all its labels (validation items too).
const refit = process.argv.includes('--refit');
// --ensemble [K]: the averaged linear head + K fine-tuned models (default 1) competes on validation too.
const ensemble = !process.argv.includes('--ensemble') ? 0 : /^\d+$/.test(arg('--ensemble', '')) ? Number(arg('--ensemble', '')) : 1;
// --ensemble-scratch: the SSL arms' ensemble also averages a network fine-tuned from random init on the same labels.
const ensembleScratch = process.argv.includes('--ensemble-scratch');
// --keep best: early stopping, best-validation weights (default final: the last weights).
const keep = arg('--keep', 'final') as 'best' | 'final';
// --select-with model: uncertainty from the previous round's trained classifier (default head: a linear head on frozen embeddings).
const selectWith = arg('--select-with', 'head') as 'head' | 'model';
// --method linear|fine-tune: every arm trains that classifier only (default auto: the better on validation).
const train = arg('--method', 'auto') as 'auto' | 'linear' | 'fine-tune';
// --prior-shift: every classifier moved to the class prior EM estimates on the unlabelled items.
const priorShift = process.argv.includes('--prior-shift');
// --tta: every model predicts with its logits averaged over the image and its one-pixel shifts (linear heads: over their embeddings, which they also train on).
const tta = process.argv.includes('--tta');
const minSteps = process.argv.includes('--min-steps') ? Number(arg('--min-steps', '1000')) : undefined;
const encoderDir = process.argv.includes('--encoder') ? resolve(arg('--encoder', '')) : undefined;
const pretext = process.argv.includes('--pretext') ? arg('--pretext', '') : undefined;
const pretrainEpochs = process.argv.includes('--pretrain-epochs') ? Number(arg('--pretrain-epochs', '8')) : undefined;
const epochs = process.argv.includes('--epochs') ? Number(arg('--epochs', '30')) : undefined;
const fullEpochs = process.argv.includes('--full-epochs') ? Number(arg('--full-epochs', '5')) : undefined;
// --jobs N: worker threads share each run's arms (one core each; the same numbers as one job).
const jobs = process.argv.includes('--jobs') ? Number(arg('--jobs', '2')) : undefined;
const root = resolve(import.meta.dirname, '..');
// Provenance (commit, dirty, load) is taken before any work.
const recordStart = process.argv.includes('--record') ? startRun() : null;

console.log(`bench/label-efficiency — budget ${budget}, ${strategy} after a TypiClust cold start, ${rounds} rounds, seeds ${seeds.join(',')}${fixmatch ? `, FixMatch${fixmatch === 'final' ? ' (final trainings)' : ''}${fixmatchSettings.mu !== undefined ? ` μ ${fixmatchSettings.mu}` : ''}${fixmatchSettings.tau !== undefined ? ` τ ${fixmatchSettings.tau}` : ''}` : ''}${noisyStudent ? ', noisy student' : ''}${refit ? ', refit on every label' : ''}${ensemble ? `, ensemble candidate (head + ${ensemble} fine-tuned${ensembleScratch ? ' + 1 from random init' : ''})` : ''}${keep === 'best' ? ', best-validation weights kept' : ''}${selectWith === 'model' ? ", uncertainty from the previous round's classifier" : ''}${train !== 'auto' ? `, ${train} only` : ''}${priorShift ? ', prior shifted by EM' : ''}${tta ? ', test-time augmentation' : ''}${minSteps !== undefined ? `, at least ${minSteps} fine-tuning steps` : ''}; node ${process.version}`);
for (const name of only) {
  if (!BENCH_DATASETS[name]) throw new Error(`unknown dataset ${name}; known: ${Object.keys(BENCH_DATASETS).join(', ')}`);
  const reports: LabelEfficiencyReport[] = [];
  const datasetStart = recordStart && lap(recordStart);
  for (const seed of seeds) {
    reports.push(
      await runLabelEfficiency({
        dataset: name,
        budget,
        strategy,
        seed,
        rounds,
        fixmatch,
        fixmatchSettings,
        noisyStudent,
        refit,
        ensemble,
        ensembleScratch,
        keep,
        selectWith,
        train,
        priorShift,
        tta,
        minSteps,
        encoderDir,
        pretext,
        pretrainEpochs,
        epochs,
        fullEpochs,
        jobs,
        cacheDir: resolve(root, 'bench/.cache/encoders'),
        datasetsDir: resolve(root, '../shared/datasets'),
        fashionDir: FASHION_MNIST_DIR,
        reportPath: resolve(root, `bench/out/label-efficiency-${name}-b${budget}-${strategy}-s${seed}${reportSuffix({ fixmatch, fixmatchSettings, noisyStudent, refit, ensemble, ensembleScratch, keep, pretext, selectWith, train, priorShift, tta })}.json`),
        log: (l) => process.stderr.write(`[${name} s${seed}] ${l}\n`),
      }),
    );
  }
  const mean = (f: (r: LabelEfficiencyReport) => number) => reports.reduce((a, r) => a + f(r), 0) / reports.length;
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(7);
  for (const r of reports) console.log(`${name.padEnd(14)} seed ${r.seed}: ${activeLearningVerdict(r.labelsTo95pct.active, r.labelsTo95pct.random, budget).summary}`);
  if (noisyStudent) {
    for (const r of reports) {
      const arms = r.details.arms as Record<string, { noisyStudent?: { testTeacher: number | null; testKept: number; studentWon: boolean; pseudoLabels: number; pseudoLabelAccuracy: number | null } }>;
      const parts = ['ssl_active', 'ssl_random', 'scratch_random'].map((a) => {
        const ns = arms[a]?.noisyStudent;
        return ns ? `${a} ${ns.testTeacher === null ? '–' : pct(ns.testTeacher).trim()} → ${pct(ns.testKept).trim()} (${ns.studentWon ? 'student' : 'teacher'} kept; ${ns.pseudoLabels} pseudo-labels${ns.pseudoLabelAccuracy === null ? '' : `, ${pct(ns.pseudoLabelAccuracy).trim()} right`})` : `${a} –`;
      });
      console.log(`${name.padEnd(14)} seed ${r.seed} noisy student (test accuracy without → with): ${parts.join(' | ')}`);
    }
  }
  console.log(`${name.padEnd(14)} ` + ARMS.map((a) => `${a} ${pct(mean((r) => r.results[a].accuracy))}`).join(' | ') + ` | labels→95%: active ${reports.map((r) => r.labelsTo95pct.active ?? '–').join('/')}, random ${reports.map((r) => r.labelsTo95pct.random ?? '–').join('/')} (${mean((r) => r.seconds).toFixed(0)} s/run)`);
  if (datasetStart) {
    // Everything runLabelEfficiency was given that decides the figures (not seeds, paths, jobs, logger).
    const options = { budget, strategy, rounds, fixmatch, fixmatchSettings, noisyStudent, refit, ensemble, ensembleScratch, keep, selectWith, train, priorShift, tta, minSteps, encoderDir, pretext, pretrainEpochs, epochs, fullEpochs };
    const flags = nonDefaultFlags(process.argv.slice(2), { omit: ['--only', '--budget', '--seeds', '--record'], defaults: { '--strategy': 'badge', '--rounds': '4', '--keep': 'final', '--select-with': 'head', '--method': 'auto' } });
    const rec = recordLabelEfficiency(datasetStart, { dataset: name, budget, flags, options, reports });
    console.log(`${name.padEnd(14)} record ${rec.path}; test evaluation logged (config ${rec.configHash.slice(0, 12)})`);
    if (rec.earlier > 0) console.log(`${name.padEnd(14)} warning: this configuration had been scored on ${name}'s test split ${rec.earlier} time(s) before`);
  }
}
