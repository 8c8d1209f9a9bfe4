import { get, P, type LabelSettings, type Member, type ProjectSummary } from '../../api.ts';
import { href } from '../../router.ts';
import { useAsync } from '../../ui.tsx';

/** The set-up steps as tabs, each with its state: items imported, taxonomy version, people, settings. */
export function SetupSteps(props: { project: string; tab: string; version: number }) {
  const { project, tab, version } = props;
  const summary = useAsync(() => get<ProjectSummary>(P(project)), [project, version]);
  const members = useAsync(() => get<{ members: Member[] }>(`${P(project)}/members`), [project, version]);
  const settings = useAsync(() => get<LabelSettings>(`${P(project)}/settings`), [project, version]);
  const items = summary.data?.status?.items;
  const tv = summary.data?.taxonomyVersion;
  const annotators = members.data?.members.filter((m) => m.role === 'annotator').length;
  const steps: Array<{ key: string; title: string; done: boolean | null; detail: string }> = [
    {
      key: 'import',
      title: 'Import data',
      done: items === undefined ? null : items > 0,
      detail: items === undefined ? '' : items > 0 ? `${items} items` : 'no items yet',
    },
    {
      key: 'taxonomy',
      title: 'Taxonomy',
      done: tv === undefined ? null : tv !== null,
      detail: tv === undefined ? '' : tv !== null ? `version ${tv}` : 'no labels yet',
    },
    {
      key: 'members',
      title: 'People',
      done: annotators === undefined ? null : annotators > 0,
      detail: annotators === undefined ? '' : `${annotators} annotator${annotators === 1 ? '' : 's'}`,
    },
    { key: 'settings', title: 'Settings', done: null, detail: settings.data ? `${settings.data.overlap} per item · ${settings.data.consensus.method}` : '' },
  ];
  const ready = steps.slice(0, 3).every((st) => st.done === true);
  return (
    <>
      <nav className="tabs steps" aria-label="administration">
        {steps.map((st, i) => (
          <a
            key={st.key}
            href={href(project, 'admin', st.key)}
            className={`${tab === st.key ? 'active' : ''}${st.done ? ' done' : ''}`}
            aria-current={tab === st.key ? 'page' : undefined}
            data-step={st.key}
            data-done={st.done === null ? undefined : String(st.done)}
          >
            <span className="step-n">{st.done ? '✓' : i + 1}</span> {st.title}
            {st.detail ? <span className="step-detail"> · {st.detail}</span> : null}
          </a>
        ))}
        <a href={href(project, 'admin', 'audit')} className={tab === 'audit' ? 'active' : ''} aria-current={tab === 'audit' ? 'page' : undefined}>
          Audit log
        </a>
      </nav>
      {ready ? (
        <p className="ready muted small" data-setup-ready="">
          Ready to label: annotators start from their invite links. Progress and agreement show on the <a href={href(project)}>dashboard</a>.
        </p>
      ) : null}
    </>
  );
}
