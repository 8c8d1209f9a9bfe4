/**
 * The label-efficiency bench's hook for records: after a dataset's seeds have run, one record
 * under bench/results/label-efficiency/ and one line in the test-set ledger. Kept apart from the
 * bench so the bench can change shape; it reads only the report fields named below.
 */
import { loadavg } from 'node:os';
import { appendTestEvaluation, configHash } from './evaluations.ts';
import type { LabelEfficiencyRecord } from './kinds/label-efficiency.ts';
import { finishRecord, writeRecord, type RunStart } from './records.ts';

/** The fields of one seed's bench report this hook reads (the benchmark's LabelEfficiencyReport, src/cli/label-efficiency-contract.ts, has them). */
export interface SeedReport {
  seed: number;
  seconds: number;
  results: Record<string, { accuracy: number; macroF1: number }>;
  labelsTo95pct: { active: number | null; random: number | null };
  details: Record<string, unknown>;
}

/** Settings the report resolved (defaults filled in) that decide its figures; paths, timings and seeds left out. */
const RESOLVED = ['protocol', 'modality', 'classes', 'split', 'rounds', 'fixmatch', 'noisyStudent', 'refit', 'ensemble', 'priorShift', 'tta', 'train', 'selectWith', 'fineTune', 'fullSupervised'];

/**
 * The configuration a run of the bench scored on test: the bench's options (without seeds,
 * paths, worker count or logger — the caller passes what it gave runLabelEfficiency minus those)
 * and what the report says it resolved them to, so a changed default is a new configuration.
 */
export function labelEfficiencyConfig(dataset: string, budget: number, options: Record<string, unknown>, first: SeedReport, all: readonly SeedReport[]): Record<string, unknown> {
  const d = first.details;
  const encoders = [...new Set(all.map((r) => JSON.stringify({ pretext: (r.details.encoder as { pretext?: unknown })?.pretext ?? null, epochs: (r.details.encoder as { epochs?: unknown })?.epochs ?? null })))].sort();
  return { bench: 'label-efficiency', dataset, budget, options, resolved: Object.fromEntries(RESOLVED.filter((k) => k in d).map((k) => [k, d[k]])), encoders: encoders.map((e) => JSON.parse(e)) };
}

/** The record for one dataset's seeds (in the order run). */
export function labelEfficiencyRecord(start: RunStart, o: { dataset: string; budget: number; flags: string[]; reports: readonly SeedReport[] }): LabelEfficiencyRecord {
  const curvesOf = (r: SeedReport) => {
    const curves = (r.details.curves ?? {}) as Record<string, Array<{ labels: number; accuracy: number }>>;
    return { seed: r.seed, arms: Object.fromEntries(Object.entries(curves).map(([arm, pts]) => [arm, pts.map((p) => ({ labels: p.labels, accuracy: p.accuracy }))])) };
  };
  return finishRecord<LabelEfficiencyRecord>(start, {
    kind: 'label-efficiency',
    dataset: o.dataset,
    budget: o.budget,
    seeds: o.reports.map((r) => r.seed),
    flags: o.flags,
    results: { runs: o.reports.map((r) => ({ seed: r.seed, seconds: Math.round(r.seconds * 10) / 10, results: r.results, labelsTo95pct: r.labelsTo95pct })) },
    curves: o.reports.map(curvesOf),
  });
}

/**
 * Writes the record and appends the test evaluation. `start` is the run's (startRun() before the
 * first seed; for a later dataset of the same process, `lap(start)`). Returns the record's path,
 * the configuration hash and how often that configuration had been scored on this dataset's test
 * split before (the caller should warn when > 0).
 */
export function recordLabelEfficiency(start: RunStart, o: { dataset: string; budget: number; flags: string[]; options: Record<string, unknown>; reports: readonly SeedReport[]; ledger?: string; dir?: string }): { path: string; configHash: string; earlier: number } {
  if (o.reports.length === 0) throw new Error('recordLabelEfficiency: no report to record');
  const record = labelEfficiencyRecord(start, o);
  const hash = configHash(labelEfficiencyConfig(o.dataset, o.budget, o.options, o.reports[0], o.reports));
  const path = writeRecord(record, o.dir);
  const accuracy = Object.fromEntries(Object.keys(o.reports[0].results).map((arm) => [arm, o.reports.map((r) => r.results[arm].accuracy)]));
  const { earlier } = appendTestEvaluation(
    { bench: 'label-efficiency', dataset: o.dataset, budget: o.budget, configHash: hash, commit: record.commit, dirty: record.dirty, seeds: record.seeds, result: { accuracy, labelsTo95pct: o.reports.map((r) => r.labelsTo95pct) } },
    o.ledger,
  );
  return { path, configHash: hash, earlier };
}

/** The same run's provenance with the clock and the load taken again (the next dataset of one process). */
export const lap = (start: RunStart): RunStart => ({ ...start, t0: performance.now(), loadStart: loadavg().map((x) => Math.round(x * 100) / 100) });
