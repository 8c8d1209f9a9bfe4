/**
 * Label-efficiency records (bench/label-efficiency): one per (dataset, budget, flags) run over
 * several seeds. The record keeps the issue's fields — dataset, budget, seeds, flags, command,
 * commit, machine, seconds, results, curves — plus kind and dirty. `results.runs` holds, per
 * seed in the order of `seeds`, that seed's report figures as the bench JSON has them (seed,
 * seconds, results per arm, labelsTo95pct); runs and arms may carry more fields than these.
 */
import { Type, type Static } from '@sinclair/typebox';
import { activeLearningVerdict } from '../../../src/loop/economics.ts';
import { duration, recordLink, shareWithInterval, table } from '../format.ts';
import { mean } from '../stats.ts';
import { recordSchema, type CommonRecord, type Entry, type KindSpec, type ReadmeRow, type RenderContext } from '../schema.ts';

/** The arm the product claims for, and the arms that are ceilings rather than baselines. */
export const HEADLINE_ARM = 'ssl_active';
const CEILING_ARMS = ['full_supervised'];
/** Column order; arms a record has beyond these follow alphabetically. */
const ARM_ORDER = ['ssl_active', 'ssl_random', 'scratch_random', 'raw_random', 'full_supervised'];

const Share = Type.Number({ minimum: 0, maximum: 1 });
const ArmFigures = Type.Object({ accuracy: Share, macroF1: Share });
const Run = Type.Object({
  seed: Type.Integer(),
  seconds: Type.Number({ minimum: 0 }),
  results: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]*$' }), ArmFigures),
  labelsTo95pct: Type.Object({ active: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]), random: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]) }),
});
const CurvePoint = Type.Object({ labels: Type.Integer({ minimum: 0 }), accuracy: Share });
const SeedCurves = Type.Object({ seed: Type.Integer(), arms: Type.Record(Type.String(), Type.Array(CurvePoint)) }, { additionalProperties: false });

export const LabelEfficiencyRecord = recordSchema(
  'label-efficiency',
  { dataset: Type.String({ minLength: 1 }), budget: Type.Integer({ minimum: 1 }), curves: Type.Array(SeedCurves) },
  Type.Object({ runs: Type.Array(Run, { minItems: 1 }) }, { additionalProperties: false }),
);
export type LabelEfficiencyRecord = Static<typeof LabelEfficiencyRecord> & CommonRecord;

const armsOf = (r: LabelEfficiencyRecord) => Object.keys(r.results.runs[0].results);
const ordered = (arms: Iterable<string>) => [...new Set(arms)].sort((a, b) => (ARM_ORDER.indexOf(a) + 1 || 99) - (ARM_ORDER.indexOf(b) + 1 || 99) || (a < b ? -1 : 1));
const accuracies = (r: LabelEfficiencyRecord, arm: string) => r.results.runs.map((run) => run.results[arm].accuracy);

/** The baseline arm with the best mean accuracy (neither the headline nor a ceiling). */
export function strongestBaseline(r: LabelEfficiencyRecord): string | null {
  const baselines = ordered(armsOf(r)).filter((a) => a !== HEADLINE_ARM && !CEILING_ARMS.includes(a));
  let best: string | null = null;
  for (const a of baselines) if (best === null || mean(accuracies(r, a)) > mean(accuracies(r, best))) best = a;
  return best;
}

/** The active-learning verdict per seed (src/loop/economics.ts), counted: "helped (3 of 3 seeds)". */
export function verdictSummary(r: LabelEfficiencyRecord): string {
  const counts = new Map<string, number>();
  for (const run of r.results.runs) {
    const v = activeLearningVerdict(run.labelsTo95pct.active, run.labelsTo95pct.random, r.budget).verdict;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const n = r.results.runs.length;
  if (counts.size === 1) return `${[...counts.keys()][0]} (${n === 1 ? '1 seed' : `${n} of ${n} seeds`})`;
  return `${[...counts].map(([v, c]) => `${v} ${c}`).join(', ')} (of ${n} seeds)`;
}

const labelsTo95 = (r: LabelEfficiencyRecord) => {
  const list = (k: 'active' | 'random') => r.results.runs.map((run) => (run.labelsTo95pct[k] === null ? '–' : String(Math.round(run.labelsTo95pct[k]!)))).join(' / ');
  return `active ${list('active')}; random ${list('random')}`;
};

function check(r: LabelEfficiencyRecord): string | null {
  const { runs } = r.results;
  if (runs.length !== r.seeds.length) return `field results.runs: ${runs.length} run(s) for ${r.seeds.length} seed(s); one run per seed expected`;
  for (let i = 0; i < runs.length; i++) if (runs[i].seed !== r.seeds[i]) return `field results.runs[${i}].seed: expected ${r.seeds[i]} (seeds[${i}]), got ${runs[i].seed}`;
  const arms = ordered(armsOf(r)).join(',');
  for (let i = 1; i < runs.length; i++) {
    if (ordered(Object.keys(runs[i].results)).join(',') !== arms) return `field results.runs[${i}].results: arms ${ordered(Object.keys(runs[i].results)).join(', ')} differ from results.runs[0]'s (${arms.replace(/,/g, ', ')})`;
  }
  if (!armsOf(r).includes(HEADLINE_ARM)) return `field results.runs[0].results: no ${HEADLINE_ARM} arm (the headline)`;
  if (r.curves.length !== r.seeds.length) return `field curves: ${r.curves.length} entr(ies) for ${r.seeds.length} seed(s); one per seed expected`;
  for (let i = 0; i < r.curves.length; i++) if (r.curves[i].seed !== r.seeds[i]) return `field curves[${i}].seed: expected ${r.seeds[i]} (seeds[${i}]), got ${r.curves[i].seed}`;
  return null;
}

const flagText = (flags: readonly string[]) => (flags.length ? flags.map((f) => `\`${f}\``).join(' ') : 'defaults');

function section(entries: Entry<LabelEfficiencyRecord>[], ctx: RenderContext): string[] {
  const out = [
    'Test accuracy of each arm at the label budget: the mean over seeds with its 95% t-interval over seeds',
    '(Student\'s t, n − 1 degrees of freedom; one seed has no interval). labels → 95%: the labels each',
    "learning curve needed to reach 95% of full supervision's accuracy, per seed (– = not within the",
    'budget); the active-learning verdict is `activeLearningVerdict` (src/loop/economics.ts) per seed.',
    '',
  ];
  const sorted = [...entries].sort((a, b) => (a.record.dataset < b.record.dataset ? -1 : a.record.dataset > b.record.dataset ? 1 : a.record.budget - b.record.budget || (a.file < b.file ? -1 : 1)));
  if (sorted.length === 0) out.push('No label-efficiency record yet.', '');
  else {
    const arms = ordered(sorted.flatMap((e) => armsOf(e.record)));
    out.push(
      ...table(
        ['dataset', 'budget', 'flags', ...arms.map((a) => `\`${a}\``), 'labels → 95%', 'active learning', 'seeds', 'wall time', 'record'],
        sorted.map(({ file, record: r }) => [
          r.dataset,
          String(r.budget),
          flagText(r.flags),
          ...arms.map((a) => (armsOf(r).includes(a) ? shareWithInterval(accuracies(r, a)) : '–')),
          labelsTo95(r),
          verdictSummary(r),
          r.seeds.join(', '),
          duration(r.seconds),
          recordLink(file),
        ]),
      ),
      '',
    );
  }
  const datasets = [...new Set([...sorted.map((e) => e.record.dataset), ...ctx.testCounts.keys()])].sort();
  out.push('Test-set use, from `test-evaluations.jsonl` (every test-set evaluation a benchmark logged): configurations');
  out.push('are distinct configuration hashes (every setting that affects the result, seeds excluded).', '');
  if (datasets.length === 0) out.push('No test-set evaluation logged yet.', '');
  else {
    out.push(
      ...table(
        ['dataset', 'configurations scored on test', 'test-set evaluations', 'reported here'],
        datasets.map((d) => {
          const c = ctx.testCounts.get(d);
          return [d, String(c?.configurations ?? 0), String(c?.evaluations ?? 0), String(sorted.filter((e) => e.record.dataset === d).length)];
        }),
      ),
      '',
    );
  }
  return out;
}

/** README: one row per dataset — the default-flag record with the most seeds (then the largest budget). */
function readme(entries: Entry<LabelEfficiencyRecord>[]): ReadmeRow[] {
  const byDataset = new Map<string, Entry<LabelEfficiencyRecord>[]>();
  for (const e of entries) byDataset.set(e.record.dataset, [...(byDataset.get(e.record.dataset) ?? []), e]);
  return [...byDataset.keys()].sort().map((d) => {
    const pick = [...byDataset.get(d)!].sort((a, b) => a.record.flags.length - b.record.flags.length || b.record.seeds.length - a.record.seeds.length || b.record.budget - a.record.budget || (a.file < b.file ? 1 : -1))[0].record;
    const base = strongestBaseline(pick);
    return {
      bench: `label efficiency, budget ${pick.budget}${pick.flags.length ? ` (${pick.flags.join(' ')})` : ''}`,
      data: d,
      headline: `\`${HEADLINE_ARM}\` ${shareWithInterval(accuracies(pick, HEADLINE_ARM))}`,
      beside: base ? `strongest baseline \`${base}\` ${shareWithInterval(accuracies(pick, base))}` : '–',
      seeds: String(pick.seeds.length),
    };
  });
}

export const labelEfficiency: KindSpec<LabelEfficiencyRecord> = {
  kind: 'label-efficiency',
  title: 'Label efficiency',
  schema: LabelEfficiencyRecord,
  check,
  stem: (r) => `${r.dataset}-b${r.budget}${r.flags.length ? `-${r.flags.join('-').replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-+|-+$/g, '')}` : ''}`,
  section,
  readme,
};
