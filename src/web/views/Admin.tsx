import { useState } from 'react';
import type { Me } from '../api.ts';
import { can, type Role } from '../roles.ts';
import { ImportData } from './ImportData.tsx';
import { Settings } from './Settings.tsx';
import { AuditLog } from './admin/AuditLog.tsx';
import { Members } from './admin/Members.tsx';
import { SetupSteps } from './admin/SetupSteps.tsx';
import { TaxonomyEditor } from './admin/TaxonomyEditor.tsx';

/**
 * Admin: setting a project up step by step — import data, the taxonomy editor (versions,
 * migration preview), members and roles (instance admins also create users and invite links),
 * labelling settings — and the audit log. Each step's tab says how far it is.
 */
export function AdminView(props: { project: string; role: Role; sub?: string; me: Me; onMembershipsChanged: () => Promise<void> }) {
  const { project, role } = props;
  // Bumped by every change a step makes, so the step list reloads its counts.
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  if (!can(role, 'members.read')) return <div className="card">Administration is for admins and managers of {project}.</div>;
  const tab = props.sub ?? 'taxonomy';
  return (
    <div className="admin">
      <SetupSteps project={project} tab={tab} version={version} />
      {tab === 'import' ? (
        can(role, 'items.import') ? (
          <ImportData project={project} onImported={changed} />
        ) : (
          <div className="card">Importing is for admins and managers of {project}.</div>
        )
      ) : null}
      {tab === 'taxonomy' ? <TaxonomyEditor project={project} role={role} onChanged={changed} /> : null}
      {tab === 'members' ? <Members project={project} role={role} me={props.me} onChanged={changed} onMembershipsChanged={props.onMembershipsChanged} /> : null}
      {tab === 'audit' ? <AuditLog project={project} /> : null}
      {tab === 'settings' ? <Settings project={project} onSaved={changed} /> : null}
    </div>
  );
}
