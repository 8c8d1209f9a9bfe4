/**
 * The test-set ledger: every time a benchmark scores a configuration on a dataset's test split it
 * appends one line to bench/results/test-evaluations.jsonl (committed), so RESULTS.md can say how
 * many configurations were ever looked at on test — a test set scored once per reported
 * configuration stays an unbiased estimate; one scored for fifty candidate settings does not.
 *
 * A configuration is identified by configHash: sha256 of the canonical JSON of every setting that
 * affects the result, seeds excluded. Running more seeds of one configuration is not a new look
 * at the test set for the purpose of choosing between configurations, so it keeps its hash (and
 * the ledger line lists the seeds). The code version is not part of the hash either: the same
 * settings at a later commit are the same configuration; each line records its commit.
 */
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { firstSchemaError, RecordError } from './validate.ts';

export const TEST_EVALUATIONS_FILE = fileURLToPath(new URL('./test-evaluations.jsonl', import.meta.url));

/** Keys a configuration must not hold: seeds are listed beside the hash, not inside it. */
const SEED_KEYS = ['seed', 'seeds'];

/** sha256 (hex) of the canonical JSON of `config`: every setting that affects the result, no seeds. */
export function configHash(config: Record<string, unknown>): string {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new TypeError('configHash expects an object of settings');
  const seedKey = SEED_KEYS.find((k) => k in config);
  if (seedKey) throw new TypeError(`configHash: the configuration holds "${seedKey}"; seeds are not part of a configuration — pass them to appendTestEvaluation instead`);
  return sha256Hex(canonicalJson(config));
}

export const TestEvaluation = Type.Object(
  {
    /** The benchmark that scored it (label-efficiency, probe-datasets, …). */
    bench: Type.String({ minLength: 1 }),
    dataset: Type.String({ minLength: 1 }),
    /** Labels bought, where the benchmark has a budget; null otherwise. */
    budget: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    configHash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    commit: Type.String({ pattern: '^[0-9a-f]{40}$' }),
    /** The working tree had uncommitted changes to tracked or new files when the run started. */
    dirty: Type.Boolean(),
    seeds: Type.Array(Type.Integer(), { minItems: 1 }),
    /** The test-set figures, as the benchmark reports them. */
    result: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type TestEvaluation = Static<typeof TestEvaluation>;

/** Parses the ledger's text; a bad line is an error naming the file, the line and the field. */
export function parseTestEvaluations(text: string, file: string): TestEvaluation[] {
  const out: TestEvaluation[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') {
      if (i !== lines.length - 1) throw new RecordError(`${file}:${i + 1}: empty line (one JSON object per line expected)`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new RecordError(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    const err = firstSchemaError(TestEvaluation, value);
    if (err) throw new RecordError(`${file}:${i + 1}: ${err}`);
    out.push(value as TestEvaluation);
  });
  return out;
}

export function readTestEvaluations(file = TEST_EVALUATIONS_FILE): TestEvaluation[] {
  return existsSync(file) ? parseTestEvaluations(readFileSync(file, 'utf8'), file) : [];
}

/**
 * Appends one evaluation (validated first) as one line, in a single write. Returns how many
 * earlier lines scored the same configuration on the same dataset, so the caller can warn that
 * the test set has been looked at before.
 */
export function appendTestEvaluation(entry: TestEvaluation, file = TEST_EVALUATIONS_FILE): { earlier: number } {
  const err = firstSchemaError(TestEvaluation, entry);
  if (err) throw new RecordError(`test evaluation for ${file}: ${err}`);
  const earlier = readTestEvaluations(file).filter((e) => e.dataset === entry.dataset && e.configHash === entry.configHash).length;
  if (existsSync(file) && statSync(file).size > 0) {
    // A line cut short (a crash mid-write, a bad merge) would swallow the next one: refuse.
    const fd = openSync(file, 'r');
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, statSync(file).size - 1);
    closeSync(fd);
    if (last[0] !== 0x0a) throw new RecordError(`${file}: the last line does not end with a newline (cut short?); fix the file before appending`);
  }
  appendFileSync(file, JSON.stringify(entry) + '\n');
  return { earlier };
}

/** Per dataset: distinct configurations scored on test, and test evaluations in all. */
export function testEvaluationCounts(evals: readonly TestEvaluation[]): Map<string, { configurations: number; evaluations: number }> {
  const by = new Map<string, Set<string>>();
  const n = new Map<string, number>();
  for (const e of evals) {
    if (!by.has(e.dataset)) by.set(e.dataset, new Set());
    by.get(e.dataset)!.add(e.configHash);
    n.set(e.dataset, (n.get(e.dataset) ?? 0) + 1);
  }
  return new Map([...by].sort(([a], [b]) => (a < b ? -1 : 1)).map(([d, s]) => [d, { configurations: s.size, evaluations: n.get(d)! }]));
}
