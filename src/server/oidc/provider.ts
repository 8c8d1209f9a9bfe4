import * as client from 'openid-client';
import type { OidcSettings } from './settings.ts';

/** How long one request to the provider may take. */
export const PROVIDER_TIMEOUT_MS = 10_000;

/**
 * The provider as openid-client sees it: its metadata (OpenID Connect discovery, fetched at the
 * first sign-in, not at start-up, so the server starts while the provider is down) and this
 * server's client credentials. A failed discovery is retried at the next sign-in. Plain http is
 * allowed only for an issuer on a loopback address (settings.ts refuses any other).
 */
export class OidcProvider {
  private pending: Promise<client.Configuration> | null = null;

  constructor(readonly settings: OidcSettings) {}

  configuration(): Promise<client.Configuration> {
    if (!this.pending) {
      const s = this.settings;
      const insecure = new URL(s.issuer).protocol === 'http:';
      const timed: client.CustomFetch = (url, options) => fetch(url, { ...(options as RequestInit), signal: options.signal ?? AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
      this.pending = client
        .discovery(new URL(s.issuer), s.clientId, undefined, s.clientSecret ? client.ClientSecretBasic(s.clientSecret) : client.None(), {
          // The ID token's signature is checked against the provider's published keys too (openid-client
          // skips it by default, trusting TLS to the token endpoint).
          execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
          [client.customFetch]: timed,
        })
        .then((config) => {
          config[client.customFetch] = timed;
          return config;
        });
      this.pending.catch(() => {
        this.pending = null;
      });
    }
    return this.pending;
  }
}

/** A provider's error as one line for a person: its `error` and description, or the message. */
export function providerErrorMessage(e: unknown): string {
  if (e instanceof client.ResponseBodyError || e instanceof client.AuthorizationResponseError) {
    return e.error_description ? `${e.error}: ${e.error_description}` : e.error;
  }
  const x = e as { message?: string; cause?: { message?: string } };
  return [x.message, x.cause?.message].filter(Boolean).join(': ') || String(e);
}
