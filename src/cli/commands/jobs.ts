import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { jobHandlers } from '../../jobs/handlers.ts';
import { JobQueue, type Job } from '../../jobs/queue.ts';
import { InProcessRunner } from '../../jobs/runner.ts';
import { getProject } from '../../store/projects.ts';
import type { JobStatus } from '../../store/schema.ts';
import { act, makeOut, parseIntOption, withStore } from '../context.ts';

const STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function registerJobs(program: Command) {
  const jobs = program.command('jobs').description('list, cancel and run background jobs');
  jobs
    .command('list')
    .option('--project <name>')
    .option('--status <status>', STATUSES.join('|'))
    .option('--limit <n>', 'how many, newest first (default 50)', parseIntOption('--limit'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project?: string; status?: string; limit?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.status && !STATUSES.includes(f.status as JobStatus)) throw new UserError(`--status expects ${STATUSES.join('|')}, got "${f.status}"`);
        return withStore(async (store) => {
          const projectId = f.project ? (await getProject(store.db, f.project)).id : undefined;
          const list = await new JobQueue(store).list({ status: f.status as JobStatus | undefined, projectId, limit: f.limit });
          out.result(list, () => (list.length ? list.map(line).join('\n') : 'no jobs'));
        });
      }),
    );
  jobs
    .command('cancel')
    .argument('<id>', 'job id', parseIntOption('job id'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (id: number, f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const job = await new JobQueue(store).cancel(id);
          out.result(job, () => (job.status === 'cancelled' ? `job ${id} cancelled` : `job ${id}: cancel requested; its runner stops it at the next checkpoint`));
        });
      }),
    );
  jobs
    .command('run')
    .description('re-queue jobs orphaned by a dead process, then run every queued job here')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const handlers = jobHandlers(store);
          const runner = new InProcessRunner(store, handlers);
          const recovered = await runner.recover();
          const done: Job[] = [];
          for (;;) {
            const id = await runner.queue.nextQueued(Object.keys(handlers));
            if (id === undefined) break;
            const job = await runner.runQueued(id);
            if (job) done.push(job);
          }
          out.result({ recovered, ran: done }, () => [`re-queued ${recovered.length} orphaned job(s)`, ...done.map(line)].join('\n'));
        });
      }),
    );
}

function line(j: Job): string {
  const pct = j.status === 'running' ? ` ${(j.progress * 100).toFixed(0)}%` : '';
  return `${j.id}\t${j.type}\t${j.status}${pct}\t${j.createdAt}\t${j.error ?? j.message ?? ''}`;
}
