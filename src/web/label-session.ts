import { ApiError, get, P, post, sendOnUnload, type Task, type TaskAhead, type Taxonomy } from './api.ts';
import { prepareContent, releaseContent, type Prepared, type ShownItem } from './content.tsx';
import { MAX_HELD } from '../label/limits.ts';
import { carryAnswer, taxonomyChange, type TaxonomyChange } from './taxonomy-change.ts';

/**
 * The labelling view's state machine, outside React so a keypress does the least work:
 *
 * - **Preloading**: besides the item on screen, the session holds the next task (leased through
 *   POST …/tasks/ahead, at most 3 live leases) with its content fetched and decoded, so Enter
 *   shows the next item without a network round trip.
 * - **Undo**: Enter (or a skip) makes the answer *pending*; it is sent when the next answer is
 *   given or after `graceMs`, whichever comes first. Z brings a pending answer back (its time
 *   keeps counting). Once sent, an answer is on the record (append-only): Z no longer reaches it.
 * - Server calls run one at a time, in order (a queue), so a submit always lands before the
 *   request that depends on it. An answer queued but not yet sent still holds its lease: it is
 *   listed as held, or the server would hand the same task back as "another live lease" and its
 *   second answer would meet a 409.
 * - Time spent = time the item was on screen, summed over visits (undo), sent as `timeMs`.
 * - **A new taxonomy version** (seen in a task the server hands out, or as the 409
 *   `E_TAXONOMY_CHANGED` an answer meets): every item the session holds switches to the new
 *   labels at once, the annotator is told what changed (labels added, removed, renamed, …), and
 *   an answer the server refused comes back on screen, its labels carried over where a rename
 *   or merge says where they went, to be sent again under the new version.
 */
export interface Held {
  task: Task;
  prepared?: Prepared;
  /** ms on screen before the current visit. */
  spentMs: number;
}

export interface Pending {
  held: Held;
  kind: 'submit' | 'skip';
  labels: string[];
  reason?: string;
  comment: string;
  question: boolean;
  timeMs: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface SessionState {
  status: 'loading' | 'ready' | 'done' | 'error';
  current: Held | null;
  upcoming: Held[];
  pending: Pending | null;
  selected: string[];
  comment: string;
  question: boolean;
  skipping: boolean;
  /** Answers sent (and acknowledged) in this session. */
  sent: number;
  message: { text: string; kind: 'info' | 'error' } | null;
  error: unknown;
  /** The last taxonomy change this session switched to (shown until dismissed). */
  taxonomyNotice: TaxonomyChange | null;
}

type TaskTaxonomy = Task['taxonomy'];

export interface SessionOptions {
  preload: boolean;
  graceMs: number;
}

export const toShown = (t: Task): ShownItem => ({ id: t.item.id, modality: t.item.modality, text: t.item.text, values: t.item.values, hasBlob: t.item.content !== null });

export class LabelSession {
  state: SessionState = { status: 'loading', current: null, upcoming: [], pending: null, selected: [], comment: '', question: false, skipping: false, sent: 0, message: null, error: null, taxonomyNotice: null };
  private listeners = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private shownAt = performance.now();
  private exhausted = false;
  private fetching = false;
  private disposed = false;
  /** Tasks whose answer is queued or in flight: their leases are live until the call returns. */
  private sending = new Set<number>();
  /** Tasks whose answer the server refused for a new taxonomy, on their way back on screen: still held. */
  private returning = new Set<number>();
  /** The newest taxonomy version this session has seen (every held task is switched to it). */
  private taxonomy: TaskTaxonomy | null = null;

  constructor(
    readonly project: string,
    readonly opts: SessionOptions,
  ) {}

  subscribe = (f: () => void) => {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  };
  getState = () => this.state;

  private set(patch: Partial<SessionState>) {
    this.state = { ...this.state, ...patch };
    for (const f of this.listeners) f();
  }

  /** Runs server calls one after another. */
  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  start() {
    this.fill();
  }

  private heldIds(): number[] {
    const s = this.state;
    const ids = [...this.sending, ...this.returning, s.pending?.held.task.id, s.current?.task.id, ...s.upcoming.map((h) => h.task.id)].filter((x): x is number => x !== undefined);
    return [...new Set(ids)];
  }

  /** Leases (and prepares) the next task when the session holds none ahead. */
  private fill() {
    const s = this.state;
    if (this.exhausted && !s.current && !s.pending && s.status !== 'done' && !this.disposed) {
      this.set({ status: 'done' });
      return;
    }
    const want = s.current === null || (this.opts.preload && s.upcoming.length === 0);
    if (!want || this.exhausted || this.fetching || this.disposed) return;
    this.fetching = true;
    void this.enqueue(async () => {
      try {
        // Read when the call runs, not when it was queued: answers sent since then are no longer held.
        const holding = this.heldIds();
        // At the server's lease limit already: asked again once an answer is sent.
        if (holding.length >= MAX_HELD) return null;
        const r = await post<TaskAhead>(`${P(this.project)}/tasks/ahead`, { holding });
        if (!r.task) {
          // limit: three leases are live (one is a pending answer); asked again once it is sent.
          if (!r.limit) this.exhausted = true;
          return null;
        }
        const held: Held = { task: r.task, spentMs: 0 };
        try {
          held.prepared = await prepareContent(this.project, toShown(r.task));
        } catch {
          held.prepared = undefined; // the view loads (and reports) it itself
        }
        return held;
      } finally {
        this.fetching = false;
      }
    }).then(
      (held) => {
        if (this.disposed) {
          if (held) {
            releaseContent(held.prepared);
            void post(`${P(this.project)}/tasks/${held.task.id}/release`).catch(() => undefined);
          }
          return;
        }
        if (held) {
          held.task = this.adopt(held.task);
          if (this.state.current === null) this.show(held, []);
          else this.set({ upcoming: [...this.state.upcoming, held] });
          this.fill();
        } else if (this.state.current === null) {
          this.set({ status: this.exhausted && !this.state.pending && this.sending.size === 0 ? 'done' : 'loading' });
        }
      },
      (error) => this.set({ status: this.state.current ? this.state.status : 'error', error, message: { text: messageOf(error), kind: 'error' } }),
    );
  }

  private show(held: Held | null, upcoming: Held[], restore?: Pending) {
    this.shownAt = performance.now();
    this.set({
      current: held,
      upcoming,
      status: held ? 'ready' : this.exhausted && !this.state.pending ? 'done' : 'loading',
      selected: restore ? restore.labels : [],
      comment: restore ? restore.comment : '',
      question: restore ? restore.question : false,
      skipping: false,
    });
  }

  private timeOnScreen(h: Held) {
    return Math.round(h.spentMs + (performance.now() - this.shownAt));
  }

  /** Toggles a label (multi-label) or chooses it (single-label). */
  choose(label: string) {
    const s = this.state;
    if (!s.current) return;
    const multi = s.current.task.taxonomy.kind === 'multi';
    const selected = multi ? (s.selected.includes(label) ? s.selected.filter((l) => l !== label) : [...s.selected, label]) : [label];
    this.set({ selected, message: null });
  }

  acceptSuggestion() {
    const sug = this.state.current?.task.suggestion;
    if (sug) this.set({ selected: [...sug.labels] });
  }

  setComment(comment: string) {
    this.set({ comment });
  }
  toggleQuestion() {
    this.set({ question: !this.state.question });
  }
  setSkipping(skipping: boolean) {
    if (this.state.current) this.set({ skipping });
  }

  /** Enter: the answer becomes pending and the next item appears. */
  submit(): boolean {
    const s = this.state;
    if (!s.current) return false;
    const kind = s.current.task.taxonomy.kind;
    if (s.selected.length === 0 || (kind === 'single' && s.selected.length !== 1)) {
      this.set({ message: { text: kind === 'single' ? 'Choose a label first (1–9)' : 'Choose at least one label (1–9)', kind: 'info' } });
      return false;
    }
    this.advance({ kind: 'submit', labels: s.selected, comment: s.comment, question: s.question });
    return true;
  }

  skip(reason: string) {
    if (!this.state.current) return;
    this.advance({ kind: 'skip', labels: [], reason, comment: this.state.comment, question: false });
  }

  private advance(a: Pick<Pending, 'kind' | 'labels' | 'reason' | 'comment' | 'question'>) {
    const s = this.state;
    const held = s.current!;
    if (s.pending) this.send(s.pending);
    const pending: Pending = { ...a, held, timeMs: this.timeOnScreen(held), timer: null };
    pending.timer = setTimeout(() => {
      if (this.state.pending === pending) {
        this.send(pending);
        // No longer undoable: the "Z to undo" note goes.
        this.set({ pending: null, message: this.state.message?.kind === 'info' ? null : this.state.message });
      }
    }, this.opts.graceMs);
    const [next, ...rest] = s.upcoming;
    this.state = { ...this.state, pending };
    this.show(next ?? null, rest);
    const what = a.kind === 'skip' ? 'Skipped' : `Answered ${a.labels.join(', ')}`;
    this.set({ message: { text: `${what} — Z to undo`, kind: 'info' } });
    this.fill();
  }

  /** Z: brings back the pending answer; else takes back the last label chosen on this item. */
  undo() {
    const s = this.state;
    if (s.pending) {
      const p = s.pending;
      if (p.timer) clearTimeout(p.timer);
      const upcoming = s.current ? [{ ...s.current, spentMs: this.timeOnScreen(s.current) }, ...s.upcoming] : s.upcoming;
      const held = { ...p.held, spentMs: p.timeMs };
      this.state = { ...this.state, pending: null };
      this.show(held, upcoming, p);
      this.set({ message: { text: 'Undone: answer it again', kind: 'info' } });
      return;
    }
    if (s.selected.length > 0) {
      this.set({ selected: s.selected.slice(0, -1) });
      return;
    }
    this.set({ message: { text: 'Nothing to undo (an answer is final once sent)', kind: 'info' } });
  }

  /** Sends a pending answer (queued behind earlier calls). */
  private send(p: Pending) {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    const t = p.held.task;
    const path = `${P(this.project)}/tasks/${t.id}/${p.kind}`;
    const body = this.body(p);
    this.sending.add(t.id);
    void this.enqueue(async () => {
      try {
        return await post(path, body);
      } catch (e) {
        // Coming back on screen (answerAgain): held all along, so no preload is handed it meanwhile.
        if (isTaxonomyChange(e)) this.returning.add(t.id);
        throw e;
      } finally {
        // Inside the queued call, so the next queued call (a preload) already sees it gone.
        this.sending.delete(t.id);
      }
    }).then(
      () => {
        releaseContent(p.held.prepared);
        this.set({ sent: this.state.sent + 1 });
        this.fill();
      },
      (error) => {
        if (isTaxonomyChange(error) && !this.disposed) {
          void this.answerAgain(p).finally(() => {
            this.returning.delete(t.id);
            this.fill();
          });
          return;
        }
        this.set({ message: { text: `Item ${t.item.id} was not saved: ${messageOf(error)}`, kind: 'error' } });
        this.fill();
      },
    );
  }

  /**
   * A task as the session shows it: with the newest taxonomy it knows. A task carrying a newer
   * version than the session's switches every held task to it, and the annotator is told.
   */
  private adopt(task: Task): Task {
    const known = this.taxonomy;
    if (!known) {
      this.taxonomy = task.taxonomy;
      return task;
    }
    if (task.taxonomy.version > known.version) {
      this.switchTo(task.taxonomy);
      return task;
    }
    return task.taxonomy.version < known.version ? { ...task, taxonomy: known } : task;
  }

  /** Every held task (on screen, preloaded, pending) now shows `tax`; the change is described. */
  private switchTo(tax: TaskTaxonomy) {
    const old = this.taxonomy;
    if (old && tax.version <= old.version) return;
    this.taxonomy = tax;
    const s = this.state;
    const up = (h: Held): Held => (h.task.taxonomy.version < tax.version ? { ...h, task: { ...h.task, taxonomy: tax } } : h);
    const current = s.current ? up(s.current) : null;
    const names = tax.labels.map((l) => l.name);
    // Until the mapping is known, a choice survives only if its label still exists.
    const selected = s.selected.filter((l) => names.includes(l));
    this.set({ current, upcoming: s.upcoming.map(up), selected: tax.kind === 'single' && selected.length > 1 ? [] : selected });
    if (old) void this.describe(old, tax);
  }

  /** Tells the annotator what changed from `old` to `tax` (the versions' mappings name the renames). */
  private async describe(old: TaskTaxonomy, tax: TaskTaxonomy): Promise<TaxonomyChange> {
    let change: TaxonomyChange;
    try {
      const { versions } = await get<{ versions: Taxonomy[] }>(`${P(this.project)}/taxonomy/versions`);
      change = taxonomyChange(versions, old.version, tax.version);
    } catch {
      // Without the versions list: a plain comparison of the two label sets.
      change = taxonomyChange([{ ...old, mapping: null }, { ...tax, mapping: null }], old.version, tax.version);
    }
    if (!this.disposed && this.taxonomy?.version === tax.version) this.set({ taxonomyNotice: change });
    return change;
  }

  /**
   * The server refused an answer because the taxonomy changed: fetch the new version, switch to
   * it, and bring the item back on screen with its labels carried over, to be answered again.
   */
  private async answerAgain(p: Pending) {
    const id = p.held.task.item.id;
    const old = p.held.task.taxonomy;
    let tax: TaskTaxonomy;
    try {
      const t = await get<Taxonomy>(`${P(this.project)}/taxonomy`);
      tax = { version: t.version, kind: t.kind, labels: t.labels, questions: t.questions, guidelines: t.guidelines };
    } catch (e) {
      this.set({ message: { text: `Item ${id} was not saved: the labels changed, and the new ones could not be loaded (${messageOf(e)}); reload the page`, kind: 'error' } });
      return;
    }
    if (this.disposed) return;
    if (!this.taxonomy || tax.version > this.taxonomy.version) this.switchTo(tax);
    const now = this.taxonomy!;
    const change = await this.describe(old, now);
    if (this.disposed) return;
    const s = this.state;
    const upcoming = s.current ? [{ ...s.current, spentMs: this.timeOnScreen(s.current) }, ...s.upcoming] : s.upcoming;
    const held: Held = { ...p.held, task: { ...p.held.task, taxonomy: now }, spentMs: p.timeMs };
    const labels = carryAnswer(p.labels, change, { kind: now.kind, labels: now.labels.map((l) => l.name) });
    this.show(held, upcoming, { ...p, labels });
    this.set({ message: { text: `Item ${id} was not saved: the labels changed (v${old.version} → v${now.version}). Answer it again.`, kind: 'error' } });
  }

  /** Hides the note about the last taxonomy change. */
  dismissTaxonomyNotice() {
    this.set({ taxonomyNotice: null });
  }

  private body(p: Pending) {
    if (p.kind === 'skip') return { reason: p.reason ?? 'skipped' };
    const b: Record<string, unknown> = { labels: p.labels, taxonomyVersion: p.held.task.taxonomy.version, timeMs: p.timeMs };
    if (p.question) b.question = true;
    if (p.comment.trim()) b.comment = p.comment.trim();
    return b;
  }

  /** Sends the pending answer now (leaving the view). */
  flush() {
    const p = this.state.pending;
    if (!p) return;
    this.state = { ...this.state, pending: null };
    this.send(p);
  }

  /** The page is going away: the pending answer goes out with keepalive. */
  flushOnUnload() {
    const p = this.state.pending;
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.state = { ...this.state, pending: null };
    sendOnUnload(`${P(this.project)}/tasks/${p.held.task.id}/${p.kind}`, this.body(p));
  }

  /** Leaving the view: send what is pending, give back the preloaded tasks. */
  dispose() {
    this.flush();
    this.disposed = true;
    const ahead = this.state.upcoming;
    for (const h of ahead) {
      releaseContent(h.prepared);
      void this.enqueue(() => post(`${P(this.project)}/tasks/${h.task.id}/release`)).catch(() => undefined);
    }
    releaseContent(this.state.current?.prepared);
    this.listeners.clear();
  }
}

const isTaxonomyChange = (e: unknown) => e instanceof ApiError && e.code === 'E_TAXONOMY_CHANGED';

export const messageOf = (e: unknown) => (e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e));
