import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { appendAudit } from '../../store/audit.ts';
import { ensureProject, getProject, listProjects, projectStats } from '../../store/projects.ts';
import { act, actor, makeOut, parseIntOption, withStore } from '../context.ts';

export function registerProjects(program: Command) {
  program
    .command('init')
    .description('create the store (SQLite file under $TESSERA_HOME, or the PostgreSQL schema) and apply migrations')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          out.result({ store: store.dialect, location: store.location }, () => `store ready: ${store.dialect} at ${store.location}`);
        });
      }),
    );

  const project = program.command('project').description('create, list and show projects');
  project
    .command('create')
    .argument('<name>')
    .option('--sample-rate <hz>', 'audio sample rate items are resampled to', parseIntOption('--sample-rate'))
    .option('--region <tag>', 'default residency tag of imported items')
    .option('--json', 'print one JSON document')
    .action(
      act(async (name: string, f: { sampleRate?: number; region?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const settings = { ...(f.sampleRate ? { sampleRate: f.sampleRate } : {}), ...(f.region ? { region: f.region } : {}) };
          const p = await store.db.transaction().execute(async (trx) => {
            const { project: p, created } = await ensureProject(trx, name, settings);
            if (!created) throw new UserError(`project "${name}" already exists`, 'E_EXISTS');
            await appendAudit(trx, store.dialect, { projectId: p.id, actor: actor(), action: 'project.create', subject: `project:${p.id}`, payload: { name, settings: p.settings } });
            return p;
          });
          out.result(p, () => `created project ${p.name} (#${p.id})`);
        });
      }),
    );
  project
    .command('list')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const rows = await listProjects(store.db);
          out.result(rows, () => (rows.length ? rows.map((p) => `${p.name}\t${p.items} items\tcreated ${p.createdAt}`).join('\n') : 'no projects yet'));
        });
      }),
    );
  project
    .command('show')
    .argument('<name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (name: string, f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const p = await getProject(store.db, name);
          const stats = await projectStats(store.db, p.id);
          const sources = await store.db
            .selectFrom('import_sources')
            .select(['id', 'path', 'format', 'started_at', 'imported', 'unchanged', 'rejected'])
            .where('project_id', '=', p.id)
            .where('status', '=', 'committed')
            .orderBy('id')
            .execute();
          out.result({ ...p, stats, imports: sources }, () =>
            [
              `${p.name} (#${p.id}), created ${p.createdAt}, region ${p.settings.region}, audio ${p.settings.sampleRate} Hz`,
              `${stats.items} items: ${Object.entries(stats.byModality).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`,
              ...sources.map((s) => `  import #${s.id} ${s.format} ${s.path}: ${s.imported} new, ${s.unchanged} unchanged, ${s.rejected} rejected`),
            ].join('\n'),
          );
        });
      }),
    );

  program
    .command('stats')
    .description('item counts by modality and by source label')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const stats = await projectStats(store.db, (await getProject(store.db, f.project)).id);
          out.result(stats, () => formatStats(f.project, stats));
        });
      }),
    );
}

export function formatStats(name: string, s: { items: number; byModality: Record<string, number>; sourceLabels: Record<string, number> }): string {
  const lines = [`${name}: ${s.items.toLocaleString('en')} items`];
  for (const [k, v] of Object.entries(s.byModality)) lines.push(`  ${k.padEnd(10)} ${v.toLocaleString('en')}`);
  if (Object.keys(s.sourceLabels).length) lines.push('source labels:');
  for (const [k, v] of Object.entries(s.sourceLabels)) lines.push(`  ${k.padEnd(10)} ${v.toLocaleString('en')}`);
  return lines.join('\n');
}
