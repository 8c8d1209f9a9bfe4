import { useState } from 'react';
import { api, get, P, post, type AuditEvent, type LabelDef, type Me, type Member, type Taxonomy, type UserRow, type VerifyResult } from '../api.ts';
import { can, type Role } from '../roles.ts';
import { href } from '../router.ts';
import { Empty, ErrorBox, Loading, Section, useAsync, when } from '../ui.tsx';
import { ImportData } from './ImportData.tsx';
import { AddPerson, InviteLink, ROLES } from './People.tsx';
import { Settings } from './Settings.tsx';

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
      {tab === 'import' ? (can(role, 'items.import') ? <ImportData project={project} onImported={changed} /> : <div className="card">Importing is for admins and managers of {project}.</div>) : null}
      {tab === 'taxonomy' ? <TaxonomyEditor project={project} role={role} onChanged={changed} /> : null}
      {tab === 'members' ? <Members project={project} role={role} me={props.me} onChanged={changed} onMembershipsChanged={props.onMembershipsChanged} /> : null}
      {tab === 'audit' ? <AuditLog project={project} /> : null}
      {tab === 'settings' ? <Settings project={project} onSaved={changed} /> : null}
    </div>
  );
}

interface Summary {
  taxonomyVersion: number | null;
  status?: { items: number };
}

/** The set-up steps as tabs, each with its state: items imported, taxonomy version, people, settings. */
function SetupSteps(props: { project: string; tab: string; version: number }) {
  const { project, tab, version } = props;
  const summary = useAsync(() => get<Summary>(P(project)), [project, version]);
  const members = useAsync(() => get<{ members: Member[] }>(`${P(project)}/members`), [project, version]);
  const settings = useAsync(() => get<{ overlap: number; consensus: { method: string } }>(`${P(project)}/settings`), [project, version]);
  const items = summary.data?.status?.items;
  const tv = summary.data?.taxonomyVersion;
  const annotators = members.data?.members.filter((m) => m.role === 'annotator').length;
  const steps: Array<{ key: string; title: string; done: boolean | null; detail: string }> = [
    { key: 'import', title: 'Import data', done: items === undefined ? null : items > 0, detail: items === undefined ? '' : items > 0 ? `${items} items` : 'no items yet' },
    { key: 'taxonomy', title: 'Taxonomy', done: tv === undefined ? null : tv !== null, detail: tv === undefined ? '' : tv !== null ? `version ${tv}` : 'no labels yet' },
    { key: 'members', title: 'People', done: annotators === undefined ? null : annotators > 0, detail: annotators === undefined ? '' : `${annotators} annotator${annotators === 1 ? '' : 's'}` },
    { key: 'settings', title: 'Settings', done: null, detail: settings.data ? `${settings.data.overlap} per item · ${settings.data.consensus.method}` : '' },
  ];
  const ready = steps.slice(0, 3).every((st) => st.done === true);
  return (
    <>
      <nav className="tabs steps" aria-label="administration">
        {steps.map((st, i) => (
          <a key={st.key} href={href(project, 'admin', st.key)} className={`${tab === st.key ? 'active' : ''}${st.done ? ' done' : ''}`} aria-current={tab === st.key ? 'page' : undefined} data-step={st.key} data-done={st.done === null ? undefined : String(st.done)}>
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

interface Draft {
  kind: 'single' | 'multi';
  labels: Array<{ name: string; description: string; examples: string }>;
  guidelines: string;
  mapping: Array<{ op: 'rename' | 'merge' | 'split'; from: string; to: string }>;
}

const toDraft = (t: Taxonomy | undefined): Draft => ({
  kind: t?.kind ?? 'single',
  labels: t ? t.labels.map((l) => ({ name: l.name, description: l.description ?? '', examples: (l.examples ?? []).join('\n') })) : [{ name: '', description: '', examples: '' }],
  guidelines: t?.guidelines ?? '',
  mapping: [],
});

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function body(d: Draft) {
  return {
    kind: d.kind,
    labels: d.labels
      .filter((l) => l.name.trim())
      .map((l): LabelDef => {
        const out: LabelDef = { name: l.name.trim() };
        if (l.description.trim()) out.description = l.description.trim();
        const ex = l.examples
          .split('\n')
          .map((x) => x.trim())
          .filter(Boolean);
        if (ex.length) out.examples = ex;
        return out;
      }),
    guidelines: d.guidelines,
    ...(d.mapping.length
      ? {
          mapping: d.mapping.map((m) => (m.op === 'rename' ? { op: m.op, from: m.from.trim(), to: m.to.trim() } : m.op === 'merge' ? { op: m.op, from: list(m.from), to: m.to.trim() } : { op: m.op, from: m.from.trim(), to: list(m.to) })),
        }
      : {}),
  };
}

interface Preview {
  version: number;
  previousVersion: number | null;
  added: string[];
  removed: string[];
  mapping: Array<{ from: string; to: string[] }>;
  touched: string[];
  sentToReview: number;
  byState: Record<string, number>;
  items: Array<{ itemId: number; state: string; previous: string[] | null; proposal: string[] | null }>;
}

function TaxonomyEditor(props: { project: string; role: Role; onChanged: () => void }) {
  const { project } = props;
  const versions = useAsync(() => get<{ versions: Taxonomy[] }>(`${P(project)}/taxonomy/versions`), [project]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const mayWrite = can(props.role, 'taxonomy.write');
  if (versions.error) return <ErrorBox error={versions.error} />;
  if (!versions.data) return <Loading what="taxonomy versions" />;
  const all = versions.data.versions;
  const current = all[all.length - 1];
  const d = draft ?? toDraft(current);
  const edit = (f: (d: Draft) => void) => {
    const copy: Draft = JSON.parse(JSON.stringify(d));
    f(copy);
    setDraft(copy);
    setPreview(null);
    setSaved(null);
  };
  const doPreview = async () => {
    setError(null);
    try {
      setPreview(await post<Preview>(`${P(project)}/taxonomy/preview`, body(d)));
    } catch (e) {
      setError(e);
    }
  };
  const create = async () => {
    setError(null);
    try {
      const r = await post<{ taxonomy: Taxonomy; sentToReview: number }>(`${P(project)}/taxonomy`, body(d));
      setSaved(`Version ${r.taxonomy.version} created; ${r.sentToReview} item(s) sent to review.`);
      setDraft(null);
      setPreview(null);
      versions.reload();
      props.onChanged();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="two-cols admin-cols">
      <Section title={current ? `Edit → version ${current.version + 1}` : 'Create the first version'} id="tax-edit">
        <label>
          kind{' '}
          <select value={d.kind} onChange={(e) => edit((x) => (x.kind = e.target.value as Draft['kind']))} disabled={!mayWrite}>
            <option value="single">single-label</option>
            <option value="multi">multi-label</option>
          </select>
        </label>
        <table className="plain tax-labels">
          <thead>
            <tr>
              <th>label</th>
              <th>description</th>
              <th>examples (one per line)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {d.labels.map((l, i) => (
              <tr key={i}>
                <td>
                  <input value={l.name} onChange={(e) => edit((x) => (x.labels[i].name = e.target.value))} aria-label={`label ${i + 1} name`} disabled={!mayWrite} />
                </td>
                <td>
                  <input value={l.description} onChange={(e) => edit((x) => (x.labels[i].description = e.target.value))} aria-label={`label ${i + 1} description`} disabled={!mayWrite} />
                </td>
                <td>
                  <textarea rows={2} value={l.examples} onChange={(e) => edit((x) => (x.labels[i].examples = e.target.value))} aria-label={`label ${i + 1} examples`} disabled={!mayWrite} />
                </td>
                <td>
                  <button type="button" onClick={() => edit((x) => x.labels.splice(i, 1))} disabled={!mayWrite} aria-label={`remove label ${i + 1}`}>
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => edit((x) => x.labels.push({ name: '', description: '', examples: '' }))} disabled={!mayWrite}>
          + label
        </button>
        <h3>Guidelines</h3>
        <textarea className="guidelines-edit" rows={6} value={d.guidelines} onChange={(e) => edit((x) => (x.guidelines = e.target.value))} disabled={!mayWrite} />
        {current ? (
          <>
            <h3>Mapping from version {current.version}</h3>
            <p className="muted small">Every label that goes away needs a step: rename A → B, merge A, B → C (comma-separated), split A → B, C.</p>
            {d.mapping.map((m, i) => (
              <div className="mapping-row" key={i}>
                <select value={m.op} onChange={(e) => edit((x) => (x.mapping[i].op = e.target.value as Draft['mapping'][number]['op']))}>
                  <option value="rename">rename</option>
                  <option value="merge">merge</option>
                  <option value="split">split</option>
                </select>
                <input value={m.from} placeholder="from" onChange={(e) => edit((x) => (x.mapping[i].from = e.target.value))} aria-label="from" />
                →
                <input value={m.to} placeholder="to" onChange={(e) => edit((x) => (x.mapping[i].to = e.target.value))} aria-label="to" />
                <button type="button" onClick={() => edit((x) => x.mapping.splice(i, 1))}>
                  ✕
                </button>
              </div>
            ))}
            <button type="button" onClick={() => edit((x) => x.mapping.push({ op: 'rename', from: '', to: '' }))} disabled={!mayWrite}>
              + mapping step
            </button>
          </>
        ) : null}
        {mayWrite ? (
          <div className="decide">
            <button type="button" onClick={() => void doPreview()} data-action="preview">
              Preview migration
            </button>
            <button type="button" className="primary" onClick={() => void create()} data-action="create-version">
              Create version {current ? current.version + 1 : 1}
            </button>
            {draft ? (
              <button type="button" onClick={() => setDraft(null)}>
                discard changes
              </button>
            ) : null}
          </div>
        ) : null}
        {error ? <ErrorBox error={error} /> : null}
        {saved ? (
          <div className="toast info" role="status">
            {saved}
          </div>
        ) : null}
        {preview ? (
          <div className="preview" data-preview="">
            <h3>
              Migration preview: v{preview.previousVersion ?? '—'} → v{preview.version}
            </h3>
            <ul>
              <li>added: {preview.added.join(', ') || 'none'}</li>
              <li>removed: {preview.removed.join(', ') || 'none'}</li>
              <li>mapped: {preview.mapping.map((m) => `${m.from} → ${m.to.join(' | ')}`).join('; ') || 'none'}</li>
              <li>
                <b data-sent-to-review={preview.sentToReview}>{preview.sentToReview}</b> item(s) would go to review
                {Object.keys(preview.byState).length ? ` (${Object.entries(preview.byState).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}
              </li>
            </ul>
            {preview.items.length ? (
              <table className="plain small">
                <thead>
                  <tr>
                    <th>item</th>
                    <th>state</th>
                    <th>now</th>
                    <th>proposal</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.items.map((t) => (
                    <tr key={`${t.itemId}-${t.state}`}>
                      <td>{t.itemId}</td>
                      <td>{t.state}</td>
                      <td>{t.previous?.join(', ') ?? '—'}</td>
                      <td>{t.proposal?.join(', ') ?? 'a reviewer chooses'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </div>
        ) : null}
      </Section>
      <Section title="Versions" id="tax-versions">
        {all.length === 0 ? (
          <Empty>No taxonomy yet.</Empty>
        ) : (
          <ol className="versions" reversed>
            {[...all].reverse().map((t) => (
              <li key={t.version} data-version={t.version}>
                <b>v{t.version}</b> · {t.kind} · {t.labels.map((l) => l.name).join(', ')}
                <div className="muted small">
                  {when(t.createdAt)} by {t.createdBy ?? '—'}
                  {t.mapping ? ` · mapping: ${JSON.stringify(t.mapping)}` : ''}
                </div>
              </li>
            ))}
          </ol>
        )}
      </Section>
    </div>
  );
}

function Members(props: { project: string; role: Role; me: Me; onChanged: () => void; onMembershipsChanged: () => Promise<void> }) {
  const { project, me } = props;
  const members = useAsync(() => get<{ members: Member[] }>(`${P(project)}/members`), [project]);
  const instanceAdmin = me.user.admin === true;
  const users = useAsync(() => (instanceAdmin ? get<{ users: UserRow[] }>('/api/users') : Promise.resolve({ users: [] as UserRow[] })), [project, instanceAdmin]);
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
                    <select value={m.role} onChange={(e) => void act(() => api('PUT', `${P(project)}/members/${encodeURIComponent(m.user)}`, { role: e.target.value }))} aria-label={`role of ${m.user}`}>
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
                      onClick={() => void act(async () => setInvite({ user: m.user, token: (await post<{ token: string }>(`/api/users/${encodeURIComponent(m.user)}/tokens`, {})).token }))}
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

function AuditLog(props: { project: string }) {
  const { project } = props;
  const [after, setAfter] = useState(0);
  const page = useAsync(() => get<{ events: AuditEvent[] }>(`${P(project)}/audit?after=${after}&limit=50`), [project, after]);
  const [verify, setVerify] = useState<VerifyResult | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<number | null>(null);
  const events = page.data?.events ?? [];
  return (
    <Section
      title="Audit log"
      id="audit-log"
      wide
      actions={
        <button
          type="button"
          data-action="verify"
          disabled={verifying}
          onClick={async () => {
            setVerifying(true);
            setError(null);
            try {
              setVerify(await get<VerifyResult>(`${P(project)}/audit/verify`));
            } catch (e) {
              setError(e);
            }
            setVerifying(false);
          }}
        >
          {verifying ? 'verifying…' : 'Verify chain'}
        </button>
      }
    >
      {verify ? (
        <div className={`verify ${verify.ok ? 'ok' : 'bad'}`} role="status" data-verify={verify.ok ? 'ok' : 'bad'}>
          {verify.ok
            ? `Chain intact: ${verify.verified} of ${verify.events} events verified; head #${verify.head?.seq} ${verify.head?.hash.slice(0, 16)}…`
            : `Chain broken at event #${verify.firstBad?.seq} (${verify.firstBad?.kind}): ${verify.firstBad?.message}`}
        </div>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      {page.error ? <ErrorBox error={page.error} /> : null}
      <table className="plain events">
        <thead>
          <tr>
            <th>#</th>
            <th>when</th>
            <th>who</th>
            <th>what</th>
            <th>subject</th>
            <th>hash</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq} onClick={() => setOpen(open === e.seq ? null : e.seq)} className="clickable">
              <td>{e.seq}</td>
              <td>{when(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>{e.subject}</td>
              <td>
                <code>{e.hash?.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open !== null ? <pre className="payload">{JSON.stringify(events.find((e) => e.seq === open)?.payload, null, 2)}</pre> : null}
      <div className="decide">
        <button type="button" disabled={after === 0} onClick={() => setAfter(0)}>
          first page
        </button>
        <button type="button" disabled={events.length < 50} onClick={() => setAfter(events[events.length - 1].seq)}>
          next page →
        </button>
      </div>
    </Section>
  );
}
