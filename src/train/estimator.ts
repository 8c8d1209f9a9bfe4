/**
 * The contract every trained classifier meets, in the spirit of scikit-learn's
 * fit / predict_proba: it knows its classes, gives calibrated class probabilities for items, saves
 * itself to a folder, and `loadEstimator` (src/train/estimators.ts) reads any such folder back.
 *
 * Classifiers read different things — a linear head frozen features, a fine-tuned network the
 * items themselves — so `proba` takes the items as positions in a modality's data together with
 * whatever features the caller already holds for every item; each estimator reads what it needs.
 */
import type { Features } from '../probe/features.ts';
import type { ModalityData } from '../ssl/types.ts';

/** Items to predict: positions in `data` (and rows of `features`), with what the caller has computed for every item. */
export interface Items {
  pos: number[];
  /** The modality data: what networks read (and what raw features are computed from). */
  data?: ModalityData;
  /** Frozen features of every item (SSL embeddings or raw features), row for row with `data`. */
  features?: Features;
  /** `features` under the test-time views 1… (src/train/views.ts), row for row; a head trained on views averages over them. */
  views?: Features[];
}

export type EstimatorKind = 'linear' | 'raw-linear' | 'fine-tune' | 'ensemble' | 'prior-shift';

export interface Estimator {
  readonly kind: EstimatorKind;
  readonly classes: string[];
  /** Calibrated class probabilities, rows × classes, of `items.pos` in their order. */
  proba(items: Items): Promise<Float64Array>;
  /** Writes a folder that `loadEstimator` reads back into an estimator predicting the same probabilities. */
  save(dir: string): Promise<void>;
  /** Frees what the estimator holds (tensors; an encoder only when it loaded it itself). */
  dispose(): void;
}

/** The file in an estimator's folder that says what it is (written last: a folder without it is an unfinished save). */
export const ESTIMATOR_FILE = 'estimator.json';
export const ESTIMATOR_FORMAT = 'tessera-estimator';

export interface EstimatorFile {
  format: typeof ESTIMATOR_FORMAT;
  version: 1;
  kind: EstimatorKind;
  classes: string[];
  [k: string]: unknown;
}
