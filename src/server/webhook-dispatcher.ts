import { DestinationRefused, parseAllowList, type EgressPolicy, type Resolver } from '../core/egress-policy.ts';
import { errorMessage } from '../core/errors.ts';
import type { Store } from '../store/db.ts';
import { claimDue, requeueStuck, settleDelivery, signPayload, type DueDelivery } from '../label/webhooks.ts';
import { postToAllowed, systemResolver, webhookAllowFromEnv } from './egress.ts';

/** What a delivery refused by the address policy records: nothing about the target. */
export const REFUSED_DELIVERY = 'refused: destination not allowed';

export interface DispatcherOptions {
  /** How often to look for due deliveries (ms). Default 1000. */
  pollMs?: number;
  /** First retry after this long, doubling each time (ms). Default 2000. */
  backoffBaseMs?: number;
  /** Attempts before a delivery is marked failed. Default 8. */
  maxAttempts?: number;
  /** Per-request timeout (ms). Default 10000. */
  timeoutMs?: number;
  log?: (msg: string) => void;
  /**
   * Ranges deliveries may reach although they are not public (loopback, private, link-local…),
   * as CIDR text ("10.0.0.0/8, fd00::/8"). Default: TESSERA_WEBHOOK_ALLOW, else none.
   */
  allow?: string | readonly string[];
  /** Resolves host names at creation and before each delivery. Default: the system's (dns.lookup). */
  resolve?: Resolver;
}

/**
 * Sends queued webhook deliveries. The only outbound connections the server makes are these
 * POSTs, and only to the URL stored with each webhook; redirects are not followed (a 3xx is
 * a failed attempt). Each connection goes to an address the egress policy allows, checked at
 * connect time (see egress.ts); a refused one records REFUSED_DELIVERY and no status, so the
 * deliveries list cannot be used to probe internal hosts and ports. Each request carries:
 *   X-Tessera-Event, X-Tessera-Delivery (id), X-Tessera-Timestamp (unix seconds),
 *   X-Tessera-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<body>") in hex.
 * A 2xx answer delivers; anything else (or a timeout) retries after base·2^(n−1).
 */
export class WebhookDispatcher {
  private readonly pollMs: number;
  private readonly policy: { maxAttempts: number; baseMs: number };
  private readonly timeoutMs: number;
  /** The address policy, also used to check a webhook's URL when it is created. */
  readonly egress: EgressPolicy & { resolve: Resolver };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private again = false;

  constructor(
    private readonly store: Store,
    private readonly opts: DispatcherOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.policy = { maxAttempts: opts.maxAttempts ?? 8, baseMs: opts.backoffBaseMs ?? 2000 };
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    const allow = opts.allow === undefined ? webhookAllowFromEnv() : parseAllowList(opts.allow, 'webhooks.allow');
    this.egress = { allow, resolve: opts.resolve ?? systemResolver };
  }

  async start(): Promise<void> {
    this.stopped = false;
    await requeueStuck(this.store.db);
    this.schedule(0);
  }

  /** Look now (e.g. right after a change queued a delivery) instead of at the next poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((e) => this.opts.log?.(`webhooks: ${errorMessage(e)}`))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.again ? 0 : this.pollMs);
          this.again = false;
        });
    }, ms);
    this.timer.unref();
  }

  /** One pass: send every due delivery; returns how many were attempted. */
  async tick(): Promise<number> {
    let n = 0;
    for (;;) {
      const due = await claimDue(this.store.db, 20);
      if (due.length === 0) return n;
      await Promise.all(due.map((d) => this.send(d)));
      n += due.length;
    }
  }

  private async send(d: DueDelivery): Promise<void> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    let outcome: { ok: boolean; status: number | null; error: string | null };
    try {
      const status = await postToAllowed(
        d.url,
        {
          timeoutMs: this.timeoutMs,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'tessera-webhooks/0.1',
            'x-tessera-event': d.event,
            'x-tessera-delivery': String(d.id),
            'x-tessera-timestamp': timestamp,
            'x-tessera-signature': signPayload(d.secret, timestamp, d.payload),
          },
          body: d.payload,
        },
        this.egress,
      );
      const ok = status >= 200 && status < 300;
      outcome = { ok, status, error: ok ? null : `HTTP ${status}` };
    } catch (e) {
      if (e instanceof DestinationRefused) {
        this.opts.log?.(`webhook delivery ${d.id} (${d.event}) to ${d.url} refused: ${e.host} ${e.reason}`);
        await settleDelivery(this.store.db, d, { ok: false, status: null, error: REFUSED_DELIVERY }, this.policy);
        return;
      }
      outcome = { ok: false, status: null, error: errorMessage(e) };
    }
    if (!outcome.ok) this.opts.log?.(`webhook delivery ${d.id} (${d.event}) to ${d.url} failed: ${outcome.error}`);
    await settleDelivery(this.store.db, d, outcome, this.policy);
  }
}
