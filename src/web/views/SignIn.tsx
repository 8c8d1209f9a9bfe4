import { useEffect, useState } from 'react';
import { api, ApiError, authConfig, setCsrfToken, setToken, type AuthConfig, type Me } from '../api.ts';

/**
 * Sign-in: with the organisation's provider when the server offers it (a link to /auth/login:
 * the provider's page, then back here with a session cookie), or with an API token (an invite
 * link signs in by itself: see signin-link.ts; the token stays in this tab only).
 */
export function SignIn(props: { onSignedIn: (me: Me) => void; config?: AuthConfig }) {
  const [token, setTok] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [config, setConfig] = useState<AuthConfig | null>(props.config ?? null);
  useEffect(() => {
    if (!props.config) void authConfig().then(setConfig, () => setConfig({ oidc: null, sessionCookie: false }));
  }, [props.config]);
  return (
    <div className="signin card">
      <h1>Tessera</h1>
      {config?.oidc ? (
        <p>
          <a className="button primary" href={config.oidc.loginUrl} data-oidc-signin="">
            Sign in with {config.oidc.name}
          </a>
        </p>
      ) : null}
      <p className="muted">
        {config?.oidc ? 'Or open ' : 'Open '}
        the sign-in link your admin sent you, or paste your API token here. Admins make one in the project’s <i>People</i> step, or on the server with{' '}
        <code>tessera users add NAME --role ROLE --project P</code>.
      </p>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const t = token.trim();
          if (!t) return;
          setBusy(true);
          setError(null);
          try {
            const me = await api<Me>('GET', '/api/me', undefined, t);
            setToken(t);
            setCsrfToken(null);
            props.onSignedIn(me);
          } catch (err) {
            setError(err instanceof ApiError && err.status === 401 ? 'This token is not valid (wrong, or revoked).' : (err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          API token
          <input type="password" autoComplete="off" autoFocus value={token} onChange={(e) => setTok(e.target.value)} placeholder="tsr_…" data-token-input="" />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      {error ? (
        <div className="error" role="alert">
          {error}
        </div>
      ) : null}
      <p className="muted small">The token is kept in this browser tab only (sessionStorage) and sent as a bearer token to the API.</p>
    </div>
  );
}
