import { useEffect, useRef, useState } from 'react';
import { post, type Me } from '../api.ts';
import { can, type Role } from '../roles.ts';
import { href, navigate } from '../router.ts';
import { Empty, ErrorBox } from '../ui.tsx';

/** Where a role starts in a project: annotators label, everyone else sees the dashboard. */
export const homeOf = (project: string, role: Role) => (can(role, 'task.annotate') ? href(project, 'label') : href(project));

export function Projects(props: { me: Me; onChanged: () => Promise<void> }) {
  const first = useRef<HTMLAnchorElement>(null);
  useEffect(() => first.current?.focus(), []);
  const ms = props.me.memberships;
  const admin = props.me.user.admin === true;
  return (
    <div className="projects-page">
      <div className="card projects">
        <h1>Projects</h1>
        {ms.length === 0 ? (
          <Empty name="projects">
            {admin ? (
              <>You are an instance admin: create the first project below, then import its data, write its labels and invite the people who label.</>
            ) : (
              <>
                You are not a member of any project yet. An admin adds you (in the web UI, or with <code>tessera users grant {props.me.user.name} --project P --role R</code>).
              </>
            )}
          </Empty>
        ) : (
          <ul className="project-list">
            {ms.map((m, i) => (
              <li key={m.project}>
                <a ref={i === 0 ? first : undefined} href={homeOf(m.project, m.role)} data-project={m.project}>
                  <b>{m.project}</b>
                </a>{' '}
                <span className="badge">{m.role}</span>
                {can(m.role, 'task.annotate') ? <span className="muted small"> · Enter to start labelling</span> : null}
                {can(m.role, 'members.read') ? (
                  <a className="small project-setup" href={href(m.project, 'admin')}>
                    {' '}
                    · set up
                  </a>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </div>
      {admin ? <NewProject onCreated={props.onChanged} /> : null}
    </div>
  );
}

/** An instance admin creates a project (and becomes its admin), then goes on to import its data. */
function NewProject(props: { onCreated: () => Promise<void> }) {
  const [name, setName] = useState('');
  const [region, setRegion] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <section className="card projects new-project" aria-labelledby="new-project-h" data-section="new-project">
      <h2 id="new-project-h">New project</h2>
      <p className="muted small">
        Then, step by step: import a file of items, write the labels and guidelines, add the people who label, choose how many answer each item. You become the project’s admin.
      </p>
      <form
        className="form-row"
        onSubmit={async (e) => {
          e.preventDefault();
          const n = name.trim();
          if (!n) return;
          setBusy(true);
          setError(null);
          try {
            await post('/api/projects', region.trim() ? { name: n, region: region.trim() } : { name: n });
            await props.onCreated();
            navigate(href(n, 'admin', 'import'));
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. support-tickets" aria-label="project name" data-new-project-name="" />
        </label>
        <label>
          region <span className="muted small">(optional residency tag)</span>
          <input value={region} onChange={(e) => setRegion(e.target.value)} placeholder="local" aria-label="region" />
        </label>
        <button type="submit" className="primary" disabled={busy || !name.trim()} data-action="create-project">
          Create project
        </button>
      </form>
      <p className="muted small">Letters, digits, “.”, “_” or “-”, starting with a letter or digit. The region tags every imported item (where its data may live).</p>
      {error ? <ErrorBox error={error} /> : null}
    </section>
  );
}
