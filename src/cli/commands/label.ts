import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomically } from '../atomic-file.ts';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { cliActor } from '../../store/context.ts';
import { openExport, EXPORT_CONTENT, EXPORT_FORMATS } from '../../label/export.ts';
import { ANNOTATION_IMPORT_FORMATS, importAnnotations } from '../../label/import-annotations.ts';
import { labelStatus, updateSettings } from '../../label/results.ts';
import { getLabelSettings, type LabelSettingsPatch } from '../../label/settings.ts';
import { rerunConsensus } from '../../label/settle.ts';
import { createTaxonomy, findTaxonomy } from '../../label/taxonomies.ts';
import type { Taxonomy, TaxonomyInput } from '../../label/taxonomy.ts';
import { getProject } from '../../store/projects.ts';
import { act, actor, makeOut, parseIntOption, parseNumberOption, withStore } from '../context.ts';

function readJsonFile<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

const bool = (name: string) => (v: string) => {
  if (v === 'true' || v === 'false') return v === 'true';
  throw new UserError(`${name} expects true or false, got "${v}"`);
};

/** Taxonomies, labelling settings and status, consensus re-runs and export, from the CLI. */
export function registerLabel(program: Command) {
  const taxonomy = program.command('taxonomy').description('versioned label sets with guidelines, examples and migrations');
  taxonomy
    .command('create')
    .argument('<file>', 'JSON: {"kind":"single"|"multi","labels":[{"name","description","examples"}],"guidelines","mapping":[…]} or {"questions":[{"name","kind","labels",…}],"guidelines","mapping"}')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .description('create the next version; items whose labels the mapping touches go to review')
    .action(
      act(async (file: string, f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        const input = readJsonFile<TaxonomyInput>(file);
        return withStore(async (store) => {
          const r = await createTaxonomy(store, await getProject(store.db, f.project), cliActor(actor()), input);
          out.result(r, () => `taxonomy version ${r.taxonomy.version} (${describeQuestions(r.taxonomy)})${r.sentToReview ? `; ${r.sentToReview} item(s) sent to review` : ''}`);
        });
      }),
    );
  taxonomy
    .command('show')
    .requiredOption('--project <name>')
    .option('--version <n>', 'a past version (default: the current one)', parseIntOption('--version'))
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; version?: number; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const t = await findTaxonomy(store.db, (await getProject(store.db, f.project)).id, f.version);
          if (!t) throw new UserError(f.version ? `project "${f.project}" has no taxonomy version ${f.version}` : `project "${f.project}" has no taxonomy yet (tessera taxonomy create FILE --project ${f.project})`);
          out.result(t, () => showTaxonomy(t));
        });
      }),
    );

  const label = program.command('label').description('labelling settings, status, consensus');
  label
    .command('settings')
    .requiredOption('--project <name>')
    .option('--overlap <n>', 'annotators per item', parseIntOption('--overlap'))
    .option('--lease-seconds <s>', 'how long a served task stays reserved', parseNumberOption('--lease-seconds'))
    .option('--method <m>', 'consensus: majority|dawid-skene|one-coin|glad')
    .option('--tie <rule>', 'majority ties: unresolved|random|first')
    .option('--seed <k>', 'seed for random ties', parseIntOption('--seed'))
    .option('--review-threshold <x>', 'consensus confidence below this → review', parseNumberOption('--review-threshold'))
    .option('--review-on-disagreement <bool>', 'any disagreement → review (true|false)', bool('--review-on-disagreement'))
    .option('--gold-rate <x>', 'share of tasks that are gold items', parseNumberOption('--gold-rate'))
    .option('--gold-threshold <x>', 'alert below this accuracy on gold', parseNumberOption('--gold-threshold'))
    .option('--gold-min-answers <n>', 'over at least this many gold answers', parseIntOption('--gold-min-answers'))
    .option('--show-suggestions <bool>', 'serve suggestions (labels only) with tasks', bool('--show-suggestions'))
    .option('--serve-prioritised-only <bool>', 'serve only items a selection strategy prioritised (true|false)', bool('--serve-prioritised-only'))
    .option('--solo-labelling <bool>', 'admins and managers may label too, not blind (true|false)', bool('--solo-labelling'))
    .option('--json', 'print one JSON document')
    .description('show or change labelling settings (changes are audit-logged)')
    .action(
      act(
        async (f: {
          project: string;
          overlap?: number;
          leaseSeconds?: number;
          method?: string;
          tie?: string;
          seed?: number;
          reviewThreshold?: number;
          reviewOnDisagreement?: boolean;
          goldRate?: number;
          goldThreshold?: number;
          goldMinAnswers?: number;
          showSuggestions?: boolean;
          servePrioritisedOnly?: boolean;
          soloLabelling?: boolean;
          json?: boolean;
        }) => {
          const out = makeOut(Boolean(f.json));
          const patch = {
            overlap: f.overlap,
            leaseSeconds: f.leaseSeconds,
            consensus: { method: f.method, tie: f.tie, seed: f.seed },
            reviewThreshold: f.reviewThreshold,
            reviewOnDisagreement: f.reviewOnDisagreement,
            gold: { rate: f.goldRate, threshold: f.goldThreshold, minAnswers: f.goldMinAnswers },
            showSuggestions: f.showSuggestions,
            servePrioritisedOnly: f.servePrioritisedOnly,
            soloLabelling: f.soloLabelling,
          } as LabelSettingsPatch;
          const changing = JSON.stringify(patch) !== '{"consensus":{},"gold":{}}';
          return withStore(async (store) => {
            const project = await getProject(store.db, f.project);
            const s = changing ? await updateSettings(store, project, cliActor(actor()), patch) : await getLabelSettings(store.db, project.id);
            out.result(s, () => JSON.stringify(s, null, 2));
          });
        },
      ),
    );
  label
    .command('status')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .description('items open, in review and done; annotations; open reviews')
    .action(
      act(async (f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const s = await labelStatus(store.db, (await getProject(store.db, f.project)).id);
          out.result(s, () => `${s.items} items (${s.gold} gold): ${s.open} open, ${s.review} in review, ${s.done} done; ${s.annotations} annotations; ${s.openReviews} open reviews`);
        });
      }),
    );
  label
    .command('consensus')
    .requiredOption('--project <name>')
    .option('--json', 'print one JSON document')
    .description("re-run consensus with the project's method over consensus-decided items")
    .action(
      act(async (f: { project: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const r = await rerunConsensus(store, await getProject(store.db, f.project), cliActor(actor()));
          out.result(r, () => `${r.items} items re-aggregated: ${r.changed} changed, ${r.toReview} sent to review`);
        });
      }),
    );

  label
    .command('import')
    .argument('<file>', 'JSONL (Tessera export, or one record per line) or Label Studio JSON (an array of tasks)')
    .requiredOption('--project <name>')
    .option('--format <f>', ANNOTATION_IMPORT_FORMATS.join('|') + ' (default: label-studio for .json, else jsonl)')
    .option('--as <a>', 'final (finished annotations → final labels) | predictions (pre-annotations → suggestions)', 'final')
    .option('--source <name>', 'predictions: the source recorded with the suggestions')
    .option('--json', 'print one JSON document')
    .description('import finished annotations or predictions for every question kind (one transaction; docs/export.md)')
    .action(
      act(async (file: string, f: { project: string; format?: string; as: string; source?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
        }
        const format = f.format ?? (/\.json$/i.test(file) ? 'label-studio' : 'jsonl');
        return withStore(async (store) => {
          const r = await importAnnotations(store, await getProject(store.db, f.project), cliActor(actor()), text, { format, as: f.as, name: file, ...(f.source ? { source: f.source } : {}) });
          out.result(r, () => `imported ${r.items} of ${r.records} record(s) as ${r.as}${r.skipped.length ? `; ${r.skipped.length} left alone (${r.skipped.map((x) => `item ${x.item}: ${x.reason}`).slice(0, 5).join(', ')}${r.skipped.length > 5 ? ', …' : ''})` : ''}`);
        });
      }),
    );

  program
    .command('export')
    .requiredOption('--project <name>')
    .option('--format <f>', EXPORT_FORMATS.join('|'), 'jsonl')
    .option('--content <c>', `${EXPORT_CONTENT.join('|')}: jsonl/csv carry each item's text, values or content URL and its metadata, or labels alone (docs/export.md)`, 'include')
    .option('--question <name>', 'conll, spans-jsonl: the spans question; coco: the boxes question (default: the only one)')
    .option('--out <file>', 'write here (else the data goes to stdout)')
    .option('--json', 'with --out: print a JSON report {"format","content","items","out"}')
    .description('final labels with provenance and the labelled content (JSONL, CSV, Label Studio JSON; spans as CoNLL/BIO or JSONL offsets, boxes as COCO); audit-logged')
    .action(
      act(async (f: { project: string; format: string; content: string; question?: string; out?: string; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.json && !f.out) throw new UserError('--json prints a report: give --out FILE for the data');
        return withStore(async (store) => {
          const r = await openExport(store, await getProject(store.db, f.project), cliActor(actor()), f.format, { content: f.content, ...(f.question ? { question: f.question } : {}) });
          if (!f.out) {
            // Streamed with backpressure: stdout is pulled a page at a time.
            await pipeline(Readable.from(r.chunks(), { objectMode: false, highWaterMark: 64 * 1024 }), process.stdout, { end: false });
            return;
          }
          // All or nothing: a temporary file beside --out, renamed once complete.
          await writeFileAtomically(f.out, r.chunks());
          out.result({ format: r.format, items: r.items, out: f.out, content: r.content }, () => `exported ${r.items} labels (${r.format}${r.content === 'none' ? ', labels only' : ''}) to ${f.out}`);
        });
      }),
    );
}

/** A version as `taxonomy show` prints it: a legacy one as before, else each question with its labels. */
function showTaxonomy(t: Taxonomy): string {
  const label = (l: { name: string; description?: string }, indent: string) => `${indent}${l.name}${l.description ? `: ${l.description}` : ''}`;
  if (t.questions.length === 1 && t.kind && t.labels) return [`version ${t.version}, ${t.kind}-label`, ...t.labels.map((l) => label(l, '  ')), t.guidelines].join('\n');
  const kind = (q: Taxonomy['questions'][number]) => `${q.kind === 'single' || q.kind === 'multi' ? `${q.kind}-label` : q.kind}${q.scale ? ` ${q.scale.min}..${q.scale.max}` : ''}${q.overlapping ? ', overlapping' : ''}${q.required ? '' : ', optional'}`;
  return [`version ${t.version}`, ...t.questions.flatMap((q) => [`  ${q.name} (${kind(q)})`, ...(q.labels ?? []).map((l) => label(l, '    '))]), t.guidelines].join('\n');
}

/** One line per taxonomy: each question's name, kind and labels. */
function describeQuestions(t: Taxonomy): string {
  if (t.questions.length === 1 && t.kind && t.labels) return `${t.kind}-label: ${t.labels.map((l) => l.name).join(', ')}`;
  return t.questions.map((q) => `${q.name}: ${q.kind === 'single' || q.kind === 'multi' ? `${q.kind}-label` : q.kind}${q.labels ? ` ${q.labels.map((l) => l.name).join(', ')}` : ''}`).join('; ');
}
