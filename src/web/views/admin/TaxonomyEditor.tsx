import { useState } from 'react';
import { get, P, post, type Taxonomy, type TaxonomyCreated } from '../../api.ts';
import { can, type Role } from '../../roles.ts';
import { Empty, ErrorBox, Loading, Section, useAsync, when } from '../../ui.tsx';
import { MigrationPreview } from './MigrationPreview.tsx';
import { draftBody, toDraft, type Draft, type Preview } from './taxonomy-draft.ts';

/** The taxonomy editor: a draft of the next version (labels, guidelines, mapping), its migration preview, and the versions so far. */
export function TaxonomyEditor(props: { project: string; role: Role; onChanged: () => void }) {
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
      setPreview(await post<Preview>(`${P(project)}/taxonomy/preview`, draftBody(d)));
    } catch (e) {
      setError(e);
    }
  };
  const create = async () => {
    setError(null);
    try {
      const r = await post<TaxonomyCreated>(`${P(project)}/taxonomy`, draftBody(d));
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
                  <input
                    value={l.name}
                    onChange={(e) => edit((x) => (x.labels[i].name = e.target.value))}
                    aria-label={`label ${i + 1} name`}
                    disabled={!mayWrite}
                  />
                </td>
                <td>
                  <input
                    value={l.description}
                    onChange={(e) => edit((x) => (x.labels[i].description = e.target.value))}
                    aria-label={`label ${i + 1} description`}
                    disabled={!mayWrite}
                  />
                </td>
                <td>
                  <textarea
                    rows={2}
                    value={l.examples}
                    onChange={(e) => edit((x) => (x.labels[i].examples = e.target.value))}
                    aria-label={`label ${i + 1} examples`}
                    disabled={!mayWrite}
                  />
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
        <textarea
          className="guidelines-edit"
          rows={6}
          value={d.guidelines}
          onChange={(e) => edit((x) => (x.guidelines = e.target.value))}
          disabled={!mayWrite}
        />
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
        {preview ? <MigrationPreview preview={preview} /> : null}
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
