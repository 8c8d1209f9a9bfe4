import { get, P, type Annotation, type FinalLabel, type ItemRow } from '../../api.ts';
import { dimsOf, ItemContent } from '../../content.tsx';
import { can, type Role } from '../../roles.ts';
import { href } from '../../router.ts';
import { ErrorBox, Kbd, Loading, pct, useAsync, when } from '../../ui.tsx';

/** One item opened from the map: content, final label with how it was decided, annotations. */
export function ItemPanel(props: { project: string; id: number; role: Role; onClose: () => void }) {
  const { project, id, role } = props;
  const item = useAsync(() => get<ItemRow>(`${P(project)}/items/${id}`), [project, id]);
  const label = useAsync(() => (can(role, 'results.read') ? get<FinalLabel>(`${P(project)}/labels/${id}`) : Promise.resolve(null)), [project, id]);
  const anns = useAsync(
    () =>
      can(role, 'annotations.read')
        ? get<{ annotations: Annotation[] }>(`${P(project)}/items/${id}/annotations`)
        : Promise.resolve(null),
    [project, id],
  );
  const it = item.data;
  return (
    <aside className="card item-panel" aria-label={`item ${id}`} data-item-panel={id}>
      <header className="card-head">
        <h2>Item #{id}</h2>
        <button type="button" onClick={props.onClose}>
          close <Kbd>Esc</Kbd>
        </button>
      </header>
      {item.error ? <ErrorBox error={item.error} /> : null}
      {it ? (
        <>
          <article className="item" data-item-id={it.id}>
            <ItemContent
              project={project}
              item={{ id: it.id, modality: it.modality, text: it.text, values: it.values, hasBlob: it.blob !== null, dims: dimsOf(it.meta) }}
            />
          </article>
          <div className="muted small">
            {it.locator} · imported {when(it.createdAt)} {it.sourceLabel ? `· source label ${it.sourceLabel}` : ''}
          </div>
        </>
      ) : (
        <Loading />
      )}
      {label.data ? (
        <p>
          Status <b>{label.data.status}</b>
          {label.data.labels ? (
            <>
              {' '}
              · final <b>{label.data.labels.join(', ')}</b> by {label.data.source}
              {label.data.confidence !== null ? ` (${pct(label.data.confidence)})` : ''} · {when(label.data.decidedAt)}
            </>
          ) : null}
          {label.data.status === 'review' && can(role, 'review.read') ? (
            <>
              {' '}
              · <a href={href(project, 'review')}>in the review queue</a>
            </>
          ) : null}
        </p>
      ) : null}
      {anns.data ? (
        anns.data.annotations.length ? (
          <table className="plain small">
            <thead>
              <tr>
                <th>annotator</th>
                <th>labels</th>
                <th>when</th>
              </tr>
            </thead>
            <tbody>
              {anns.data.annotations.map((a) => (
                <tr key={a.id}>
                  <td>{a.annotator}</td>
                  <td>{a.skipped ? <i>skipped</i> : a.labels.join(', ')}</td>
                  <td>{when(a.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted small">No annotations yet.</p>
        )
      ) : null}
    </aside>
  );
}
