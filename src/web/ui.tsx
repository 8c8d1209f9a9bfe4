import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import { forbiddenFromApi } from './forbidden.ts';

/** Small shared pieces: sections, stats, empty states, errors, data loading. */

export function Section(props: { title: string; id?: string; actions?: ReactNode; children: ReactNode; wide?: boolean }) {
  return (
    <section className={`card${props.wide ? ' wide' : ''}`} aria-labelledby={props.id ? `${props.id}-h` : undefined} data-section={props.id}>
      <header className="card-head">
        <h2 id={props.id ? `${props.id}-h` : undefined}>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function Stat(props: { label: string; value: ReactNode; name: string; hint?: string }) {
  return (
    <div className="stat" data-stat={props.name} title={props.hint}>
      <div className="stat-value">{props.value}</div>
      <div className="stat-label">{props.label}</div>
    </div>
  );
}

export function Empty(props: { children: ReactNode; name?: string }) {
  return (
    <div className="empty" data-empty={props.name}>
      {props.children}
    </div>
  );
}

export function ErrorBox(props: { error: unknown }) {
  const e = props.error;
  // A refusal for a role says so in a sentence, not as `E_FORBIDDEN (permission)`.
  const forbidden = e instanceof ApiError && e.code === 'E_FORBIDDEN' ? forbiddenFromApi(e.message) : null;
  const msg = forbidden ?? (e instanceof ApiError ? `${e.message} (${e.code})` : e instanceof Error ? e.message : String(e));
  return (
    <div className="error" role="alert" data-forbidden={forbidden ? '' : undefined}>
      {msg}
    </div>
  );
}

export const Loading = (props: { what?: string }) => <div className="loading">Loading{props.what ? ` ${props.what}` : ''}…</div>;

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads `f()` on mount and whenever `deps` change; `reload()` loads again (keeping old data meanwhile). */
export function useAsync<T>(f: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const fn = useRef(f);
  fn.current = f;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps and the reload tick decide when to fetch
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn.current().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export const pct = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`);
export const num = (x: number | null | undefined, digits = 2) => (x === null || x === undefined ? '—' : x.toFixed(digits));
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—');
export const duration = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60000).toFixed(1)} min`);

/** True when a key event comes from a text field (shortcuts must not fire while typing). */
export const typing = (e: KeyboardEvent) => {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  if (t.tagName === 'INPUT') return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range'].includes((t as HTMLInputElement).type);
  return t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable;
};

/** A global keydown handler that always sees the latest props (no re-binding per render). */
export function useKeys(handler: (e: KeyboardEvent) => void, active = true) {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    if (!active) return;
    const f = (e: KeyboardEvent) => ref.current(e);
    window.addEventListener('keydown', f);
    return () => window.removeEventListener('keydown', f);
  }, [active]);
}

export function Kbd(props: { children: ReactNode }) {
  return <kbd>{props.children}</kbd>;
}

/** Colours for categories (labels, clusters): Okabe–Ito, readable for colour-blind people, then more. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#7f7f7f', '#8c564b', '#17becf', '#bcbd22'];
export const colourOf = (i: number) => PALETTE[i % PALETTE.length];

/** Blue (agree) → white → red (disagree), for κ in [-1, 1]. */
export function kappaColour(k: number | null): string {
  if (k === null) return '#eeeeee';
  const t = Math.max(-1, Math.min(1, k));
  if (t >= 0) {
    const a = Math.round(255 - t * (255 - 60));
    return `rgb(${a}, ${Math.round(255 - t * (255 - 130))}, 255)`;
  }
  const a = Math.round(255 + t * (255 - 90));
  return `rgb(255, ${a}, ${a})`;
}
