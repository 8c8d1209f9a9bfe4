import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { DRIFT_TESTS, type DriftTestName } from '../../monitor/tests.ts';
import { readVectorsCsv } from '../../monitor/vectors-csv.ts';
import { getProject } from '../../store/projects.ts';
import { act, actor, makeOut, parseIntOption, withStore } from '../context.ts';

const parseTests = (list: string): DriftTestName[] => {
  const tests = [...new Set(list.split(',').map((t) => t.trim()).filter(Boolean))];
  if (tests.length === 0) throw new UserError(`--test expects ${Object.keys(DRIFT_TESTS).join('|')} (comma-separated)`);
  for (const t of tests) if (!Object.hasOwn(DRIFT_TESTS, t)) throw new UserError(`--test expects ${Object.keys(DRIFT_TESTS).join('|')}, got "${t}"`);
  return tests as DriftTestName[];
};
const parseId = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`${name} expects an id (a whole number ≥ 1), got "${v}"`);
  return n;
};
const parseFeatures = (model: string | undefined) =>
  model === undefined ? ({ kind: 'model' } as const) : model === 'raw' ? ({ kind: 'raw' } as const) : ({ kind: 'model', model: parseId('--model', model) } as const);

interface DriftFlags {
  reference: string;
  current: string;
  test: string;
  alpha: string;
  seed: number;
  project?: string;
  model?: string;
  maxRows?: number;
  json?: boolean;
}

export function registerDrift(program: Command) {
  program
    .command('drift')
    .description('two-sample drift test: between two CSVs of numeric vectors (file mode), or with --project between a snapshot and an import')
    .requiredOption('--reference <csv>', 'reference vectors, one per row (header optional); with --project: a snapshot (dataset) id')
    .requiredOption('--current <csv>', 'current vectors, same width; with --project: an import id (its new items)')
    .option('--test <name>', 'mmd|ks|c2st (with --project: a comma list; when not given there, all three, Bonferroni-corrected)', 'mmd')
    .option('--alpha <a>', 'significance level', '0.05')
    .option('--seed <k>', 'seed for permutations / splits', parseIntOption('--seed'), 0)
    .option('--project <name>', 'project mode: compare a snapshot with an import of this project')
    .option('--model <id|raw>', 'project mode: embeddings of this model (default: the newest encoder; items without one are embedded first) or raw features')
    .option('--max-rows <n>', 'project mode: rows per side at most, a seeded subsample above (default 5000)', parseIntOption('--max-rows'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: DriftFlags, cmd: Command) => {
        const out = makeOut(Boolean(f.json));
        if (f.project !== undefined) return projectMode(f, cmd.getOptionValueSource('test') === 'default');
        if (!Object.hasOwn(DRIFT_TESTS, f.test)) throw new UserError(`--test expects ${Object.keys(DRIFT_TESTS).join('|')}, got "${f.test}"`);
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

  const monitor = program.command('monitor').description('drift monitors: run on every new import of the project and alert on drift');
  monitor
    .command('add')
    .requiredOption('--project <name>')
    .option('--reference <snapshot>', 'reference snapshot (dataset id)')
    .option('--reference-import <id>', 'freeze this import\'s items as the reference snapshot')
    .option('--model <id|raw>', 'embeddings of this model (default: the newest encoder at each check) or raw features')
    .option('--test <list>', 'comma list of mmd,ks,c2st (default all three, Bonferroni-corrected)')
    .option('--alpha <a>', 'significance level', '0.05')
    .option('--name <name>', 'a name for the alert messages')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; reference?: string; referenceImport?: string; model?: string; test?: string; alpha: string; name?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const { createMonitor } = await import('../../monitor/monitors.ts');
        const features = parseFeatures(f.model);
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const m = await createMonitor(
            store,
            project,
            {
              name: f.name,
              reference: f.reference !== undefined ? parseId('--reference', f.reference) : undefined,
              referenceImport: f.referenceImport !== undefined ? parseId('--reference-import', f.referenceImport) : undefined,
              features: features.kind,
              model: features.kind === 'model' ? features.model : undefined,
              tests: f.test ? parseTests(f.test) : undefined,
              alpha: Number(f.alpha),
            },
            actor(),
          );
          out.result(m, () => `monitor ${m.id} "${m.name}": ${m.tests.join(', ')} at α = ${m.alpha} vs snapshot ${m.reference} on ${m.features === 'raw' ? 'raw features' : `model ${m.model ?? '(newest encoder)'}`}`);
        });
      }),
    );
  monitor
    .command('list')
    .requiredOption('--project <name>')
    .option('--checks', 'also the latest checks (every monitor run)')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; checks?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const { listMonitors, listChecks } = await import('../../monitor/monitors.ts');
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const monitors = await listMonitors(store, project.id);
          const checks = f.checks ? await listChecks(store, project.id) : undefined;
          out.result({ monitors, ...(checks ? { checks } : {}) }, () =>
            [
              ...monitors.map((m) => `#${m.id} ${m.active ? 'active' : 'removed'}\t${m.name}\t${m.tests.join(',')}\tα=${m.alpha}`),
              ...(checks ?? []).map((c) => `  check ${c.id}: monitor ${c.monitor} on import ${c.import}: ${c.status}`),
            ].join('\n') || 'no monitors',
          );
        });
      }),
    );
  monitor
    .command('remove')
    .argument('<id>')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (id: string, f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const { deactivateMonitor } = await import('../../monitor/monitors.ts');
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          await deactivateMonitor(store, project.id, parseId('monitor id', id), actor());
          out.result({ removed: Number(id) }, () => `monitor ${id} removed`);
        });
      }),
    );

  const alerts = program.command('alerts').description('alerts raised by drift monitors (what the UI shows until acknowledged)');
  alerts
    .command('list')
    .requiredOption('--project <name>')
    .option('--all', 'acknowledged ones too')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; all?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const { listAlerts } = await import('../../monitor/monitors.ts');
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const list = await listAlerts(store, project.id, { all: f.all });
          out.result({ alerts: list }, () => list.map((a) => `#${a.id} ${a.createdAt} ${a.acknowledgedAt ? '(acknowledged) ' : ''}${a.message}`).join('\n') || 'no open alerts');
        });
      }),
    );
  alerts
    .command('ack')
    .argument('<id>')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (id: string, f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const { acknowledgeAlert } = await import('../../monitor/monitors.ts');
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          await acknowledgeAlert(store, project.id, parseId('alert id', id), actor());
          out.result({ acknowledged: Number(id) }, () => `alert ${id} acknowledged`);
        });
      }),
    );
}

async function projectMode(f: DriftFlags, defaultTests: boolean): Promise<void> {
  const out = makeOut(Boolean(f.json));
  const alpha = Number(f.alpha);
  if (!(alpha > 0 && alpha < 1)) throw new UserError(`--alpha expects a number between 0 and 1, got "${f.alpha}"`);
  const reference = parseId('--reference (a snapshot id, with --project)', f.reference);
  const current = parseId('--current (an import id, with --project)', f.current);
  const tests = defaultTests ? undefined : parseTests(f.test);
  const features = parseFeatures(f.model);
  const { projectDrift } = await import('../../monitor/project.ts');
  await withStore(async (store) => {
    const project = await getProject(store.db, f.project!);
    const r = await projectDrift(store, project, { reference, current, features, tests, alpha, seed: f.seed, maxRows: f.maxRows });
    out.result(r, () =>
      [
        `${r.project}: import ${r.current.import} (${r.rows.current} of ${r.current.items} items) vs snapshot ${r.reference.dataset} "${r.reference.name}" (${r.rows.reference} of ${r.reference.items}) on ${r.features === 'raw' ? 'raw features' : `model ${r.model}`} (${r.dim} dims)`,
        ...r.tests.map((t) => `  ${t.test}: statistic ${t.statistic.toPrecision(4)}, p = ${t.pValue.toPrecision(3)}${t.drift ? ' DRIFT' : ''}`),
        ...(r.labels ? [`  source labels: chi-square p = ${r.labels.chiSquare.pValue.toPrecision(3)}, PSI ${r.labels.psi.toFixed(3)}`] : []),
        `→ ${r.drift ? 'DRIFT' : 'no drift'} at α = ${r.alpha}${r.correction === 'bonferroni' ? ` (Bonferroni over ${r.tests.length} tests)` : ''}`,
      ].join('\n'),
    );
  });
}
