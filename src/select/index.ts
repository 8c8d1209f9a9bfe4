import { dictOf } from '../core/dict.ts';
import { mulberry32, shuffled } from '../core/rng.ts';
import { badge } from './badge.ts';
import { kCenterGreedy } from './kcenter.ts';
import { typiclust } from './typiclust.ts';
import type { Strategy } from './types.ts';
import { entropy, leastConfidence, margin } from './uncertainty.ts';

/** Uniform random selection (seeded): the baseline every other strategy is measured against. */
export const random: Strategy = (pool, k, ctx) => shuffled(pool.ids, mulberry32(ctx.seed)).slice(0, k);

/**
 * Strategy name → function. Adding a strategy = adding one file and one line here. No
 * prototype: callers look names up as users typed them (`--strategy constructor` is unknown).
 */
export const STRATEGIES: Record<string, { fn: Strategy; needs: Array<'embeddings' | 'probs'>; description: string }> = dictOf(Object.entries({
  random: { fn: random, needs: [], description: 'uniform random (seeded)' },
  'least-confidence': { fn: leastConfidence, needs: ['probs'], description: '1 − max probability' },
  margin: { fn: margin, needs: ['probs'], description: 'smallest top-2 probability gap' },
  entropy: { fn: entropy, needs: ['probs'], description: 'highest predictive entropy' },
  'k-center': { fn: kCenterGreedy, needs: ['embeddings'], description: 'greedy core-set (farthest-first)' },
  typiclust: { fn: typiclust, needs: ['embeddings'], description: 'cold start: most typical point of each uncovered cluster' },
  badge: { fn: badge, needs: ['embeddings', 'probs'], description: 'k-means++ over gradient embeddings (uncertainty + diversity)' },
}));

export type { Pool, SelectContext, Strategy } from './types.ts';
