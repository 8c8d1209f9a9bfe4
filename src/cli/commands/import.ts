import { resolve } from 'node:path';
import type { Command } from 'commander';
import { tesseraHome } from '../../core/config.ts';
import { UserError } from '../../core/errors.ts';
import { parseFormat } from '../../ingest/formats.ts';
import type { ImportReport } from '../../ingest/import.ts';
import { jobHandlers } from '../../jobs/handlers.ts';
import type { ImportJobParams } from '../../jobs/types.ts';
import { InProcessRunner } from '../../jobs/runner.ts';
import { validateProjectName } from '../../store/projects.ts';
import { act, actor, makeOut, parseIntOption, withStore } from '../context.ts';
import { progressBar } from '../progress.ts';

interface ImportFlags {
  project: string;
  format?: string;
  idColumn?: string;
  textColumn?: string;
  labelColumn?: string;
  columns?: string;
  preset?: string;
  header?: boolean;
  labelPattern?: string;
  labelFromFolder?: boolean;
  sampleRate?: number;
  region?: string;
  redactPii?: boolean;
  encoding?: string;
  maxRecordBytes?: number;
  skipInvalid?: boolean;
  rejects?: string;
  json?: boolean;
}

export function registerImport(program: Command) {
  program
    .command('import')
    .description('import a file or folder into a project (one transaction: all records or none)')
    .argument('<path>', 'file or folder')
    .requiredOption('--project <name>', 'project (created on first use)')
    .option('--format <format>', 'jsonl|csv|sms|trec|idx|wav|images|tabular|digits (default: guessed from the path)')
    .option('--id-column <name>', 'field holding a stable record id (makes re-import idempotent across edits of line order)')
    .option('--text-column <name>', 'field holding the text (jsonl, csv; default "text")')
    .option('--label-column <name>', 'field holding a source label (default "label" when present)')
    .option('--columns <spec>', 'tabular column types: name:num,name:cat,name:label,name:meta,name:id')
    .option('--preset <name>', 'tabular preset (nsl-kdd)')
    .option('--no-header', 'tabular: the first row is data, not a header (name the columns with --columns)')
    .option('--label-pattern <pattern>', 'audio: label from the file name, e.g. "{label}_{speaker}_{index}.wav"')
    .option('--label-from-folder', 'images: the class is the sub-folder name')
    .option('--sample-rate <hz>', 'audio: project sample rate for a new project (default 16000)', parseIntOption('--sample-rate'))
    .option('--region <tag>', 'residency tag for these items (default: the project region)')
    .option('--redact-pii', 'replace e-mails, phones, card/TFN/Medicare/ABN numbers and IPs with [KIND] before storing (the original is never stored)')
    .option('--encoding <enc>', 'text encoding of line-based files: utf8|latin1')
    .option('--max-record-bytes <n>', 'longest record accepted (default 1 MiB for text)', parseIntOption('--max-record-bytes'))
    .option('--skip-invalid', 'import the valid records and write the rejected ones to a report')
    .option('--rejects <file>', 'where --skip-invalid writes rejected records (JSONL)')
    .option('--json', 'print one JSON document')
    .action(
      act(async (path: string, f: ImportFlags) => {
      const out = makeOut(Boolean(f.json));
      validateProjectName(f.project);
      if (f.encoding && f.encoding !== 'utf8' && f.encoding !== 'latin1') throw new UserError(`--encoding expects utf8 or latin1, got "${f.encoding}"`);
      const params: ImportJobParams = {
        project: f.project,
        path: resolve(path),
        format: f.format ? parseFormat(f.format) : undefined,
        options: {
          idColumn: f.idColumn,
          textColumn: f.textColumn,
          labelColumn: f.labelColumn,
          columns: f.columns,
          preset: f.preset,
          header: f.header === false ? false : undefined,
          labelPattern: f.labelPattern,
          labelFromFolder: f.labelFromFolder,
          encoding: f.encoding as 'utf8' | 'latin1' | undefined,
          maxRecordBytes: f.maxRecordBytes,
        },
        skipInvalid: Boolean(f.skipInvalid),
        region: f.region,
        ...(f.redactPii ? { redactPii: true } : {}),
        actor: actor(),
        projectSettings: f.sampleRate ? { sampleRate: f.sampleRate } : undefined,
        rejectsFile: f.skipInvalid ? resolve(f.rejects ?? `${tesseraHome()}/rejects/import-${Date.now()}.jsonl`) : undefined,
      };
      return withStore(async (store) => {
        const runner = new InProcessRunner(store, jobHandlers(store));
        await runner.recover();
        const bar = progressBar(out);
        const job = await runner.submitAndRun('import', params, null, (_j, fr, m) => bar.update(fr, m));
        bar.stop();
        const report = (job.result ?? { imported: 0, unchanged: 0, rejected: 0, errors: [{ where: path, message: job.error ?? job.message ?? job.status }] }) as ImportReport & { rejectsFile?: string };
        if (job.status === 'failed' && job.result === null) report.errors = [{ where: path, message: job.error ?? 'failed' }];
        out.result(report, () => humanReport(report, job.status));
        return job.status === 'succeeded' ? 0 : job.status === 'cancelled' ? 4 : 2;
      });
      }),
    );
}

function humanReport(r: ImportReport & { rejectsFile?: string; monitors?: Array<{ monitor: number; status: string; alert?: number; message?: string }>; monitorError?: string }, status: string): string {
  const lines: string[] = [];
  if (r.wouldImport) {
    // Refused for rejected records: say what the valid ones would have been and how to import them.
    const valid = r.wouldImport.new + r.wouldImport.unchanged;
    const counts = `(${r.wouldImport.new} new, ${r.wouldImport.unchanged} unchanged)`;
    const rest = valid === 0 ? 'and no record was valid' : valid === 1 ? `so the 1 valid record ${counts} was not imported either` : `so none of the ${valid} valid records ${counts} was imported either`;
    lines.push(`NOT imported: ${r.rejected} record${r.rejected === 1 ? '' : 's'} rejected, ${rest}`);
  } else if (status !== 'succeeded' && r.rejected === 0 && r.errors.length === 1) {
    // The source as a whole could not be read (missing, empty, a link loop…): the one error says why.
    return `NOT imported: ${r.errors[0].message}`;
  } else {
    lines.push(`${status === 'succeeded' ? 'imported' : 'NOT imported'}: ${r.imported} new, ${r.unchanged} unchanged, ${r.rejected} rejected${r.redacted !== undefined ? `, ${r.redacted} with PII redacted` : ''}`);
  }
  for (const e of r.errors.slice(0, 20)) lines.push(`  ${e.where}: ${e.message}`);
  if (r.errors.length > 20) lines.push(`  … and ${r.rejected - 20} more`);
  if (r.wouldImport && r.wouldImport.new + r.wouldImport.unchanged > 0) lines.push('fix the rejected records, or pass --skip-invalid to import the valid ones (the rejected ones go to a JSONL report, --rejects FILE)');
  else if (r.wouldImport) lines.push('no record was valid: fix the source');
  if (r.rejectsFile) lines.push(`rejected records written to ${r.rejectsFile}`);
  for (const m of r.monitors ?? []) lines.push(`drift monitor ${m.monitor}: ${m.status}${m.alert ? ` — alert ${m.alert} (tessera alerts list)` : ''}${m.message ? ` (${m.message})` : ''}`);
  if (r.monitorError) lines.push(`drift monitors could not run: ${r.monitorError}`);
  return lines.join('\n');
}
