import { userInfo } from 'node:os';
import { storeConfigFromEnv } from '../core/config.ts';
import { TesseraError, errorMessage } from '../core/errors.ts';
import { openStore, type Store } from '../store/db.ts';

/** Output of one command: a JSON document (with --json) or human lines; logs go to stderr. */
export interface Out {
  json: boolean;
  /** Whether progress bars may be drawn (a TTY on stderr, and not --json). */
  interactive: boolean;
  result(doc: unknown, human: () => string): void;
  log(line: string): void;
}

export function makeOut(json: boolean): Out {
  return {
    json,
    interactive: !json && Boolean(process.stderr.isTTY),
    result(doc, human) {
      if (json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      else process.stdout.write(human() + '\n');
    },
    log(line) {
      process.stderr.write(line + '\n');
    },
  };
}

export function actor(): string {
  if (process.env.TESSERA_USER) return process.env.TESSERA_USER;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/** Opens the configured store for the length of one command. */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeConfigFromEnv());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** A command's exit code for an error, printing it the way the command's output mode asks. */
export function reportError(e: unknown, json: boolean): number {
  const code = e instanceof TesseraError ? e.code : 'E_INTERNAL';
  const exit = e instanceof TesseraError ? e.exitCode : 1;
  if (json) process.stdout.write(JSON.stringify({ error: { code, message: errorMessage(e) } }, null, 2) + '\n');
  process.stderr.write(`tessera: ${errorMessage(e)}\n`);
  if (!(e instanceof TesseraError) && process.env.TESSERA_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  return exit;
}

export function parseIntOption(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new TesseraError(`${name} expects a whole number ≥ 0, got "${v}"`, 'E_INPUT', 2);
    return n;
  };
}

/** Any finite number; ranges are checked by whoever uses it. */
export function parseNumberOption(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new TesseraError(`${name} expects a number, got "${v}"`, 'E_INPUT', 2);
    return n;
  };
}

/** The exit code the running command asked for (commander drops action return values). */
export const exitState = { code: 0 };

/** Wraps an action so that the number it resolves to becomes the process exit code. */
export function act<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    exitState.code = (await fn(...args)) ?? 0;
  };
}
