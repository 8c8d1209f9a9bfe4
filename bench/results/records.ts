/**
 * Benchmark records: one small JSON file per reported run under bench/results/<kind>/, committed.
 * RESULTS.md and the README's results block are generated from them (scripts/results.ts), so a
 * figure in the docs always has a command, a commit, a machine and its seeds behind it.
 *
 * Here: reading every record with validation (an error names the file and the field), and
 * writing one — validated by the same schema, atomically, never over an existing record — with
 * its provenance (commit + dirty flag, machine with its load) filled in.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, availableParallelism, totalmem, type as osType, release, arch } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { KINDS, kindSpec } from './kinds/index.ts';
import type { CommonRecord, Entry, Machine } from './schema.ts';
import { firstSchemaError, RecordError } from './validate.ts';

export type { CommonRecord, Entry, KindSpec, Machine, ReadmeRow, RenderContext } from './schema.ts';
export type { LabelEfficiencyRecord } from './kinds/label-efficiency.ts';
export type { ConsensusRecord } from './kinds/consensus.ts';
export type { DriftRecord } from './kinds/drift.ts';
export { RecordError } from './validate.ts';

export const RESULTS_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(RESULTS_DIR, '../..');

/** Checks a parsed record against its kind's schema and checks; `file` names it in the error. */
export function validateRecord(value: unknown, file: string): CommonRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new RecordError(`${file}: expected a JSON object (one benchmark record)`);
  const kind = (value as { kind?: unknown }).kind;
  const spec = typeof kind === 'string' ? kindSpec(kind) : undefined;
  if (!spec) throw new RecordError(`${file}: field kind: expected one of ${KINDS.map((k) => k.kind).join(', ')}, got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
  const err = firstSchemaError(spec.schema, value);
  if (err) throw new RecordError(`${file}: ${err}`);
  const r = value as CommonRecord;
  const dup = r.seeds.find((s, i) => r.seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new RecordError(`${file}: field seeds: seed ${dup} appears twice`);
  const semantic = spec.check(r);
  if (semantic) throw new RecordError(`${file}: ${semantic}`);
  return r;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? walk(p) : n.endsWith('.json') ? [p] : [];
    });
}

/** Every record under `dir` (bench/results/), validated, sorted by path. */
export function readRecords(dir = RESULTS_DIR): Entry[] {
  return walk(dir)
    .map((p) => relative(dir, p).split(sep).join('/'))
    .sort()
    .map((file) => {
      const where = `bench/results/${file}`;
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      } catch (e) {
        throw new RecordError(`${where}: not JSON (${(e as Error).message})`);
      }
      const record = validateRecord(value, where);
      const folder = file.includes('/') ? file.slice(0, file.indexOf('/')) : '';
      if (folder !== record.kind) throw new RecordError(`${where}: field kind: ${JSON.stringify(record.kind)} records belong under bench/results/${record.kind}/`);
      return { file, record };
    });
}

// ---- provenance ------------------------------------------------------------------------------

const git = (root: string, args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * HEAD and whether the working tree differs from it: tracked changes or new files, outside
 * bench/results/ (where records are written) and node_modules (a symlink in worktrees).
 */
export function gitState(root = REPO_ROOT): { commit: string; dirty: boolean } {
  let commit: string;
  try {
    commit = git(root, ['rev-parse', 'HEAD']);
  } catch (e) {
    throw new RecordError(`cannot record: ${root} is not a git checkout with a commit (${(e as Error).message.split('\n')[0]})`);
  }
  const status = git(root, ['status', '--porcelain', '--', '.', ':(exclude)bench/results', ':(exclude)node_modules']);
  return { commit, dirty: status !== '' };
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const load3 = () => loadavg().map((x) => round(x)) as [number, number, number];

export function machineInfo(loadStart: number[]): Machine {
  return {
    cpu: cpus()[0]?.model.trim() || 'unknown',
    cores: availableParallelism(),
    memoryGB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${osType()} ${release()} ${arch()}`,
    load: { start: loadStart, end: load3() },
  };
}

const shellWord = (s: string) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command line that ran this process, from the repository root (`npx tsx bench/x.ts --flag`). */
export function commandLine(argv = process.argv, root = REPO_ROOT): string {
  const script = relative(root, resolve(argv[1])).split(sep).join('/');
  return ['npx', 'tsx', script, ...argv.slice(2)].map(shellWord).join(' ');
}

/**
 * The flags of a command line that are not defaults, one string per flag with its values
 * (`--epochs 40`), sorted. `omit`: flags the record holds in fields of its own (dataset, seeds,
 * `--record`); `defaults`: a flag whose value equals its default is left out.
 */
export function nonDefaultFlags(args: readonly string[], o: { omit?: readonly string[]; defaults?: Record<string, string> } = {}): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith('--')) continue;
    const values: string[] = [];
    while (i + 1 < args.length && !args[i + 1].startsWith('--')) values.push(args[++i]);
    const [name, inline] = args[i - values.length].split(/=(.*)/s, 2);
    const value = [inline, ...values].filter((v) => v !== undefined).join(' ');
    if (o.omit?.includes(name)) continue;
    if (o.defaults && Object.hasOwn(o.defaults, name) && o.defaults[name] === value) continue;
    out.push(value ? `${name} ${value}` : name);
  }
  return out.sort();
}

/** What a run notes when it starts, for its record: command, commit, dirty, load, clock. */
export interface RunStart {
  command: string;
  commit: string;
  dirty: boolean;
  loadStart: number[];
  t0: number;
}

export function startRun(o: { command?: string; root?: string } = {}): RunStart {
  return { command: o.command ?? commandLine(), ...gitState(o.root), loadStart: load3(), t0: performance.now() };
}

/** A record from a run's start and its kind's fields (machine and wall time filled in now). */
export function finishRecord<R extends CommonRecord>(start: RunStart, fields: Omit<R, 'command' | 'commit' | 'dirty' | 'machine' | 'seconds'>): R {
  return { ...fields, command: start.command, commit: start.commit, dirty: start.dirty, machine: machineInfo(start.loadStart), seconds: round((performance.now() - start.t0) / 1000, 1) } as R;
}

/**
 * Writes `record` to bench/results/<kind>/<stem>-<commit>.json (-2, -3… when taken), after the
 * same validation readRecords applies. Atomic and never overwrites: the file is written aside,
 * then hard-linked to its name (which fails if the name exists). Returns the path.
 */
export function writeRecord(record: CommonRecord, dir = RESULTS_DIR): string {
  const spec = kindSpec(record.kind);
  const r = validateRecord(JSON.parse(JSON.stringify(record)), `record to write (${record.kind})`);
  const folder = join(dir, r.kind);
  mkdirSync(folder, { recursive: true });
  const stem = `${spec!.stem(r)}-${r.commit.slice(0, 10)}`;
  const tmp = join(folder, `.${stem}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(r, null, 2) + '\n');
  try {
    for (let n = 1; ; n++) {
      const path = join(folder, `${stem}${n === 1 ? '' : `-${n}`}.json`);
      try {
        linkSync(tmp, path);
        return path;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  } finally {
    unlinkSync(tmp);
  }
}

// ---- cache keys ------------------------------------------------------------------------------

/**
 * A version of the code under `dirs` (relative to `root`): sha256 over every file's path and
 * bytes. Unlike a commit it changes with uncommitted edits and stays put when unrelated files
 * change, which is what a cache of computed artefacts (pretrained encoders) must key on.
 */
export function codeVersion(dirs: readonly string[], root = REPO_ROOT): string {
  const files = (d: string): string[] =>
    readdirSync(d)
      .filter((n) => !n.startsWith('.') && n !== 'node_modules')
      .flatMap((n) => {
        const p = join(d, n);
        return statSync(p).isDirectory() ? files(p) : [p];
      });
  const h = createHash('sha256');
  for (const d of dirs) {
    const abs = resolve(root, d);
    if (!existsSync(abs)) throw new RecordError(`codeVersion: ${abs} does not exist`);
    for (const f of (statSync(abs).isDirectory() ? files(abs) : [abs]).map((p) => relative(root, p).split(sep).join('/')).sort()) {
      h.update(`${f}\0${createHash('sha256').update(readFileSync(join(root, f))).digest('hex')}\0`);
    }
  }
  return h.digest('hex');
}

/** A cache key: the configuration that produced an artefact (seeds included here) and the code version. */
export const cacheKey = (config: Record<string, unknown>, code: string) => sha256Hex(canonicalJson({ config, code }));
