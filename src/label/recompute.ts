import { dict } from '../core/dict.ts';
import { UserError } from '../core/errors.ts';
import { encodeIndexed, byCodeUnit } from '../consensus/encode.ts';
import type { DenseConsensus } from '../consensus/index.ts';
import { itemPosterior } from '../consensus/em.ts';
import { argmaxOrTie } from '../consensus/result.ts';
import { runMethodDense, type ConsensusSettings, type ItemConsensus } from './consensus.ts';
import { labelNames, type Taxonomy } from './taxonomy.ts';
import type { Conn } from '../store/tx.ts';

/**
 * Consensus over a whole project without a JS object per answer or per item (issue #8: a
 * 1,000,000-item project). Model-based methods (Dawid-Skene, one-coin, GLAD) learn each
 * annotator from every answer, so their EM needs all current answers at once: they are read in
 * keyset batches (annotations_project_id index) straight into typed arrays — 12 bytes per answer
 * (item, annotator, label-set index) while reading, then the Encoded arrays the methods run on
 * (src/consensus/encode.ts, ~20 bytes per answer) and the posteriors (8·K bytes per answered
 * item). Distinct label sets, annotator names and taxonomy labels are the only strings held.
 * Items never answered cost nothing. The result is read item by item (`get`), so callers page
 * through the items they need (settle.ts rerunConsensus) instead of building a Map of all.
 *
 * Same answers, same order, same arithmetic as currentAnswers + consensusFor (settle.ts,
 * consensus.ts): item indices follow the code-unit order of the item ids as strings, the
 * answers are sorted by (item, annotator, label), so results are identical bit for bit
 * (test/store/scale-consensus.test.ts).
 */

/** A project's current answers (as currentAnswers selects them), column-wise. */
export interface AnswerColumns {
  /** Distinct answered item ids, ascending (for lookup). */
  ids: Int32Array;
  /** Position of ids[j] in the consensus item order (decimal strings in code-unit order). */
  rank: Int32Array;
  /** Annotator names, sorted by code unit. */
  annotators: string[];
  /** Per answer: item rank, annotator index, label-set index. */
  item: Int32Array;
  annotator: Int32Array;
  set: Int32Array;
  /** Distinct label sets (each answer's labels). */
  sets: string[][];
}

/** Answers read per query. */
export const ANSWER_BATCH = 5000;

/**
 * Reads every submitted annotation of the current round of every non-gold item of a project, in
 * annotation id order, ANSWER_BATCH at a time, keeping answers whose labels all exist in the
 * current taxonomy — exactly the answers of currentAnswers (settle.ts), as typed arrays.
 */
export async function readAnswerColumns(db: Conn, projectId: number, taxonomy: Taxonomy, batch = ANSWER_BATCH): Promise<AnswerColumns> {
  const names = new Set(labelNames(taxonomy));
  let cap = 1 << 14;
  let n = 0;
  let itemId: Int32Array = new Int32Array(cap);
  let userId: Int32Array = new Int32Array(cap);
  let setOf: Int32Array = new Int32Array(cap);
  const setIndex = new Map<string, number>();
  const sets: string[][] = [];
  for (let after = 0; ; ) {
    const rows = await answersPageQuery(db, projectId, after, batch).execute();
    for (const r of rows) {
      let k = setIndex.get(r.labels);
      if (k === undefined) {
        const labels = JSON.parse(r.labels) as string[];
        // -1: labels outside the current taxonomy (such items are in review anyway): left out.
        k = labels.every((l) => names.has(l)) ? sets.push(labels) - 1 : -1;
        setIndex.set(r.labels, k);
      }
      if (k < 0) continue;
      if (n === cap) {
        cap *= 2;
        itemId = grow(itemId, cap);
        userId = grow(userId, cap);
        setOf = grow(setOf, cap);
      }
      itemId[n] = r.item_id;
      userId[n] = r.user_id;
      setOf[n] = k;
      n++;
    }
    if (rows.length < batch) break;
    after = rows[rows.length - 1].id;
  }
  itemId = itemId.slice(0, n);
  userId = userId.slice(0, n);
  setOf = setOf.slice(0, n);

  // Items: distinct ids ascending, and their rank in the order of their decimal strings.
  const ids = uniqueSorted(itemId);
  const lex = ids.slice().sort(byDecimalString);
  const rank = new Int32Array(ids.length);
  for (let r = 0; r < lex.length; r++) rank[search(ids, lex[r])] = r;
  const item = new Int32Array(n);
  for (let a = 0; a < n; a++) item[a] = rank[search(ids, itemId[a])];

  // Annotators: by name, in code-unit order.
  const users = uniqueSorted(userId);
  const nameOf = new Map<number, string>();
  for (let i = 0; i < users.length; i += 500) {
    const chunk = Array.from(users.subarray(i, i + 500));
    for (const u of await db.selectFrom('users').select(['id', 'name']).where('id', 'in', chunk).execute()) nameOf.set(u.id, u.name);
  }
  const annotators = Array.from(users, (u) => nameOf.get(u)!).sort(byCodeUnit);
  const annIndex = new Map(annotators.map((name, w) => [name, w]));
  const userIndex = new Map(Array.from(users, (u) => [u, annIndex.get(nameOf.get(u)!)!]));
  const annotator = new Int32Array(n);
  for (let a = 0; a < n; a++) annotator[a] = userIndex.get(userId[a])!;
  return { ids, rank, annotators, item, annotator, set: setOf, sets };
}

/** One batch of current answers after annotation `after` (exported so tests can EXPLAIN it). */
export function answersPageQuery(db: Conn, projectId: number, after: number, limit: number) {
  return db
    .selectFrom('annotations')
    .innerJoin('label_items', (j) => j.onRef('label_items.item_id', '=', 'annotations.item_id').onRef('label_items.round', '=', 'annotations.round'))
    .select(['annotations.id', 'annotations.item_id', 'annotations.user_id', 'annotations.labels'])
    .where('annotations.project_id', '=', projectId)
    .where('label_items.project_id', '=', projectId)
    .where('annotations.skipped', '=', 0)
    .where('annotations.id', '>', after)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('gold_items').select('gold_items.item_id').whereRef('gold_items.item_id', '=', 'annotations.item_id'))))
    .orderBy('annotations.id')
    .limit(limit);
}

/** Consensus for a whole project, read item by item. */
export interface ProjectConsensus {
  /** Items with at least one current answer. */
  readonly items: number;
  readonly answers: number;
  /** The item's consensus (as consensusFor gives it), or undefined when it has no current answer. */
  get(itemId: number): ItemConsensus | undefined;
  /**
   * An item's consensus from its `answers` alone, under the parameters fitted to the whole
   * project (one E-step: em.ts itemPosterior) — for an item the fit did not see, or whose answers
   * changed since. EM methods only (majority vote has nothing fitted: it never needs this).
   */
  infer(answers: ReadonlyArray<{ annotator: string; labels: readonly string[] }>): ItemConsensus;
}

/**
 * The project's method over the answer columns — what consensusFor computes for the same
 * answers, held as posteriors in typed arrays. Single-label: one run over the label set.
 * Multi-label: one yes/no run per label (the item's labels are those decided "yes";
 * unresolved if any is tied; confidence = the least confident decision).
 */
export function projectConsensus(cols: AnswerColumns, taxonomy: { kind: 'single' | 'multi'; labels: readonly string[] }, s: ConsensusSettings): ProjectConsensus {
  const nItems = cols.ids.length;
  const N = cols.item.length;
  const labels = [...taxonomy.labels];
  const lookup = (itemId: number) => {
    const j = search(cols.ids, itemId);
    return j < 0 ? -1 : cols.rank[j];
  };
  if (N === 0) return { items: 0, answers: 0, get: () => undefined, infer: () => { throw new Error('consensus: nothing was fitted (no answers)'); } };
  const annotatorIndex = new Map(cols.annotators.map((name, w) => [name, w]));
  const modelOf = (r: DenseConsensus) => {
    if (!r.model) throw new Error(`consensus: method "${s.method}" has no fitted model to decide a new item with`);
    return r.model;
  };
  if (taxonomy.kind === 'single') {
    const labelOfSet = cols.sets.map((set) => labels.indexOf(set[0]));
    const label = new Int32Array(N);
    for (let a = 0; a < N; a++) {
      const k = labelOfSet[cols.set[a]];
      if (k < 0) throw new UserError(`an answer of a single-label project has no label (${JSON.stringify(cols.sets[cols.set[a]])}); expected exactly one`);
      label[a] = k;
    }
    const r = runMethodDense(encodeIndexed(nItems, cols.annotators, labels, cols.item, cols.annotator, label), s);
    const K = labels.length;
    return {
      items: nItems,
      answers: N,
      get(itemId) {
        const i = lookup(itemId);
        if (i < 0) return undefined;
        const posterior = dict<number>();
        let top = 0;
        for (let k = 0; k < K; k++) {
          posterior[labels[k]] = r.T[i * K + k];
          top = Math.max(top, r.T[i * K + k]);
        }
        return { labels: r.choice[i] < 0 ? null : [labels[r.choice[i]]], confidence: top, posterior };
      },
      infer(answers) {
        const T = itemPosterior(modelOf(r), K, answers.map((a) => ({ w: annotatorIndex.get(a.annotator) ?? -1, l: labelIndex(labels, a.labels[0]) })));
        const posterior = dict<number>();
        labels.forEach((l, k) => (posterior[l] = T[k]));
        const choice = argmaxOrTie(T, 0, K);
        return { labels: choice < 0 ? null : [labels[choice]], confidence: Math.max(...T), posterior };
      },
    };
  }
  const runs: DenseConsensus[] = [];
  const yes = new Int32Array(N);
  for (const l of labels) {
    const setHas = cols.sets.map((set) => (set.includes(l) ? 1 : 0));
    for (let a = 0; a < N; a++) yes[a] = setHas[cols.set[a]];
    runs.push(runMethodDense(encodeIndexed(nItems, cols.annotators, ['no', 'yes'], cols.item, cols.annotator, yes), s));
  }
  return {
    items: nItems,
    answers: N,
    get(itemId) {
      const i = lookup(itemId);
      if (i < 0) return undefined;
      const c: ItemConsensus = { labels: [], confidence: 1, posterior: dict() };
      labels.forEach((l, q) => {
        const { T, choice } = runs[q];
        c.posterior[l] = T[i * 2 + 1];
        c.confidence = Math.min(c.confidence, Math.max(0, T[i * 2], T[i * 2 + 1]));
        if (choice[i] < 0 || c.labels === null) c.labels = null;
        else if (choice[i] === 1) c.labels.push(l);
      });
      return c;
    },
    infer(answers) {
      const c: ItemConsensus = { labels: [], confidence: 1, posterior: dict() };
      labels.forEach((l, q) => {
        const T = itemPosterior(modelOf(runs[q]), 2, answers.map((a) => ({ w: annotatorIndex.get(a.annotator) ?? -1, l: a.labels.includes(l) ? 1 : 0 })));
        const choice = argmaxOrTie(T, 0, 2);
        c.posterior[l] = T[1];
        c.confidence = Math.min(c.confidence, Math.max(0, T[0], T[1]));
        if (choice < 0 || c.labels === null) c.labels = null;
        else if (choice === 1) c.labels.push(l);
      });
      return c;
    },
  };
}

function labelIndex(labels: readonly string[], label: string | undefined): number {
  const k = label === undefined ? -1 : labels.indexOf(label);
  if (k < 0) throw new UserError(`an answer of a single-label project has label ${JSON.stringify(label)}, not one of the taxonomy's (${labels.join(', ')})`);
  return k;
}

function grow(a: Int32Array, cap: number): Int32Array {
  const b = new Int32Array(cap);
  b.set(a);
  return b;
}

function uniqueSorted(a: Int32Array): Int32Array {
  const s = a.slice().sort();
  let m = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) s[m++] = s[i];
  return s.slice(0, m);
}

/** Index of x in the ascending array a, or -1. */
function search(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else if (a[mid] > x) hi = mid - 1;
    else return mid;
  }
  return -1;
}

const digits = (x: number) => {
  let d = 1;
  while (x >= 10) {
    x = Math.floor(x / 10);
    d++;
  }
  return d;
};

/**
 * The order of String(a) and String(b) by code unit (what consensus orders items by), for
 * non-negative integers, without making strings: compare the longer one's leading digits; a
 * prefix comes first.
 */
export function byDecimalString(a: number, b: number): number {
  if (a === b) return 0;
  const da = digits(a);
  const db = digits(b);
  if (da === db) return a - b;
  if (da < db) {
    const head = Math.floor(b / 10 ** (db - da));
    return a <= head ? -1 : 1;
  }
  const head = Math.floor(a / 10 ** (da - db));
  return head < b ? -1 : 1;
}
