import { useState } from 'react';
import { api, get, P, post, type IssuedToken, type Me, type Member, type UserRow } from '../../api.ts';
import { can, type Role } from '../../roles.ts';
import { ErrorBox, Loading, Section, useAsync } from '../../ui.tsx';
import { AddPerson, InviteLink, ROLES } from '../People.tsx';

/** Members of the project and their roles; instance admins also create users and invite links here. */
export function Members(props: { project: string; role: Role; me: Me; onChanged: () => void; onMembershipsChanged: () => Promise<void> }) {
  const { project, me } = props;
  const members = useAsync(() => get<{ members: Member[] }>(`${P(project)}/members`), [project]);
  const instanceAdmin = me.user.admin === true;
  const users = useAsync(
    () => (instanceAdmin ? get<{ users: UserRow[] }>('/api/users') : Promise.resolve({ users: [] as UserRow[] })),
    [project, instanceAdmin],
  );
  const [user, setUser] = useState('');
  const [newRole, setNewRole] = useState<Role>('annotator');
  const [error, setError] = useState<unknown>(null);
  const [invite, setInvite] = useState<{ user: string; token: string } | null>(null);
  const admin = can(props.role, 'members.write');
  const reloadAll = () => {
    members.reload();
    users.reload();
    props.onChanged();
    // The caller's own role may have changed.
    void props.onMembershipsChanged().catch(() => undefined);
  };
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      reloadAll();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Section title="Members and roles" id="members">
      {members.error ? <ErrorBox error={members.error} /> : null}
      {!members.data ? (
        <Loading />
      ) : (
        <table className="plain" data-members="">
          <thead>
            <tr>
              <th>user</th>
              <th>name</th>
              <th>role</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {members.data.members.map((m) => (
              <tr key={m.user} data-member={m.user}>
                <td>{m.user}</td>
                <td>{m.displayName}</td>
                <td>
                  {admin ? (
                    <select
                      value={m.role}
                      onChange={(e) => void act(() => api('PUT', `${P(project)}/members/${encodeURIComponent(m.user)}`, { role: e.target.value }))}
                      aria-label={`role of ${m.user}`}
                    >
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  ) : (
                    m.role
                  )}
                </td>
                <td className="row-actions">
                  {instanceAdmin ? (
                    <button
                      type="button"
                      title="issue a new token for this user (their other tokens keep working)"
                      data-action="new-invite"
                      onClick={() =>
                        void act(async () =>
                          setInvite({ user: m.user, token: (await post<IssuedToken>(`/api/users/${encodeURIComponent(m.user)}/tokens`, {})).token }),
                        )
                      }
                    >
                      new invite link
                    </button>
                  ) : null}
                  {admin ? (
                    <button type="button" onClick={() => void act(() => api('DELETE', `${P(project)}/members/${encodeURIComponent(m.user)}`))}>
                      remove
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {invite ? <InviteLink user={invite.user} token={invite.token} onDone={() => setInvite(null)} /> : null}
      {admin && instanceAdmin ? (
        <AddPerson project={project} users={users.data?.users ?? []} onAdded={reloadAll} onInvite={setInvite} />
      ) : admin ? (
        <>
          <form
            className="decide"
            onSubmit={(e) => {
              e.preventDefault();
              if (user.trim()) void act(() => api('PUT', `${P(project)}/members/${encodeURIComponent(user.trim())}`, { role: newRole }));
            }}
          >
            <input value={user} onChange={(e) => setUser(e.target.value)} placeholder="user name" aria-label="user name" />
            <select value={newRole} onChange={(e) => setNewRole(e.target.value as Role)} aria-label="role">
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            <button type="submit">grant role</button>
          </form>
          <p className="muted small">
            New users and their invite links come from an instance admin (in this page), or on the server: <code>tessera users add NAME --role ROLE --project {project}</code>.
          </p>
        </>
      ) : (
        <p className="muted small">Only admins change roles.</p>
      )}
      {error ? <ErrorBox error={error} /> : null}
    </Section>
  );
}
