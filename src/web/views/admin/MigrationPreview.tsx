import type { Preview } from './taxonomy-draft.ts';

/** What creating the drafted version would do: labels added, removed and mapped, and the items sent to review. */
export function MigrationPreview(props: { preview: Preview }) {
  const { preview } = props;
  return (
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
  );
}
