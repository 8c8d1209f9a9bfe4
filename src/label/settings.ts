import { UserError } from '../core/errors.ts';
import { nowIso, parseJson } from '../core/json.ts';
import type { Conn } from '../store/tx.ts';
import { METHOD_NAMES, type ConsensusSettings } from './consensus.ts';

/** How a project labels: overlap, leases, consensus, review and gold rules. */
export interface LabelSettings {
  /** Annotators per item (N-overlap). */
  overlap: number;
  /** How long a served task stays reserved for its annotator; then it returns to the queue. */
  leaseSeconds: number;
  consensus: ConsensusSettings;
  /** Consensus confidence below this sends the item to review. */
  reviewThreshold: number;
  /** Any disagreement among an item's annotators sends it to review (else only ties and low confidence). */
  reviewOnDisagreement: boolean;
  gold: {
    /** Share of served tasks that are gold items (when the annotator has gold items left). */
    rate: number;
    /** Alert when an annotator's accuracy on gold is below this… */
    threshold: number;
    /** …over at least this many gold answers. */
    minAnswers: number;
  };
  /** Serve suggestions (labels only, never their source) with tasks. */
  showSuggestions: boolean;
  /**
   * Serve only items a selection strategy prioritised (active learning decides what is worth a
   * label); otherwise, once they run out, the rest follow in import order.
   */
  servePrioritisedOnly: boolean;
  /**
   * An admin or manager may label in this project too (a team of one needs one account). Not
   * blind — they read labels — and recorded so: their annotations carry `blind: false`.
   */
  soloLabelling: boolean;
}

export const DEFAULT_LABEL_SETTINGS: LabelSettings = {
  overlap: 2,
  leaseSeconds: 1800,
  consensus: { method: 'majority', tie: 'unresolved', seed: 0 },
  reviewThreshold: 0.75,
  reviewOnDisagreement: true,
  gold: { rate: 0, threshold: 0.7, minAnswers: 10 },
  showSuggestions: true,
  servePrioritisedOnly: false,
  soloLabelling: false,
};

export type LabelSettingsPatch = Partial<Omit<LabelSettings, 'consensus' | 'gold'>> & {
  consensus?: Partial<ConsensusSettings>;
  gold?: Partial<LabelSettings['gold']>;
};

/** Applies a partial update and checks every value; the message names the bad field. */
export function mergeSettings(base: LabelSettings, patch: LabelSettingsPatch): LabelSettings {
  const s: LabelSettings = {
    ...base,
    ...stripUndefined(patch),
    consensus: { ...base.consensus, ...stripUndefined(patch.consensus ?? {}) },
    gold: { ...base.gold, ...stripUndefined(patch.gold ?? {}) },
  };
  const check = (ok: boolean, field: string, expected: string, got: unknown) => {
    if (!ok) throw new UserError(`settings.${field}: expected ${expected}, got ${JSON.stringify(got)}`);
  };
  check(Number.isInteger(s.overlap) && s.overlap >= 1 && s.overlap <= 100, 'overlap', 'a whole number from 1 to 100', s.overlap);
  check(typeof s.leaseSeconds === 'number' && s.leaseSeconds >= 0.1 && s.leaseSeconds <= 7 * 86400, 'leaseSeconds', 'seconds from 0.1 to 604800', s.leaseSeconds);
  check((METHOD_NAMES as readonly string[]).includes(s.consensus.method), 'consensus.method', METHOD_NAMES.join('|'), s.consensus.method);
  check(['unresolved', 'random', 'first'].includes(s.consensus.tie), 'consensus.tie', 'unresolved|random|first', s.consensus.tie);
  check(Number.isInteger(s.consensus.seed), 'consensus.seed', 'an integer', s.consensus.seed);
  check(isUnit(s.reviewThreshold), 'reviewThreshold', 'a number from 0 to 1', s.reviewThreshold);
  check(typeof s.reviewOnDisagreement === 'boolean', 'reviewOnDisagreement', 'true or false', s.reviewOnDisagreement);
  check(isUnit(s.gold.rate), 'gold.rate', 'a number from 0 to 1', s.gold.rate);
  check(isUnit(s.gold.threshold), 'gold.threshold', 'a number from 0 to 1', s.gold.threshold);
  check(Number.isInteger(s.gold.minAnswers) && s.gold.minAnswers >= 0, 'gold.minAnswers', 'a whole number ≥ 0', s.gold.minAnswers);
  check(typeof s.showSuggestions === 'boolean', 'showSuggestions', 'true or false', s.showSuggestions);
  check(typeof s.servePrioritisedOnly === 'boolean', 'servePrioritisedOnly', 'true or false', s.servePrioritisedOnly);
  check(typeof s.soloLabelling === 'boolean', 'soloLabelling', 'true or false', s.soloLabelling);
  return s;
}

const isUnit = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export async function getLabelSettings(db: Conn, projectId: number): Promise<LabelSettings> {
  const r = await db.selectFrom('label_settings').select('settings').where('project_id', '=', projectId).executeTakeFirst();
  const stored = parseJson<LabelSettingsPatch>(r?.settings, {});
  return mergeSettings(DEFAULT_LABEL_SETTINGS, stored);
}

/** Writes the full settings (call inside the transaction that audits the change). */
export async function putLabelSettings(conn: Conn, projectId: number, s: LabelSettings): Promise<void> {
  const row = { settings: JSON.stringify(s), updated_at: nowIso() };
  await conn
    .insertInto('label_settings')
    .values({ project_id: projectId, ...row })
    .onConflict((oc) => oc.column('project_id').doUpdateSet(row))
    .execute();
}
