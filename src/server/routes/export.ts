import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { exportLabels } from '../../label/export.ts';
import { authOf } from '../auth.ts';
import { ProjectParams } from '../schemas.ts';

const ExportQuery = Type.Object({ format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv'), Type.Literal('label-studio')], { default: 'jsonl' }) }, { additionalProperties: false });

/** Export of final labels with provenance (audit-logged). */
export const exportRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams; Querystring: Static<typeof ExportQuery> }>(
    '/api/projects/:project/export',
    { config: { permission: 'export' }, schema: { tags: ['export'], summary: 'final labels with provenance as JSONL, CSV or Label Studio JSON', params: ProjectParams, querystring: ExportQuery } },
    async (req, reply) => {
      const { project, actor } = authOf(req);
      const r = await exportLabels(store, project, actor, req.query.format ?? 'jsonl');
      const ext = r.format === 'label-studio' ? 'json' : r.format;
      return reply.type(r.contentType).header('content-disposition', `attachment; filename="${project.name}-labels.${ext}"`).send(r.body);
    },
  );
};
