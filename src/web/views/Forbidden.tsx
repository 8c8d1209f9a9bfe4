import { forbiddenSentence, type GuardedPage } from '../forbidden.ts';
import { can, SOLO_ROLES, type Role } from '../roles.ts';
import { href } from '../router.ts';
import { homeOf } from './Projects.tsx';

/** A page the role may not see: why, in a sentence, and where this role starts instead. */
export function Forbidden(props: { project: string; role: Role; page: GuardedPage }) {
  const { project, role, page } = props;
  const home = homeOf(project, role);
  const here = href(project, page === 'dashboard' ? undefined : page);
  return (
    <div className="card forbidden" role="status" data-forbidden-page={page} data-cannot-label={page === 'label' ? '' : undefined}>
      <p>{forbiddenSentence(project, role, page)}</p>
      {page === 'label' && SOLO_ROLES.includes(role) ? (
        <p className="muted small">
          To label here anyway, not blind, turn on <i>solo labelling</i> in <a href={href(project, 'admin', 'settings')}>the settings</a>.
        </p>
      ) : null}
      {home !== here ? (
        <p>
          <a href={home} data-home="">
            {can(role, 'task.annotate') ? `Start labelling in ${project}` : `Go to the ${project} dashboard`} →
          </a>
        </p>
      ) : null}
    </div>
  );
}
