import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { getModel, listModels } from '../../store/models.ts';
import { getProject } from '../../store/projects.ts';
import type { PretrainJobParams, ProbeJobParams } from '../../jobs/types.ts';
import { act, actor, makeOut, parseIntOption, withStore } from '../context.ts';
import { runJobHere } from '../run-job.ts';

function parseConfig(s: string | undefined): Record<string, unknown> | undefined {
  if (s === undefined) return undefined;
  try {
    const v = JSON.parse(s);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new UserError(`--config expects a JSON object, e.g. '{"angles":[0,180]}' (${(e as Error).message})`);
  }
}

export function registerMl(program: Command) {
  program
    .command('pretrain')
    .description('self-supervised pretraining of an encoder on every item of the project (a resumable job)')
    .requiredOption('--project <name>')
    .option('--pretext <name>', 'pretext task (default: the modality’s own; the list is in docs/loop.md)')
    .option('--epochs <n>', 'epochs', parseIntOption('--epochs'), 10)
    .option('--batch <n>', 'batch size', parseIntOption('--batch'), 256)
    .option('--seed <k>', 'random seed', parseIntOption('--seed'), 0)
    .option('--workers <n>', 'worker threads for data-parallel training (default 1)', parseIntOption('--workers'))
    .option('--config <json>', 'pretext/encoder settings as a JSON object')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; pretext?: string; epochs: number; batch: number; seed: number; workers?: number; config?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.epochs < 1 || f.batch < 2) throw new UserError('--epochs must be ≥ 1 and --batch ≥ 2');
        const params: PretrainJobParams = { project: f.project, pretext: f.pretext, epochs: f.epochs, batch: f.batch, seed: f.seed, workers: f.workers, config: parseConfig(f.config), actor: actor() };
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const job = await runJobHere(store, out, 'pretrain', params, project.id);
          const r = job.result as { model: number; pretext: string; epochs: number; finalLoss: number; seconds: number };
          out.result(r, () => `model ${r.model}: ${r.pretext}, ${r.epochs} epochs, final loss ${r.finalLoss.toFixed(4)}, ${r.seconds.toFixed(1)} s`);
        });
      }),
    );

  program
    .command('embed')
    .description('store an embedding of every item with a pretrained encoder')
    .requiredOption('--project <name>')
    .option('--model <id>', 'encoder model id (default: the newest)', parseIntOption('--model'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; model?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const job = await runJobHere(store, out, 'embed', { project: f.project, model: f.model }, project.id);
          const r = job.result as { model: number; items: number; dim: number; seconds: number };
          out.result(r, () => `embedded ${r.items} items with model ${r.model} (${r.dim} dims) in ${r.seconds.toFixed(1)} s`);
        });
      }),
    );

  program
    .command('suggest')
    .description('pre-annotate: every item without a final label gets the classifier\'s predicted label and calibrated confidence (a sharded job in cluster mode)')
    .requiredOption('--project <name>')
    .option('--model <id>', 'classifier model id (default: the model in use — the newest the loop promoted; `tessera models list`)', parseIntOption('--model'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; model?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const job = await runJobHere(store, out, 'suggest', { project: f.project, model: f.model }, project.id);
          const r = job.result as { model: number; items: number; suggested: number; seconds: number };
          out.result(r, () => `model ${r.model}: ${r.suggested} suggestions for the undecided of ${r.items} items in ${r.seconds.toFixed(1)} s`);
        });
      }),
    );

  program
    .command('probe')
    .description('does SSL help? kNN and linear probes on N labelled items: SSL encoder vs random init vs raw features')
    .requiredOption('--project <name>')
    .requiredOption('--labels <n>', 'labelled items used for training the probes', parseIntOption('--labels'))
    .option('--seed <k>', 'random seed', parseIntOption('--seed'), 0)
    .option('--model <id>', 'encoder model id (default: the newest)', parseIntOption('--model'))
    .option('--test-max <n>', 'largest held-out set (default 5000)', parseIntOption('--test-max'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; labels: number; seed: number; model?: number; testMax?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.labels < 2) throw new UserError('--labels must be at least 2');
        const params: ProbeJobParams = { project: f.project, labels: f.labels, seed: f.seed, model: f.model, testMax: f.testMax };
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const job = await runJobHere(store, out, 'probe', params, project.id);
          const r = job.result as import('../../probe/probe.ts').ProbeReport;
          out.result(r, () => formatProbe(r));
        });
      }),
    );

  const models = program.command('models').description('the model registry');
  models
    .command('list')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const list = await listModels(store.db, (await getProject(store.db, f.project)).id);
          out.result(list, () => (list.length ? list.map((m) => `${m.id}\t${m.kind}${typeof m.params.method === 'string' ? ` (${m.params.method})` : ''}\t${m.pretext ?? '-'}\tsnapshot ${m.datasetId ?? '-'}\t${m.createdAt}`).join('\n') : 'no models yet'));
        });
      }),
    );
  models
    .command('show')
    .argument('<id>', 'model id', parseIntOption('model id'))
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (id: number, f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const m = await getModel(store.db, (await getProject(store.db, f.project)).id, id);
          out.result(m, () => JSON.stringify(m, null, 2));
        });
      }),
    );
}

function formatProbe(r: import('../../probe/probe.ts').ProbeReport): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(7);
  const lines = [`probe: ${r.labels} labels (seed ${r.seed}), ${r.split.test} held out, classes ${r.split.classes.join(', ')}`, `                 kNN  linear   kNN-F1  lin-F1`];
  for (const [name, s] of Object.entries(r.representations)) lines.push(`${name.padEnd(12)} ${pct(s.knn)} ${pct(s.linear)} ${pct(s.knnMacroF1)} ${pct(s.linearMacroF1)}`);
  lines.push(r.verdict.text);
  return lines.join('\n');
}
