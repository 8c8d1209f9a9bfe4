import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { storeConfigFromEnv } from '../../core/config.ts';
import { openStore } from '../../store/db.ts';
import { act } from '../context.ts';

/** `tessera serve`: the REST API (and webhook dispatcher) until SIGINT / SIGTERM. */
export function registerServe(program: Command) {
  program
    .command('serve')
    .description('start the REST API (OpenAPI at /docs); stops on Ctrl-C')
    .option('--port <port>', 'TCP port (0 = any free one)', '8787')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .action(
      act(async (f: { port: string; host: string }) => {
        const port = Number(f.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port expects 0–65535, got "${f.port}"`);
        // Loaded here: Fastify and Swagger would add half a second to every other command.
        const { buildApp } = await import('../../server/app.ts');
        const store = await openStore(storeConfigFromEnv());
        const app = await buildApp({ store, logger: { level: process.env.TESSERA_LOG_LEVEL ?? 'info', stream: process.stderr } as never });
        try {
          const url = await app.listen({ port, host: f.host });
          process.stderr.write(`tessera: serving ${store.dialect} store ${store.location} at ${url} (API under /api/, docs at ${url}/docs)\n`);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          process.stderr.write('tessera: shutting down\n');
        } finally {
          await app.close();
          await store.close();
        }
      }),
    );
}
