import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { EXPORT_FORMATS, openExport } from '../../label/export.ts';
import { authOf } from '../auth.ts';
import { ProjectParams } from '../schemas.ts';

const ExportQuery = Type.Object(
  {
    format: Type.Union(EXPORT_FORMATS.map((f) => Type.Literal(f)), { default: 'jsonl', description: 'jsonl, csv, label-studio: every question; conll, spans-jsonl: one spans question; coco: one boxes question' }),
    question: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'conll, spans-jsonl, coco: the question to export (default: the only one of its kind)' })),
    content: Type.Union([Type.Literal('include'), Type.Literal('none')], {
      default: 'include',
      description: "jsonl and csv: each item's text, row values or content URL, and metadata (include), or the labels alone (none); label-studio needs include",
    }),
  },
  { additionalProperties: false },
);

/**
 * Export of final labels with provenance and (`content=include`, the default) what was labelled
 * (src/label/export.ts, docs/export.md), audit-logged and streamed: chunked transfer, one page of
 * items read per chunk the client takes (Readable.from pulls the generator only as the socket
 * drains, so a slow client holds one page, not the project). `X-Tessera-Export-Items` is the
 * count audit-logged when it started. A failure mid-stream aborts the connection (the client sees
 * a truncated body, never a complete-looking one).
 */
export const exportRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams; Querystring: Static<typeof ExportQuery> }>(
    '/api/projects/:project/export',
    { config: { permission: 'export' }, schema: { tags: ['export'], summary: 'final labels with provenance and the labelled content as JSONL, CSV or Label Studio JSON (streamed)', params: ProjectParams, querystring: ExportQuery } },
    async (req, reply) => {
      const { project, actor } = authOf(req);
      const r = await openExport(store, project, actor, req.query.format ?? 'jsonl', { content: req.query.content ?? 'include', ...(req.query.question ? { question: req.query.question } : {}) });
      const ext = r.format === 'label-studio' || r.format === 'coco' ? 'json' : r.format === 'spans-jsonl' ? 'spans.jsonl' : r.format === 'conll' ? 'conll' : r.format;
      const body = Readable.from(r.chunks(), { objectMode: false, highWaterMark: 64 * 1024 });
      return reply
        .type(r.contentType)
        .header('content-disposition', `attachment; filename="${project.name}-labels.${ext}"`)
        .header('x-tessera-export-items', String(r.items))
        .send(body);
    },
  );
};
