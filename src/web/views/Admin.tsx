import { useState } from 'react';
import { api, get, P, post, type AuditEvent, type LabelDef, type Member, type Taxonomy, type VerifyResult } from '../api.ts';
import { can, type Role } from '../roles.ts';
import { href } from '../router.ts';
import { Empty, ErrorBox, Loading, Section, useAsync, when } from '../ui.tsx';

const ROLES: Role[] = ['admin', 'manager', 'annotator', 'reviewer', 'viewer'];

/** Admin: the taxonomy editor (versions, migration preview), members and roles, the audit log. */
export function AdminView(props: { project: string; role: Role; sub?: string }) {
  const { project, role } = props;
  if (!can(role, 'members.read')) return <div className="card">Administration is for admins and managers of {project}.</div>;
  const tab = props.sub ?? 'taxonomy';
  const tabs = [
    ['taxonomy', 'Taxonomy'],
    ['members', 'Members & roles'],
    ['audit', 'Audit log'],
    ['settings', 'Settings'],
  ];
  return (
    <div className="admin">
      <nav className="tabs" aria-label="administration">
        {tabs.map(([k, name]) => (
          <a key={k} href={href(project, 'admin', k)} className={tab === k ? 'active' : ''} aria-current={tab === k ? 'page' : undefined}>
            {name}
          </a>
        ))}
      </nav>
      {tab === 'taxonomy' ? <TaxonomyEditor project={project} role={role} /> : null}
      {tab === 'members' ? <Members project={project} role={role} /> : null}
      {tab === 'audit' ? <AuditLog project={project} /> : null}
      {tab === 'settings' ? <Settings project={project} /> : null}
    </div>
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

function TaxonomyEditor(props: { project: string; role: Role }) {
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

function Members(props: { project: string; role: Role }) {
  const { project } = props;
  const members = useAsync(() => get<{ members: Member[] }>(`${P(project)}/members`), [project]);
  const [user, setUser] = useState('');
  const [newRole, setNewRole] = useState<Role>('annotator');
  const [error, setError] = useState<unknown>(null);
  const admin = can(props.role, 'members.write');
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      members.reload();
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
                <td>
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
      {admin ? (
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
      ) : (
        <p className="muted small">Only admins change roles.</p>
      )}
      <p className="muted small">
        New users and their tokens are created on the server: <code>tessera users add NAME --role ROLE --project {project}</code> prints the token once.
      </p>
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

function Settings(props: { project: string }) {
  const { project } = props;
  const s = useAsync(() => get<Record<string, unknown>>(`${P(project)}/settings`), [project]);
  const [patch, setPatch] = useState<Record<string, unknown>>({});
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  if (!s.data) return s.error ? <ErrorBox error={s.error} /> : <Loading />;
  const v = { ...s.data, ...patch } as { overlap: number; leaseSeconds: number; reviewThreshold: number; reviewOnDisagreement: boolean; showSuggestions: boolean };
  const field = (k: string, x: unknown) => {
    setPatch((p) => ({ ...p, [k]: x }));
    setSaved(false);
  };
  return (
    <Section title="Labelling settings" id="settings">
      <div className="form-grid">
        <label>
          annotators per item (overlap) <input type="number" min={1} max={100} value={v.overlap} onChange={(e) => field('overlap', Number(e.target.value))} />
        </label>
        <label>
          lease (seconds) <input type="number" min={1} value={v.leaseSeconds} onChange={(e) => field('leaseSeconds', Number(e.target.value))} />
        </label>
        <label>
          review below confidence <input type="number" min={0} max={1} step={0.05} value={v.reviewThreshold} onChange={(e) => field('reviewThreshold', Number(e.target.value))} />
        </label>
        <label>
          <input type="checkbox" checked={v.reviewOnDisagreement} onChange={(e) => field('reviewOnDisagreement', e.target.checked)} /> any disagreement goes to review
        </label>
        <label>
          <input type="checkbox" checked={v.showSuggestions} onChange={(e) => field('showSuggestions', e.target.checked)} /> show suggestions (with their confidence) to annotators
        </label>
      </div>
      <button
        type="button"
        className="primary"
        disabled={Object.keys(patch).length === 0}
        onClick={async () => {
          setError(null);
          try {
            await api('PATCH', `${P(project)}/settings`, patch);
            setPatch({});
            setSaved(true);
            s.reload();
          } catch (e) {
            setError(e);
          }
        }}
      >
        save
      </button>
      {saved ? <span className="muted"> saved</span> : null}
      {error ? <ErrorBox error={error} /> : null}
    </Section>
  );
}
