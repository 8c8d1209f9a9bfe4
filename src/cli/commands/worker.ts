import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { storeConfigFromEnv } from '../../core/config.ts';
import { openStore } from '../../store/db.ts';
import { act, parseIntOption } from '../context.ts';

/**
 * `tessera worker`: runs jobs from the PostgreSQL store's pg-boss queues until SIGINT/SIGTERM
 * (cluster mode; src/jobs/cluster.ts). Any number of workers on any hosts share the queues.
 */
export function registerWorker(program: Command) {
  program
    .command('worker')
    .description('run queued jobs from PostgreSQL (cluster mode) until SIGTERM; any number, on any host')
    .option('--concurrency <n>', 'jobs (or embedding shards) at once in this process', parseIntOption('--concurrency'), 1)
    .option('--queues <types>', 'job types to serve, comma-separated (import,pretrain,embed,probe,audit; default all)')
    .option('--grace <seconds>', 'on SIGTERM, wait this long for running jobs before handing them back', parseIntOption('--grace'), 30)
    .option('--json', 'print one JSON summary when the worker stops')
    .action(
      act(async (f: { concurrency: number; queues?: string; grace: number; json?: boolean }) => {
        if (f.concurrency < 1) throw new UserError('--concurrency expects a whole number ≥ 1');
        const config = storeConfigFromEnv();
        if (config.kind !== 'postgres') throw new UserError('`tessera worker` needs the PostgreSQL store: set TESSERA_DATABASE_URL=postgres://… (with SQLite, jobs run in the process that submits them)');
        const queues = f.queues
          ?.split(',')
          .map((q) => q.trim())
          .filter(Boolean);
        const store = await openStore(config);
        const { ClusterWorker } = await import('../../jobs/cluster.ts');
        try {
          const worker = new ClusterWorker(store, { concurrency: f.concurrency, queues });
          await worker.start();
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          process.stderr.write(`tessera worker: stopping (up to ${f.grace} s for running jobs)\n`);
          await worker.stop(f.grace * 1000);
          if (f.json) process.stdout.write(JSON.stringify({ worker: worker.owner, ...worker.stats }, null, 2) + '\n');
          else process.stderr.write(`tessera worker: stopped (${worker.stats.jobs} jobs, ${worker.stats.shards} shards as a helper)\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
