import { sql } from 'kysely';
import type { Store } from '../store/db.ts';
import { nowIso } from '../core/json.ts';
import type { ConsensusSettings, ItemConsensus } from './consensus.ts';
import { projectConsensus, readAnswerColumns, type ProjectConsensus } from './recompute.ts';
import { labelNames, type Taxonomy } from './taxonomy.ts';
import { onBatchRollback, type Conn } from '../store/tx.ts';

/**
 * Model-based consensus (Dawid-Skene, one-coin, GLAD) learns every annotator from every answer
 * of the project, so deciding one item exactly means refitting on all of them — per submit, an
 * O(answers) read and EM under the project's write lock (seconds at 150,000 answers). Instead a
 * fit is kept per store and project and reused while it is fresh:
 * - while the project has fewer than EXACT_BELOW current answers, every decision refits (exact,
 *   as before: small projects and the tests see no difference);
 * - above, the fit is redone once the project has REFIT_FRACTION more annotations than when it
 *   was made; in between, an item the fit did not see is decided from its own answers under the
 *   fitted parameters (one E-step: recompute.ts infer) — what the next full fit would give it,
 *   up to how much the parameters move in 5 % more data.
 * A refit costs about c·N (N answers), done every 0.05·N answers: ~20·c per answer whatever the
 * project's size (load bench, --consensus dawid-skene).
 * Each decision's provenance records its fit (FitInfo below); `tessera label consensus` re-runs
 * consensus with an exact fit. Kept in this process's memory; each server process has its own;
 * a group-commit batch that fails as a whole drops it (it may have read rows that are gone).
 */
export const EXACT_BELOW = 1000;
export const REFIT_FRACTION = 0.05;

interface Fit {
  /** Method, seed and taxonomy the fit is for: any change refits. */
  key: string;
  /** The highest annotation id of the project when it was fitted: answers above it are unseen. */
  maxAnswerId: number;
  answers: number;
  at: string;
  result: ProjectConsensus;
}

/** How an item's model-based consensus was reached (recorded in its provenance). */
export interface FitInfo {
  /** 'exact': refitted on every current answer, this item's included; 'fitted': this item's answers under a fit of `answers` answers made at `at`. */
  mode: 'exact' | 'fitted';
  answers: number;
  at: string;
}

const fits = new WeakMap<Store, Map<number, Fit>>();

function cacheOf(store: Store): Map<number, Fit> {
  let m = fits.get(store);
  if (!m) {
    fits.set(store, (m = new Map()));
    const off = onBatchRollback(store, () => {
      fits.delete(store);
      off();
    });
  }
  return m;
}

/** Drops this process's fits for a store (tests; a settings change needs nothing: the key differs). */
export function forgetConsensusFits(store: Store): void {
  fits.delete(store);
}

/**
 * The whole-project consensus of one item whose current round has `answers` (ascending ids),
 * with a model-based method; see above for when it refits.
 */
export async function consensusByFit(
  store: Store,
  db: Conn,
  projectId: number,
  taxonomy: Taxonomy,
  s: ConsensusSettings,
  itemId: number,
  answers: ReadonlyArray<{ id: number; annotator: string; labels: readonly string[] }>,
  policy: { exactBelow?: number; refitFraction?: number } = {},
): Promise<{ consensus: ItemConsensus; fit: FitInfo }> {
  const exactBelow = policy.exactBelow ?? EXACT_BELOW;
  const refitFraction = policy.refitFraction ?? REFIT_FRACTION;
  const cache = cacheOf(store);
  const key = `${s.method}/${s.seed}/${taxonomy.version}`;
  let fit = cache.get(projectId);
  let fresh = false;
  if (fit && fit.key === key) {
    const { n } = (await sql<{ n: number }>`SELECT COUNT(*) AS n FROM annotations WHERE project_id = ${projectId} AND id > ${fit.maxAnswerId}`.execute(db)).rows[0];
    const newer = Number(n);
    if (fit.answers + newer < exactBelow || newer >= fit.answers * refitFraction) fit = undefined;
  } else fit = undefined;
  if (!fit) {
    const { m } = (await sql<{ m: number | null }>`SELECT MAX(id) AS m FROM annotations WHERE project_id = ${projectId}`.execute(db)).rows[0];
    const cols = await readAnswerColumns(db, projectId, taxonomy);
    fit = { key, maxAnswerId: Number(m ?? 0), answers: cols.item.length, at: nowIso(), result: projectConsensus(cols, { kind: taxonomy.kind!, labels: labelNames(taxonomy) }, s) };
    cache.set(projectId, fit);
    fresh = true;
  }
  const seen = answers.every((a) => a.id <= fit.maxAnswerId) ? fit.result.get(itemId) : undefined;
  const info = { answers: fit.answers, at: fit.at };
  if (seen) return { consensus: seen, fit: { mode: fresh ? 'exact' : 'fitted', ...info } };
  return { consensus: fit.result.infer(answers), fit: { mode: 'fitted', ...info } };
}
