import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Role } from '../roles.ts';
import { can } from '../roles.ts';
import { LabelSession, toShown } from '../label-session.ts';
import { ItemContent } from '../content.tsx';
import { labelForKey, labelKeys } from '../lib/keys.ts';
import { ErrorBox, Kbd, Loading, pct, typing, useKeys } from '../ui.tsx';
import { Forbidden } from './Forbidden.tsx';
import { describeChange, type TaxonomyChange } from '../taxonomy-change.ts';

const SKIP_REASONS = ['unclear: I cannot tell', 'no label fits', 'broken or unreadable item'];

/**
 * The labelling view: keyboard first. 1–9 (then letters) choose labels, Enter submits, S skips
 * (with a reason), Z undoes, G shows the guidelines, A takes the suggestion, Q marks a question
 * about the guidelines, C writes a comment. The next item is preloaded.
 */
export function LabelView(props: { project: string; role: Role; mayLabel: boolean; query: URLSearchParams }) {
  const { project, role } = props;
  if (!props.mayLabel) return <Forbidden project={project} role={role} page="label" />;
  const labeller = <Labeller project={project} preload={props.query.get('preload') !== '0'} graceMs={Number(props.query.get('grace') ?? 3000)} />;
  if (can(role, 'task.annotate')) return labeller;
  return (
    <>
      <p className="solo-note muted small" data-solo-labelling="">
        Solo labelling is on in {project}: as {role} you can read other people’s labels, so your answers are recorded as not blind.
      </p>
      {labeller}
    </>
  );
}

function Labeller(props: { project: string; preload: boolean; graceMs: number }) {
  const { project, preload } = props;
  const graceMs = Number.isFinite(props.graceMs) && props.graceMs >= 0 ? props.graceMs : 3000;
  // One session per mount (created in the effect, so a remount never reuses a disposed one).
  const [session, setSession] = useState<LabelSession | null>(null);
  useEffect(() => {
    const ls = new LabelSession(project, { preload, graceMs });
    setSession(ls);
    ls.start();
    const unload = () => ls.flushOnUnload();
    window.addEventListener('pagehide', unload);
    return () => {
      window.removeEventListener('pagehide', unload);
      ls.dispose();
    };
  }, [project, preload, graceMs]);
  if (!session) return <Loading what="the next item" />;
  return <LabellerView session={session} project={project} />;
}

function LabellerView(props: { session: LabelSession; project: string }) {
  const { session } = props;
  const s = useSyncExternalStore(session.subscribe, session.getState);
  const [guidelines, setGuidelines] = useState(false);
  const comment = useRef<HTMLInputElement>(null);

  const task = s.current?.task;
  const labels = task ? task.taxonomy.labels.map((l) => l.name) : [];
  const keys = labelKeys(labels);

  useKeys((e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === 'Escape') (e.target as HTMLElement).blur();
      return;
    }
    const k = e.key;
    if (k === 'Escape') {
      if (s.skipping) session.setSkipping(false);
      else setGuidelines(false);
      return;
    }
    if (k === 'g' || k === 'G') {
      setGuidelines((g) => !g);
      e.preventDefault();
      return;
    }
    if (k === 'z' || k === 'Z') {
      session.undo();
      e.preventDefault();
      return;
    }
    if (!task) return;
    if (s.skipping) {
      const i = Number(k) - 1;
      if (i >= 0 && i < SKIP_REASONS.length) {
        session.skip(SKIP_REASONS[i]);
        e.preventDefault();
      }
      return;
    }
    if (k === 'Enter') {
      session.submit();
      e.preventDefault();
      return;
    }
    if (k === 's' || k === 'S') return void (session.setSkipping(true), e.preventDefault());
    if (k === 'a' || k === 'A') return void (session.acceptSuggestion(), e.preventDefault());
    if (k === 'q' || k === 'Q') return void (session.toggleQuestion(), e.preventDefault());
    if (k === 'c' || k === 'C') return void (comment.current?.focus(), e.preventDefault());
    const label = labelForKey(labels, k);
    if (label) {
      session.choose(label);
      e.preventDefault();
    }
  });

  if (s.status === 'error' && !task) return <ErrorBox error={s.error} />;
  if (s.status === 'done' && !task) {
    return (
      <div className="card" data-label-done="">
        <h2>Nothing left to label</h2>
        <p>Every item open to you in this project has its answers. {s.sent > 0 ? `You sent ${s.sent} answer(s) in this session.` : ''}</p>
      </div>
    );
  }
  if (!task) return <Loading what="the next item" />;
  const tax = task.taxonomy;

  return (
    <div className="label-layout">
      <div className="label-main">
        <div className="label-meta muted small">
          Item <b>#{task.item.id}</b> · {task.item.modality} · taxonomy v{tax.version} ({tax.kind === 'multi' ? 'several labels allowed' : 'one label'}) · sent this session: <span data-sent={s.sent}>{s.sent}</span>
          {s.pending ? <span className="pending"> · 1 answer waiting to be sent</span> : null}
        </div>
        {s.taxonomyNotice ? <TaxonomyNotice change={s.taxonomyNotice} onDismiss={() => session.dismissTaxonomyNotice()} /> : null}
        <article className="item" data-task-id={task.id} data-item-id={task.item.id} data-modality={task.item.modality} aria-label={`item ${task.item.id}`}>
          <ItemContent project={props.project} item={toShown(task)} prepared={s.current?.prepared} keys />
        </article>
        {task.suggestion ? (
          <div className="suggestion" data-suggestion="">
            Suggestion: <b>{task.suggestion.labels.join(', ')}</b>
            {typeof task.suggestion.confidence === 'number' ? <span data-confidence=""> · confidence {pct(task.suggestion.confidence)}</span> : null} — <Kbd>A</Kbd> to take it
          </div>
        ) : null}
        <div className="labels" role="group" aria-label="labels">
          {tax.labels.map((l, i) => (
            <button
              type="button"
              key={l.name}
              className="label-btn"
              aria-pressed={s.selected.includes(l.name)}
              data-label={l.name}
              title={l.description}
              onClick={() => session.choose(l.name)}
            >
              {keys[i] ? <Kbd>{keys[i]}</Kbd> : null} {l.name}
            </button>
          ))}
        </div>
        {s.skipping ? (
          <div className="skip-bar" role="dialog" aria-label="skip reason" data-skip-bar="">
            Skip because:{' '}
            {SKIP_REASONS.map((r, i) => (
              <button type="button" key={r} onClick={() => session.skip(r)}>
                <Kbd>{i + 1}</Kbd> {r}
              </button>
            ))}{' '}
            <Kbd>Esc</Kbd> cancel
          </div>
        ) : null}
        <div className="answer-extras">
          <label>
            <Kbd>C</Kbd> Comment{' '}
            <input
              ref={comment}
              value={s.comment}
              onChange={(e) => session.setComment(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  e.currentTarget.blur();
                  session.submit();
                }
              }}
              placeholder="optional note for reviewers"
              maxLength={2000}
            />
          </label>
          <label>
            <input type="checkbox" checked={s.question} onChange={() => session.toggleQuestion()} /> <Kbd>Q</Kbd> question about the guidelines
          </label>
          <button type="button" className="primary" onClick={() => session.submit()} disabled={s.selected.length === 0}>
            Submit <Kbd>Enter</Kbd>
          </button>
          <button type="button" onClick={() => session.setSkipping(true)}>
            Skip <Kbd>S</Kbd>
          </button>
          <button type="button" onClick={() => session.undo()}>
            Undo <Kbd>Z</Kbd>
          </button>
        </div>
        {s.message ? (
          <div className={`toast ${s.message.kind}`} role="status" data-message="">
            {s.message.text}
          </div>
        ) : null}
        <div className="keys-help muted small">
          <Kbd>1</Kbd>–<Kbd>9</Kbd> label · <Kbd>Enter</Kbd> submit · <Kbd>S</Kbd> skip · <Kbd>Z</Kbd> undo · <Kbd>G</Kbd> guidelines · <Kbd>A</Kbd> suggestion · <Kbd>Q</Kbd> question ·{' '}
          <Kbd>C</Kbd> comment{s.upcoming.length ? ` · next item ready` : ''}
        </div>
      </div>
      {guidelines ? (
        <aside className="guidelines card" aria-label="guidelines" data-guidelines="">
          <header className="card-head">
            <h2>Guidelines · v{tax.version}</h2>
            <button type="button" onClick={() => setGuidelines(false)}>
              close <Kbd>G</Kbd>
            </button>
          </header>
          {tax.guidelines ? <div className="guidelines-text">{tax.guidelines}</div> : <p className="muted">No guidelines written for this version.</p>}
          <dl>
            {tax.labels.map((l, i) => (
              <div key={l.name}>
                <dt>
                  {keys[i] ? <Kbd>{keys[i]}</Kbd> : null} {l.name}
                </dt>
                <dd>
                  {l.description ?? <span className="muted">no description</span>}
                  {l.examples?.length ? (
                    <ul>
                      {l.examples.map((x, j) => (
                        <li key={j}>{x}</li>
                      ))}
                    </ul>
                  ) : null}
                </dd>
              </div>
            ))}
          </dl>
        </aside>
      ) : (
        <aside className="guidelines-hint muted small">
          <Kbd>G</Kbd> guidelines (v{tax.version})
        </aside>
      )}
    </div>
  );
}

/** The labels changed while this page was open: what is different now. */
function TaxonomyNotice(props: { change: TaxonomyChange; onDismiss: () => void }) {
  const c = props.change;
  const lines = describeChange(c);
  return (
    <div className="taxonomy-notice" role="status" data-taxonomy-notice={c.to}>
      <b>
        The labels changed (taxonomy v{c.from} → v{c.to})
      </b>
      {lines.length ? (
        <ul>
          {lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      ) : (
        <span>: the guidelines or descriptions were revised (press G to read them).</span>
      )}{' '}
      <button type="button" onClick={props.onDismiss}>
        got it
      </button>
    </div>
  );
}
