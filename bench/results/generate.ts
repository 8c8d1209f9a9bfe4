/** Reads the records, the ledger and README.md, and says what RESULTS.md and the README block should be. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTestEvaluations } from './evaluations.ts';
import { readRecords, REPO_ROOT, RESULTS_DIR } from './records.ts';
import { diffSummary, readmeBlock, renderReadmeBlock, renderResultsMd, spliceReadme } from './render.ts';

export interface GenerateOptions {
  /** The records' folder (bench/results/); RESULTS.md and test-evaluations.jsonl sit in it. */
  dir?: string;
  readmePath?: string;
}

export interface Generated {
  resultsPath: string;
  readmePath: string;
  /** What RESULTS.md and README.md should hold. */
  resultsMd: string;
  readme: string;
  /** One line per file that differs from that (empty when both are up to date). */
  stale: string[];
}

export function generate(o: GenerateOptions = {}): Generated {
  const dir = o.dir ?? RESULTS_DIR;
  const readmePath = o.readmePath ?? join(REPO_ROOT, 'README.md');
  const resultsPath = join(dir, 'RESULTS.md');
  const entries = readRecords(dir);
  const evals = readTestEvaluations(join(dir, 'test-evaluations.jsonl'));
  const resultsMd = renderResultsMd(entries, evals);
  const block = renderReadmeBlock(entries, evals);
  const currentReadme = readFileSync(readmePath, 'utf8');
  const readme = spliceReadme(currentReadme, block, readmePath);
  const stale = [
    diffSummary('bench/results/RESULTS.md', resultsMd, existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : null),
    diffSummary('README.md, the block between the results markers', block, readmeBlock(currentReadme, readmePath)),
  ].filter((s): s is string => s !== null);
  return { resultsPath, readmePath, resultsMd, readme, stale };
}

/** Writes both files (each written aside, then renamed over the old one). */
export function writeGenerated(g: Generated): void {
  for (const [path, text] of [
    [g.resultsPath, g.resultsMd],
    [g.readmePath, g.readme],
  ] as const) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  }
}
