import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { parseJson } from '../../core/json.ts';
import type { Store } from '../../store/db.ts';
import { labelStatus } from '../../label/results.ts';
import { findTaxonomy } from '../../label/taxonomies.ts';
import { labelNames } from '../../label/taxonomy.ts';
import { answerLabels, isLegacy, storedAnswers } from '../../label/questions.ts';
import { projectAgreement } from '../../label/agreement-report.ts';
import { scaleValues } from '../../consensus/rating.ts';
import { own } from '../../core/dict.ts';
import type { Conn } from '../../store/tx.ts';
import { roundMetrics } from '../../train/registry.ts';
import { authOf } from '../auth.ts';
import { ProjectParams, NoQuery } from '../schemas.ts';

const RecentQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })) }, { additionalProperties: false });

const n = (x: unknown) => Number(x ?? 0);

/**
 * Counts per time bucket of an ISO-8601 column: minutes over a short span, hours over up to a
 * month, days beyond (a prefix of the timestamp, so the same SQL works in both dialects).
 */
async function buckets(db: Conn, table: 'annotations' | 'label_items', column: 'created_at' | 'decided_at', projectId: number, span: { from: string; to: string }) {
  const ms = Date.parse(span.to) - Date.parse(span.from);
  const width = ms <= 6 * 3600e3 ? 16 : ms <= 31 * 86400e3 ? 13 : 10;
  let q = db
    .selectFrom(table)
    .select([sql<string>`substr(${sql.ref(column)}, 1, ${sql.lit(width)})`.as('at'), (e) => e.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .where(column, 'is not', null);
  if (table === 'annotations') q = q.where('skipped' as never, '=', 0 as never);
  const rows = await q.groupBy(sql`substr(${sql.ref(column)}, 1, ${sql.lit(width)})`).orderBy('at').execute();
  return { unit: width === 16 ? 'minute' : width === 13 ? 'hour' : 'day', rows: rows.map((r) => ({ at: r.at, n: n(r.n) })) };
}

/**
 * What the project dashboard shows, in one call: labelling progress, the final-label
 * distribution, how labels were decided, the review backlog, activity over time, the learning
 * curve per round (fine-tuned classifiers the loop registers), label economics (the loop's
 * last report), the latest corpus-audit findings and open alerts (drift monitors). Sections
 * whose step has not run yet come back empty. Nothing here reveals an individual answer.
 */
export const dashboardRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get<{ Params: ProjectParams }>(
    '/api/projects/:project/dashboard',
    { config: { permission: 'results.read' }, schema: { tags: ['results'], summary: 'the project dashboard: progress, label distribution, decisions, review backlog, activity, learning curve, economics, audit findings, alerts', params: ProjectParams, querystring: NoQuery } },
    async (req) => {
      const { project, role } = authOf(req);
      const db = store.db;
      const pid = project.id;
      const taxonomy = await findTaxonomy(db, pid);
      const status = await labelStatus(db, pid);

      const counts = new Map<string, number>();
      const decided = { consensus: 0, review: 0 };
      const confidence: number[] = [];
      for (const r of await db.selectFrom('label_items').select(['final_labels', 'final_source', 'final_confidence']).where('project_id', '=', pid).where('status', '=', 'done').execute()) {
        for (const l of parseJson<string[]>(r.final_labels, [])) counts.set(l, (counts.get(l) ?? 0) + 1);
        if (r.final_source === 'consensus' || r.final_source === 'review') decided[r.final_source]++;
        if (r.final_confidence !== null) confidence.push(Number(r.final_confidence));
      }
      const names = taxonomy ? labelNames(taxonomy) : [];
      const labels = [...names, ...[...counts.keys()].filter((l) => !names.includes(l)).sort()].map((label) => ({ label, count: counts.get(label) ?? 0, current: names.includes(label) }));

      const byReason = await db.selectFrom('review_queue').select(['reason', (e) => e.fn.countAll<number>().as('n')]).where('project_id', '=', pid).where('status', '=', 'open').groupBy('reason').execute();
      const closedReviews = n((await db.selectFrom('review_queue').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', pid).where('status', '=', 'closed').executeTakeFirstOrThrow()).n);
      const oldestOpen = await db.selectFrom('review_queue').select('created_at').where('project_id', '=', pid).where('status', '=', 'open').orderBy('id').limit(1).executeTakeFirst();

      const span = await db
        .selectFrom('annotations')
        .select([(e) => e.fn.min('created_at').as('from'), (e) => e.fn.max('created_at').as('to'), (e) => e.fn.count('user_id').distinct().as('annotators')])
        .where('project_id', '=', pid)
        .where('skipped', '=', 0)
        .executeTakeFirst();
      const skipped = n((await db.selectFrom('annotations').select((e) => e.fn.countAll<number>().as('n')).where('project_id', '=', pid).where('skipped', '=', 1).executeTakeFirstOrThrow()).n);
      const times = (await db.selectFrom('annotations').select('time_ms').where('project_id', '=', pid).where('skipped', '=', 0).orderBy('id', 'desc').limit(2000).execute()).map((r) => Number(r.time_ms)).sort((a, b) => a - b);
      let activity = null;
      if (span?.from && span.to) {
        const range = { from: String(span.from), to: new Date().toISOString() };
        const a = await buckets(db, 'annotations', 'created_at', pid, range);
        const d = await buckets(db, 'label_items', 'decided_at', pid, range);
        activity = { unit: a.unit, annotations: a.rows, decided: d.unit === a.unit ? d.rows : [] };
      }

      // The loop registers one classifier per round (metrics: round, test, labelledItems; src/train/registry.ts).
      const learningCurve = (await db.selectFrom('models').select(['id', 'metrics', 'created_at']).where('project_id', '=', pid).where('kind', '=', 'classifier').orderBy('id').execute()).flatMap((m) => {
        const x = roundMetrics(parseJson<unknown>(m.metrics, {}));
        return x ? [{ round: x.round, model: m.id, at: m.created_at, labelledItems: x.labelledItems ?? null, accuracy: x.test.accuracy, macroF1: x.test.macroF1 ?? null, ece: x.test.ece ?? null }] : [];
      });

      const loopRun = await db.selectFrom('audit_events').select(['at', 'payload']).where('project_id', '=', pid).where('action', '=', 'loop.run').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const loopPayload = loopRun ? parseJson<{ summary?: unknown; rounds?: unknown }>(loopRun.payload, {}) : null;
      const economics = loopPayload && typeof loopPayload.summary === 'string' ? { at: loopRun!.at, rounds: typeof loopPayload.rounds === 'number' ? loopPayload.rounds : null, summary: loopPayload.summary } : null;

      const run = await db.selectFrom('audit_runs').select(['id', 'items', 'created_at']).where('project_id', '=', pid).orderBy('id', 'desc').limit(1).executeTakeFirst();
      const auditFindings = run
        ? {
            run: run.id,
            at: run.created_at,
            items: run.items,
            byKind: (await db.selectFrom('audit_findings').select(['kind', 'action', (e) => e.fn.countAll<number>().as('n')]).where('run_id', '=', run.id).groupBy(['kind', 'action']).orderBy('kind').execute()).map((r) => ({ kind: r.kind, action: r.action, count: n(r.n) })),
          }
        : null;
      const alerts = (await db.selectFrom('alerts').select(['id', 'kind', 'subject', 'message', 'created_at']).where('project_id', '=', pid).where('acknowledged_at', 'is', null).orderBy('id', 'desc').limit(50).execute()).map((a) => ({
        id: a.id,
        kind: a.kind,
        subject: a.subject,
        message: a.message,
        createdAt: a.created_at,
      }));

      // Beyond one legacy question: per question, how often each label was decided and how well annotators agree.
      let questions = null;
      if (taxonomy && !isLegacy(taxonomy)) {
        const counted = new Map<string, Map<string, number>>();
        for (const r of await db.selectFrom('label_items').select('final_answers').where('project_id', '=', pid).where('status', '=', 'done').where('final_answers', 'is not', null).execute()) {
          const a = storedAnswers(r.final_answers, null, undefined);
          for (const q of taxonomy.questions) {
            const m = counted.get(q.name) ?? new Map<string, number>();
            counted.set(q.name, m);
            const v = own(a, q.name);
            const labels = q.kind === 'rating' && typeof v === 'number' ? [String(v)] : answerLabels(q, v);
            for (const l of labels) m.set(l, (m.get(l) ?? 0) + 1);
          }
        }
        const agreement = await projectAgreement(db, pid, taxonomy);
        questions = taxonomy.questions.map((q) => {
          const m = counted.get(q.name) ?? new Map<string, number>();
          const keys = q.kind === 'rating' ? scaleValues(q.scale!).map(String) : labelNames(q);
          return { name: q.name, kind: q.kind, labels: keys.map((label) => ({ label, count: m.get(label) ?? 0 })), agreement: ('questions' in agreement ? agreement.questions : []).find((x) => x.name === q.name) ?? null };
        });
      }

      return {
        project: project.name,
        role,
        taxonomy: taxonomy ? { version: taxonomy.version, kind: taxonomy.kind, labels: names, ...(isLegacy(taxonomy) ? {} : { questions: taxonomy.questions }) } : null,
        ...(questions ? { questions } : {}),
        status,
        labels,
        decided: { ...decided, meanConfidence: confidence.length ? confidence.reduce((a, b) => a + b, 0) / confidence.length : null },
        reviews: { open: status.openReviews, closed: closedReviews, byReason: Object.fromEntries(byReason.map((r) => [r.reason, n(r.n)])), oldestOpenAt: oldestOpen?.created_at ?? null },
        annotations: {
          submitted: status.annotations,
          skipped,
          annotators: n(span?.annotators),
          medianTimeMs: times.length ? times[Math.floor(times.length / 2)] : null,
        },
        activity,
        learningCurve,
        economics,
        auditFindings,
        alerts,
      };
    },
  );

  app.get<{ Params: ProjectParams; Querystring: Static<typeof RecentQuery> }>(
    '/api/projects/:project/audit/recent',
    { config: { permission: 'audit.read' }, schema: { tags: ['audit'], summary: "the project's most recent audit events, newest first", params: ProjectParams, querystring: RecentQuery } },
    async (req) => {
      const rows = await store.db
        .selectFrom('audit_events')
        .select(['seq', 'at', 'actor', 'action', 'subject', 'payload'])
        .where('project_id', '=', authOf(req).project.id)
        .orderBy('seq', 'desc')
        .limit(req.query.limit ?? 20)
        .execute();
      return { events: rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, payload: parseJson(r.payload, {}) })) };
    },
  );
};
