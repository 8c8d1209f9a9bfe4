/** Every kind of record and its renderer, in the order RESULTS.md shows them. Adding a kind = one file + one line here. */
import type { KindSpec } from '../schema.ts';
import { consensus } from './consensus.ts';
import { drift } from './drift.ts';
import { genericKind } from './generic.ts';
import { labelEfficiency } from './label-efficiency.ts';

export const KINDS: readonly KindSpec[] = [
  labelEfficiency as unknown as KindSpec,
  genericKind('probe-datasets', 'Early probe on the shared datasets'),
  genericKind('ssl-fashion-mnist', 'SimCLR on Fashion-MNIST'),
  consensus as unknown as KindSpec,
  drift as unknown as KindSpec,
  genericKind('import', 'Import speed'),
  genericKind('scale', 'One million items'),
  genericKind('load', '100 annotators over HTTP'),
  genericKind('ui-keypress', 'Next item after a key press'),
];

export const kindSpec = (kind: string) => KINDS.find((k) => k.kind === kind);
