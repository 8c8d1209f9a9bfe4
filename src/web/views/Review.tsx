import { useEffect, useState } from 'react';
import { get, P, post, type ReviewDetail, type ReviewEntry, type Taxonomy } from '../api.ts';
import { dimsOf, ItemContent } from '../content.tsx';
import { labelForKey, labelKeys } from '../lib/keys.ts';
import { can, type Role } from '../roles.ts';
import { duration, Empty, ErrorBox, Kbd, Loading, pct, typing, useAsync, useKeys, when } from '../ui.tsx';

const REASONS: Record<string, string> = {
  disagreement: 'annotators disagree',
  low_confidence: 'consensus not confident enough',
  gold_failed: 'a wrong answer on a gold item',
  taxonomy_change: 'the taxonomy changed',
};

/**
 * The review queue: the open entries, and for the chosen one the item with every annotation
 * side by side (who, when, time spent, the suggestion they were shown). Accept (A) the proposal,
 * reject (R: back to labelling in a new round), or fix (F, then 1–9 and Enter).
 */
export function ReviewView(props: { project: string; role: Role }) {
  const { project, role } = props;
  const list = useAsync(() => get<{ reviews: ReviewEntry[] }>(`${P(project)}/reviews?limit=200`), [project]);
  const tax = useAsync(() => get<Taxonomy>(`${P(project)}/taxonomy`), [project]);
  const [chosen, setChosen] = useState<number | null>(null);
  const reviews = list.data?.reviews ?? [];
  useEffect(() => {
    if (reviews.length && (chosen === null || !reviews.some((r) => r.id === chosen))) setChosen(reviews[0].id);
  }, [reviews, chosen]);
  useKeys((e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const i = reviews.findIndex((r) => r.id === chosen);
    if ((e.key === 'j' || e.key === 'ArrowDown') && i < reviews.length - 1) setChosen(reviews[i + 1].id);
    else if ((e.key === 'k' || e.key === 'ArrowUp') && i > 0) setChosen(reviews[i - 1].id);
  });

  if (!can(role, 'review.read')) return <div className="card">Your role ({role}) does not review in this project.</div>;
  if (list.error) return <ErrorBox error={list.error} />;
  if (!list.data) return <Loading what="the review queue" />;
  return (
    <div className="review-layout">
      <nav className="card review-list" aria-label="review queue">
        <header className="card-head">
          <h2>
            Review queue <span className="badge" data-review-count={reviews.length}>{reviews.length}</span>
          </h2>
          <button type="button" onClick={list.reload}>
            refresh
          </button>
        </header>
        {reviews.length === 0 ? (
          <Empty name="reviews">Nothing to review. Items land here when annotators disagree, consensus is unsure, a gold check fails or the taxonomy changes.</Empty>
        ) : (
          <ol>
            {reviews.map((r) => (
              <li key={r.id}>
                <button type="button" className={r.id === chosen ? 'active' : ''} onClick={() => setChosen(r.id)} data-review-id={r.id}>
                  #{r.id} · item {r.itemId} · <span className={`reason ${r.reason}`}>{r.reason.replace('_', ' ')}</span>
                </button>
              </li>
            ))}
          </ol>
        )}
        <div className="muted small">
          <Kbd>J</Kbd>/<Kbd>K</Kbd> next / previous
        </div>
      </nav>
      {chosen !== null && tax.data ? <ReviewEntryView key={chosen} project={project} id={chosen} taxonomy={tax.data} role={role} onDone={list.reload} /> : null}
    </div>
  );
}

function ReviewEntryView(props: { project: string; id: number; taxonomy: Taxonomy; role: Role; onDone: () => void }) {
  const { project, id, taxonomy } = props;
  const d = useAsync(() => get<ReviewDetail>(`${P(project)}/reviews/${id}`), [project, id]);
  const [fixing, setFixing] = useState(false);
  const [fix, setFix] = useState<string[]>([]);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const names = taxonomy.labels.map((l) => l.name);
  const keys = labelKeys(names);
  const mayDecide = can(props.role, 'review.decide');

  const decide = async (decision: 'accept' | 'reject' | 'fix') => {
    if (busy || !mayDecide) return;
    setBusy(true);
    setError(null);
    try {
      await post(`${P(project)}/reviews/${id}/decision`, { decision, ...(decision === 'fix' ? { labels: fix } : {}), ...(note.trim() ? { note: note.trim() } : {}) });
      props.onDone();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  useKeys((e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || !d.data) return;
    const k = e.key.toLowerCase();
    if (fixing) {
      if (k === 'escape') setFixing(false);
      else if (e.key === 'Enter' && fix.length) void decide('fix');
      else {
        const l = labelForKey(names, k);
        if (l) setFix((f) => (taxonomy.kind === 'single' ? [l] : f.includes(l) ? f.filter((x) => x !== l) : [...f, l]));
        else return;
      }
      e.preventDefault();
      return;
    }
    if (k === 'a' && d.data.proposal) void decide('accept');
    else if (k === 'r') void decide('reject');
    else if (k === 'f') setFixing(true);
    else return;
    e.preventDefault();
  });

  if (d.error) return <ErrorBox error={d.error} />;
  if (!d.data) return <Loading what={`review ${id}`} />;
  const r = d.data;
  const item = r.item;
  return (
    <div className="card review-detail" data-review-detail={r.id}>
      <header className="card-head">
        <h2>
          Review #{r.id} · item {r.itemId} · round {r.round}
        </h2>
        <span className={`reason ${r.reason}`}>{REASONS[r.reason] ?? r.reason}</span>
      </header>
      <article className="item" data-item-id={item.id}>
        <ItemContent project={project} item={{ id: item.id, modality: item.modality, text: item.text, values: item.values, hasBlob: item.blob !== null, dims: dimsOf(item.meta) }} />
      </article>
      <h3>Annotations, side by side</h3>
      {r.annotations.length === 0 ? (
        <Empty>No answers in this round.</Empty>
      ) : (
        <div className="answers" data-answers={r.annotations.length}>
          {r.annotations.map((a) => (
            <div className="answer" key={a.id} data-annotator={a.annotator}>
              <div className="answer-labels">{a.labels.join(', ') || <span className="muted">(none)</span>}</div>
              <div>
                <b>{a.annotator}</b>
              </div>
              <div className="muted small">{when(a.at)}</div>
              <div className="muted small">time spent {duration(a.timeMs)} · taxonomy v{a.taxonomyVersion}</div>
              <div className="small">
                {a.suggestion ? (
                  <>
                    shown suggestion <b>{a.suggestion.labels.join(', ')}</b>
                    {a.suggestion.source ? ` from ${a.suggestion.source}` : ''}
                    {typeof a.suggestion.confidence === 'number' ? ` (${pct(a.suggestion.confidence)})` : ''} — {a.suggestionAccepted ? 'taken' : 'not taken'}
                  </>
                ) : (
                  <span className="muted">no suggestion shown</span>
                )}
              </div>
            </div>
          ))}
        </div>
      )}
      <div className="proposal">
        Proposal: {r.proposal ? <b data-proposal="">{r.proposal.join(', ')}</b> : <span className="muted">none (a tie or a split label: fix or reject)</span>}
        {r.gold ? <span> · gold label: {r.gold.join(', ')}</span> : null}
      </div>
      {mayDecide ? (
        <div className="decide">
          <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="note (optional, kept with the decision)" maxLength={2000} />
          <button type="button" className="primary" disabled={!r.proposal || busy} onClick={() => void decide('accept')} data-action="accept">
            Accept <Kbd>A</Kbd>
          </button>
          <button type="button" disabled={busy} onClick={() => void decide('reject')} data-action="reject">
            Reject <Kbd>R</Kbd>
          </button>
          <button type="button" disabled={busy} onClick={() => setFixing(true)} data-action="fix">
            Fix <Kbd>F</Kbd>
          </button>
        </div>
      ) : null}
      {fixing ? (
        <div className="fix-bar" data-fix-bar="">
          Fix with:{' '}
          {names.map((l, i) => (
            <button type="button" key={l} aria-pressed={fix.includes(l)} onClick={() => setFix((f) => (taxonomy.kind === 'single' ? [l] : f.includes(l) ? f.filter((x) => x !== l) : [...f, l]))} data-fix-label={l}>
              {keys[i] ? <Kbd>{keys[i]}</Kbd> : null} {l}
            </button>
          ))}
          <button type="button" className="primary" disabled={!fix.length || busy} onClick={() => void decide('fix')} data-action="fix-confirm">
            Confirm <Kbd>Enter</Kbd>
          </button>
          <Kbd>Esc</Kbd> cancel
        </div>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}
