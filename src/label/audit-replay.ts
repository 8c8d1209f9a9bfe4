import { randomBytes } from 'node:crypto';
import { TesseraError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { canonicalJson } from '../core/json.ts';
import { DIGEST_COLUMNS, GOVERNED_TABLES, TABLE_KEY, rowDigest, type GovernedTable } from './row-digest.ts';
import { RowExpectations } from './row-expectations.ts';
import type { Conn } from '../store/tx.ts';

/**
 * State replay: the audit log, replayed event by event, says what every row of the labelling
 * tables (row-digest.ts) must be now; each table is then read page by page and compared.
 *
 * - An event with `rows` (row-digest.ts) gives the digest of each row it touched: the row must
 *   have exactly that digest (every column), or be gone when it says null.
 * - Events written before row digests existed are read for what their payload spells out:
 *   an annotation's labels, round, task, taxonomy version…; a review's decision and labels;
 *   the final labels a consensus or a review gave an item; a taxonomy version's kind, label
 *   names and mapping; a member's role. Those rows are compared on those columns only
 *   (`partial`), and a review row made by an old bulk label, which names no review id, cannot
 *   be compared at all (`unverifiable`).
 * - A labelling row (label_items) no event touched must still be as it was created: open,
 *   round 0, undecided. Any other row no event created is `extra`.
 *
 * The first mismatch is named with its table, row key and why: `changed`, `missing` (the log
 * vouches for a row that is gone) or `extra`. Memory: a few dozen bytes per row the log names
 * (row-expectations.ts), never the events; tables are read in keyset pages.
 */
export type Why = 'changed' | 'missing' | 'extra';

export interface StateFinding {
  table: GovernedTable;
  /** The row's key columns. */
  row: Record<string, number>;
  why: Why;
  /** The event the comparison rests on (null: no event names the row). */
  seq: number | null;
  message: string;
}

type Counts = Record<GovernedTable, number>;

export interface StateReport {
  /** Rows compared on every column with what the log says. */
  checked: Counts;
  /** Rows compared only on the columns their (pre-digest) event spells out. */
  partial: Counts;
  /** Rows no event can vouch for (made by pre-digest events that name no row): not compared. */
  unverifiable: Counts;
  /** Rows that differ from the log. */
  mismatched: Counts;
  /** The first mismatch: tables in the order of `checked`, rows in key order. */
  first: StateFinding | null;
}

export interface ReplayEvent {
  seq: number;
  project_id: number | null;
  at: string;
  actor: string;
  action: string;
  subject: string;
  payload: string;
}

type Row = Record<string, unknown>;
type Fields = Record<string, unknown>;

/** What one event says about one row. */
interface Claim {
  table: GovernedTable;
  key: string;
  /** Digest from `rows`; null = the row was removed. */
  digest?: string | null;
  /** The digest's version (`rows.v`). */
  version?: number;
  /** Columns a pre-digest event spells out (named as in VIEW). */
  fields?: Fields;
  /** The fields are all the row holds (a membership's role). */
  complete?: boolean;
}

/** Modes: removed; a digest of version 1…99 (the mode is the version); columns spelled out. */
const MODE_DELETED = 0;
const FIRST_FIELDS_MODE = 100;

/** Actions whose pre-digest payloads say something about a row. */
const LEGACY_ACTIONS = new Set(['annotation.create', 'annotation.skip', 'review.decide', 'consensus.reached', 'label.bulk', 'taxonomy.create', 'member.set', 'member.remove']);

const bool = (v: unknown) => (v === null || v === undefined ? null : Number(v) === 1);
const json = (text: unknown, fallback: unknown) => {
  if (text === null || text === undefined || text === '') return fallback;
  try {
    return JSON.parse(String(text));
  } catch {
    return { notJson: String(text) };
  }
};
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** A row as the pre-digest events describe it (`_who`: the name of the row's user, joined in). */
const VIEW: Record<GovernedTable, (r: Row) => Fields> = {
  annotations: (r) => ({
    project_id: num(r.project_id),
    item_id: num(r.item_id),
    annotator: r._who ?? null,
    labels: json(r.labels, null),
    taxonomy_version: num(r.taxonomy_version),
    time_ms: num(r.time_ms),
    suggestion: json(r.suggestion, null),
    suggestion_accepted: bool(r.suggestion_accepted),
    question: bool(r.question),
    round: num(r.round),
    assignment_id: num(r.assignment_id),
    skipped: bool(r.skipped),
    skip_reason: r.skip_reason ?? null,
  }),
  reviews: (r) => ({ project_id: num(r.project_id), item_id: num(r.item_id), reviewer: r._who ?? null, decision: r.decision, labels: json(r.labels, null), note: r.note ?? null }),
  label_items: (r) => ({
    project_id: num(r.project_id),
    round: num(r.round),
    status: r.status,
    final_labels: json(r.final_labels, null),
    final_source: r.final_source ?? null,
    final_taxonomy_version: num(r.final_taxonomy_version),
  }),
  taxonomies: (r) => {
    const labels = json(r.labels, []);
    return { kind: r.kind, label_names: Array.isArray(labels) ? labels.map((l: { name?: unknown }) => l?.name ?? null) : labels, mapping: json(r.mapping, null), created_by: r.created_by ?? null };
  },
  memberships: (r) => ({ role: r.role }),
};

const idOf = (subject: string, prefix: string): number | undefined => {
  const m = new RegExp(`^${prefix}:(\\d+)$`).exec(subject);
  return m ? Number(m[1]) : undefined;
};
const userOf = (actor: string) => (actor.startsWith('user:') ? actor.slice(5) : undefined);
const defined = (o: Fields): Fields => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** What a pre-digest event says about rows (also used to word a mismatch of a newer one). */
function legacyClaims(e: ReplayEvent, p: Record<string, unknown>, bulkItems?: Set<number>): Claim[] {
  const item = idOf(e.subject, 'item');
  const project = e.project_id ?? undefined;
  switch (e.action) {
    case 'annotation.create':
    case 'annotation.skip': {
      if (!isId(p.annotation)) return [];
      const common = { project_id: project, item_id: item, annotator: userOf(e.actor), round: p.round, assignment_id: p.task };
      const fields =
        e.action === 'annotation.create'
          ? { ...common, labels: p.labels, taxonomy_version: p.taxonomyVersion, time_ms: p.timeMs, suggestion: p.suggestion, suggestion_accepted: p.suggestionAccepted, question: p.question, skipped: false }
          : { ...common, labels: [], skip_reason: p.reason, skipped: true };
      return [{ table: 'annotations', key: String(p.annotation), fields: defined(fields) }];
    }
    case 'review.decide': {
      const out: Claim[] = [];
      if (isId(p.reviewDecisionId)) {
        out.push({ table: 'reviews', key: String(p.reviewDecisionId), fields: defined({ project_id: project, item_id: item, reviewer: userOf(e.actor), decision: p.decision, labels: p.labels, note: p.note }) });
      }
      if (item !== undefined && p.gold !== true && (p.decision === 'reject' || ((p.decision === 'accept' || p.decision === 'fix') && Array.isArray(p.labels)))) {
        const reject = p.decision === 'reject';
        out.push({ table: 'label_items', key: String(item), fields: defined({ final_labels: reject ? null : p.labels, final_source: reject ? null : 'review' }) });
      }
      return out;
    }
    case 'consensus.reached':
      return item === undefined || !Array.isArray(p.labels) ? [] : [{ table: 'label_items', key: String(item), fields: defined({ final_labels: p.labels, final_source: 'consensus', round: p.round }) }];
    case 'label.bulk': {
      const items = Array.isArray(p.items) && Array.isArray(p.labels) ? p.items.filter(isId) : [];
      for (const i of items) bulkItems?.add(i);
      return items.map((i) => ({ table: 'label_items' as const, key: String(i), fields: defined({ final_labels: p.labels, final_source: 'review', final_taxonomy_version: p.taxonomyVersion }) }));
    }
    case 'taxonomy.create':
      if (project === undefined || !isId(p.version)) return [];
      return [{ table: 'taxonomies', key: `${project}/${p.version}`, fields: defined({ kind: p.kind, label_names: p.labels, mapping: p.mapping, created_by: e.actor }) }];
    case 'member.set':
    case 'member.remove': {
      const user = idOf(e.subject, 'user');
      if (project === undefined || user === undefined) return [];
      const key = `${project}/${user}`;
      if (e.action === 'member.remove') return [{ table: 'memberships', key, digest: null }];
      return typeof p.role === 'string' ? [{ table: 'memberships', key, fields: { role: p.role }, complete: true }] : [];
    }
    default:
      return [];
  }
}

const zeroCounts = (): Counts => ({ taxonomies: 0, memberships: 0, annotations: 0, reviews: 0, label_items: 0 });
const singleKey = (t: GovernedTable) => TABLE_KEY[t].length === 1;

/** A row's key as a tuple, for "first" in key order. */
const tupleOf = (key: number | string): number[] => (typeof key === 'number' ? [key] : key.split('/').map(Number));
const before = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i];
  return a.length < b.length;
};

interface Pending {
  table: GovernedTable;
  tuple: number[];
  why: Why;
  seq: number | null;
  row: Row | null;
  /** The comparison that failed: 'digest', 'fields', 'pristine' or 'removed'. */
  how: string;
  version?: number;
}

export class Replay {
  private readonly salt = randomBytes(16).toString('hex');
  private readonly expect: Record<GovernedTable, RowExpectations<number | string>> = {
    taxonomies: new RowExpectations(),
    memberships: new RowExpectations(),
    annotations: new RowExpectations(),
    reviews: new RowExpectations(),
    label_items: new RowExpectations(),
  };
  private readonly modes: Array<{ table: GovernedTable; fields: string[]; complete: boolean }> = [];
  private readonly modeIds = new Map<string, number>();
  /** Items an old (pre-digest) bulk label decided: their review rows name no event. */
  private readonly bulkItems = new Set<number>();

  /** `project`: replay only its events and compare only its rows. */
  constructor(private readonly project?: number) {}

  /** Feeds the next event (in seq order). */
  add(e: ReplayEvent): void {
    if (this.project !== undefined && e.project_id !== this.project) return;
    const hasRows = e.payload.includes('"rows":');
    if (!hasRows && !LEGACY_ACTIONS.has(e.action)) return;
    let p: unknown;
    try {
      p = JSON.parse(e.payload);
    } catch {
      return;
    }
    if (!p || typeof p !== 'object') return;
    const payload = p as Record<string, unknown>;
    const rows = payload.rows;
    if (hasRows && rows && typeof rows === 'object') {
      const version = (rows as { v?: unknown }).v ?? 1;
      if (typeof version !== 'number' || !DIGEST_COLUMNS[version]) {
        throw new TesseraError(`event ${e.seq} has row digests of version ${JSON.stringify(version)}, which this version of Tessera does not know (it knows ${Object.keys(DIGEST_COLUMNS).join(', ')}): verify with the version that wrote them`, 'E_AUDIT_DIGEST_VERSION');
      }
      for (const table of GOVERNED_TABLES) {
        const entries = (rows as Record<string, unknown>)[table];
        if (!entries || typeof entries !== 'object') continue;
        for (const [key, digest] of Object.entries(entries as Record<string, unknown>)) {
          if (digest === null || (typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest))) this.claim(e.seq, { table, key, digest, version });
        }
      }
      return;
    }
    for (const c of legacyClaims(e, payload, this.bulkItems)) this.claim(e.seq, c);
  }

  private claim(seq: number, c: Claim) {
    const key = singleKey(c.table) ? Number(c.key) : c.key;
    if (typeof key === 'number' && !Number.isSafeInteger(key)) return;
    const exp = this.expect[c.table];
    if (c.digest === null) return exp.set(key, seq, MODE_DELETED, [0, 0]);
    if (c.digest !== undefined) return exp.set(key, seq, c.version ?? 1, this.fp(c.digest));
    const fields = Object.keys(c.fields!).sort();
    const id = `${c.table}:${fields.join(',')}:${c.complete ? 1 : 0}`;
    let mode = this.modeIds.get(id);
    if (mode === undefined) {
      mode = FIRST_FIELDS_MODE + this.modes.length;
      this.modes.push({ table: c.table, fields, complete: Boolean(c.complete) });
      this.modeIds.set(id, mode);
    }
    exp.set(key, seq, mode, this.fp(canonicalJson(c.fields)));
  }

  /** 64 bits of a salted hash: the salt is drawn per replay, so no row can be forged to match in advance. */
  private fp(text: string): [number, number] {
    const h = sha256Hex(this.salt + text);
    return [Number.parseInt(h.slice(0, 8), 16), Number.parseInt(h.slice(8, 16), 16)];
  }

  private fieldsOf(row: Row, table: GovernedTable, fields: readonly string[]): string {
    const v = VIEW[table](row);
    return canonicalJson(Object.fromEntries(fields.map((f) => [f, v[f] ?? null])));
  }

  /** Compares every governed table with the replayed log. */
  async compare(db: Conn, pageSize = 5000): Promise<StateReport> {
    const report: StateReport = { checked: zeroCounts(), partial: zeroCounts(), unverifiable: zeroCounts(), mismatched: zeroCounts(), first: null };
    let first: Pending | null = null;
    for (const table of GOVERNED_TABLES) {
      const found = await this.scan(db, table, pageSize, report);
      if (!first && found) first = found;
    }
    if (first) report.first = await describe(db, first);
    return report;
  }

  private async scan(db: Conn, table: GovernedTable, pageSize: number, report: StateReport): Promise<Pending | null> {
    const exp = this.expect[table];
    let first: Pending | null = null;
    const note = (p: Pending) => {
      report.mismatched[table]++;
      if (!first || before(p.tuple, first.tuple)) first = p;
    };
    for await (const row of pages(db, table, pageSize, this.project)) {
      const key = singleKey(table) ? Number(row[TABLE_KEY[table][0]]) : TABLE_KEY[table].map((c) => Number(row[c])).join('/');
      const tuple = tupleOf(key);
      const i = exp.slot(key);
      if (i < 0) {
        if (table === 'label_items') {
          report.checked[table]++;
          if (!pristine(row)) note({ table, tuple, why: 'changed', seq: null, row, how: 'pristine' });
        } else if (table === 'reviews' && this.bulkItems.has(Number(row.item_id))) {
          report.unverifiable[table]++;
        } else note({ table, tuple, why: 'extra', seq: null, row, how: 'none' });
        continue;
      }
      exp.markSeen(i);
      const mode = exp.mode(i);
      if (mode === MODE_DELETED) {
        note({ table, tuple, why: 'extra', seq: exp.seq(i), row, how: 'removed' });
        continue;
      }
      let ok: boolean;
      if (mode < FIRST_FIELDS_MODE) {
        report.checked[table]++;
        ok = exp.matches(i, this.fp(rowDigest(table, row, mode)));
      } else {
        const m = this.modes[mode - FIRST_FIELDS_MODE];
        if (m.complete) report.checked[table]++;
        else report.partial[table]++;
        ok = exp.matches(i, this.fp(this.fieldsOf(row, table, m.fields)));
      }
      if (!ok) note({ table, tuple, why: 'changed', seq: exp.seq(i), row, how: mode < FIRST_FIELDS_MODE ? 'digest' : 'fields', version: mode });
    }
    for (let i = 0; i < exp.size; i++) {
      if (exp.wasSeen(i) || exp.mode(i) === MODE_DELETED) continue;
      note({ table, tuple: tupleOf(exp.key(i)), why: 'missing', seq: exp.seq(i), row: null, how: 'gone' });
    }
    return first;
  }
}

/** As ensureLabelItem creates a labelling row: open, round 0, nothing decided. */
const pristine = (r: Row) =>
  r.status === 'open' && Number(r.round) === 0 && r.final_labels === null && r.final_source === null && r.final_confidence === null && r.final_taxonomy_version === null && r.final_provenance === null && r.decided_at === null;

/** The rows of a table (of one project), in key order, a page at a time; with the row's user's name as `_who`. */
async function* pages(db: Conn, table: GovernedTable, pageSize: number, project?: number): AsyncGenerator<Row> {
  const key = TABLE_KEY[table];
  const who = table === 'annotations' ? 'user_id' : table === 'reviews' ? 'reviewer_id' : null;
  let after: number[] | null = null;
  for (;;) {
    let q = db.selectFrom(`${table} as t` as never).selectAll('t' as never) as any;
    if (who) q = q.leftJoin('users as u', 'u.id', `t.${who}`).select('u.name as _who');
    if (project !== undefined) q = q.where('t.project_id', '=', project);
    if (after) {
      const a = after;
      q = key.length === 1 ? q.where(`t.${key[0]}`, '>', a[0]) : q.where((eb: any) => eb.or([eb(`t.${key[0]}`, '>', a[0]), eb.and([eb(`t.${key[0]}`, '=', a[0]), eb(`t.${key[1]}`, '>', a[1])])]));
    }
    for (const k of key) q = q.orderBy(`t.${k}`);
    const page = (await q.limit(pageSize).execute()) as Row[];
    for (const r of page) yield r;
    if (page.length < pageSize) return;
    const last = page[page.length - 1];
    after = key.map((k) => Number(last[k]));
  }
}

const KEY_TEXT = (table: GovernedTable, tuple: number[]) => TABLE_KEY[table].map((k, i) => `${k}=${tuple[i]}`).join(', ');
const show = (v: unknown) => JSON.stringify(v ?? null);

/** Words a mismatch: which row, what the log says, what differs. */
async function describe(db: Conn, p: Pending): Promise<StateFinding> {
  const row = Object.fromEntries(TABLE_KEY[p.table].map((k, i) => [k, p.tuple[i]]));
  const where = `${p.table} row ${KEY_TEXT(p.table, p.tuple)}`;
  const ev = p.seq === null ? undefined : await db.selectFrom('audit_events').select(['seq', 'project_id', 'at', 'actor', 'action', 'subject', 'payload']).where('seq', '=', p.seq).executeTakeFirst();
  const named = ev ? `event ${ev.seq} (${ev.action} by ${ev.actor} at ${ev.at})` : `event ${p.seq}`;
  let message: string;
  if (p.why === 'missing') message = `${where} is missing: ${named} recorded it, and no later event removed it`;
  else if (p.why === 'extra') message = p.how === 'removed' ? `${where} is there, but ${named} removed it` : `${where} is extra: no event created it`;
  else if (p.how === 'pristine') {
    const v = VIEW.label_items(p.row!);
    message = `${where} was changed: no event decided or reopened it, yet it is ${v.status} in round ${v.round}${v.final_labels !== null ? ` with final labels ${show(v.final_labels)}` : ''} (a labelling row starts open, in round 0, undecided)`;
  } else {
    const diffs: string[] = [];
    if (ev) {
      const view = VIEW[p.table](p.row!);
      const payload = json(ev.payload, {}) as Record<string, unknown>;
      const key = p.tuple.join('/');
      for (const c of legacyClaims(ev, payload)) {
        if (c.table !== p.table || c.key !== key || !c.fields) continue;
        for (const [f, want] of Object.entries(c.fields)) if (canonicalJson(view[f] ?? null) !== canonicalJson(want)) diffs.push(`${f} is ${show(view[f])}, ${named} recorded ${show(want)}`);
      }
    }
    message = diffs.length
      ? `${where} was changed: ${diffs.join('; ')}`
      : `${where} was changed: it no longer matches the row digest ${named} recorded; the changed column is one the event does not spell out (the digest covers ${DIGEST_COLUMNS[p.version ?? 1][p.table].join(', ')})`;
  }
  return { table: p.table, row, why: p.why, seq: p.seq, message };
}
