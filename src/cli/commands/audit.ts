import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { ANN_BACKENDS, type AnnBackend } from '../../audit/ann.ts';
import { auditExclusions, latestAuditRun, listFindings } from '../../audit/exclusions.ts';
import { parseRegions, residencyReport, setExportRegions } from '../../audit/residency.ts';
import { checkAuditOptions, type AuditOptions, type AuditReport } from '../../audit/run.ts';
import { getProject } from '../../store/projects.ts';
import { act, actor, makeOut, parseIntOption, parseNumberOption, withStore } from '../context.ts';
import { runJobHere } from '../run-job.ts';

interface AuditFlags {
  project: string;
  model?: string;
  ann?: string;
  textThreshold?: number;
  imageHash?: string;
  imageDistance?: number;
  embeddingThreshold?: number;
  k?: number;
  z?: number;
  clusters?: number;
  coverageLabels?: string;
  seed: number;
  json?: boolean;
}

/** `tessera audit` (runs the `audit` job here), `tessera audit-findings`, `tessera residency`. */
export function registerAudit(program: Command) {
  program
    .command('audit')
    .description('corpus audit: duplicates, near-duplicates, corrupt items, outliers, label conflicts, balance, coverage, PII, residency (stored; runs as a job)')
    .requiredOption('--project <name>')
    .option('--model <id|none>', 'embeddings to use (default: the newest encoder with embeddings here; none: skip)')
    .option('--ann <backend>', `ANN index for embedding neighbours: ${ANN_BACKENDS.join('|')}`)
    .option('--text-threshold <j>', 'text near-duplicates: Jaccard of character 5-grams (default 0.8)', parseNumberOption('--text-threshold'))
    .option('--image-hash <h>', 'image near-duplicates: phash|dhash (default phash)')
    .option('--image-distance <bits>', 'image near-duplicates: largest Hamming distance of 64 bits (default 4)', parseIntOption('--image-distance'))
    .option('--embedding-threshold <cos>', 'embedding near-duplicates: cosine similarity (default 0.98)', parseNumberOption('--embedding-threshold'))
    .option('--k <n>', 'neighbours for kNN-distance outliers (default 10)', parseIntOption('--k'))
    .option('--z <z>', 'robust z-score above which a value is an outlier (default 3.5)', parseNumberOption('--z'))
    .option('--clusters <n>', 'coverage clusters (default √(n/2), 2–50)', parseIntOption('--clusters'))
    .option('--coverage-labels <which>', 'labels that cover a cluster: all (source, final, gold) | human (final, gold)')
    .option('--seed <k>', 'seed', parseIntOption('--seed'), 0)
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: AuditFlags) => {
        const out = makeOut(Boolean(f.json));
        if (f.ann && !(ANN_BACKENDS as readonly string[]).includes(f.ann)) throw new UserError(`--ann expects ${ANN_BACKENDS.join('|')}, got "${f.ann}"`);
        if (f.imageHash && f.imageHash !== 'phash' && f.imageHash !== 'dhash') throw new UserError(`--image-hash expects phash|dhash, got "${f.imageHash}"`);
        if (f.coverageLabels && f.coverageLabels !== 'all' && f.coverageLabels !== 'human') throw new UserError(`--coverage-labels expects all|human, got "${f.coverageLabels}"`);
        let model: AuditOptions['model'];
        if (f.model === 'none') model = 'none';
        else if (f.model !== undefined) {
          model = Number(f.model);
          if (!Number.isInteger(model) || model <= 0) throw new UserError(`--model expects a model id or "none", got "${f.model}"`);
        }
        const params: AuditOptions = {
          project: f.project,
          actor: actor(),
          ...(model !== undefined ? { model } : {}),
          ...(f.ann ? { ann: f.ann as AnnBackend } : {}),
          ...(f.textThreshold !== undefined ? { textThreshold: f.textThreshold } : {}),
          ...(f.imageHash ? { imageHash: f.imageHash as 'phash' | 'dhash' } : {}),
          ...(f.imageDistance !== undefined ? { imageMaxDistance: f.imageDistance } : {}),
          ...(f.embeddingThreshold !== undefined ? { embeddingThreshold: f.embeddingThreshold } : {}),
          ...(f.k !== undefined ? { k: Math.max(1, f.k) } : {}),
          ...(f.z !== undefined ? { zThreshold: f.z } : {}),
          ...(f.clusters !== undefined ? { clusters: f.clusters } : {}),
          ...(f.coverageLabels ? { coverageLabels: f.coverageLabels as 'all' | 'human' } : {}),
          seed: f.seed,
        };
        checkAuditOptions(params);
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          const job = await runJobHere(store, out, 'audit', params, project.id);
          const r = job.result as AuditReport;
          out.result(r, () => humanAudit(r));
        });
      }),
    );

  program
    .command('audit-findings')
    .description('findings of the latest audit (or --run N), and what the loop excludes or flags')
    .requiredOption('--project <name>')
    .option('--run <id>', 'an earlier audit run', parseIntOption('--run'))
    .option('--kind <kind>', 'only this kind (exact_duplicate, near_duplicate, empty, unreadable, truncated, hash_mismatch, size_outlier, embedding_outlier, label_conflict, pii, coverage_gap)')
    .option('--after <id>', 'findings after this finding id (pagination)', parseIntOption('--after'))
    .option('--limit <n>', 'page size (default 100)', parseIntOption('--limit'))
    .option('--exclusions', 'print the item ids the loop excludes / flags instead')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; run?: number; kind?: string; after?: number; limit?: number; exclusions?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        return withStore(async (store) => {
          const project = await getProject(store.db, f.project);
          if (f.exclusions) {
            const ex = await auditExclusions(store, project.id);
            out.result(ex, () => (ex.run === null ? 'no audit yet: run `tessera audit`' : `audit run ${ex.run} (${ex.at}): exclude ${ex.exclude.length} items, flag ${ex.flag.length}, PII in ${ex.pii.length}`));
            return;
          }
          const run = f.run ?? (await latestAuditRun(store.db, project.id))?.id;
          if (run === undefined) throw new UserError('no audit yet: run `tessera audit --project ' + f.project + '`');
          const own = await store.db.selectFrom('audit_runs').select('id').where('id', '=', run).where('project_id', '=', project.id).executeTakeFirst();
          if (!own) throw new UserError(`audit run ${run} is not in project "${f.project}"`);
          const findings = await listFindings(store.db, run, { kind: f.kind, after: f.after, limit: f.limit });
          const next = findings.length === (f.limit ?? 100) ? findings[findings.length - 1].id : null;
          out.result({ run, findings, next }, () => findings.map((x) => `#${x.id} item ${x.itemId}\t${x.kind}\t${x.action}${x.groupKey ? `\t${x.groupKey}` : ''}`).join('\n') || 'no findings');
        });
      }),
    );

  program
    .command('residency')
    .description('items per region tag and the project export policy; --allow-export sets the regions items may be exported to')
    .requiredOption('--project <name>')
    .option('--allow-export <regions>', 'comma-separated regions (besides the project region) whose items export and webhooks may send out; "*" = any')
    .option('--no-export', 'allow only the project region again')
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; allowExport?: string; export?: boolean; json?: boolean }) => {
        const out = makeOut(Boolean(f.json));
        if (f.allowExport !== undefined && f.export === false) throw new UserError('--allow-export and --no-export contradict each other');
        return withStore(async (store) => {
          let project = await getProject(store.db, f.project);
          if (f.allowExport !== undefined || f.export === false) {
            await setExportRegions(store, project.id, f.export === false ? [] : parseRegions(f.allowExport!), actor());
            project = await getProject(store.db, f.project);
          }
          const r = await residencyReport(store.db, project);
          out.result(r, () =>
            [
              `home region ${r.home}; exports allowed to: ${r.exportRegions.length ? r.exportRegions.join(', ') : '(home only)'}`,
              ...Object.entries(r.byRegion).map(([k, v]) => `  ${k}: ${v} items`),
              `${r.notExportable} item(s) would be refused by export and webhooks`,
            ].join('\n'),
          );
        });
      }),
    );
}

function humanAudit(r: AuditReport): string {
  const nd = r.nearDuplicates;
  const lines = [
    `audit run ${r.run} of ${r.project}: ${r.items} items (${Object.entries(r.byModality).map(([k, v]) => `${v} ${k}`).join(', ')}) in ${r.seconds}s`,
    `exact duplicates: ${r.exactDuplicates.redundant} redundant copies in ${r.exactDuplicates.groups} groups (${r.exactDuplicates.items} items)`,
  ];
  if (nd.text) lines.push(`near-duplicate texts (${nd.text.method}, J ≥ ${nd.text.threshold}): ${nd.text.pairs} pairs, ${nd.text.clusters} clusters`);
  if (nd.image?.skipped) lines.push(`near-duplicate images: skipped — ${nd.image.skipped}`);
  else if (nd.image) lines.push(`near-duplicate images (${nd.image.method}, ≤ ${nd.image.maxDistance} bits): ${nd.image.pairs} pairs, ${nd.image.clusters} clusters`);
  if (nd.embedding) lines.push(`near-duplicate embeddings (${nd.embedding.method}, cos ≥ ${nd.embedding.threshold}): ${nd.embedding.pairs} pairs, ${nd.embedding.clusters} clusters`);
  lines.push(`empty ${r.problems.empty}, unreadable ${r.problems.unreadable}, truncated ${r.problems.truncated}, changed since import ${r.problems.hash_mismatch}`);
  for (const [m, s] of Object.entries(r.sizeOutliers)) lines.push(`${m} ${s.metric} outliers: ${s.outliers} (median ${s.median})`);
  if (r.embeddings.skipped) lines.push(`embeddings: skipped — ${r.embeddings.skipped}`);
  if (r.embeddingOutliers) lines.push(`embedding outliers (kNN distance, k=${r.embeddingOutliers.k}): ${r.embeddingOutliers.outliers}`);
  if (r.coverage) lines.push(`coverage: ${r.coverage.uncovered.length} of ${r.coverage.clusters} clusters have no label (${r.coverage.uncoveredItems} items)`);
  lines.push(`conflicting source labels on identical content: ${r.labelConflicts.groups} groups`);
  const b = r.classBalance.source;
  if (b.classes) lines.push(`source labels: ${b.classes} classes, imbalance ${b.imbalanceRatio?.toFixed(2)}:1${b.minority.length ? `, minority: ${b.minority.join(', ')}` : ''}`);
  lines.push(`PII: ${r.pii.items} items${Object.keys(r.pii.byField).length ? ' — ' + Object.entries(r.pii.byField).map(([f, e]) => `${f}: ${Object.entries(e.matches).map(([k, n]) => `${n} ${k}`).join(', ')}`).join('; ') : ''}`);
  lines.push(`residency: ${Object.entries(r.residency.byRegion).map(([k, v]) => `${v} ${k}`).join(', ')}; ${r.residency.notExportable} not exportable`);
  lines.push(`for the loop: exclude ${r.exclusions.exclude} items from selection, flag ${r.exclusions.flag} for review`);
  return lines.join('\n');
}
