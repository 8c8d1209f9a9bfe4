import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '../../store/db.ts';
import { nextTask, ownAnnotations, releaseTask, skipTask, submitTask } from '../../label/assignment.ts';
import { authOf } from '../auth.ts';
import { Answers, Id, LabelList, Page, ProjectParams, withProject, NoQuery, NoBody } from '../schemas.ts';

const TaskParams = withProject({ task: Id });
type TaskParams = Static<typeof TaskParams>;
const SubmitBody = Type.Object(
  {
    labels: Type.Optional(LabelList),
    answers: Type.Optional(Answers),
    taxonomyVersion: Type.Integer({ minimum: 1, maximum: 2147483647, description: 'the version the task was served with' }),
    timeMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400000, description: 'time spent (default: since the lease began)' })),
    question: Type.Optional(Type.Boolean({ description: 'a question about the guidelines' })),
    comment: Type.Optional(Type.String({ maxLength: 10000 })),
  },
  { additionalProperties: false },
);
const SkipBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });

/**
 * The annotator's side, blind by construction: a task is the item's content, the taxonomy and
 * at most a suggestion's labels; a submit answers with ids only.
 */
export const taskRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.post<{ Params: ProjectParams }>(
    '/api/projects/:project/tasks/next',
    { config: { permission: 'task.annotate' }, schema: { tags: ['tasks'], summary: 'lease the next item to label (or get back the live lease); {"task": null} when none is left', params: ProjectParams, querystring: NoQuery, body: NoBody } },
    async (req) => {
      const { project, user } = authOf(req);
      return { task: await nextTask(store, project, user) };
    },
  );
  app.post<{ Params: TaskParams; Body: Static<typeof SubmitBody> }>(
    '/api/projects/:project/tasks/:task/submit',
    { config: { permission: 'task.annotate' }, schema: { tags: ['tasks'], summary: 'submit answers (by question) or labels (the single/multi question) for a leased task; 400 naming the field (body/answers/QUESTION/I/FIELD) when an answer does not fit the item; 409 when the lease expired or the taxonomy changed', params: TaskParams, body: SubmitBody, querystring: NoQuery } },
    async (req, reply) => {
      const { project, user } = authOf(req);
      return reply.code(201).send(await submitTask(store, project, user, req.params.task, req.body));
    },
  );
  app.post<{ Params: TaskParams; Body: Static<typeof SkipBody> }>(
    '/api/projects/:project/tasks/:task/skip',
    { config: { permission: 'task.annotate' }, schema: { tags: ['tasks'], summary: 'skip a task, with a reason', params: TaskParams, body: SkipBody, querystring: NoQuery } },
    async (req, reply) => {
      const { project, user } = authOf(req);
      return reply.code(201).send(await skipTask(store, project, user, req.params.task, req.body.reason));
    },
  );
  app.post<{ Params: TaskParams }>(
    '/api/projects/:project/tasks/:task/release',
    { config: { permission: 'task.annotate' }, schema: { tags: ['tasks'], summary: 'give a task back unanswered', params: TaskParams, querystring: NoQuery, body: NoBody } },
    async (req) => {
      const { project, user } = authOf(req);
      return releaseTask(store, project, user, req.params.task);
    },
  );
  app.get<{ Params: ProjectParams; Querystring: Page }>(
    '/api/projects/:project/annotations/mine',
    { config: { permission: 'task.annotate' }, schema: { tags: ['tasks'], summary: "the caller's own annotations", params: ProjectParams, querystring: Page } },
    async (req) => {
      const { project, user } = authOf(req);
      return { annotations: await ownAnnotations(store.db, project.id, user.id, req.query) };
    },
  );
};
