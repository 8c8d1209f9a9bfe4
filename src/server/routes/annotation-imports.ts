import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { UserError } from '../../core/errors.ts';
import type { Store } from '../../store/db.ts';
import { ANNOTATION_IMPORT_AS, ANNOTATION_IMPORT_FORMATS, importAnnotations } from '../../label/import-annotations.ts';
import { authOf } from '../auth.ts';
import { ProjectParams } from '../schemas.ts';

/** The largest annotations file the route reads (it is held in memory and imported as one transaction). */
export const ANNOTATION_IMPORT_LIMIT = 64 << 20;

const ImportQuery = Type.Object(
  {
    format: Type.Union(ANNOTATION_IMPORT_FORMATS.map((f) => Type.Literal(f)), { description: "jsonl (Tessera's export, or one record per line) or label-studio (a JSON array of tasks)" }),
    as: Type.Union(ANNOTATION_IMPORT_AS.map((a) => Type.Literal(a)), { description: 'final: finished annotations become final labels (source import); predictions: pre-annotations shown with tasks' }),
    name: Type.String({ minLength: 1, maxLength: 200, description: "the file's name (errors name NAME:LINE or NAME[task i])" }),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "predictions: the suggestions' source (default: the file's model_version, else import:NAME)" })),
  },
  { additionalProperties: false },
);

/**
 * Annotations made elsewhere (or exported from Tessera), for every question kind: the file is the
 * body (`Content-Type: application/octet-stream`), imported as one transaction
 * (src/label/import-annotations.ts). 201 with the report; 400 naming the record that does not fit.
 */
export const annotationImportRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.addContentTypeParser('application/octet-stream', { parseAs: 'string', bodyLimit: ANNOTATION_IMPORT_LIMIT }, (_req, body, done) => done(null, body));
  app.post<{ Params: ProjectParams; Querystring: Static<typeof ImportQuery> }>(
    '/api/projects/:project/annotations/import',
    {
      config: { permission: 'items.import' },
      bodyLimit: ANNOTATION_IMPORT_LIMIT,
      schema: {
        tags: ['results'],
        summary: `import finished annotations (as final labels) or predictions (as suggestions) for every question kind, from JSONL or Label Studio JSON sent as the body (application/octet-stream, up to ${ANNOTATION_IMPORT_LIMIT >> 20} MiB): all records or none`,
        consumes: ['application/octet-stream'],
        params: ProjectParams,
        querystring: ImportQuery,
        body: Type.Unknown({ description: "the file's bytes (UTF-8)" }),
      },
    },
    async (req, reply) => {
      const { project, actor } = authOf(req);
      if (typeof req.body !== 'string') throw new UserError('send the file as the request body with Content-Type: application/octet-stream');
      const q = req.query;
      const r = await importAnnotations(store, project, actor, req.body, { format: q.format, as: q.as, name: q.name, ...(q.source ? { source: q.source } : {}) });
      return reply.code(201).send(r);
    },
  );
};
