import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { jobHandlers } from '../../jobs/handlers.ts';
import { InProcessRunner } from '../../jobs/runner.ts';
import type { ImportReport } from '../../ingest/import.ts';
import { runLoop, type LoopReport } from '../../loop/loop.ts';
import { cliActor } from '../../store/context.ts';
import { findProject, getProject, projectStats } from '../../store/projects.ts';
import { act, actor, makeOut, parseIntOption, withStore, type Out } from '../context.ts';
import { ADMIN_USER, demoState, ensureAdmin, refuseForeignProject, setDemoAside, type AdminUser, type DemoState } from '../demo.ts';
import { LOG_LEVELS, defaultLogFile, parseLogLevel, serveUntilSignal, type LogLevel } from '../serve-until.ts';
import { formatLoop, parseTrainMethod, priceOption, pricesLine, signalGuard } from './loop.ts';
import type { TrainMethod } from '../../train/train-classifier.ts';
import { formatStats } from './projects.ts';

/** The bundled demo: SMS Spam Collection v1 (CC BY 4.0, Almeida & Gómez Hidalgo), see demo/sms-spam/SOURCE.md. */
export const DEMO_PATH = fileURLToPath(new URL('../../../demo/sms-spam/SMSSpamCollection', import.meta.url));
export const DEMO_PROJECT = 'demo';
/** Most fine-tuning epochs per round in `npm start` (kept so the whole job stays under 5 minutes on 2 cores). */
export const START_FINE_TUNE_EPOCHS = 10;
/** The demo's prices: made up, for the economics line to have numbers (say so wherever they are printed). */
export const DEMO_PRICES = { label: 0.1, review: 1 } as const;

interface StartFlags {
  project: string;
  rounds: number;
  batch: number;
  epochs: number;
  train: TrainMethod;
  fineTuneEpochs: number;
  priorShift: boolean;
  priceLabel: number;
  priceReview: number;
  currency?: string;
  fresh?: boolean;
  port: number;
  host: string;
  serve: boolean;
  logFile?: string;
  logLevel?: LogLevel;
  json?: boolean;
}

export function registerStart(program: Command) {
  program
    .command('start')
    .description('the main job on the bundled demo data (npm start): import the SMS Spam demo, run a short loop, print the label economics, then serve. A second run finds the demo done; --fresh starts it over')
    .option('--project <name>', 'project to use', DEMO_PROJECT)
    .option('--rounds <n>', 'loop rounds', parseIntOption('--rounds'), 3)
    .option('--batch <n>', 'items selected per round', parseIntOption('--batch'), 40)
    .option('--epochs <n>', 'pretraining epochs (fewer for a quick check)', parseIntOption('--epochs'), 3)
    .option('--train <method>', 'each round’s classifier: linear | fine-tune | auto (the better on a validation split)', parseTrainMethod, 'auto')
    .option('--fine-tune-epochs <n>', 'most fine-tuning epochs per round', parseIntOption('--fine-tune-epochs'), START_FINE_TUNE_EPOCHS)
    // On by default: active selection buys the demo's rare class (spam, 13%) far above its share.
    // Each round's shift is kept only when validation does not contradict it (src/train/prior-shift.ts).
    .option('--no-prior-shift', "keep each round's classifier at its labels' class prior (default: moved to the prior EM estimates on the unlabelled items when validation agrees, as tessera loop --prior-shift)")
    .option('--price-label <x>', 'price of one answer (made-up demo price)', priceOption('--price-label'), DEMO_PRICES.label)
    .option('--price-review <y>', 'price of one review decision (made-up demo price)', priceOption('--price-review'), DEMO_PRICES.review)
    .option('--currency <name>', 'what prices are counted in (default: none, "cost units")')
    .option('--fresh', 'start the demo over: the existing demo project is renamed to NAME-old-K (nothing is deleted) and a new one is made; refused for a project holding other imports')
    .option('--port <port>', 'port to serve on afterwards', parseIntOption('--port'), 8787)
    .option('--host <host>', 'interface to serve on', '127.0.0.1')
    .option('--no-serve', 'stop after the report instead of serving')
    .option('--log-file <path>', 'request log file while serving ("-" = the terminal); default $TESSERA_HOME/logs/serve.log')
    .option('--log-level <level>', `lowest request-log level: ${LOG_LEVELS.join('|')}; default info to a file, warn to the terminal`, parseLogLevel)
    .option('--json', 'print one JSON document (the report)')
    .action(
      act(async (f: StartFlags, cmd: Command) => {
        const out = makeOut(Boolean(f.json));
        const pricesFromFlags = cmd.getOptionValueSource('priceLabel') === 'cli' || cmd.getOptionValueSource('priceReview') === 'cli';
        return withStore(async (store) => {
          const who = cliActor(actor());
          const runner = new InProcessRunner(store, jobHandlers(store));
          await runner.recover();
          out.log(`store: ${store.dialect} at ${store.location}`);
          const existing = await findProject(store.db, f.project);
          let setAside: string | null = null;
          if (existing && !f.fresh) await refuseForeignProject(store, existing, '`tessera start` runs the bundled demo');
          if (existing && f.fresh) {
            setAside = await setDemoAside(store, existing, who);
            out.log(`--fresh: the earlier project "${f.project}" is now "${setAside}" (kept whole: its labels, models and audit trail); starting "${f.project}" over`);
          }
          out.log(`importing the demo dataset ${DEMO_PATH} into project "${f.project}"…`);
          const job = await runner.submitAndRun('import', { project: f.project, path: DEMO_PATH, format: 'sms', options: {}, actor: actor() }, null);
          if (job.status !== 'succeeded') {
            out.log(`demo import ${job.status}: ${job.error ?? job.message}`);
            return 1;
          }
          const report = job.result as ImportReport;
          const project = await getProject(store.db, f.project);
          const stats = await projectStats(store.db, project.id);
          out.log(`import: ${report.imported} new, ${report.unchanged} unchanged, ${report.rejected} rejected\n${formatStats(f.project, stats)}`);
          const before = await demoState(store, project);
          const continueCmd = `npx tessera loop --project ${f.project} --rounds 1 --batch ${f.batch}${f.train !== 'auto' ? ` --train ${f.train}` : ''}${f.priorShift ? ' --prior-shift' : ''} --fine-tune-epochs ${f.fineTuneEpochs}`;
          let loop: LoopReport | null = null;
          if (before.models.length === 0) {
            loop = await runLoop(
              store,
              runner,
              {
                project: f.project,
                rounds: f.rounds,
                batch: f.batch,
                annotators: { count: 3, noise: 0.15 },
                priceLabel: f.priceLabel,
                priceReview: f.priceReview,
                currency: f.currency,
                seed: 0,
                strategy: 'badge',
                pretrain: { epochs: f.epochs, batch: 128 },
                train: { method: f.train, epochs: f.fineTuneEpochs, priorShift: f.priorShift },
                actor: actor(),
              },
              { log: (l) => out.log(l), guardSettings: signalGuard(out) },
            );
          }
          const admin = await ensureAdmin(store, project, who);
          const done = loop ? null : { ...before, continue: continueCmd, fresh: 'npm start -- --fresh' };
          const signInPath = admin.token ? `/#/signin?token=${admin.token}` : null;
          out.result({ project: f.project, setAside, import: report, stats, loop, done, admin: { ...admin, signInPath } }, () =>
            [
              loop ? formatLoop(loop) : formatDone(f.project, before, continueCmd),
              ...(loop ? [pricesLine(f.priceLabel, f.priceReview, f.currency, pricesFromFlags ? 'given' : 'demo')] : []),
            ].join('\n'),
          );
          const logFile = f.logFile ?? defaultLogFile();
          if (!f.serve) {
            nextSteps(out, `http://${f.host}:${f.port}`, f.project, admin, null, true);
            return;
          }
          await serveUntilSignal(store, f.port, f.host, { logFile, logLevel: f.logLevel, onListening: (url) => nextSteps(out, url, f.project, admin, logFile === '-' ? null : logFile, false) });
        });
      }),
    );
}

/** A second run: what the demo already holds, and how to go on. */
function formatDone(project: string, s: DemoState, continueCmd: string): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  const lines = [`The demo already ran in project "${project}": it is not run again (that would buy more answers and change the numbers below).`];
  lines.push('model  round  labelled items  test accuracy  promoted');
  for (const m of s.models) lines.push(`${String(m.id).padStart(5)}  ${String(m.round ?? '–').padStart(5)}  ${String(m.labelledItems ?? '–').padStart(14)}  ${pct(m.accuracy).padStart(13)}  ${m.promoted ? 'yes' : 'no'}`);
  if (s.summary) lines.push(s.summary);
  lines.push(`To run another round:  ${continueCmd}`);
  lines.push('To start the demo over (the old project is kept under another name):  npm start -- --fresh');
  return lines.join('\n');
}

/** What a person does next: the address, a sign-in link (the admin's token, shown once), what to try. */
function nextSteps(out: Out, url: string, project: string, admin: AdminUser, logFile: string | null, notServing: boolean): void {
  if (out.json) return;
  const base = url.replace(/\/$/, '');
  const p = encodeURIComponent(project);
  const lines = ['', notServing ? `Not serving (--no-serve). Start the server with:  npx tessera serve   → ${base}` : `Tessera is running at ${base}  (Ctrl-C stops it)`];
  if (admin.token) {
    lines.push(`Sign in as "${admin.name}" (admin of ${project}) — this link holds its token, shown only this once:`, `  ${base}/#/signin?token=${admin.token}`, `  (lost it? a new token:  npx tessera users token ${ADMIN_USER})`);
  } else {
    lines.push(`Sign in as "${admin.name}"${admin.role === 'admin' ? ` (admin of ${project})` : ` (${admin.role} of ${project})`}: its token was shown when it was created. A new one:  npx tessera users token ${ADMIN_USER}`, `  then open ${base}/#/signin?token=THE_TOKEN`);
  }
  lines.push(
    'Try first:',
    `  • Label a few items. An admin sees results, so it never labels blind: add an annotator,`,
    `      npx tessera users add alice --role annotator --project ${project}`,
    `    open ${base}/#/signin?token=… with the token it prints, and label at ${base}/#/p/${p}/label`,
    `  • The dashboard — learning curve, label economics, agreement: ${base}/#/p/${p}`,
    `  • The map — every item by its embedding, coloured by label or uncertainty; lasso a region to queue it: ${base}/#/p/${p}/map`,
  );
  if (logFile) lines.push(`Request logs: ${logFile}`);
  process.stdout.write(lines.join('\n') + '\n');
}
