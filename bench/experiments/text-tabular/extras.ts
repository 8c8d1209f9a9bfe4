// The product's current text baseline, for reference: raw.ts TF-IDF (top 2,000 words by df,
// fitted on the pool) with the probe's dense logistic regression (logreg.ts: standardised
// columns, λ ∈ {1e-3 … 1} by 3-fold CV).
import { selectRows } from '../../../src/probe/features.ts';
import { fitLinearProbe, predictProba } from '../../../src/probe/logreg.ts';
import { tfidf } from '../../../src/probe/raw.ts';
import { csrFromDense } from '../../../src/ssl/text/sparse.ts';
import type { DevData } from './data.ts';
import type { Head, Rep } from './run.ts';

export function extraReps(data: DevData): Record<string, () => Rep> {
  return {
    raw: () => {
      if (data.kind !== 'text') throw new Error('raw is the text baseline');
      const t = performance.now();
      // raw.ts fits its vocabulary on the texts it gets: the pool first, so df counts come from the pool…
      const poolSet = new Set(data.pool);
      const f = tfidf([...data.pool.map((i) => data.texts[i]), ...data.texts.filter((_, i) => !poolSet.has(i))]);
      // …then rows are put back in dataset order.
      const order = [...data.pool, ...data.texts.map((_, i) => i).filter((i) => !poolSet.has(i))];
      const out = new Float32Array(f.data.length);
      order.forEach((r, k) => out.set(f.data.subarray(k * f.dim, (k + 1) * f.dim), r * f.dim));
      const dense = { rows: f.rows, dim: f.dim, data: out };
      return { x: csrFromDense(dense), dense, seconds: (performance.now() - t) / 1000 };
    },
  };
}

export function extraHeads(data: DevData): Record<string, Head> {
  const C = data.classes.length;
  return {
    probe: (h, rows) => {
      const y = Int32Array.from(h.labelled, (i) => data.y[i]);
      const m = fitLinearProbe(selectRows(h.r.dense, h.labelled), y, C, { seed: h.seed });
      return { probs: predictProba(m, selectRows(h.r.dense, rows)) };
    },
  };
}
