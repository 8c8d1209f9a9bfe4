/**
 * The model registry's formats: what `params` of a `models` row holds for each kind of model,
 * one writer per kind and one reader that validates a stored row before anything predicts with
 * it. Rows written before a field existed stay readable: such fields are optional here, with the
 * default older code assumed (temperature 1, promoted, prior shift applied).
 *
 *  - encoder:     an SSL encoder (`tessera pretrain`); its weights at `checkpointPath`.
 *  - classifier, by `params.features`:
 *    - `ssl`:     a linear head on the frozen embeddings of the parent encoder;
 *    - `raw`:     a linear head on raw features (TF-IDF, pixels, MFCC statistics, tabular
 *                 encodings), with the featurizer they were fitted with (`featurizer`; absent in
 *                 rows from before it was stored: it is then refitted on the project's corpus);
 *    - `encoder`: a fine-tuned encoder and its head, saved at `checkpointPath` (loadFineTuned).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UserError } from '../core/errors.ts';
import type { Head, Metrics } from './linear-head.ts';
import type { RawFeaturizer } from '../probe/raw.ts';
import type { ModelRecord } from '../store/models.ts';
import { registerModel } from '../store/models.ts';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';

type Db = Kysely<Database> | Transaction<Database>;

const Numbers = Type.Array(Type.Number());
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

// ---- encoders ----

export const EncoderParams = Type.Object({
  epochs: Type.Optional(Type.Number()),
  batch: Type.Optional(Type.Number()),
  seed: Type.Optional(Type.Number()),
  /** The pretext's configuration as given (`tessera pretrain --config`). */
  config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  modality: Type.Optional(Type.String()),
  /** Items it was pretrained on. */
  items: Type.Optional(Type.Number()),
  /** A randomly initialised encoder (tests, benchmarks): never pretrained. */
  random: Type.Optional(Type.Boolean()),
});
export type EncoderParams = Static<typeof EncoderParams>;

// ---- classifiers ----

const FeaturizerSchema = Type.Union([
  Type.Object({ modality: Type.Literal('text'), vocabulary: Type.Array(Type.String()), idf: Numbers }),
  Type.Object({ modality: Type.Literal('image'), height: Type.Integer(), width: Type.Integer(), channels: Type.Integer() }),
  Type.Object({
    modality: Type.Literal('tabular'),
    columns: Type.Array(Type.Object({ name: Type.String(), type: Type.Union([Type.Literal('num'), Type.Literal('cat')]) })),
    layout: Type.Array(Type.Union([Type.Object({ kind: Type.Literal('num'), mean: Type.Number(), std: Type.Number() }), Type.Object({ kind: Type.Literal('cat'), values: Type.Array(Type.String()), other: Type.Boolean() })])),
  }),
  Type.Object({ modality: Type.Literal('audio'), sampleRate: Type.Number(), nMfcc: Type.Integer(), nMels: Type.Integer() }),
]);

const PriorShiftSchema = Type.Object({
  labelPrior: Numbers,
  poolPrior: Numbers,
  /** False: EM's estimate was not applied and the labels' prior kept (absent in older rows: applied). */
  applied: Type.Optional(Type.Boolean()),
  items: Type.Optional(Type.Number()),
  iterations: Type.Optional(Type.Number()),
  converged: Type.Optional(Type.Boolean()),
  collapsed: Type.Optional(Type.Array(Type.String())),
  validation: Type.Optional(Type.Unknown()),
});

const PromotionSchema = Type.Object({
  /** Absent (or no promotion at all): registered before promotion existed, and it served. */
  promoted: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String()),
  incumbent: Type.Optional(Nullable(Type.Number())),
  items: Type.Optional(Type.Number()),
  newRight: Type.Optional(Nullable(Type.Number())),
  incumbentRight: Type.Optional(Nullable(Type.Number())),
  incumbentOnly: Type.Optional(Nullable(Type.Number())),
  newOnly: Type.Optional(Nullable(Type.Number())),
  pWorse: Type.Optional(Nullable(Type.Number())),
  alpha: Type.Optional(Type.Number()),
});

/** How the loop trained and chose a classifier; every field is optional in older rows. */
const Provenance = {
  method: Type.Optional(Type.String()),
  requested: Type.Optional(Type.String()),
  seed: Type.Optional(Type.Number()),
  validation: Type.Optional(
    Type.Object({
      rule: Type.String(),
      fraction: Type.Number(),
      items: Numbers,
      linear: Nullable(Type.Number()),
      fineTune: Nullable(Type.Number()),
      challenges: Type.Optional(Type.Array(Type.Unknown())),
    }),
  ),
  fineTune: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
  priorShift: Type.Optional(PriorShiftSchema),
  promotion: Type.Optional(PromotionSchema),
  /** In words: what kind of head this is. */
  head: Type.Optional(Type.String()),
};

const Classes = Type.Array(Type.String(), { minItems: 2 });
const LinearHeadFields = { classes: Classes, lambda: Type.Optional(Type.Number()), temperature: Type.Optional(Type.Number()), W: Numbers, b: Numbers, mean: Numbers, std: Numbers };

export const SslHeadParams = Type.Object({ ...Provenance, features: Type.Literal('ssl'), ...LinearHeadFields });
export const RawHeadParams = Type.Object({ ...Provenance, features: Type.Literal('raw'), ...LinearHeadFields, featurizer: Type.Optional(FeaturizerSchema) });
export const FineTunedParams = Type.Object({ ...Provenance, features: Type.Literal('encoder'), classes: Type.Optional(Classes), temperature: Type.Optional(Type.Number()) });
export type SslHeadParams = Static<typeof SslHeadParams>;
export type RawHeadParams = Static<typeof RawHeadParams>;
export type FineTunedParams = Static<typeof FineTunedParams>;
export type ClassifierParams = SslHeadParams | RawHeadParams | FineTunedParams;
export type PriorShiftParams = Static<typeof PriorShiftSchema>;

const BY_FEATURES = { ssl: SslHeadParams, raw: RawHeadParams, encoder: FineTunedParams } as const;
type Features = keyof typeof BY_FEATURES;
const isFeatures = (f: unknown): f is Features => typeof f === 'string' && Object.hasOwn(BY_FEATURES, f);

/** `value` checked against `schema`, or a UserError naming the model and the first field that does not fit. */
function parse<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const e = Value.Errors(schema, value).First();
  const field = e?.path ? `.${e.path.slice(1).replaceAll('/', '.')}` : '';
  throw new UserError(`${what}: params${field}: ${e?.message ?? 'does not fit'}${e && e.value !== undefined ? ` (got ${JSON.stringify(e.value)?.slice(0, 80)})` : ''}`);
}

export function encoderParams(model: ModelRecord): EncoderParams {
  if (model.kind !== 'encoder') throw new UserError(`model ${model.id} is of kind ${model.kind}, not an encoder`);
  return parse(EncoderParams, model.params, `encoder ${model.id}`);
}

/** A registered classifier, validated: what it reads and everything needed to predict with it. */
export type RegisteredClassifier = { id: number; classes: string[]; priorShift: { labelPrior: number[]; poolPrior: number[] } | null; promoted: boolean } & (
  | { features: 'ssl'; encoderId: number; head: Head; params: SslHeadParams }
  | { features: 'raw'; head: Head; featurizer: RawFeaturizer | null; params: RawHeadParams }
  | { features: 'encoder'; checkpointPath: string; params: FineTunedParams }
);

/** Reads and validates a classifier row; throws a UserError naming the model and the field that does not fit. */
export function readClassifier(model: ModelRecord): RegisteredClassifier {
  if (model.kind !== 'classifier') throw new UserError(`model ${model.id} is of kind ${model.kind}, not a classifier (\`tessera loop\` trains and registers classifiers)`);
  const what = `classifier ${model.id}`;
  const features = model.params.features;
  if (!isFeatures(features)) throw new UserError(`${what}: params.features must be one of ${Object.keys(BY_FEATURES).join(', ')} (got ${JSON.stringify(features) ?? 'nothing'})`);
  const p = parse(BY_FEATURES[features], model.params, what);
  const classes = p.classes ?? [];
  const shift = p.priorShift;
  // applied: false — EM's estimate collapsed or did not help, and the loop kept the labels' prior.
  const priorShift = shift && shift.applied !== false ? shift : null;
  if (priorShift && (priorShift.labelPrior.length !== classes.length || priorShift.poolPrior.length !== classes.length)) {
    throw new UserError(`${what}: params.priorShift needs labelPrior and poolPrior of ${classes.length} classes each`);
  }
  const common = { id: model.id, classes, priorShift: priorShift ? { labelPrior: priorShift.labelPrior, poolPrior: priorShift.poolPrior } : null, promoted: p.promotion?.promoted !== false };
  if (p.features === 'encoder') {
    if (!model.checkpointPath) throw new UserError(`${what}: a fine-tuned classifier needs its checkpoint folder (checkpointPath), and has none`);
    return { ...common, features: 'encoder', checkpointPath: model.checkpointPath, params: p };
  }
  const head = headOf(p, what);
  if (p.features === 'ssl') {
    if (model.parentId === null) throw new UserError(`${what} has no encoder (parent model) recorded`);
    return { ...common, features: 'ssl', encoderId: model.parentId, head, params: p };
  }
  return { ...common, features: 'raw', head, featurizer: p.featurizer ?? null, params: p };
}

/** Whether a classifier row serves (or last served) suggestions: promoted, or registered before promotion was recorded. */
export function wasPromoted(model: ModelRecord): boolean {
  const promotion = model.params.promotion;
  if (promotion === undefined) return true;
  return parse(Type.Object({ promotion: PromotionSchema }), { promotion }, `classifier ${model.id}`).promotion.promoted !== false;
}

function headOf(p: SslHeadParams | RawHeadParams, what: string): Head {
  const C = p.classes.length;
  const dim = p.mean.length;
  const sizes: Array<[string, number, number]> = [
    ['W', p.W.length, dim * C],
    ['b', p.b.length, C],
    ['std', p.std.length, dim],
  ];
  for (const [field, got, want] of sizes) if (got !== want) throw new UserError(`${what}: params.${field} has ${got} values, a head of ${dim} inputs × ${C} classes needs ${want}`);
  return {
    model: { W: Float64Array.from(p.W), b: Float64Array.from(p.b), dim, classes: C, mean: Float64Array.from(p.mean), std: Float64Array.from(p.std), lambda: p.lambda ?? 0 },
    temperature: p.temperature ?? 1,
    classes: p.classes,
  };
}

/** A linear head's fitted numbers, as a row stores them. */
export function headParams(head: Head): Pick<SslHeadParams, 'lambda' | 'temperature' | 'W' | 'b' | 'mean' | 'std'> {
  return { lambda: head.model.lambda, temperature: head.temperature, W: Array.from(head.model.W), b: Array.from(head.model.b), mean: Array.from(head.model.mean), std: Array.from(head.model.std) };
}

/** The fields of a classifier's `metrics` a learning curve reads; rows that are not a loop round's (no round or test accuracy) have none. */
const RoundMetricsRead = Type.Object({
  round: Type.Number(),
  labelledItems: Type.Optional(Nullable(Type.Number())),
  test: Type.Object({ accuracy: Type.Number(), macroF1: Type.Optional(Type.Number()), ece: Type.Optional(Type.Number()) }),
});
export type RoundMetrics = Static<typeof RoundMetricsRead>;

export function roundMetrics(metrics: unknown): RoundMetrics | null {
  return Value.Check(RoundMetricsRead, metrics) ? metrics : null;
}

// ---- writers ----

/** What a classifier row's `metrics` holds (the loop's round). */
export interface ClassifierMetrics {
  test: Metrics;
  validation: { items: number; linear: number | null; fineTune: number | null };
  method: string;
  labelledItems: number;
  round: number;
  promoted: boolean;
}

interface Lineage {
  projectId: number;
  pretext: string | null;
  parentId: number | null;
  datasetId: number | null;
  taxonomyVersion: number | null;
  checkpointPath: string | null;
}

/** Registers a classifier; its params are checked against the reader's format first, so nothing unreadable is stored. */
export async function registerClassifier(db: Db, m: Lineage & { params: ClassifierParams; metrics: ClassifierMetrics }): Promise<number> {
  const features = m.params.features;
  const p = parse(BY_FEATURES[features], m.params, `classifier to register (${features})`);
  return registerModel(db, { ...m, kind: 'classifier', params: { ...p }, metrics: { ...m.metrics } });
}

export async function registerEncoder(db: Db, m: Omit<Lineage, 'parentId' | 'taxonomyVersion'> & { params: EncoderParams; metrics: Record<string, unknown> }): Promise<number> {
  const params = parse(EncoderParams, m.params, 'encoder to register');
  return registerModel(db, { ...m, kind: 'encoder', parentId: null, taxonomyVersion: null, params: { ...params } });
}
