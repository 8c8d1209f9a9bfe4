import { mulberry32 } from '../core/rng.ts';

/** `simulated:K:NOISE` → K annotators whose error rates average NOISE. */
export function parseAnnotatorSpec(spec: string): { count: number; noise: number } {
  const m = /^simulated:(\d+):(0(?:\.\d+)?|1(?:\.0+)?)$/.exec(spec);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 50) throw new Error(`--annotators expects simulated:K:NOISE with K from 1 to 50 and NOISE from 0 to 1 (e.g. simulated:3:0.15), got "${spec}"`);
  return { count: Number(m[1]), noise: Number(m[2]) };
}

export interface SimAnnotator {
  name: string;
  /** Probability of answering wrongly. */
  errorRate: number;
  answer(itemId: number, truth: string): string;
}

/**
 * Simulated annotators that answer from the source label with per-annotator noise: error rates
 * spread from 0.5×NOISE to 1.5×NOISE (so consensus has reliable and unreliable workers to weigh),
 * and half of each annotator's errors are systematic (a fixed wrong label per true class, the
 * confusions Dawid–Skene models); the other half uniform over the wrong labels. Deterministic
 * per (seed, annotator, item).
 */
export function simulatedAnnotators(count: number, noise: number, labels: string[], seed: number): SimAnnotator[] {
  return Array.from({ length: count }, (_, k) => {
    const errorRate = Math.min(1, noise * (count === 1 ? 1 : 0.5 + k / (count - 1)));
    const confuse = new Map(labels.map((l, i) => [l, labels[(i + 1 + k) % labels.length]]));
    return {
      name: `sim-annotator-${k + 1}`,
      errorRate,
      answer(itemId: number, truth: string) {
        const r = mulberry32((seed * 1_000_003 + k * 7919 + itemId) >>> 0);
        if (labels.length < 2 || r() >= errorRate) return truth;
        const wrong = labels.filter((l) => l !== truth);
        if (r() < 0.5 && confuse.get(truth) !== truth) return confuse.get(truth)!;
        return wrong[Math.floor(r() * wrong.length)];
      },
    };
  });
}
