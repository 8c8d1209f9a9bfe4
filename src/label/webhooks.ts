import { createHmac, randomBytes } from 'node:crypto';
import { checkedAddresses, checkWebhookUrlShape, hostOf, type EgressPolicy } from '../core/egress-policy.ts';
import { NotFoundError, UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Store } from '../store/db.ts';
import type { Project } from '../store/projects.ts';
import { exportAllowed, refusalPayload, residencyPolicy } from '../audit/residency.ts';
import { change, record, type Actor, type TxCtx } from '../store/context.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Webhooks: events are written to an outbox (webhook_deliveries) inside the transaction of the
 * change they report, so a delivery exists exactly when the change committed. The server's
 * dispatcher (src/server/webhook-dispatcher.ts) sends them, signed, to the configured URL only,
 * and retries failures with exponential back-off.
 */
export const WEBHOOK_EVENTS = ['annotation.created', 'consensus.reached', 'review.queued', 'review.done', 'gold.alert', 'drift.alert'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface Webhook {
  id: number;
  url: string;
  events: WebhookEvent[];
  active: boolean;
  createdAt: string;
  createdBy: string;
}

/** `X-Tessera-Signature: sha256=<hex>` over `<timestamp>.<body>` with the webhook's secret. */
export function signPayload(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Delay before retry number `attempt` (1 = the first retry): base·2^(attempt−1), capped. */
export function backoffMs(attempt: number, baseMs: number, capMs = 10 * 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** An http(s) URL without credentials (the destination's address is checked by createWebhook). */
export function checkWebhookUrl(url: string): string {
  return checkWebhookUrlShape(url).toString();
}

function checkEvents(events: readonly string[]): WebhookEvent[] {
  if (events.length === 0) throw new UserError(`events: expected at least one of ${WEBHOOK_EVENTS.join(', ')}`);
  for (const e of events) if (!(WEBHOOK_EVENTS as readonly string[]).includes(e)) throw new UserError(`events: unknown event "${e}" (expected ${WEBHOOK_EVENTS.join(', ')})`);
  return [...new Set(events)] as WebhookEvent[];
}

const toWebhook = (r: { id: number; url: string; events: string; active: number; created_at: string; created_by: string }): Webhook => ({
  id: r.id,
  url: r.url,
  events: parseJson(r.events, []),
  active: r.active === 1,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

/**
 * Registers a webhook; the secret (given, or generated) is returned once, for the receiver.
 * The URL's host must be an allowed destination under `egress` (public, or in the operator's
 * allow-list): an IP literal always is checked, a name when `egress` has a resolver (the server's
 * has). The dispatcher checks again at every connection, which is what stops DNS rebinding.
 */
export async function createWebhook(
  store: Store,
  project: Project,
  actor: Actor,
  input: { url: string; events: string[]; secret?: string },
  egress: EgressPolicy = { allow: [] },
): Promise<Webhook & { secret: string }> {
  const parsed = checkWebhookUrlShape(input.url);
  const url = parsed.toString();
  const events = checkEvents(input.events);
  const secret = input.secret ?? randomBytes(32).toString('base64url');
  if (secret.length < 16) throw new UserError('secret: expected at least 16 characters');
  await checkedAddresses(hostOf(parsed), egress);
  return change(store, project, actor, async (ctx) => {
    const { id } = await ctx.conn
      .insertInto('webhooks')
      .values({ project_id: project.id, url, secret, events: JSON.stringify(events), active: 1, created_at: nowIso(), created_by: actor.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    await record(ctx, 'webhook.create', `webhook:${id}`, { url, events });
    return { ...(await getWebhook(ctx.conn, project.id, id)), secret };
  });
}

export async function getWebhook(db: Conn, projectId: number, id: number): Promise<Webhook> {
  const r = await db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
  if (!r) throw new NotFoundError(`webhook ${id}`);
  return toWebhook(r);
}

export async function listWebhooks(db: Conn, projectId: number): Promise<Webhook[]> {
  const rows = await db.selectFrom('webhooks').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
  return rows.map(toWebhook);
}

/** Deactivates a webhook (kept for its delivery history); pending deliveries are dropped. */
export async function deleteWebhook(store: Store, project: Project, actor: Actor, id: number): Promise<void> {
  await change(store, project, actor, async (ctx) => {
    const w = await getWebhook(ctx.conn, project.id, id);
    if (!w.active) throw new NotFoundError(`webhook ${id}`);
    await ctx.conn.updateTable('webhooks').set({ active: 0 }).where('id', '=', id).execute();
    await ctx.conn.updateTable('webhook_deliveries').set({ status: 'failed', last_error: 'webhook deleted' }).where('webhook_id', '=', id).where('status', '=', 'pending').execute();
    await record(ctx, 'webhook.delete', `webhook:${id}`, { url: w.url });
  });
}

export async function listDeliveries(db: Conn, projectId: number, webhookId: number, limit = 100) {
  await getWebhook(db, projectId, webhookId);
  const rows = await db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    event: r.event,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  }));
}

/**
 * Queues `event` for every active webhook of the project that subscribes to it (same transaction).
 * Residency: an event about an item tagged for a region the project does not export to is not
 * sent; the refusal is audit-logged (`residency.refused`) in the same transaction instead.
 */
export async function emit(ctx: TxCtx, event: WebhookEvent, data: Record<string, unknown>): Promise<void> {
  const all = await ctx.conn.selectFrom('webhooks').select(['id', 'events']).where('project_id', '=', ctx.project.id).where('active', '=', 1).execute();
  const hooks = all.filter((h) => parseJson<string[]>(h.events, []).includes(event));
  if (hooks.length === 0) return;
  if (typeof data.itemId === 'number') {
    const item = await ctx.conn.selectFrom('items').select(['residency']).where('id', '=', data.itemId).where('project_id', '=', ctx.project.id).executeTakeFirst();
    const policy = residencyPolicy(ctx.project);
    if (item && !exportAllowed(policy, item.residency)) {
      await record(ctx, 'residency.refused', `item:${data.itemId}`, refusalPayload('webhook', [{ id: data.itemId, region: item.residency }], policy, { event, webhooks: hooks.map((h) => h.id) }));
      return;
    }
  }
  const at = nowIso();
  const payload = JSON.stringify({ event, project: ctx.project.name, at, data });
  for (const h of hooks) {
    await ctx.conn
      .insertInto('webhook_deliveries')
      .values({ webhook_id: h.id, project_id: ctx.project.id, event, payload, status: 'pending', attempts: 0, next_attempt_at: at, created_at: at })
      .execute();
  }
  queued.add(ctx.store);
}

/**
 * Stores on which this process queued a delivery since the last takeQueuedDeliveries: the server
 * wakes its dispatcher after such a request only, instead of after every write (two queries per
 * request for nothing when no webhook listens — measured by the load bench). Deliveries queued by
 * another process are found by the dispatcher's regular poll.
 */
const queued = new WeakSet<Store>();

export function takeQueuedDeliveries(store: Store): boolean {
  return queued.delete(store);
}

export interface DueDelivery {
  id: number;
  url: string;
  secret: string;
  event: string;
  payload: string;
  attempts: number;
}

/**
 * A claimed delivery is 'sending' until this long after the claim (its next_attempt_at); a
 * dispatcher that has not settled it by then died, and any `tessera serve` re-queues it. Far longer
 * than a request's timeout (10 s), so a live dispatcher's delivery is never sent twice.
 */
export const SENDING_LEASE_MS = 120_000;

/**
 * Claims up to `limit` deliveries that are due: each moves pending → sending with a
 * conditional update, so two dispatchers (several `tessera serve` processes) never send the same
 * one. Deliveries whose dispatcher died mid-send go back to pending first.
 */
export async function claimDue(db: Conn, limit = 10): Promise<DueDelivery[]> {
  await requeueStuck(db);
  const rows = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .select(['webhook_deliveries.id', 'webhooks.url', 'webhooks.secret', 'webhook_deliveries.event', 'webhook_deliveries.payload', 'webhook_deliveries.attempts'])
    .where('webhook_deliveries.status', '=', 'pending')
    .where('webhook_deliveries.next_attempt_at', '<=', nowIso())
    .where('webhooks.active', '=', 1)
    .orderBy('webhook_deliveries.id')
    .limit(limit)
    .execute();
  const claimed: DueDelivery[] = [];
  for (const r of rows) {
    const lease = new Date(Date.now() + SENDING_LEASE_MS).toISOString();
    const res = await db.updateTable('webhook_deliveries').set({ status: 'sending', next_attempt_at: lease }).where('id', '=', r.id).where('status', '=', 'pending').executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) claimed.push(r);
  }
  return claimed;
}

/** Records one attempt: delivered, or pending again after a back-off, or failed for good. */
export async function settleDelivery(
  db: Conn,
  d: DueDelivery,
  outcome: { ok: boolean; status: number | null; error: string | null },
  policy: { maxAttempts: number; baseMs: number },
): Promise<void> {
  const attempts = d.attempts + 1;
  if (outcome.ok) {
    await db.updateTable('webhook_deliveries').set({ status: 'delivered', attempts, last_status: outcome.status, last_error: null, delivered_at: nowIso() }).where('id', '=', d.id).execute();
    return;
  }
  const giveUp = attempts >= policy.maxAttempts;
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: giveUp ? 'failed' : 'pending',
      attempts,
      last_status: outcome.status,
      last_error: outcome.error,
      next_attempt_at: new Date(Date.now() + backoffMs(attempts, policy.baseMs)).toISOString(),
    })
    .where('id', '=', d.id)
    .execute();
}

/**
 * Deliveries left 'sending' by a dispatcher that died (claimed more than SENDING_LEASE_MS ago) go
 * back to pending. Only those: another live server's in-flight deliveries stay with it.
 */
export async function requeueStuck(db: Conn): Promise<void> {
  await db.updateTable('webhook_deliveries').set({ status: 'pending' }).where('status', '=', 'sending').where('next_attempt_at', '<', nowIso()).execute();
}
