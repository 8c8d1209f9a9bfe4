import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { createWebhook, deleteWebhook, listDeliveries, listWebhooks, WEBHOOK_EVENTS } from '../../label/webhooks.ts';
import { authOf } from '../auth.ts';
import { Id, ProjectParams, withProject, NoQuery, NoBody } from '../schemas.ts';

const WebhookParams = withProject({ webhook: Id });
const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 8, maxLength: 2000 }),
    events: Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { minItems: 1 }),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200 })),
  },
  { additionalProperties: false },
);

/**
 * Webhooks (admin): signed HMAC-SHA256 POSTs to the configured URL, retried with back-off. A URL
 * whose host is not an allowed destination (see core/egress-policy.ts) is refused here, and again
 * by the dispatcher before each connection.
 */
export const webhookRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/webhooks',
    { config: { permission: 'webhooks.manage' }, schema: { tags: ['webhooks'], summary: 'configured webhooks (secrets are not shown)', params: ProjectParams, querystring: NoQuery } },
    async (req) => ({ webhooks: await listWebhooks(store.db, authOf(req).project.id) }),
  );
  app.post<{ Params: ProjectParams; Body: Static<typeof WebhookBody> }>(
    '/api/projects/:project/webhooks',
    { config: { permission: 'webhooks.manage' }, schema: { tags: ['webhooks'], summary: 'register a webhook; the signing secret is returned once', params: ProjectParams, body: WebhookBody, querystring: NoQuery } },
    async (req, reply) => {
      const { project, actor } = authOf(req);
      return reply.code(201).send(await createWebhook(store, project, actor, req.body, app.dispatcher.egress));
    },
  );
  app.delete<{ Params: Static<typeof WebhookParams> }>(
    '/api/projects/:project/webhooks/:webhook',
    { config: { permission: 'webhooks.manage' }, schema: { tags: ['webhooks'], summary: 'deactivate a webhook', params: WebhookParams, querystring: NoQuery, body: NoBody } },
    async (req) => {
      const { project, actor } = authOf(req);
      await deleteWebhook(store, project, actor, req.params.webhook);
      return { deleted: req.params.webhook };
    },
  );
  app.get<{ Params: Static<typeof WebhookParams> }>(
    '/api/projects/:project/webhooks/:webhook/deliveries',
    { config: { permission: 'webhooks.manage' }, schema: { tags: ['webhooks'], summary: 'recent deliveries with status, attempts and last error', params: WebhookParams, querystring: NoQuery } },
    async (req) => ({ deliveries: await listDeliveries(store.db, authOf(req).project.id, req.params.webhook) }),
  );
};
