import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { storeConfigFromEnv } from '../../core/config.ts';
import { openStore } from '../../store/db.ts';
import { act } from '../context.ts';
import { LOG_LEVELS, parseLogLevel, serveUntilSignal, type LogLevel } from '../serve-until.ts';

/** `tessera serve`: the REST API (and webhook dispatcher) until SIGINT / SIGTERM. */
export function registerServe(program: Command) {
  program
    .command('serve')
    .description('start the REST API (OpenAPI at /docs); stops on Ctrl-C')
    .option('--port <port>', 'TCP port (0 = any free one)', '8787')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--log-file <path>', 'request log file, appended to ("-" = the terminal); default $TESSERA_HOME/logs/serve.log, warnings and errors also on the terminal')
    .option('--log-level <level>', `lowest level logged: ${LOG_LEVELS.join('|')}; default TESSERA_LOG_LEVEL, else info to a file, warn to the terminal`, parseLogLevel)
    .action(
      act(async (f: { port: string; host: string; logFile?: string; logLevel?: LogLevel }) => {
        const port = Number(f.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port expects 0–65535, got "${f.port}"`);
        const store = await openStore(storeConfigFromEnv());
        try {
          await serveUntilSignal(store, port, f.host, { logFile: f.logFile, logLevel: f.logLevel });
        } finally {
          await store.close();
        }
      }),
    );
}
