/**
 * The fields every benchmark record carries, and the helper each kind uses to declare its own
 * (bench/results/kinds/). A record is closed: a field it does not declare is an error, so a typo
 * is caught when RESULTS.md is generated instead of silently dropped.
 */
import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';

const LoadAverage = Type.Array(Type.Number({ minimum: 0 }), { minItems: 3, maxItems: 3, description: '1, 5 and 15 minute load averages (uptime)' });

export const Machine = Type.Object(
  {
    cpu: Type.String({ minLength: 1 }),
    cores: Type.Integer({ minimum: 1 }),
    memoryGB: Type.Number({ exclusiveMinimum: 0 }),
    node: Type.String({ pattern: '^v\\d+\\.\\d+\\.\\d+' }),
    os: Type.String({ minLength: 1 }),
    /** The machine is shared: its load when the run started and ended says how much of it the run had. */
    load: Type.Object({ start: LoadAverage, end: LoadAverage }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type Machine = Static<typeof Machine>;

/** The fields of every record, whatever its kind. */
export const commonFields = {
  /** Selects the schema and the renderer (bench/results/kinds/). */
  kind: Type.String({ minLength: 1 }),
  seeds: Type.Array(Type.Integer(), { minItems: 1 }),
  /** Non-default flags of the command, one string per flag with its value (`--epochs 40`); [] for the defaults. */
  flags: Type.Array(Type.String({ pattern: '^--' })),
  /** The command that produced it, from the repository root. */
  command: Type.String({ minLength: 1 }),
  /** `git rev-parse HEAD` when the run started. */
  commit: Type.String({ pattern: '^[0-9a-f]{40}$' }),
  /** Whether the working tree had uncommitted changes (outside bench/results/) when the run started. */
  dirty: Type.Boolean(),
  machine: Machine,
  /** Wall time of the whole run, every seed. */
  seconds: Type.Number({ minimum: 0 }),
};

export interface CommonRecord {
  kind: string;
  seeds: number[];
  flags: string[];
  command: string;
  commit: string;
  dirty: boolean;
  machine: Machine;
  seconds: number;
  results: unknown;
}

/** A kind's record schema: the common fields, the kind's own, and its `results`. */
export const recordSchema = <K extends string, O extends TProperties, S extends TSchema>(kind: K, own: O, results: S) =>
  Type.Object({ ...commonFields, kind: Type.Literal(kind), ...own, results }, { additionalProperties: false });

/** A record as read from disk, with its path relative to bench/results/ (forward slashes). */
export interface Entry<R extends CommonRecord = CommonRecord> {
  file: string;
  record: R;
}

/** What every renderer may read besides its own records. */
export interface RenderContext {
  /** Distinct configurations and evaluations on each dataset's test split (test-evaluations.jsonl). */
  testCounts: Map<string, { configurations: number; evaluations: number }>;
}

/** One line of the README's compact table. */
export interface ReadmeRow {
  bench: string;
  data: string;
  /** The figure the benchmark exists to show, with its interval. */
  headline: string;
  /** What it is measured against: the strongest baseline, a published value. */
  beside: string;
  seeds: string;
}

/**
 * One kind of record: its schema, the checks a schema cannot state (returning "field X: …"
 * or null), the file name stem `writeRecord` gives it, and its RESULTS.md section and README rows.
 */
export interface KindSpec<R extends CommonRecord = CommonRecord> {
  kind: string;
  title: string;
  schema: TSchema;
  check(record: R): string | null;
  stem(record: R): string;
  section(entries: Entry<R>[], ctx: RenderContext): string[];
  readme(entries: Entry<R>[], ctx: RenderContext): ReadmeRow[];
}
