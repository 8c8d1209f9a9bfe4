// bench/label-efficiency: `tessera bench label-efficiency` over several shared datasets and
// seeds, one summary table (mean over seeds) — SSL + active learning vs SSL + random labels vs
// training from scratch vs every label. Each (dataset, seed) run writes its own JSON report and
// learning-curve SVG under bench/out/. Encoders are cached in bench/.cache/encoders/ (pretrained
// once per dataset, pretext, epochs and seed).
// Usage: npx tsx bench/label-efficiency.ts [--only digits,sms-spam] [--budget 100] [--seeds 0,1,2] [--record]
//        and any run flag of `tessera bench label-efficiency` (--strategy, --rounds, --fixmatch [final],
//        --noisy-student, --refit, --ensemble [K], --keep best, --method, --tta, --jobs N, …; see its --help):
//        they are parsed by the command's own definition (src/cli/commands/bench.ts), not a second parser.
// --noisy-student compares noisy-student self-training (src/train/noisy-student.ts) with plain
// training in every budget arm's final training: the kept model and the teacher's test accuracy
// are both reported. --encoder DIR uses a saved encoder instead of the cache.
// --record: per dataset, a record under bench/results/label-efficiency/ and a line in
// bench/results/test-evaluations.jsonl (bench/results/record-label-efficiency.ts; then `npm run results`).
import { Command } from 'commander';
import { activeLearningVerdict } from '../src/loop/economics.ts';
import { addLabelEfficiencyRunOptions, labelEfficiencyOptions, labelEfficiencyRunSettings, type LabelEfficiencyRunFlags } from '../src/cli/commands/bench.ts';
import { parseIntOption } from '../src/cli/context.ts';
import { ARMS, BENCH_DATASETS, runLabelEfficiency, type LabelEfficiencyReport } from './label-efficiency/index.ts';
import { lap, recordLabelEfficiency } from './results/record-label-efficiency.ts';
import { nonDefaultFlags, startRun } from './results/records.ts';

interface ScriptFlags extends LabelEfficiencyRunFlags {
  only: string[];
  budget: number;
  seeds: number[];
  record?: boolean;
}

const program = addLabelEfficiencyRunOptions(
  new Command('bench/label-efficiency')
    .option('--only <names>', 'shared datasets, comma-separated', (v: string) => v.split(',').filter(Boolean), ['digits', 'sms-spam'])
    .option('--budget <n>', 'labels the budget arms may buy', parseIntOption('--budget'), 100)
    .option('--seeds <list>', 'seeds, comma-separated', (v: string) => v.split(',').map((s) => parseIntOption('--seeds')(s)), [0])
    .option('--record', 'a record per dataset and a test-set ledger line'),
);
const f = program.parse().opts<ScriptFlags>();
const { only, budget, seeds } = f;
const run = labelEfficiencyRunSettings(f);
// The settings as recorded (their defaults spelled out, as the configuration hash has always had them).
const resolved = { ...run, ensemble: run.ensemble ?? 0, keep: run.keep ?? 'final', selectWith: run.selectWith ?? 'head', train: run.train ?? 'auto' };
const { strategy, rounds, fixmatch, fixmatchSettings, noisyStudent, refit, ensemble, ensembleScratch, keep, selectWith, train, priorShift, tta, minSteps } = resolved;
// Provenance (commit, dirty, load) is taken before any work.
const recordStart = f.record ? startRun() : null;

console.log(`bench/label-efficiency — budget ${budget}, ${strategy} after a TypiClust cold start, ${rounds} rounds, seeds ${seeds.join(',')}${fixmatch ? `, FixMatch${fixmatch === 'final' ? ' (final trainings)' : ''}${fixmatchSettings.mu !== undefined ? ` μ ${fixmatchSettings.mu}` : ''}${fixmatchSettings.tau !== undefined ? ` τ ${fixmatchSettings.tau}` : ''}` : ''}${noisyStudent ? ', noisy student' : ''}${refit ? ', refit on every label' : ''}${ensemble ? `, ensemble candidate (head + ${ensemble} fine-tuned${ensembleScratch ? ' + 1 from random init' : ''})` : ''}${keep === 'best' ? ', best-validation weights kept' : ''}${selectWith === 'model' ? ", uncertainty from the previous round's classifier" : ''}${train !== 'auto' ? `, ${train} only` : ''}${priorShift ? ', prior shifted by EM' : ''}${tta ? ', test-time augmentation' : ''}${minSteps !== undefined ? `, at least ${minSteps} fine-tuning steps` : ''}; node ${process.version}`);
for (const name of only) {
  if (!Object.hasOwn(BENCH_DATASETS, name)) throw new Error(`unknown dataset ${name}; known: ${Object.keys(BENCH_DATASETS).join(', ')}`);
  const reports: LabelEfficiencyReport[] = [];
  const datasetStart = recordStart && lap(recordStart);
  for (const seed of seeds) {
    const log = (l: string) => process.stderr.write(`[${name} s${seed}] ${l}\n`);
    reports.push(await runLabelEfficiency(labelEfficiencyOptions({ ...f, dataset: name, seed }, log)));
  }
  const mean = (g: (r: LabelEfficiencyReport) => number) => reports.reduce((a, r) => a + g(r), 0) / reports.length;
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
    // Everything the run was given that decides the figures (not seeds, paths, jobs, logger).
    const { encoderDir, pretext, pretrainEpochs, epochs, fullEpochs, sslEncoderLrRatio } = resolved;
    const options = { budget, strategy, rounds, fixmatch, fixmatchSettings, noisyStudent, refit, ensemble, ensembleScratch, keep, selectWith, train, priorShift, tta, minSteps, encoderDir, pretext, pretrainEpochs, epochs, fullEpochs, sslEncoderLrRatio };
    const flags = nonDefaultFlags(process.argv.slice(2), { omit: ['--only', '--budget', '--seeds', '--record'], defaults: { '--strategy': 'badge', '--rounds': '4', '--keep': 'final', '--select-with': 'head', '--method': 'auto' } });
    const rec = recordLabelEfficiency(datasetStart, { dataset: name, budget, flags, options, reports });
    console.log(`${name.padEnd(14)} record ${rec.path}; test evaluation logged (config ${rec.configHash.slice(0, 12)})`);
    if (rec.earlier > 0) console.log(`${name.padEnd(14)} warning: this configuration had been scored on ${name}'s test split ${rec.earlier} time(s) before`);
  }
}
