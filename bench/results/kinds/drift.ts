/**
 * Drift records (bench/drift-failing-loudly.ts): the share of runs each drift test flagged, per
 * shift — false alarms without shift, power under it — and one MMD test's time at 10,000 × 128.
 * A rate's interval is Wilson's over the runs (pooled over seeds): the runs, not the seeds, are
 * the repetitions here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { duration, fixed, recordLink, table } from '../format.ts';
import { wilsonInterval } from '../stats.ts';
import { recordSchema, type CommonRecord, type Entry, type KindSpec, type ReadmeRow } from '../schema.ts';

export const DriftRecord = recordSchema(
  'drift',
  { dataset: Type.String({ minLength: 1 }) },
  Type.Object(
    {
      representation: Type.String({ minLength: 1 }),
      n: Type.Integer({ minimum: 1 }),
      alpha: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
      tests: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      shifts: Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            /** Runs per seed. */
            runs: Type.Integer({ minimum: 1 }),
            /** flagged[test]: runs flagged, one count per seed in the order of `seeds`. */
            flagged: Type.Record(Type.String(), Type.Array(Type.Integer({ minimum: 0 }))),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
      mmdSpeed: Type.Object(
        { rows: Type.Integer({ minimum: 1 }), dim: Type.Integer({ minimum: 1 }), permutations: Type.Integer({ minimum: 1 }), method: Type.String(), seconds: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1 }), pValue: Type.Number({ minimum: 0, maximum: 1 }) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
);
export type DriftRecord = Static<typeof DriftRecord> & CommonRecord;

const NO_SHIFT = 'no shift';

function check(r: DriftRecord): string | null {
  const { tests, shifts } = r.results;
  for (let i = 0; i < shifts.length; i++) {
    const s = shifts[i];
    for (const t of tests) {
      const f = s.flagged[t];
      if (!f) return `field results.shifts[${i}].flagged.${t}: missing (one count per test in results.tests)`;
      if (f.length !== r.seeds.length) return `field results.shifts[${i}].flagged.${t}: ${f.length} count(s) for ${r.seeds.length} seed(s)`;
      const over = f.findIndex((k) => k > s.runs);
      if (over >= 0) return `field results.shifts[${i}].flagged.${t}[${over}]: ${f[over]} flagged of ${s.runs} runs`;
    }
    for (const t of Object.keys(s.flagged)) if (!tests.includes(t)) return `field results.shifts[${i}].flagged.${t}: not a test of results.tests (${tests.join(', ')})`;
  }
  if (!shifts.some((s) => s.name === NO_SHIFT)) return `field results.shifts: no "${NO_SHIFT}" entry (the false-alarm rate)`;
  return null;
}

const rate = fixed(3);
function rateCell(flagged: number[], runs: number): string {
  const k = flagged.reduce((a, x) => a + x, 0);
  const n = runs * flagged.length;
  const [lo, hi] = wilsonInterval(k, n);
  return `${rate(k / n)} [${rate(lo)}, ${rate(hi)}]`;
}

function section(entries: Entry<DriftRecord>[]): string[] {
  const out = [
    'Share of runs each test flagged at level α: without shift the false-alarm rate (should be ≤ α), under a shift the',
    "power; in brackets Wilson's 95% interval over the runs (pooled over seeds).",
    '',
  ];
  for (const { file, record: r } of entries) {
    const res = r.results;
    out.push(`${r.dataset}; ${res.representation}; n ${res.n} vs ${res.n}; α ${res.alpha}; seed${r.seeds.length > 1 ? 's' : ''} ${r.seeds.join(', ')}; wall time ${duration(r.seconds)}. ${recordLink(file)}`, '');
    out.push(...table(['shift', 'runs', ...res.tests], res.shifts.map((s) => [s.name, String(s.runs * r.seeds.length), ...res.tests.map((t) => rateCell(s.flagged[t], s.runs))])), '');
    const sp = res.mmdSpeed;
    const sorted = [...sp.seconds].sort((a, b) => a - b);
    out.push(
      `One MMD test, ${sp.rows.toLocaleString('en')} × ${sp.dim} vs ${sp.rows.toLocaleString('en')} × ${sp.dim}, ${sp.permutations} permutations (${sp.method}): best of ${sp.seconds.length} ${sorted[0].toFixed(2)} s, median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s (goal < 10 s: ${sorted[0] < 10 ? 'met' : 'MISSED'}, at the load in the record); p = ${sp.pValue.toFixed(3)} for a 0.1σ mean shift in one dimension.`,
      '',
    );
  }
  return out;
}

function readme(entries: Entry<DriftRecord>[]): ReadmeRow[] {
  return entries.map(({ record: r }) => {
    const res = r.results;
    const none = res.shifts.find((s) => s.name === NO_SHIFT)!;
    const shifted = res.shifts.filter((s) => s.name !== NO_SHIFT);
    const minPower = (t: string) => Math.min(...shifted.map((s) => s.flagged[t].reduce((a, x) => a + x, 0) / (s.runs * r.seeds.length)));
    const maxPower = (t: string) => Math.max(...shifted.map((s) => s.flagged[t].reduce((a, x) => a + x, 0) / (s.runs * r.seeds.length)));
    return {
      bench: 'drift (Failing Loudly protocol)',
      data: `${r.dataset}, ${res.representation.split(',')[0]}`,
      headline: `false alarms at α ${res.alpha}: ${res.tests.map((t) => `${t} ${rateCell(none.flagged[t], none.runs)}`).join(', ')}`,
      beside: `power, lowest–highest over ${shifted.length} shifts: ${res.tests.map((t) => `${t} ${rate(minPower(t))}–${rate(maxPower(t))}`).join(', ')}`,
      seeds: String(r.seeds.length),
    };
  });
}

export const drift: KindSpec<DriftRecord> = {
  kind: 'drift',
  title: 'Drift tests',
  schema: DriftRecord,
  check,
  stem: (r) => `${r.dataset}-n${r.results.n}`,
  section,
  readme,
};
