import { intervalAgreement, intervalConsensus, type Interval, type IntervalAgreement } from './intervals.ts';
import type { RegionAnswer, RegionConsensus } from './regions.ts';

/**
 * Audio segments: `[start, end)` in seconds with a label (speech, a speaker, a word…).
 *
 * Agreement: pairwise F1 between annotators, exact (same start, end and label) and overlap
 * (same label, overlapping; optimal one-to-one matching) — Hripcsak & Rothschild 2005, as for
 * text spans (intervals.ts). Exact matching of seconds is strict by design: two people rarely
 * place a boundary on the same sample, so `overlap` is the figure to read.
 *
 * Consensus: segments are clustered across annotators by temporal IoU ≥ 0.5 with the same label
 * (regions.ts clusterRegions), a cluster is kept when at least half of the annotators drew it,
 * and its boundaries are the mean of its members' (every person's segment weighs the same).
 */
export type Segment = Interval;

export const segmentAgreement = (answers: readonly RegionAnswer<Segment>[]): IntervalAgreement => intervalAgreement(answers);

export const segmentConsensus = (answers: ReadonlyArray<{ annotator: string; regions: readonly Segment[] }>): RegionConsensus<Segment> => intervalConsensus(answers);
