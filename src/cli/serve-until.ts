import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tesseraHome } from '../core/config.ts';
import { UserError } from '../core/errors.ts';
import { syncEveryCommit, type Store } from '../store/db.ts';

/** Pino's levels, lowest first, and its numbers (what each JSON log line carries as "level"). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const WARN = 40;

export function parseLogLevel(v: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new UserError(`--log-level expects ${LOG_LEVELS.join('|')}, got "${v}"`);
  return v as LogLevel;
}

/** Where request logs go unless told: a file under $TESSERA_HOME/logs/, so the terminal keeps what a person reads. */
export const defaultLogFile = () => join(tesseraHome(), 'logs', 'serve.log');

export interface ServeOptions {
  /** Request log file (appended to), or "-" for the terminal (stderr). Default: defaultLogFile(). */
  logFile?: string;
  /** Lowest level logged; default TESSERA_LOG_LEVEL, else info to a file and warn to the terminal. */
  logLevel?: LogLevel;
  /** Called once the server listens, with its URL (e.g. to print a sign-in link for that port). */
  onListening?(url: string): void;
}

/** The log destination: a file (warnings and errors also on the terminal), or the terminal alone. */
function logDestination(file: string): { stream: { write(line: string): void }; path: string | null; close(): Promise<void> } {
  if (file === '-') return { stream: process.stderr, path: null, close: async () => {} };
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  const out: WriteStream = createWriteStream(path, { flags: 'a' });
  out.on('error', (e) => process.stderr.write(`tessera: cannot write the request log ${path}: ${e.message}\n`));
  return {
    path,
    stream: {
      write(line: string) {
        out.write(line);
        const m = /"level":(\d+)/.exec(line);
        if (m && Number(m[1]) >= WARN) process.stderr.write(line);
      },
    },
    close: () => new Promise<void>((r) => out.end(r)),
  };
}

/** Serves the API (and UI) on `host:port` until SIGINT/SIGTERM; the caller owns the store. */
export async function serveUntilSignal(store: Store, port: number, host: string, opts: ServeOptions = {}): Promise<void> {
  // Loaded here: Fastify and Swagger would add half a second to every other command.
  const { buildApp } = await import('../server/app.ts');
  await (await import('../server/web.ts')).ensureWebUi((line) => process.stderr.write(`tessera: ${line}\n`));
  // An acknowledged change (a 201 for an annotation) must survive power loss, not only a kill.
  const sync = syncEveryCommit(store);
  const file = opts.logFile ?? defaultLogFile();
  const level = opts.logLevel ?? (process.env.TESSERA_LOG_LEVEL ? parseLogLevel(process.env.TESSERA_LOG_LEVEL) : file === '-' ? 'warn' : 'info');
  const dest = logDestination(file);
  const app = await buildApp({ store, logger: { level, stream: dest.stream } as never });
  try {
    const url = await app.listen({ port, host });
    process.stderr.write(`tessera: serving ${store.dialect} store ${store.location} at ${url} (API under /api/, docs at ${url}/docs)\n`);
    process.stderr.write(`tessera: request logs (${level} and above) ${dest.path ? `go to ${dest.path}; warnings and errors also here` : 'go here'}\n`);
    // One machine-readable line for scripts and tests: where, which process, how commits are synced.
    process.stderr.write(`tessera: ready ${JSON.stringify({ url, pid: process.pid, store: store.dialect, synchronous: sync, logFile: dest.path })}\n`);
    opts.onListening?.(url);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stderr.write('tessera: shutting down\n');
  } finally {
    await app.close();
    await dest.close();
  }
}
