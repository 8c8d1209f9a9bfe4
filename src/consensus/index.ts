// Consensus: one file per aggregation method, all honouring the contract in types.ts.
import { dawidSkene } from './dawid-skene.ts';
import { glad } from './glad.ts';
import { majority } from './majority.ts';
import { oneCoin } from './one-coin.ts';
import type { Aggregate } from './types.ts';

export type * from './types.ts';
export { majority, type MajorityOptions, type TieRule } from './majority.ts';
export { dawidSkene, type DawidSkeneOptions } from './dawid-skene.ts';
export { oneCoin, type OneCoinOptions } from './one-coin.ts';
export { glad, type GladOptions, type GladResult } from './glad.ts';
export { confusionDictOf, empiricalConfusion, type ConfusionDict } from './confusion.ts';
export { goldAccuracy, wilsonInterval, type GoldOptions, type GoldReport, type GoldAlert } from './gold.ts';
export { mulberry32 } from '../core/rng.ts';
export * from './agreement/index.ts';

/** Every aggregation method by name (adding a method = adding its file and one line here). */
export const methods = {
  majority,
  'dawid-skene': dawidSkene,
  'one-coin': oneCoin,
  glad,
} satisfies Record<string, Aggregate<never>>;
