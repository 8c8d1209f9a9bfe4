/** Reply schemas of the labelling routes: tasks, taxonomy versions, settings, imports (see common.ts). */
import { Type, type Static } from '@sinclair/typebox';
import { Answers, ClassKind, Dimensions, LabelDef, Modality, Nullable, Question, Role, Taxonomy, Timestamp, literals } from './common.ts';

/** What an annotator may see of an item: content only (dimensions: what region answers are checked against). */
export const TaskItem = Type.Object({
  id: Type.Integer(),
  modality: Modality,
  text: Nullable(Type.String()),
  values: Nullable(Type.Record(Type.String(), Type.Unknown())),
  content: Nullable(Type.Object({ mime: Type.String(), size: Type.Integer() })),
  dimensions: Type.Optional(Nullable(Dimensions)),
});
export type TaskItem = Static<typeof TaskItem>;

/** A leased task. `taxonomy.kind`/`labels`: its single/multi question, when it has one. */
export const Task = Type.Object({
  id: Type.Integer(),
  expiresAt: Timestamp,
  item: TaskItem,
  taxonomy: Type.Object({ version: Type.Integer(), kind: Type.Optional(ClassKind), labels: Type.Optional(Type.Array(LabelDef)), questions: Type.Array(Question), guidelines: Type.String() }),
  /** Labels only, never a source; confidence only from …/tasks/ahead while the project shows suggestions. */
  suggestion: Nullable(Type.Object({ labels: Type.Array(Type.String()), answers: Type.Optional(Answers), confidence: Type.Optional(Nullable(Type.Number())) })),
});
export type Task = Static<typeof Task>;

/** POST …/tasks/next. */
export const NextTask = Type.Object({ task: Nullable(Task) });
/** POST …/tasks/ahead (limit: the client holds as many live leases as it may). */
export const TaskAhead = Type.Object({ task: Nullable(Task), limit: Type.Boolean() });
export type TaskAhead = Static<typeof TaskAhead>;

export const TaxonomyVersions = Type.Object({ versions: Type.Array(Taxonomy) });
export type TaxonomyVersions = Static<typeof TaxonomyVersions>;

/** POST …/taxonomy (201). */
export const TaxonomyChange = Type.Object({
  taxonomy: Taxonomy,
  touched: Type.Array(Type.String()),
  touchedByQuestion: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
  sentToReview: Type.Integer(),
});
export type TaxonomyChange = Static<typeof TaxonomyChange>;

const LabelMapping = Type.Array(Type.Object({ from: Type.String(), to: Type.Array(Type.String()) }));

/** POST …/taxonomy/preview: what creating that version would do (nothing is written). */
export const TaxonomyPreview = Type.Object({
  version: Type.Integer(),
  previousVersion: Nullable(Type.Integer()),
  added: Type.Array(Type.String()),
  removed: Type.Array(Type.String()),
  mapping: LabelMapping,
  touched: Type.Array(Type.String()),
  questions: Type.Optional(
    Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), new: Type.Boolean(), added: Type.Array(Type.String()), removed: Type.Array(Type.String()), mapping: LabelMapping, touched: Type.Array(Type.String()) })),
  ),
  sentToReview: Type.Integer(),
  byState: Type.Record(Type.String(), Type.Integer()),
  items: Type.Array(
    Type.Object({
      itemId: Type.Integer(),
      round: Type.Integer(),
      state: Type.Union([Type.Literal('decided'), Type.Literal('labelling'), Type.Literal('review'), Type.Literal('gold')]),
      previous: Nullable(Type.Array(Type.String())),
      proposal: Nullable(Type.Array(Type.String())),
      previousAnswers: Type.Optional(Nullable(Answers)),
      proposalAnswers: Type.Optional(Nullable(Answers)),
    }),
  ),
});
export type TaxonomyPreview = Static<typeof TaxonomyPreview>;

/** GET (and PATCH) …/settings: how a project labels (src/label/settings.ts). */
export const LabelSettings = Type.Object({
  overlap: Type.Integer(),
  leaseSeconds: Type.Number(),
  consensus: Type.Object({ method: Type.String(), tie: Type.String(), seed: Type.Integer() }),
  reviewThreshold: Type.Number(),
  reviewOnDisagreement: Type.Boolean(),
  gold: Type.Object({ rate: Type.Number(), threshold: Type.Number(), minAnswers: Type.Integer() }),
  showSuggestions: Type.Boolean(),
  servePrioritisedOnly: Type.Boolean(),
  soloLabelling: Type.Boolean(),
});
export type LabelSettings = Static<typeof LabelSettings>;

/** Labelling counts (nothing here reveals a label). */
export const LabelStatus = Type.Object({
  items: Type.Integer(),
  gold: Type.Integer(),
  open: Type.Integer(),
  review: Type.Integer(),
  done: Type.Integer(),
  annotations: Type.Integer(),
  openReviews: Type.Integer(),
});
export type LabelStatus = Static<typeof LabelStatus>;

/** GET /api/projects/:project (status: not for annotators). */
export const ProjectSummary = Type.Object({ name: Type.String(), createdAt: Timestamp, role: Role, taxonomyVersion: Nullable(Type.Integer()), status: Type.Optional(LabelStatus) });
export type ProjectSummary = Static<typeof ProjectSummary>;

export const ImportReport = Type.Object({
  imported: Type.Integer(),
  unchanged: Type.Integer(),
  rejected: Type.Integer(),
  errors: Type.Array(Type.Object({ where: Type.String(), message: Type.String() })),
  redacted: Type.Optional(Type.Integer()),
  /** On a refusal for rejected records: the valid records, as they would have counted. */
  wouldImport: Type.Optional(Type.Object({ new: Type.Integer(), unchanged: Type.Integer() })),
});
export type ImportReport = Static<typeof ImportReport>;

/** POST …/imports, on success (201) and on refusal (400, with `error`). */
export const ImportOutcome = Type.Object({
  status: literals(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  job: Type.Integer(),
  file: Type.String(),
  format: Type.String(),
  report: Nullable(ImportReport),
  /** Refused for rejected records: how many valid records skip-invalid would import. */
  valid: Nullable(Type.Integer()),
  failure: Nullable(Type.String()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});
export type ImportOutcome = Static<typeof ImportOutcome>;
