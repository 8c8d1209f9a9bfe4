import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/db.ts';
import { getBlob, getItem, listItems } from '../../store/items.ts';
import { annotatorView, wasServed } from '../../label/assignment.ts';
import { listAnnotations } from '../../label/results.ts';
import { authOf, type Auth } from '../auth.ts';
import { Id, ProjectParams, withProject, NoQuery } from '../schemas.ts';
import type { Modality } from '../../core/modality.ts';
import type { Project } from '../../store/projects.ts';

const ItemParams = withProject({ item: Id });
type ItemParams = Static<typeof ItemParams>;

/** Keyset page (`after` = the `next` of the previous page) with optional filters, each served by an index (007_scale). */
const ItemsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, description: 'keyset pagination: ids greater than this (the previous page\'s `next`)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    modality: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('image'), Type.Literal('audio'), Type.Literal('tabular')])),
    label: Type.Optional(Type.String({ maxLength: 200, description: 'source label (the label the data came with)' })),
  },
  { additionalProperties: false },
);
type ItemsQuery = Static<typeof ItemsQuery>;

/**
 * Items. Annotators may fetch only items they have been served, and see content only (no
 * source label, no metadata: either may carry a label); everyone else sees the whole item.
 */
export const itemRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  const visible = async (auth: Auth & { project: Project }, itemId: number) => {
    if (auth.role === 'annotator' && !(await wasServed(store.db, auth.user.id, itemId))) throw new NotFoundError(`item ${itemId}`);
    return getItem(store.db, auth.project.id, itemId);
  };

  app.get<{ Params: ProjectParams; Querystring: ItemsQuery }>(
    '/api/projects/:project/items',
    { config: { permission: 'items.read' }, schema: { tags: ['items'], summary: 'items in import order with their labelling status (keyset pages; filters: modality, source label)', params: ProjectParams, querystring: ItemsQuery } },
    async (req) => {
      const { project } = authOf(req);
      const items = await listItems(store.db, project.id, { after: req.query.after, limit: req.query.limit ?? 100, modality: req.query.modality as Modality | undefined, sourceLabel: req.query.label });
      const ids = items.map((i) => i.id);
      const states = ids.length ? await store.db.selectFrom('label_items').select(['item_id', 'status', 'round', 'priority']).where('item_id', 'in', ids).execute() : [];
      const gold = new Set(ids.length ? (await store.db.selectFrom('gold_items').select('item_id').where('item_id', 'in', ids).execute()).map((g) => g.item_id) : []);
      const st = new Map(states.map((s) => [s.item_id, s]));
      return {
        items: items.map((i) => ({ ...i, labelling: { status: st.get(i.id)?.status ?? 'open', round: st.get(i.id)?.round ?? 0, priority: st.get(i.id)?.priority ?? null, gold: gold.has(i.id) } })),
        next: items.length === (req.query.limit ?? 100) ? items[items.length - 1].id : null,
      };
    },
  );
  app.get<{ Params: ItemParams }>(
    '/api/projects/:project/items/:item',
    { config: { permission: 'project.read' }, schema: { tags: ['items'], summary: 'one item (annotators: only items served to them, content only)', params: ItemParams, querystring: NoQuery } },
    async (req) => {
      const auth = authOf(req);
      const item = await visible(auth, req.params.item);
      return auth.role === 'annotator' ? annotatorView(item) : item;
    },
  );
  app.get<{ Params: ItemParams }>(
    '/api/projects/:project/items/:item/content',
    { config: { permission: 'project.read' }, schema: { tags: ['items'], summary: "the item's bytes (image, audio) or text", params: ItemParams, querystring: NoQuery } },
    async (req, reply) => {
      const item = await visible(authOf(req), req.params.item);
      if (item.blob) {
        const b = await getBlob(store.db, item.blob.sha256);
        return reply.type(b.mime).send(Buffer.from(b.bytes));
      }
      if (item.text !== null) return reply.type('text/plain; charset=utf-8').send(item.text);
      return reply.type('application/json').send(JSON.stringify(item.values));
    },
  );
  app.get<{ Params: ItemParams }>(
    '/api/projects/:project/items/:item/annotations',
    { config: { permission: 'annotations.read' }, schema: { tags: ['items'], summary: "every annotation of an item, with annotators (never for annotators)", params: ItemParams, querystring: NoQuery } },
    async (req) => {
      const { project } = authOf(req);
      await getItem(store.db, project.id, req.params.item);
      return { annotations: await listAnnotations(store.db, project.id, { itemId: req.params.item, limit: 1000 }) };
    },
  );
};

