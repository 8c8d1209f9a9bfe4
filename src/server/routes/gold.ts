import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { goldReport, listGold, removeGold, setGold } from '../../label/gold.ts';
import { getLabelSettings } from '../../label/settings.ts';
import { authOf } from '../auth.ts';
import { BULK_BODY_LIMIT } from '../security.ts';
import { Id, LabelList, ProjectParams, withProject, NoQuery, NoBody } from '../schemas.ts';

const GoldBody = Type.Object({ items: Type.Array(Type.Object({ itemId: Id, labels: LabelList }, { additionalProperties: false }), { minItems: 1, maxItems: 10000 }) }, { additionalProperties: false });
const ItemParams = withProject({ item: Id });

/** Gold items (known labels mixed into queues) and measured annotator accuracy with alerts. */
export const goldRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/gold',
    { config: { permission: 'gold.read' }, schema: { tags: ['gold'], summary: 'gold items and their labels', params: ProjectParams, querystring: NoQuery } },
    async (req) => ({ gold: await listGold(store.db, authOf(req).project.id) }),
  );
  app.put<{ Params: ProjectParams; Body: Static<typeof GoldBody> }>(
    '/api/projects/:project/gold',
    { config: { permission: 'gold.write' }, bodyLimit: BULK_BODY_LIMIT, schema: { tags: ['gold'], summary: 'add or update gold items (items held out as a test split are refused: 409)', params: ProjectParams, body: GoldBody, querystring: NoQuery } },
    async (req) => {
      const { project, actor } = authOf(req);
      return setGold(store, project, actor, req.body.items);
    },
  );
  app.delete<{ Params: Static<typeof ItemParams> }>(
    '/api/projects/:project/gold/:item',
    { config: { permission: 'gold.write' }, schema: { tags: ['gold'], summary: 'remove a gold item', params: ItemParams, querystring: NoQuery, body: NoBody } },
    async (req) => {
      const { project, actor } = authOf(req);
      await removeGold(store, project, actor, req.params.item);
      return { removed: req.params.item };
    },
  );
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/gold/report',
    { config: { permission: 'gold.read' }, schema: { tags: ['gold'], summary: 'annotator accuracy on gold (Wilson intervals) and alerts', params: ProjectParams, querystring: NoQuery } },
    async (req) => {
      const { project } = authOf(req);
      return goldReport(store.db, project.id, await getLabelSettings(store.db, project.id));
    },
  );
};
