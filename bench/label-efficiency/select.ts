/**
 * Which items the label-efficiency arms may take: ssl_active's purchase each round, and the
 * unlabelled training pool that self-training and the prior estimate read (never a test item).
 */
import { selectRows, type Features } from '../../src/probe/features.ts';
import { STRATEGIES } from '../../src/select/index.ts';
import { fitHead, headProba } from './train-api.ts';

/** Calibrated probabilities a trained classifier gave pool positions `positions` (rows × classes), and what it was. */
export interface PreviousPrediction {
  method: string;
  positions: number[];
  proba: Float64Array;
}

/**
 * Pool for pseudo-labelling: training positions outside the labelled set. Test positions are
 * never in it; a caller whose lists overlap gets an error rather than a leak.
 */
export function unlabelledCandidates(train: readonly number[], labelled: readonly number[], test: readonly number[]): number[] {
  const testSet = new Set(test);
  const leaked = train.find((p) => testSet.has(p));
  if (leaked !== undefined) throw new Error(`position ${leaked} is both a training and a test item`);
  const l = new Set(labelled);
  return train.filter((p) => !l.has(p));
}

export interface ActiveBatchInput {
  strategy: string;
  pool: readonly number[];
  active: readonly number[];
  k: number;
  embeddings: Features;
  /** Labels of `active`, in order. */
  labelNames: string[];
  classes: string[];
  seed: number;
  round: number;
  selectWith: 'head' | 'model';
  previous: PreviousPrediction | null;
}

type Probs = { rows: number; classes: number; data: Float64Array };

/** The candidates' class probabilities the uncertainty strategies read, and whose they are. */
function candidateProbs(a: ActiveBatchInput, candidates: number[], candEmb: Features): { probs: Probs; from: string } {
  if (a.selectWith === 'model') {
    const p = a.previous;
    if (!p || p.positions.length !== candidates.length || p.positions.some((x, i) => x !== candidates[i])) {
      throw new Error(`round ${a.round}: selecting with the model needs the previous round's probabilities of exactly this round's ${candidates.length} candidates`);
    }
    return { probs: { rows: candidates.length, classes: a.classes.length, data: p.proba }, from: p.method };
  }
  const h = fitHead(selectRows(a.embeddings, a.active), a.labelNames, a.classes, a.seed);
  return { probs: { rows: candidates.length, classes: a.classes.length, data: headProba(h, candEmb) }, from: 'head' };
}

/**
 * One ssl_active round's purchase: `k` pool positions outside `active`, chosen by `strategy` on the
 * frozen `embeddings` and, for the uncertainty strategies after round 0, on class probabilities —
 * a linear head fitted on the embeddings of the labels so far (`selectWith` 'head'), or what the
 * previous round's trained classifier predicted for exactly these candidates ('model').
 * `uncertaintyFrom` says which ('head', that classifier's method, or null when none were read).
 */
export function selectActiveBatch(a: ActiveBatchInput): { picked: number[]; uncertaintyFrom: string | null } {
  const chosen = new Set(a.active);
  const candidates = a.pool.filter((p) => !chosen.has(p));
  const s = STRATEGIES[a.strategy];
  const candEmb = selectRows(a.embeddings, candidates);
  const read = a.round > 0 && s.needs.includes('probs') ? candidateProbs(a, candidates, candEmb) : null;
  const picked = s.fn({ ids: candidates, embeddings: candEmb, probs: read?.probs }, a.k, { seed: a.seed + a.round, labelled: a.active.length ? selectRows(a.embeddings, a.active) : undefined });
  return { picked: picked.slice(0, a.k), uncertaintyFrom: read?.from ?? null };
}
