import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { parseRatings, type ReadOptions } from '../../label/crowd-file.ts';
import { agreementOfFile, AGREEMENT_METRICS, consensusCsv, consensusOfFile } from '../../label/file-commands.ts';
import { parseRegionFile, regionAgreementOfFile } from '../../label/region-file.ts';
import { act, makeOut } from '../context.ts';

/**
 * The two file CLIs other tools call: agreement and consensus over a ratings file (CSV/TSV, one row
 * per rating). Their output is a contract other tools parse (docs/labelling.md, "File CLIs"), so
 * its shape must not change. No store is opened.
 */
interface ColumnFlags {
  itemCol?: string;
  annotatorCol?: string;
  labelCol?: string;
  delimiter?: string;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function delimiterOf(f: ColumnFlags): string | undefined {
  const delimiter = f.delimiter === undefined ? undefined : f.delimiter === '\\t' || f.delimiter.toLowerCase() === 'tab' ? '\t' : f.delimiter;
  if (delimiter !== undefined && delimiter.length !== 1) throw new UserError(`--delimiter expects one character (or "tab"), got "${f.delimiter}"`);
  return delimiter;
}

function readRatings(file: string, f: ColumnFlags) {
  const text = readText(file);
  const opts: ReadOptions = { name: file, delimiter: delimiterOf(f), itemCol: f.itemCol, annotatorCol: f.annotatorCol, labelCol: f.labelCol };
  return parseRatings(text, opts);
}

const columnOptions = (c: Command) =>
  c
    .option('--item-col <name>', 'item column (default: item, task, question or orig_id)')
    .option('--annotator-col <name>', 'annotator column (default: annotator, worker or !amt_worker_ids)')
    .option('--label-col <name>', 'label column (default: label, answer or response)')
    .option('--delimiter <char>', 'field separator (default: tab for .tsv or a tab-only header, else comma)');

export function registerCrowdFiles(program: Command) {
  columnOptions(
    program
      .command('agreement')
      .description('inter-annotator agreement of a ratings file (CSV/TSV: one row per rating, item,annotator,label)')
      .argument('<file>')
      .option('--metric <metric>', AGREEMENT_METRICS.join('|') + ' (labels per item: item,annotator,label)')
      .option('--kind <kind>', 'spans|segments|boxes: regions per item (item,annotator,start,end,label or item,annotator,x,y,w,h,label); F1 between annotators')
      .option('--level <level>', 'krippendorff: nominal|ordinal|interval|ratio (default nominal)')
      .option('--weights <weights>', 'cohen: none|linear|quadratic (default none)'),
  )
    .option('--json', 'print one JSON document: {"metric","value","items","annotators"}; with --kind spans|segments {"kind","pairs","f1":{"exact","overlap"}}, boxes {"kind","pairs","f1At50","meanIoU"}')
    .action(
      act(async (file: string, f: ColumnFlags & { metric?: string; kind?: string; level?: string; weights?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.kind !== undefined) {
          if (f.metric !== undefined || f.level !== undefined || f.weights !== undefined) throw new UserError('--kind measures regions by F1: it takes no --metric, --level or --weights');
          if (f.itemCol || f.annotatorCol || f.labelCol) throw new UserError('--kind files name their columns in the header (item,annotator,start,end,label or item,annotator,x,y,w,h,label): no --*-col');
          const r = regionAgreementOfFile(parseRegionFile(readText(file), { name: file, kind: f.kind, delimiter: delimiterOf(f) }));
          const v = (x: number | null) => (x === null ? 'undefined' : x.toFixed(4));
          out.result(r, () => (r.kind === 'boxes' ? `boxes: F1 at IoU ≥ 0.5 ${v(r.f1At50)}, mean IoU of matches ${v(r.meanIoU)}` : `${r.kind}: F1 exact ${v(r.f1.exact)}, overlap ${v(r.f1.overlap)}`) + ` over ${r.pairs} annotator pair(s)`);
          return;
        }
        if (f.metric === undefined) throw new UserError(`give --metric ${AGREEMENT_METRICS.join('|')} (labels) or --kind spans|segments|boxes (regions)`);
        const r = agreementOfFile(readRatings(file, f), file, { ...f, metric: f.metric });
        out.result(r, () => `${r.metric}${f.level ? ` (${f.level})` : ''}${f.weights ? ` (${f.weights} weights)` : ''}: ${r.value === null ? 'undefined (no variation to agree on)' : r.value.toFixed(4)} over ${r.items} items, ${r.annotators} annotators`);
      }),
    );
  columnOptions(
    program
      .command('consensus')
      .description('consensus labels of a ratings file → CSV item,label,confidence (to --out, else stdout)')
      .argument('<file>')
      .requiredOption('--method <method>', 'mv|dawid-skene|one-coin|glad')
      .option('--tie <rule>', 'mv ties: unresolved (empty label) | random (seeded) | first', undefined)
      .option('--seed <k>', 'seed for --tie random (default 0)')
      .option('--out <file>', 'write the CSV here'),
  )
    .option('--json', 'print one JSON document: {"method","labels":[{item,label,confidence}],"annotators":[{annotator,accuracy,confusion:{true:{answered:share}}}]}')
    .action(
      act(async (file: string, f: ColumnFlags & { method: string; tie?: string; seed?: string; out?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const seed = f.seed === undefined ? undefined : Number(f.seed);
        if (seed !== undefined && !Number.isInteger(seed)) throw new UserError(`--seed expects an integer, got "${f.seed}"`);
        const r = consensusOfFile(readRatings(file, f), { method: f.method, tie: f.tie, seed });
        const csv = consensusCsv(r);
        if (f.out) writeFileSync(f.out, csv);
        if (f.json) out.result(r, () => '');
        else if (f.out) out.log(`wrote ${r.labels.length} consensus labels to ${f.out}`);
        else process.stdout.write(csv);
      }),
    );
}
