/** The words and curves of the loop's report: how a round trained, what the economics compare, the baseline curve. */
import type { CurvePoint, EconomicsWords } from './economics.ts';
import type { RoundTraining } from './types.ts';

export function describeTraining(t: RoundTraining): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  const val = t.validationItems > 0 ? ` (validation on ${t.validationItems}: linear ${pct(t.valLinear)}, fine-tune ${pct(t.valFineTune)}${t.fineTuneBestEpoch !== null ? ` at epoch ${t.fineTuneBestEpoch}/${t.fineTuneEpochs}` : ''})` : '';
  const ch = t.challenge;
  const challenge = ch ? `; fine-tune right where the head was wrong on ${ch.b}, the reverse on ${ch.c}: McNemar p ${ch.pOneSided.toFixed(3)} ${ch.passed ? '≤' : '>'} ${ch.alpha}${ch.passed ? '' : ', the head kept'}` : '';
  const ps = t.priorShift;
  const v = ps?.validation;
  const check = v ? `validation log-loss ${v.logLossKept.toFixed(3)} → ${v.logLossMoved.toFixed(3)} on ${v.items} items, weighted to ${v.weightedTo === 'validation' ? `validation's own class mix${v.fit ? ' (the pool does not fit label shift)' : ''}` : "EM's prior (the pool fits label shift)"}` : '';
  const shift = !ps
    ? ''
    : ps.applied
      ? `; prior moved to EM's on ${ps.items} unlabelled items (${ps.iterations} iterations; ${check})`
      : ps.collapsed.length > 0
        ? `; prior kept: EM on ${ps.items} unlabelled items drains ${ps.collapsed.join(', ')} to nothing (a collapse, not a finding)`
        : v
          ? `; prior kept: EM on ${ps.items} unlabelled items moves it to ${ps.poolPrior.map((x) => x.toFixed(2)).join('/')}, which makes it worse (${check})`
          : `; prior kept: EM on ${ps.items} unlabelled items, but no validation items to check the shift on`;
  return `${t.method}${t.requested === 'auto' ? ' won' : ''}${val}${challenge}${shift}, ${t.seconds.toFixed(1)} s`;
}

/**
 * What the economics line compares, in words: this run's classifiers (what each round trained)
 * with active selection, against the baseline — random selection, a linear head on raw features
 * trained on the items' true labels. When the probe sent the head to raw features, both sides
 * are that head and only the selection differs: the line says so rather than "SSL vs …".
 */
export function economicsWords(features: 'ssl' | 'raw', methods: Array<'linear' | 'fine-tune'>, overlap: number, priceLabel: number, unit: string): EconomicsWords {
  const fineTuned = methods.includes('fine-tune');
  const itemPrice = `${overlap} answer${overlap === 1 ? '' : 's'} × ${priceLabel.toFixed(2)}`;
  if (features === 'raw' && !fineTuned) {
    return { run: 'active selection with a linear head on raw features', baseline: 'random selection with the same head (true labels)', unit, itemPrice };
  }
  const run = fineTuned ? `active selection with ${features === 'raw' ? 'a raw-feature head or ' : 'an SSL-embedding head or '}a fine-tuned SSL encoder (each round's validation winner)` : 'active selection with a linear head on the SSL embeddings';
  return { run, baseline: 'random selection with a linear head on raw features (true labels)', unit, itemPrice };
}

/** Baseline accuracies at growing label counts until it matches `target` (or runs out of pool). */
export function baselineCurve(at: (n: number) => number, used: number, target: number, step: number, pool: number): CurvePoint[] {
  const sizes = new Set<number>();
  for (let n = step; n <= Math.min(pool, used); n += step) sizes.add(n);
  sizes.add(Math.min(pool, used));
  const curve = [...sizes].sort((a, b) => a - b).map((n) => ({ labels: n, accuracy: at(n) }));
  // Keep buying random labels for the baseline (doubling) until it reaches our accuracy.
  let n = Math.min(pool, used);
  while (curve[curve.length - 1].accuracy < target && n < pool) {
    n = Math.min(pool, n * 2);
    curve.push({ labels: n, accuracy: at(n) });
  }
  return curve;
}
