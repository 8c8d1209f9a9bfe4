import type { FastifyPluginAsync } from 'fastify';
import { parseJson } from '../../core/json.ts';
import type { Store } from '../../store/db.ts';
import { verifyStore } from '../../label/audit-verify.ts';
import { auditKeyFromEnv } from '../../store/audit-key.ts';
import { authOf } from '../auth.ts';
import { Page, ProjectParams, NoQuery } from '../schemas.ts';

/** The audit log: a project's events, and verification of the whole hash chain. */
export const auditRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams; Querystring: Page }>(
    '/api/projects/:project/audit',
    { config: { permission: 'audit.read' }, schema: { tags: ['audit'], summary: "the project's audit events, oldest first", params: ProjectParams, querystring: Page } },
    async (req) => {
      const rows = await store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('project_id', '=', authOf(req).project.id)
        .where('seq', '>', req.query.after ?? 0)
        .orderBy('seq')
        .limit(req.query.limit ?? 100)
        .execute();
      return { events: rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, payload: parseJson(r.payload, {}), prevHash: r.prev_hash, hash: r.hash })) };
    },
  );
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/audit/verify',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: "verify the hash chain of the whole log (keyed part with the server's audit key), then replay the project's events against its labelling rows; names the first bad event or row",
        params: ProjectParams,
        querystring: NoQuery,
      },
    },
    async (req) => verifyStore(store, { key: auditKeyFromEnv(), project: authOf(req).project.id }),
  );
};
