import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { DRIFT_TESTS, type DriftTestName } from '../../monitor/tests.ts';
import { readVectorsCsv } from '../../monitor/vectors-csv.ts';
import { act, makeOut, parseIntOption } from '../context.ts';

export function registerDrift(program: Command) {
  program
    .command('drift')
    .description('two-sample drift test between two CSVs of numeric vectors (file mode)')
    .requiredOption('--reference <csv>', 'reference vectors, one per row (header optional)')
    .requiredOption('--current <csv>', 'current vectors, same width')
    .option('--test <name>', 'mmd|ks|c2st', 'mmd')
    .option('--alpha <a>', 'significance level', '0.05')
    .option('--seed <k>', 'seed for permutations / splits', parseIntOption('--seed'), 0)
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { reference: string; current: string; test: string; alpha: string; seed: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (!(f.test in DRIFT_TESTS)) throw new UserError(`--test expects ${Object.keys(DRIFT_TESTS).join('|')}, got "${f.test}"`);
        const alpha = Number(f.alpha);
        if (!(alpha > 0 && alpha < 1)) throw new UserError(`--alpha expects a number between 0 and 1, got "${f.alpha}"`);
        const ref = readVectorsCsv(f.reference);
        const cur = readVectorsCsv(f.current);
        if (ref.dim !== cur.dim) throw new UserError(`${f.current}: vectors have ${cur.dim} values, the reference has ${ref.dim}`);
        if (ref.rows < 2 || cur.rows < 2) throw new UserError('each file needs at least 2 vectors');
        const r = DRIFT_TESTS[f.test as DriftTestName](ref, cur, { alpha, seed: f.seed });
        const doc = { test: f.test, statistic: r.statistic, pValue: r.pValue, alpha, drift: r.drift };
        out.result(doc, () => `${f.test}: statistic ${r.statistic.toPrecision(4)}, p = ${r.pValue.toPrecision(3)} → ${r.drift ? 'DRIFT' : 'no drift'} at α = ${alpha}`);
      }),
    );
}
