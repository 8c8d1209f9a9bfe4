import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ANN_BACKENDS } from '../audit/ann.ts';
import { FORMATS } from '../ingest/types.ts';
import type { Store } from '../store/db.ts';
import type { Job } from './queue.ts';

/** Reports progress (0–1, or null when the total is unknown) and a short message. */
export type Progress = (fraction: number | null, message?: string) => void;

export interface JobContext {
  job: Job;
  signal: AbortSignal;
  progress: Progress;
}
/** Runs one claimed job; what it resolves with becomes the job's JSON result. */
export type JobHandler = (ctx: JobContext) => Promise<unknown>;

/** A job kind: the schema its params are checked against (at submit and before it runs) and what it does. */
export interface JobKind<S extends TSchema> {
  params: S;
  run(store: Store, params: Static<S>, ctx: JobContext): Promise<unknown>;
}

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

// Params are JSON in the job table: the schemas describe that JSON. Objects stay open (extra keys
// are ignored, as they always were) so a caller that adds a field never breaks a queued job.

const ReaderOptions = Type.Object({
  idColumn: Type.Optional(Type.String()),
  textColumn: Type.Optional(Type.String()),
  labelColumn: Type.Optional(Type.String()),
  columns: Type.Optional(Type.String()),
  header: Type.Optional(Type.Boolean()),
  preset: Type.Optional(Type.String()),
  sampleRate: Type.Optional(Type.Number()),
  labelPattern: Type.Optional(Type.String()),
  labelFromFolder: Type.Optional(Type.Boolean()),
  encoding: Type.Optional(literals(['utf8', 'latin1'] as const)),
  maxRecordBytes: Type.Optional(Type.Number()),
});

export const ImportParams = Type.Object({
  project: Type.String(),
  path: Type.String(),
  format: Type.Optional(literals(FORMATS)),
  options: ReaderOptions,
  skipInvalid: Type.Optional(Type.Boolean()),
  region: Type.Optional(Type.String()),
  redactPii: Type.Optional(Type.Boolean()),
  actor: Type.String(),
  projectSettings: Type.Optional(Type.Object({ sampleRate: Type.Optional(Type.Number()), region: Type.Optional(Type.String()) })),
  /** JSONL file that receives every rejected record (with --skip-invalid). */
  rejectsFile: Type.Optional(Type.String()),
});
/** Parameters of an `import` job (src/ingest/import.ts ImportRequest, plus where rejects go). */
export type ImportJobParams = Static<typeof ImportParams>;

export const AuditParams = Type.Object({
  project: Type.String(),
  actor: Type.String(),
  model: Type.Optional(Type.Union([Type.Number(), Type.Literal('none')])),
  ann: Type.Optional(literals(ANN_BACKENDS)),
  textThreshold: Type.Optional(Type.Number()),
  imageHash: Type.Optional(literals(['phash', 'dhash'] as const)),
  imageMaxDistance: Type.Optional(Type.Number()),
  embeddingThreshold: Type.Optional(Type.Number()),
  k: Type.Optional(Type.Number()),
  zThreshold: Type.Optional(Type.Number()),
  clusters: Type.Optional(Type.Number()),
  coverageLabels: Type.Optional(literals(['all', 'human'] as const)),
  seed: Type.Optional(Type.Number()),
  examples: Type.Optional(Type.Number()),
});
/** Parameters of an `audit` job (src/audit/run.ts AuditOptions; the job id is added when it runs). */
export type AuditJobParams = Static<typeof AuditParams>;

export const PretrainParams = Type.Object({
  project: Type.String(),
  pretext: Type.Optional(Type.String()),
  epochs: Type.Number(),
  batch: Type.Number(),
  seed: Type.Number(),
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  workers: Type.Optional(Type.Number()),
  actor: Type.String(),
});
export type PretrainJobParams = Static<typeof PretrainParams>;

export const EmbedParams = Type.Object({
  project: Type.String(),
  model: Type.Optional(Type.Number()),
});
export type EmbedJobParams = Static<typeof EmbedParams>;

export const ProbeParams = Type.Object({
  project: Type.String(),
  labels: Type.Number(),
  seed: Type.Number(),
  model: Type.Optional(Type.Number()),
  testMax: Type.Optional(Type.Number()),
});
export type ProbeJobParams = Static<typeof ProbeParams>;

export const SuggestParams = Type.Object({
  project: Type.String(),
  /** A classifier of the model registry; default the project's latest. */
  model: Type.Optional(Type.Number()),
});

/** A job kind from its params schema and what it does (infers the params' type from the schema). */
export function jobKind<S extends TSchema>(params: S, run: JobKind<S>['run']): JobKind<S> {
  return { params, run };
}

/** The params schema of every job kind this build knows, by job type (src/jobs/handlers.ts runs them). */
export const JOB_PARAMS = {
  import: ImportParams,
  audit: AuditParams,
  pretrain: PretrainParams,
  embed: EmbedParams,
  probe: ProbeParams,
  suggest: SuggestParams,
};
export type JobType = keyof typeof JOB_PARAMS;
/** The registry's shape: one kind per job type, each run with its own params' type. */
export type JobKinds = { [T in JobType]: JobKind<(typeof JOB_PARAMS)[T]> };
