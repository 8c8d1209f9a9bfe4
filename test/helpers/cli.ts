import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './datasets.ts';

export const BIN = join(REPO_ROOT, 'bin', 'tessera.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs `tessera …` as a user would (a child process), against the store named by `env`. */
export function tessera(args: string[], env: Record<string, string>): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  let json: unknown;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      throw new Error(`--json output is not one JSON document:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

export function tesseraAsync(args: string[], env: Record<string, string>) {
  return spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
