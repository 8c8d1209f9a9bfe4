import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Request schemas shared by the route plugins (each plugin keeps its own beside its routes). */
export const ProjectName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const Id = Type.Integer({ minimum: 1, maximum: 2147483647 });
export const LabelList = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 });
/**
 * Answers by question name. Each answer's shape depends on its question's kind and is checked
 * against the taxonomy and the item by src/label/questions.ts (messages name the field, e.g.
 * `body/answers/entities/2/end`); unknown fields inside an answer are refused there.
 */
export const Answers = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }), Type.Unknown(), {
  additionalProperties: false,
  maxProperties: 20,
  description: 'question name → answer: ["label", …] (single/multi), [{"start","end","label"}] (spans: code-point offsets; segments: seconds), [{"x","y","w","h","label"}] (boxes: source pixels), n (rating), "…" (text)',
});

export const ProjectParams = Type.Object({ project: ProjectName }, { additionalProperties: false });
export type ProjectParams = Static<typeof ProjectParams>;

export const withProject = <P extends Record<string, TSchema>>(props: P) => Type.Object({ project: ProjectName, ...props }, { additionalProperties: false });

/**
 * Every /api/ route describes all of its input (src/server/security.ts refuses one that does
 * not): a route without query parameters says so (`?anything` is a 400), and a write without a
 * body takes none (absent, or `{}`; anything else is a 400).
 */
export const NoQuery = Type.Object({}, { additionalProperties: false, description: 'no query parameters' });
export const NoBody = Type.Object({}, { additionalProperties: false, description: 'no body (absent, or {})' });

export const Page = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, description: 'keyset pagination: ids greater than this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type Page = Static<typeof Page>;

export const ErrorReply = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });

/** The standard error responses, for the OpenAPI document. */
export const errors = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
};
