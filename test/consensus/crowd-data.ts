// Loads the public crowd datasets (../shared/datasets/crowd, see its README) as Answer lists.
import { readFileSync } from 'node:fs';
import { dataset } from '../helpers/datasets.ts';
import type { Answer } from '../../src/consensus/types.ts';

export interface CrowdSet {
  answers: Answer[];
  truth: Map<string, string>;
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .slice(1); // header

/** Welinder et al. 2010 bluebirds: answer.csv (question,worker,answer), truth.csv (question,truth). */
export function bluebirds(): CrowdSet {
  const answers = lines(dataset('crowd', 'bluebirds', 'answer.csv')).map((l) => {
    const [item, annotator, label] = l.split(',');
    return { item, annotator, label };
  });
  const truth = new Map(lines(dataset('crowd', 'bluebirds', 'truth.csv')).map((l) => l.split(',') as [string, string]));
  return { answers, truth };
}

/** Snow et al. 2008 RTE / TEMP: `!amt_annotation_ids !amt_worker_ids orig_id response gold`, tab-separated. */
export function snow(name: 'rte' | 'temp'): CrowdSet {
  const answers: Answer[] = [];
  const truth = new Map<string, string>();
  for (const l of lines(dataset('crowd', name, `${name}.standardized.tsv`))) {
    const [, annotator, item, label, gold] = l.split('\t');
    answers.push({ item, annotator, label });
    truth.set(item, gold);
  }
  return { answers, truth };
}

/** Share of items whose consensus label equals the truth (null = unresolved counts as wrong). */
export function accuracy(labels: Map<string, string | null>, truth: Map<string, string>): number {
  let ok = 0;
  for (const [item, t] of truth) if (labels.get(item) === t) ok++;
  return ok / truth.size;
}
