import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkedAddresses, checkWebhookUrlShape, hostOf, parseAllowList, type Cidr, type EgressPolicy, type Resolver } from '../core/egress-policy.ts';

/** TESSERA_WEBHOOK_ALLOW: ranges webhooks may reach although they are not public (e.g. `10.0.0.0/8,fd00::/8`). */
export function webhookAllowFromEnv(env: NodeJS.ProcessEnv = process.env): Cidr[] {
  return parseAllowList(env.TESSERA_WEBHOOK_ALLOW ?? '', 'TESSERA_WEBHOOK_ALLOW');
}

/** Every address of a name, as the system resolves it (hosts file, DNS), in the system's order. */
export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * POSTs `body` to `url` on a connection to an address the policy allows, and returns the HTTP
 * status. The host is resolved here, every address is judged, and the socket is opened to the
 * judged addresses themselves (a `lookup` that answers with them), so a name that resolves differently
 * between the check and the connection (DNS rebinding) cannot redirect the request. The Host
 * header and the TLS server name stay the URL's host, so virtual hosts and certificates work.
 * A fresh connection per request (no keep-alive pool) and redirects are not followed.
 * Throws DestinationRefused before any connection when the destination is not allowed.
 */
export async function postToAllowed(
  url: string,
  req: { headers: Record<string, string>; body: string; timeoutMs: number },
  policy: EgressPolicy & { resolve: Resolver },
): Promise<number> {
  const u = checkWebhookUrlShape(url);
  const host = hostOf(u);
  const signal = AbortSignal.timeout(req.timeoutMs);
  const checked = await abortable(checkedAddresses(host, policy), signal);
  const target = checked[0];
  // Answers with the checked addresses only (all of them when the socket tries several families).
  const pinned: LookupFunction = (_name, opts, cb) => {
    if (opts.all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, checked);
    else cb(null, target.address, target.family);
  };
  const client = u.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const r = client.request(
      {
        method: 'POST',
        host,
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
        agent: false,
        lookup: pinned,
        signal,
        ...(u.protocol === 'https:' && target.address !== host ? { servername: host } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
