import { useState } from 'react';
import { api, inviteLink, P, post, type IssuedToken, type UserRow } from '../api.ts';
import type { Role } from '../roles.ts';
import { ErrorBox } from '../ui.tsx';

export const ROLES: Role[] = ['admin', 'manager', 'annotator', 'reviewer', 'viewer'];

const ROLE_HINT: Record<Role, string> = {
  annotator: 'labels items, blind to everyone else’s answers',
  reviewer: 'resolves disagreements in the review queue',
  viewer: 'reads the dashboard and results',
  manager: 'runs the labelling: taxonomy, settings, imports',
  admin: 'everything, including who has which role',
};

/**
 * A sign-in link, shown once: it carries the user's new token (only its hash is stored, so it
 * cannot be shown again; a new link issues a new token). Copy puts it on the clipboard; the
 * field is selectable for copying by hand where the clipboard is not available.
 */
export function InviteLink(props: { user: string; token: string; onDone: () => void }) {
  const link = inviteLink(props.token);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  return (
    <div className="invite" role="status" data-invite={props.user}>
      <p>
        <b>Invite link for {props.user}</b> — shown this once. Send it to them privately: whoever opens it is signed in as {props.user}.
      </p>
      <div className="invite-row">
        <input readOnly value={link} aria-label={`invite link for ${props.user}`} data-invite-link="" onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          className="primary"
          data-action="copy-invite"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(link);
              setCopied('yes');
            } catch {
              setCopied('no');
            }
          }}
        >
          Copy
        </button>
        <button type="button" onClick={props.onDone}>
          done
        </button>
      </div>
      {copied === 'yes' ? (
        <span className="muted small" data-copied="">
          Copied to the clipboard.
        </span>
      ) : copied === 'no' ? (
        <span className="muted small">The browser refused the clipboard: select the link and copy it by hand.</span>
      ) : null}
    </div>
  );
}

/**
 * An instance admin adds a person to the project: a new user (with a token, given as an invite
 * link) or an existing one, with a role.
 */
export function AddPerson(props: { project: string; users: UserRow[]; onAdded: () => void; onInvite: (i: { user: string; token: string }) => void }) {
  const { project } = props;
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('annotator');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const existing = props.users.find((u) => u.name === name.trim());
  return (
    <form
      className="add-person"
      data-add-person=""
      onSubmit={async (e) => {
        e.preventDefault();
        const n = name.trim();
        if (!n) return;
        setBusy(true);
        setError(null);
        try {
          let issued: IssuedToken | null = null;
          if (!existing) issued = await post<IssuedToken>('/api/users', displayName.trim() ? { name: n, displayName: displayName.trim() } : { name: n });
          await api('PUT', `${P(project)}/members/${encodeURIComponent(n)}`, { role });
          if (issued) props.onInvite({ user: n, token: issued.token });
          setName('');
          setDisplayName('');
          props.onAdded();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3>Add a person</h3>
      <div className="form-row">
        <label>
          user name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ann" aria-label="new user name" list="known-users" autoComplete="off" data-person-name="" />
        </label>
        <datalist id="known-users">
          {props.users.map((u) => (
            <option key={u.name} value={u.name}>
              {u.displayName}
            </option>
          ))}
        </datalist>
        {!existing ? (
          <label>
            full name <span className="muted small">(optional)</span>
            <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder="Ann Lee" aria-label="full name" data-person-display="" />
          </label>
        ) : null}
        <label>
          role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)} aria-label="new person's role" data-person-role="">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy || !name.trim()} data-action="add-person">
          {existing ? `Add ${existing.name} as ${role}` : 'Create user and invite link'}
        </button>
      </div>
      <p className="muted small">
        {role}: {ROLE_HINT[role]}.{' '}
        {existing ? `${existing.name} already has an account: they keep signing in as before.` : 'A new user gets an invite link that signs them in (shown once, here).'}
      </p>
      {error ? <ErrorBox error={error} /> : null}
    </form>
  );
}
