import { useState } from 'react';
import { api, ApiError, setToken, type Me } from '../api.ts';

/** Sign-in with an API token (an invite link signs in by itself: see signin-link.ts). The token stays in this tab only. */
export function SignIn(props: { onSignedIn: (me: Me) => void }) {
  const [token, setTok] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="signin card">
      <h1>Tessera</h1>
      <p className="muted">
        Open the sign-in link your admin sent you, or paste your API token here. Admins make one in the project’s <i>People</i> step, or on the server with{' '}
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
