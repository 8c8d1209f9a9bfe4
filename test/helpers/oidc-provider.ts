// A real OpenID Connect provider for the sign-in tests: oidc-provider (the certified Node.js
// implementation) on 127.0.0.1, port 0, with its in-memory adapter and development keys, and a
// minimal interaction of its own: a login form that checks a username and password against the
// test's accounts, then approves the consent prompt by itself (the test client asks only for
// what the account may give). Accounts and their claims stay editable while it runs, so a test
// can change someone's groups between two logins.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';

export interface TestAccount {
  password: string;
  /** Claims besides `sub` (the account's key): preferred_username, name, email, groups, roles… */
  claims: Record<string, unknown>;
}

export interface TestClient {
  client_id: string;
  /** Absent: a public client (token_endpoint_auth_method none, PKCE required by the provider). */
  client_secret?: string;
  redirect_uris: string[];
}

export interface TestProvider {
  issuer: string;
  accounts: Record<string, TestAccount>;
  /** Creates the provider with its clients (their redirect URLs are known once the app listens). */
  configure(clients: TestClient[]): void;
  /** Requests the provider answered, as `METHOD path` (to see which endpoints were used). */
  seen: string[];
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html><head><title>Test provider: sign in</title></head><body>
<h1>Test identity provider</h1>
${error ? `<p id="login-error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Username <input name="login" id="login" autocomplete="username"></label>
<label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label>
<button type="submit" id="submit">Sign in</button>
</form></body></html>`;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return new URLSearchParams(s);
}

/**
 * Starts listening now (so the issuer URL is known); `configure` creates the provider itself.
 * `host` names the issuer: `localhost` puts the provider on another site than a Tessera on
 * 127.0.0.1 (a browser then treats the redirects between them as cross-site, as in production).
 */
export async function startOidcProvider(accounts: Record<string, TestAccount>, host: '127.0.0.1' | 'localhost' = '127.0.0.1'): Promise<TestProvider> {
  let provider: Provider | null = null;
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    if (!provider) {
      res.statusCode = 503;
      res.end('not configured yet');
      return;
    }
    void handle(provider, req, res).catch((e) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const issuer = `http://${host}:${typeof addr === 'object' && addr ? addr.port : 0}`;

  async function handle(p: Provider, req: IncomingMessage, res: ServerResponse) {
    // A browser asks every site for its icon; this one has none.
    if (req.url === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
      return;
    }
    const m = /^\/interaction\/([^/?]+)(\/login)?/.exec(req.url ?? '');
    if (!m) return p.callback()(req, res);
    const details = await p.interactionDetails(req, res);
    if (m[2] && req.method === 'POST') {
      const body = await formBody(req);
      const login = body.get('login') ?? '';
      const account = accounts[login];
      if (!account || account.password !== body.get('password')) {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(loginPage(details.uid, 'wrong username or password'));
        return;
      }
      return p.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'login') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(loginPage(details.uid));
      return;
    }
    if (details.prompt.name === 'consent') {
      const grant = details.grantId ? await p.Grant.find(details.grantId) : new p.Grant({ accountId: details.session?.accountId, clientId: details.params.client_id });
      if (!grant) throw new Error('grant not found');
      if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
      if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
      return p.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    res.statusCode = 501;
    res.end(`prompt ${details.prompt.name} not handled`);
  }

  return {
    issuer,
    accounts,
    seen,
    configure(clients) {
      provider = new Provider(issuer, {
        clients: clients.map((c) => ({
          client_id: c.client_id,
          redirect_uris: c.redirect_uris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          ...(c.client_secret ? { client_secret: c.client_secret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
        })),
        // Every client must use PKCE here (the provider's default asks it of public clients only).
        pkce: { required: () => true },
        claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'], roles: ['tessera_roles'] },
        findAccount: async (_ctx: unknown, sub: string) => (accounts[sub] ? { accountId: sub, claims: async () => ({ sub, ...accounts[sub].claims }) } : undefined),
        interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
        features: { devInteractions: { enabled: false } },
        cookies: { keys: ['tessera-test-provider-cookie-key'] },
        ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
