/**
 * Reply schemas: what the server sends on the routes the web UI calls, as TypeBox schemas. One
 * source for both sides: the web client's types are `Static<typeof …>` of these (type-only
 * imports, so no TypeBox code reaches the bundle), and test/server/reply-schemas.test.ts checks
 * real replies against them, so they cannot drift from the server.
 *
 * They are not attached to the routes as Fastify `response` schemas: fast-json-stringify would
 * then serialise replies by them, dropping what they leave out. Objects are open: a reply may
 * carry more than is listed (clients ignore the rest), never less.
 *
 * Pure (no Node imports): the web build (src/web/tsconfig.json) compiles these files too.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ROLES } from '../../label/roles.ts';
import { MODALITIES } from '../../core/modality.ts';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const literals = <T extends string>(xs: readonly T[]) => Type.Union(xs.map((x) => Type.Literal(x)));

export const Role = literals(ROLES);
export const Modality = literals(MODALITIES);
export type Modality = Static<typeof Modality>;
/** ISO-8601 timestamps, as the store writes them. */
export const Timestamp = Type.String();
/** Answers by question name (shapes per question kind: src/label/questions.ts). */
export const Answers = Type.Record(Type.String(), Type.Unknown());

export const LabelDef = Type.Object({ name: Type.String(), description: Type.Optional(Type.String()), examples: Type.Optional(Type.Array(Type.String())) });
export type LabelDef = Static<typeof LabelDef>;

export const Question = Type.Object({
  name: Type.String(),
  // The kinds are src/label/questions.ts's QUESTION_KINDS (that module is not pure).
  kind: Type.String(),
  labels: Type.Optional(Type.Array(LabelDef)),
  overlapping: Type.Optional(Type.Boolean()),
  scale: Type.Optional(Type.Object({ min: Type.Integer(), max: Type.Integer(), labels: Type.Optional(Type.Array(Type.String())) })),
  part: Type.Optional(Type.String()),
  required: Type.Boolean(),
});
export type Question = Static<typeof Question>;

const Step = { question: Type.Optional(Type.String()) };
export const MappingStep = Type.Union([
  Type.Object({ op: Type.Literal('rename'), from: Type.String(), to: Type.String(), ...Step }),
  Type.Object({ op: Type.Literal('merge'), from: Type.Array(Type.String()), to: Type.String(), ...Step }),
  Type.Object({ op: Type.Literal('split'), from: Type.String(), to: Type.Array(Type.String()), ...Step }),
]);

export const ClassKind = Type.Union([Type.Literal('single'), Type.Literal('multi')]);
export type ClassKind = Static<typeof ClassKind>;

/** A taxonomy version (GET …/taxonomy). `kind`/`labels`: its single/multi question, when it has one. */
export const Taxonomy = Type.Object({
  version: Type.Integer(),
  kind: Type.Optional(ClassKind),
  labels: Type.Optional(Type.Array(LabelDef)),
  questions: Type.Array(Question),
  guidelines: Type.String(),
  mapping: Nullable(Type.Array(MappingStep)),
  createdAt: Timestamp,
  createdBy: Nullable(Type.String()),
});
export type Taxonomy = Static<typeof Taxonomy>;

/** What region answers are checked against: text length in code points, image source pixels, audio seconds. */
export const Dimensions = Type.Object({ length: Type.Optional(Type.Number()), width: Type.Optional(Type.Number()), height: Type.Optional(Type.Number()), duration: Type.Optional(Type.Number()) });

/** An item as staff see it (GET …/items/:item). */
export const ItemRow = Type.Object({
  id: Type.Integer(),
  modality: Modality,
  text: Nullable(Type.String()),
  values: Nullable(Type.Record(Type.String(), Type.Unknown())),
  blob: Nullable(Type.Object({ sha256: Type.String(), mime: Type.String(), size: Type.Integer() })),
  meta: Type.Record(Type.String(), Type.Unknown()),
  locator: Type.String(),
  sourceKey: Type.String(),
  sourceId: Type.Integer(),
  /** Where the item's data lives (src/store/items.ts). */
  residency: Type.String(),
  sha256: Type.String(),
  sourceLabel: Nullable(Type.String()),
  createdAt: Timestamp,
});
export type ItemRow = Static<typeof ItemRow>;

export const AuditEvent = Type.Object({
  seq: Type.Integer(),
  at: Timestamp,
  actor: Type.String(),
  action: Type.String(),
  subject: Type.String(),
  payload: Type.Record(Type.String(), Type.Unknown()),
  /** GET …/audit only (not …/audit/recent). */
  prevHash: Type.Optional(Type.String()),
  hash: Type.Optional(Type.String()),
});
export type AuditEvent = Static<typeof AuditEvent>;
export const AuditEvents = Type.Object({ events: Type.Array(AuditEvent) });
