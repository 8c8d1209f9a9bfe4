import { l2Normalize, type Features } from './features.ts';

/**
 * k-nearest-neighbour classifier with cosine similarity and similarity-weighted votes (ties go
 * to the class of the nearest neighbour). The standard SSL "kNN probe": no training at all, so
 * it measures the geometry of the representation itself.
 */
export function knnPredict(train: Features, trainY: Int32Array, test: Features, classes: number, k = 5): Int32Array {
  const a = l2Normalize(train);
  const b = l2Normalize(test);
  const kk = Math.min(k, a.rows);
  const d = a.dim;
  const out = new Int32Array(b.rows);
  const bestSim = new Float64Array(kk);
  const bestIdx = new Int32Array(kk);
  const votes = new Float64Array(classes);
  for (let i = 0; i < b.rows; i++) {
    bestSim.fill(-Infinity);
    bestIdx.fill(-1);
    const q = i * d;
    for (let r = 0; r < a.rows; r++) {
      let s = 0;
      const o = r * d;
      for (let j = 0; j < d; j++) s += a.data[o + j] * b.data[q + j];
      if (s <= bestSim[kk - 1]) continue;
      let p = kk - 1;
      while (p > 0 && bestSim[p - 1] < s) {
        bestSim[p] = bestSim[p - 1];
        bestIdx[p] = bestIdx[p - 1];
        p--;
      }
      bestSim[p] = s;
      bestIdx[p] = r;
    }
    votes.fill(0);
    for (let p = 0; p < kk; p++) if (bestIdx[p] >= 0) votes[trainY[bestIdx[p]]] += 1 + bestSim[p]; // shift: cosine can be negative
    let best = trainY[bestIdx[0]];
    for (let c = 0; c < classes; c++) if (votes[c] > votes[best]) best = c;
    out[i] = best;
  }
  return out;
}
