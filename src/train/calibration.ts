import { meanCrossEntropy, rowArgmax } from '../ml/rows.ts';

/**
 * Confidence calibration. Expected calibration error (Guo et al. 2017): predictions binned by
 * confidence into `bins` equal-width bins; ECE = Σ_b (n_b / n) · |acc_b − conf_b|.
 * Temperature scaling (Guo et al. 2017): one scalar T > 0 dividing the logits, fitted on a
 * held-out labelled split by minimising the negative log-likelihood (golden-section search
 * over log T — the NLL is unimodal in T).
 */
export function expectedCalibrationError(probs: Float64Array, classes: number, truth: ArrayLike<number>, bins = 15): number {
  const n = truth.length;
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const correct = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const arg = rowArgmax(probs, i, classes);
    const p = probs[i * classes + arg];
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]++;
    conf[b] += p;
    if (arg === truth[i]) correct[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += (count[b] / n) * Math.abs(correct[b] / count[b] - conf[b] / count[b]);
  return ece;
}

export function softmaxWithTemperature(logits: Float64Array | Float32Array, classes: number, T: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length / classes; i++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c] / T);
    let s = 0;
    for (let c = 0; c < classes; c++) s += out[i * classes + c] = Math.exp(logits[i * classes + c] / T - max);
    for (let c = 0; c < classes; c++) out[i * classes + c] /= s;
  }
  return out;
}

export function nll(probs: Float64Array, classes: number, truth: ArrayLike<number>): number {
  return meanCrossEntropy(probs, classes, truth);
}

/** The temperature in [0.05, 20] minimising held-out NLL. */
export function fitTemperature(logits: Float64Array | Float32Array, classes: number, truth: ArrayLike<number>): number {
  const f = (logT: number) => nll(softmaxWithTemperature(logits, classes, Math.exp(logT)), classes, truth);
  let a = Math.log(0.05);
  let b = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < 60; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}
