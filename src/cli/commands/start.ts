import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { jobHandlers } from '../../jobs/handlers.ts';
import { InProcessRunner } from '../../jobs/runner.ts';
import type { ImportReport } from '../../ingest/import.ts';
import { getProject, projectStats } from '../../store/projects.ts';
import { act, actor, makeOut, withStore } from '../context.ts';
import { formatStats } from './projects.ts';

/** The bundled demo: SMS Spam Collection v1 (CC BY 4.0, Almeida & Gómez Hidalgo), see demo/sms-spam/SOURCE.md. */
export const DEMO_PATH = fileURLToPath(new URL('../../../demo/sms-spam/SMSSpamCollection', import.meta.url));
export const DEMO_PROJECT = 'demo';

export function registerStart(program: Command) {
  program
    .command('start')
    .description('the main job on the bundled demo data (npm start): import the SMS Spam demo and report the project')
    .option('--project <name>', 'project to use', DEMO_PROJECT)
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const runner = new InProcessRunner(store, jobHandlers(store));
          await runner.recover();
          out.log(`store: ${store.dialect} at ${store.location}`);
          out.log(`importing the demo dataset ${DEMO_PATH} into project "${f.project}"…`);
          const job = await runner.submitAndRun('import', { project: f.project, path: DEMO_PATH, format: 'sms', options: {}, actor: actor() }, null);
          if (job.status !== 'succeeded') {
            out.log(`demo import ${job.status}: ${job.error ?? job.message}`);
            return 1;
          }
          const report = job.result as ImportReport;
          const stats = await projectStats(store.db, (await getProject(store.db, f.project)).id);
          out.result({ project: f.project, import: report, stats }, () => `import: ${report.imported} new, ${report.unchanged} unchanged, ${report.rejected} rejected\n${formatStats(f.project, stats)}`);
        });
      }),
    );
}
