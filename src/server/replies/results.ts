/** Reply schemas of the results routes: dashboard, agreement, reviews, final labels, map, audit verification (see common.ts). */
import { Type, type Static } from '@sinclair/typebox';
import { Answers, ClassKind, Dimensions, ItemRow, Modality, Nullable, Question, Role, Timestamp, literals } from './common.ts';
import { LabelStatus } from './labelling.ts';

const Count = Type.Integer();
const Labels = Type.Array(Type.String());
const LabelStatusName = literals(['open', 'review', 'done']);
const Source = literals(['consensus', 'review', 'import']);

/** GET …/dashboard. Sections whose step has not run yet are null or empty. */
export const Dashboard = Type.Object({
  project: Type.String(),
  role: Role,
  taxonomy: Nullable(Type.Object({ version: Type.Integer(), kind: Type.Optional(ClassKind), labels: Labels, questions: Type.Optional(Type.Array(Question)) })),
  /** Beyond one legacy question: per question, decided labels and agreement. */
  questions: Type.Optional(Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), labels: Type.Array(Type.Object({ label: Type.String(), count: Count })), agreement: Type.Unknown() }))),
  status: LabelStatus,
  labels: Type.Array(Type.Object({ label: Type.String(), count: Count, current: Type.Boolean() })),
  decided: Type.Object({ consensus: Count, review: Count, meanConfidence: Nullable(Type.Number()) }),
  reviews: Type.Object({ open: Count, closed: Count, byReason: Type.Record(Type.String(), Count), oldestOpenAt: Nullable(Timestamp) }),
  annotations: Type.Object({ submitted: Count, skipped: Count, annotators: Count, medianTimeMs: Nullable(Type.Number()) }),
  activity: Nullable(Type.Object({ unit: Type.String(), annotations: Type.Array(Type.Object({ at: Type.String(), n: Count })), decided: Type.Array(Type.Object({ at: Type.String(), n: Count })) })),
  learningCurve: Type.Array(
    Type.Object({ round: Type.Integer(), model: Type.Integer(), at: Timestamp, labelledItems: Nullable(Count), accuracy: Type.Number(), macroF1: Nullable(Type.Number()), ece: Nullable(Type.Number()) }),
  ),
  economics: Nullable(Type.Object({ at: Timestamp, rounds: Nullable(Type.Integer()), summary: Type.String() })),
  auditFindings: Nullable(Type.Object({ run: Type.Integer(), at: Timestamp, items: Count, byKind: Type.Array(Type.Object({ kind: Type.String(), action: Type.String(), count: Count })) })),
  alerts: Type.Array(Type.Object({ id: Type.Integer(), kind: Type.String(), subject: Type.String(), message: Type.String(), createdAt: Timestamp })),
});
export type Dashboard = Static<typeof Dashboard>;

const Coefficient = Nullable(Type.Number());

/** GET …/agreement (current rounds). kind null: the taxonomy has no single/multi question. */
export const Agreement = Type.Object({
  kind: Nullable(Type.String()),
  items: Count,
  annotators: Count,
  answers: Count,
  overall: Nullable(Type.Object({ percent: Coefficient, fleiss: Coefficient, krippendorff: Coefficient, gwet: Coefficient, cohen: Coefficient })),
  perLabel: Type.Array(Type.Object({ label: Type.String(), kappa: Coefficient, prevalence: Coefficient })),
  pairwise: Type.Object({ annotators: Labels, kappa: Type.Array(Type.Array(Coefficient)), n: Type.Array(Type.Array(Count)) }),
  /** Beyond one legacy question: per question. */
  questions: Type.Optional(Type.Array(Type.Unknown())),
  /** Only when some current answers were given without blindness (solo labelling). */
  nonBlindAnswers: Type.Optional(Count),
  note: Type.Optional(Type.String()),
});
export type Agreement = Static<typeof Agreement>;

export const Suggestion = Type.Object({ labels: Labels, source: Type.Optional(Type.String()), confidence: Type.Optional(Nullable(Type.Number())) });
export type Suggestion = Static<typeof Suggestion>;

/** An annotation as provenance and review show it. */
export const Answer = Type.Object({
  id: Type.Integer(),
  annotator: Type.String(),
  labels: Labels,
  at: Timestamp,
  timeMs: Type.Integer(),
  taxonomyVersion: Type.Integer(),
  suggestion: Nullable(Suggestion),
  suggestionAccepted: Nullable(Type.Boolean()),
  /** Only on an answer given without blindness (solo labelling). */
  blind: Type.Optional(Type.Literal(false)),
  answers: Type.Optional(Answers),
});
export type Answer = Static<typeof Answer>;

/** A raw annotation with its annotator (GET …/annotations, …/items/:item/annotations). */
export const Annotation = Type.Object({
  id: Type.Integer(),
  itemId: Type.Integer(),
  annotator: Type.String(),
  round: Type.Integer(),
  labels: Labels,
  taxonomyVersion: Type.Integer(),
  timeMs: Type.Integer(),
  suggestion: Nullable(Suggestion),
  suggestionAccepted: Nullable(Type.Boolean()),
  skipped: Type.Boolean(),
  skipReason: Nullable(Type.String()),
  question: Type.Boolean(),
  comment: Nullable(Type.String()),
  createdAt: Timestamp,
  blind: Type.Boolean(),
  answers: Type.Optional(Answers),
});
export type Annotation = Static<typeof Annotation>;
export const Annotations = Type.Object({ annotations: Type.Array(Annotation) });

export const ReviewEntry = Type.Object({
  id: Type.Integer(),
  itemId: Type.Integer(),
  round: Type.Integer(),
  reason: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown()),
  proposal: Nullable(Labels),
  proposalAnswers: Nullable(Answers),
  status: literals(['open', 'closed']),
  createdAt: Timestamp,
  closedAt: Nullable(Timestamp),
  reviewId: Nullable(Type.Integer()),
});
export type ReviewEntry = Static<typeof ReviewEntry>;
export const Reviews = Type.Object({ reviews: Type.Array(ReviewEntry) });

/** GET …/reviews/:review: the entry with the item, its annotations, the gold and final labels. */
export const ReviewDetail = Type.Composite([
  ReviewEntry,
  Type.Object({
    item: ItemRow,
    dimensions: Type.Optional(Nullable(Dimensions)),
    annotations: Type.Array(Answer),
    gold: Nullable(Labels),
    final: Nullable(Type.Object({ labels: Labels, source: Nullable(Source), taxonomyVersion: Nullable(Type.Integer()), answers: Type.Optional(Answers) })),
  }),
]);
export type ReviewDetail = Static<typeof ReviewDetail>;

/** GET …/labels/:item: the final label and its provenance (nulls while not decided). */
export const FinalLabel = Type.Object({
  itemId: Type.Integer(),
  sourceKey: Type.String(),
  status: LabelStatusName,
  labels: Nullable(Labels),
  source: Nullable(Source),
  confidence: Nullable(Type.Number()),
  taxonomyVersion: Nullable(Type.Integer()),
  decidedAt: Nullable(Timestamp),
  provenance: Nullable(Type.Record(Type.String(), Type.Unknown())),
  answers: Type.Optional(Answers),
});
export type FinalLabel = Static<typeof FinalLabel>;

export const MapItem = Type.Object({
  id: Type.Integer(),
  modality: Modality,
  /** Cut at 280 characters. */
  text: Nullable(Type.String()),
  sourceLabel: Nullable(Type.String()),
  status: LabelStatusName,
  labels: Nullable(Labels),
  confidence: Nullable(Type.Number()),
  suggestion: Nullable(Type.Object({ labels: Labels, confidence: Nullable(Type.Number()) })),
});
export type MapItem = Static<typeof MapItem>;

/** GET …/map: vectors (base64 little-endian float32, count × dim) and what the map colours by. */
export const MapData = Type.Object({
  source: Type.Object({
    kind: literals(['model', 'raw', 'none']),
    model: Type.Optional(Type.Integer()),
    modelKind: Type.Optional(Type.String()),
    pretext: Type.Optional(Nullable(Type.String())),
    createdAt: Type.Optional(Timestamp),
    embedded: Type.Optional(Count),
    features: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
  }),
  total: Count,
  count: Count,
  dim: Type.Integer(),
  vectors: Type.String(),
  items: Type.Array(MapItem),
  labels: Labels,
});
export type MapData = Static<typeof MapData>;

/** POST …/labels/bulk. */
export const BulkLabelled = Type.Object({ labelled: Count, skipped: Type.Array(Type.Object({ itemId: Type.Integer(), reason: Type.String() })), labels: Labels });
export type BulkLabelled = Static<typeof BulkLabelled>;

const TableCounts = Type.Record(Type.String(), Count);
const StateFinding = Type.Object({ table: Type.String(), row: Type.Record(Type.String(), Type.Integer()), why: Type.String(), seq: Nullable(Type.Integer()), message: Type.String() });

/** GET …/audit/verify: the hash chain, then the replay of the project's rows (src/label/audit-verify.ts). */
export const VerifyResult = Type.Object({
  ok: Type.Boolean(),
  events: Count,
  verified: Count,
  head: Nullable(Type.Object({ seq: Type.Integer(), hash: Type.String() })),
  firstBad: Nullable(
    Type.Object({ seq: Nullable(Type.Integer()), kind: Type.String(), message: Type.String(), table: Type.Optional(Type.String()), row: Type.Optional(Type.Record(Type.String(), Type.Integer())), why: Type.Optional(Type.String()) }),
  ),
  keyed: Nullable(Type.Object({ from: Type.Integer(), keyId: Type.String(), verified: Type.Boolean(), message: Nullable(Type.String()) })),
  state: Nullable(Type.Object({ checked: TableCounts, partial: TableCounts, unverifiable: TableCounts, mismatched: TableCounts, first: Nullable(StateFinding) })),
});
export type VerifyResult = Static<typeof VerifyResult>;
