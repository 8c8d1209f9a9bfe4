import { mulberry32, shuffled } from '../core/rng.ts';
import type { Features } from '../probe/features.ts';
import { selectRows } from '../probe/features.ts';
import { fitLinearProbe, predictProba, searchLambda, type LinearModel } from '../probe/logreg.ts';
import { accuracy, confusionMatrix, macroF1, perClassF1 } from '../probe/metrics.ts';
import { expectedCalibrationError, fitTemperature, softmaxWithTemperature } from './calibration.ts';
import { rowArgmax } from '../ml/rows.ts';

/** A classifier head on frozen embeddings, with the temperature that calibrates it. */
export interface Head {
  model: LinearModel;
  temperature: number;
  classes: string[];
}

export interface Metrics {
  accuracy: number;
  macroF1: number;
  perClassF1: Record<string, number>;
  confusion: number[][];
  ece: number;
}

/**
 * Fits a linear head (L2 logistic regression, λ by cross-validation: src/probe/logreg.ts
 * searchLambda) on labelled embeddings.
 * A validation split (20%, stratified, when every class has ≥ 5 labels) fits the temperature;
 * the head is then refitted on all labels with the chosen λ, and the temperature kept.
 *
 * Given the rows under several test-time views (`x[v]`: the same items, view 0 as they are; see
 * src/train/views.ts), the head trains on every view's rows — the shifted images as extra
 * examples, as fine-tuning's augmentation gives a network — and `headProba` averages its logits
 * over the views. λ is still cross-validated on view 0 alone (folds holding views of one item on
 * both sides would favour a weak penalty); the temperature is fitted on the averaged logits.
 */
export function fitHead(x: Features | Features[], labels: string[], classes: string[], seed: number): Head {
  const views = Array.isArray(x) ? x : [x];
  if (views.length === 0 || views.some((v) => v.rows !== views[0].rows || v.dim !== views[0].dim)) throw new Error('fitHead: views of unequal shape');
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(labels, (l) => index.get(l)!);
  const counts = classes.map((_, c) => y.filter((v) => v === c).length);
  const C = classes.length;
  /** Every view's rows `rows` (all rows when null) and their labels. */
  const rowsOf = (rows: number[] | null) => ({ parts: views.map((v) => (rows ? selectRows(v, rows) : v)), y: rows ? Int32Array.from(rows, (i) => y[i]) : y });
  /** The views' rows stacked into one training set, labels repeated in step. */
  const stack = (r: { parts: Features[]; y: Int32Array }): { x: Features; y: Int32Array } => {
    if (r.parts.length === 1) return { x: r.parts[0], y: r.y };
    const n = r.parts[0].rows;
    const data = new Float32Array(n * r.parts.length * r.parts[0].dim);
    r.parts.forEach((p, v) => data.set(p.data, v * p.data.length));
    return { x: { rows: n * r.parts.length, dim: r.parts[0].dim, data }, y: Int32Array.from({ length: n * r.parts.length }, (_, k) => r.y[k % n]) };
  };
  /** λ cross-validated on view 0's rows: folds holding views of one item on both sides would favour a weak penalty. */
  const lambdaOn = (r: { parts: Features[]; y: Int32Array }): number => searchLambda(r.parts[0], r.y, C, seed);
  let temperature = 1;
  let lambda: number | undefined;
  if (counts.every((n) => n >= 5)) {
    const rand = mulberry32(seed);
    const val: number[] = [];
    const train: number[] = [];
    classes.forEach((_, c) => {
      const rows = shuffled(Array.from(y.keys()).filter((i) => y[i] === c), rand);
      const k = Math.max(1, Math.round(rows.length * 0.2));
      val.push(...rows.slice(0, k));
      train.push(...rows.slice(k));
    });
    const t = rowsOf(train);
    const st = stack(t);
    const m = fitLinearProbe(st.x, st.y, C, { seed, lambda: lambdaOn(t) });
    lambda = m.lambda;
    const v = rowsOf(val);
    temperature = fitTemperature(meanLogits(m, v.parts), C, v.y);
  }
  const all = rowsOf(null);
  const st = stack(all);
  const model = fitLinearProbe(st.x, st.y, C, { seed, lambda: lambda ?? lambdaOn(all) });
  return { model, temperature, classes };
}

/** Raw logits (log-probabilities up to a constant) of the head. */
function logitsOf(m: LinearModel, x: Features): Float64Array {
  const p = predictProba(m, x);
  return p.map((v) => Math.log(Math.max(v, 1e-300)));
}

/** The mean over views of the logits (log-probabilities differ from logits by a per-row constant, which softmax ignores). */
function meanLogits(m: LinearModel, x: Features | Features[]): Float64Array {
  if (!Array.isArray(x)) return logitsOf(m, x);
  const sum = logitsOf(m, x[0]);
  for (let v = 1; v < x.length; v++) {
    const l = logitsOf(m, x[v]);
    for (let k = 0; k < sum.length; k++) sum[k] += l[k];
  }
  return sum.map((s) => s / x.length);
}

/** Calibrated class probabilities, rows × classes (with views: of the logits averaged over them). */
export function headProba(h: Head, x: Features | Features[]): Float64Array {
  return softmaxWithTemperature(meanLogits(h.model, x), h.classes.length, h.temperature);
}

export function evaluate(h: Head, x: Features | Features[], truth: string[]): Metrics {
  return metricsFromProba(headProba(h, x), h.classes, truth);
}

/**
 * Accuracy, macro-F1, per-class F1, confusion matrix and ECE of class probabilities `p`
 * (rows × classes) against `truth` (class names, or class ids); rows whose truth is not one of
 * `classes` (or a negative id) are left out. Shared by the linear head and fine-tuned models.
 */
export function metricsFromProba(p: Float64Array, classes: string[], truth: ArrayLike<string> | ArrayLike<number>): Metrics {
  const C = classes.length;
  const rows = truth.length;
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from({ length: rows }, (_, i) => {
    const t = truth[i];
    return typeof t === 'number' ? (Number.isInteger(t) && t >= 0 && t < C ? t : -1) : (index.get(t) ?? -1);
  });
  const pred = Int32Array.from({ length: rows }, (_, i) => rowArgmax(p, i, C));
  const known = Array.from(y.keys()).filter((i) => y[i] >= 0);
  const yk = Int32Array.from(known, (i) => y[i]);
  const pk = Int32Array.from(known, (i) => pred[i]);
  const f1 = perClassF1(yk, pk, C);
  return {
    accuracy: accuracy(yk, pk),
    macroF1: macroF1(yk, pk, C),
    perClassF1: Object.fromEntries(classes.map((c, i) => [c, f1[i]])),
    confusion: confusionMatrix(yk, pk, C),
    ece: expectedCalibrationError(Float64Array.from(known.flatMap((i) => Array.from(p.subarray(i * C, (i + 1) * C)))), C, yk),
  };
}
