/**
 * Consensus records (bench/consensus.ts): accuracy of every consensus method against the crowd
 * sets' truth, per seed, beside the published figures; Dawid-Skene's speed on synthetic answers.
 */
import { Type, type Static } from '@sinclair/typebox';
import { duration, fixed, meanWithInterval, recordLink, shareWithInterval, table } from '../format.ts';
import { recordSchema, type CommonRecord, type Entry, type KindSpec, type ReadmeRow } from '../schema.ts';

/** Method ids of the record and how RESULTS.md names them. */
export const CONSENSUS_METHODS: Record<string, string> = {
  mv_unresolved: 'majority vote, tie → unresolved (counts as wrong)',
  mv_random: 'majority vote, tie → random (seeded)',
  mv_first: 'majority vote, tie → first label',
  dawid_skene: 'Dawid-Skene',
  one_coin: 'one-coin Dawid-Skene',
  glad: 'GLAD',
};

/**
 * Published accuracies on these sets (1 − the published error rate), widely reproduced, e.g. Zhang,
 * Chen, Zhou & Jordan 2014, "Spectral methods meet EM", NIPS, and Li & Yu 2014: majority vote with
 * random ties (its expected accuracy) bluebirds 24.07% error, RTE 10.31%, TEMP 6.39%; Dawid-Skene
 * (EM from majority vote) bluebirds 10.19%, RTE 7.1–7.3%, TEMP 5.84%. test/consensus/ asserts the
 * same values.
 */
export const CONSENSUS_PUBLISHED: Record<string, Record<string, string>> = {
  mv_random: { bluebirds: '0.7593', RTE: '0.8969', TEMP: '0.9361' },
  dawid_skene: { bluebirds: '0.8981', RTE: '0.927–0.929', TEMP: '0.9416' },
};

const Share = Type.Number({ minimum: 0, maximum: 1 });
const PerSeed = Type.Array(Share, { minItems: 1 });
export const ConsensusRecord = recordSchema(
  'consensus',
  {},
  Type.Object(
    {
      sets: Type.Array(Type.Object({ name: Type.String({ minLength: 1 }), items: Type.Integer({ minimum: 1 }), answers: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }), { minItems: 1 }),
      /** accuracy[method][set]: one value per seed, in the order of `seeds`. */
      accuracy: Type.Record(Type.String(), Type.Record(Type.String(), PerSeed)),
      dsAtLeastMv: Type.Boolean(),
      speed: Type.Object(
        {
          answers: Type.Integer({ minimum: 1 }),
          items: Type.Integer({ minimum: 1 }),
          classes: Type.Integer({ minimum: 2 }),
          annotators: Type.Integer({ minimum: 1 }),
          runs: Type.Integer({ minimum: 1 }),
          /** Per seed (its own synthetic answers): best of `runs` timings. */
          perSeed: Type.Array(
            Type.Object(
              { seed: Type.Integer(), mvMs: Type.Number({ minimum: 0 }), dsMs: Type.Number({ minimum: 0 }), mvAccuracy: Share, dsAccuracy: Share, dsIterations: Type.Integer({ minimum: 0 }), dsConverged: Type.Boolean() },
              { additionalProperties: false },
            ),
            { minItems: 1 },
          ),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
);
export type ConsensusRecord = Static<typeof ConsensusRecord> & CommonRecord;

function check(r: ConsensusRecord): string | null {
  const sets = r.results.sets.map((s) => s.name);
  for (const m of ['dawid_skene', 'mv_random']) if (!r.results.accuracy[m]) return `field results.accuracy.${m}: missing (the README compares these two)`;
  for (const [m, bySet] of Object.entries(r.results.accuracy)) {
    if (!(m in CONSENSUS_METHODS)) return `field results.accuracy.${m}: unknown method (known: ${Object.keys(CONSENSUS_METHODS).join(', ')})`;
    for (const s of sets) if (!bySet[s]) return `field results.accuracy.${m}.${s}: missing (one array per set in results.sets)`;
    for (const [s, xs] of Object.entries(bySet)) {
      if (!sets.includes(s)) return `field results.accuracy.${m}.${s}: not a set of results.sets (${sets.join(', ')})`;
      if (xs.length !== r.seeds.length) return `field results.accuracy.${m}.${s}: ${xs.length} value(s) for ${r.seeds.length} seed(s)`;
    }
  }
  const per = r.results.speed.perSeed;
  if (per.length !== r.seeds.length || per.some((p, i) => p.seed !== r.seeds[i])) return `field results.speed.perSeed: one entry per seed in the order of seeds (${r.seeds.join(', ')}) expected, got seeds ${per.map((p) => p.seed).join(', ')}`;
  return null;
}

const acc = fixed(4);
const ms = (x: number) => `${x.toFixed(0)} ms`;

function section(entries: Entry<ConsensusRecord>[]): string[] {
  const out = [
    'Accuracy = share of the truth items whose consensus label equals the truth; mean over seeds with its 95% t-interval',
    '(only the seeded tie rule varies with the seed). "published" = 1 − the published error rate (majority vote with',
    'random ties: its expected accuracy), as in test/consensus/.',
    '',
  ];
  for (const { file, record: r } of entries) {
    const sets = r.results.sets;
    out.push(`Seeds ${r.seeds.join(', ')}; ${sets.map((s) => `${s.name} ${s.items} items, ${s.answers} answers`).join('; ')}. ${recordLink(file)}`, '');
    out.push(
      ...table(
        ['method', ...sets.flatMap((s) => [s.name, 'published'])],
        Object.keys(CONSENSUS_METHODS)
          .filter((m) => r.results.accuracy[m])
          .map((m) => [CONSENSUS_METHODS[m], ...sets.flatMap((s) => [shareWithInterval(r.results.accuracy[m][s.name], acc), CONSENSUS_PUBLISHED[m]?.[s.name] ?? '–'])]),
      ),
      '',
      `Dawid-Skene ≥ majority vote (every tie rule, every set, every seed): ${r.results.dsAtLeastMv ? 'yes' : 'NO'}.`,
      '',
    );
    const sp = r.results.speed;
    const per = sp.perSeed;
    out.push(
      `Speed on ${sp.answers.toLocaleString('en')} synthetic answers (${sp.items.toLocaleString('en')} items, ${sp.classes} classes, ${sp.annotators} annotators with class-specific confusion; one data set per seed), best of ${sp.runs} runs, wall time of the whole benchmark ${duration(r.seconds)}:`,
      '',
      ...table(
        ['method', 'time', 'accuracy on the synthetic truth'],
        [
          ['majority vote', meanWithInterval(per.map((p) => p.mvMs), ms, 0), shareWithInterval(per.map((p) => p.mvAccuracy), acc)],
          [`Dawid-Skene (${per.map((p) => `${p.dsIterations} iterations${p.dsConverged ? '' : ', not converged'}`).join('; ')})`, meanWithInterval(per.map((p) => p.dsMs), ms, 0), shareWithInterval(per.map((p) => p.dsAccuracy), acc)],
        ],
      ),
      '',
      `Goal Dawid-Skene < 5 s: ${per.every((p) => p.dsMs < 5000) ? 'met' : 'MISSED'} on every seed (slowest ${ms(Math.max(...per.map((p) => p.dsMs)))}).`,
      '',
    );
  }
  return out;
}

function readme(entries: Entry<ConsensusRecord>[]): ReadmeRow[] {
  if (entries.length === 0) return [];
  // One record is the reported one: the most seeds (a superseded record is deleted; git keeps it).
  const r = [...entries].sort((a, b) => b.record.seeds.length - a.record.seeds.length)[0].record;
  return r.results.sets.map((s) => ({
    bench: 'consensus',
    data: s.name,
    headline: `Dawid-Skene ${shareWithInterval(r.results.accuracy.dawid_skene[s.name], acc)}; published ${CONSENSUS_PUBLISHED.dawid_skene[s.name] ?? '–'}`,
    beside: `majority vote, random ties ${shareWithInterval(r.results.accuracy.mv_random[s.name], acc)}; published ${CONSENSUS_PUBLISHED.mv_random[s.name] ?? '–'}`,
    seeds: String(r.seeds.length),
  }));
}

export const consensus: KindSpec<ConsensusRecord> = {
  kind: 'consensus',
  title: 'Consensus',
  schema: ConsensusRecord,
  check,
  stem: () => 'consensus',
  section,
  readme,
};
