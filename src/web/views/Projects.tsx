import { useEffect, useRef } from 'react';
import type { Me } from '../api.ts';
import { can, type Role } from '../roles.ts';
import { href } from '../router.ts';
import { Empty } from '../ui.tsx';

/** Where a role starts in a project: annotators label, everyone else sees the dashboard. */
export const homeOf = (project: string, role: Role) => (can(role, 'task.annotate') ? href(project, 'label') : href(project));

export function Projects(props: { me: Me }) {
  const first = useRef<HTMLAnchorElement>(null);
  useEffect(() => first.current?.focus(), []);
  const ms = props.me.memberships;
  return (
    <div className="card projects">
      <h1>Projects</h1>
      {ms.length === 0 ? (
        <Empty name="projects">You are not a member of any project yet. An admin grants roles with <code>tessera users grant {props.me.user.name} --project P --role R</code>.</Empty>
      ) : (
        <ul className="project-list">
          {ms.map((m, i) => (
            <li key={m.project}>
              <a ref={i === 0 ? first : undefined} href={homeOf(m.project, m.role)} data-project={m.project}>
                <b>{m.project}</b>
              </a>{' '}
              <span className="badge">{m.role}</span>
              {can(m.role, 'task.annotate') ? <span className="muted small"> · Enter to start labelling</span> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
