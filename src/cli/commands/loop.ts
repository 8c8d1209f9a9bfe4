import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { jobHandlers } from '../../jobs/handlers.ts';
import { InProcessRunner } from '../../jobs/runner.ts';
import { parseAnnotatorSpec } from '../../loop/simulated.ts';
import { runLoop, type LoopOptions, type LoopReport } from '../../loop/loop.ts';
import type { SettingsGuard } from '../../loop/serving.ts';
import { TRAIN_METHODS, type TrainMethod } from '../../train/train-classifier.ts';
import type { Store } from '../../store/db.ts';
import { act, actor, makeOut, parseIntOption, withStore, type Out } from '../context.ts';

export const priceOption = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0) || !Number.isFinite(n)) throw new UserError(`${name} expects a price ≥ 0, got "${v}"`);
  return n;
};

/** Where the prices of the economics line came from, in words: the made-up defaults, or the flags. */
export function pricesLine(priceLabel: number, priceReview: number, currency: string | undefined, source: 'demo' | 'given'): string {
  const unit = currency ?? 'cost units';
  const prices = `${priceLabel.toFixed(2)} ${unit} per answer, ${priceReview.toFixed(2)} per review`;
  return source === 'given'
    ? `Prices: ${prices} (from --price-label / --price-review${currency ? ' / --currency' : ''}).`
    : `Prices: ${prices} — made-up defaults, not a real rate; set yours with --price-label, --price-review and --currency.`;
}

export const parseTrainMethod = (v: string): TrainMethod => {
  if (!(TRAIN_METHODS as readonly string[]).includes(v)) throw new UserError(`--train expects ${TRAIN_METHODS.join('|')}, got "${v}"`);
  return v as TrainMethod;
};

export function registerLoop(program: Command) {
  program
    .command('loop')
    .description('run the data-engine loop: pretrain if needed → probe → select → label → consensus/review → fine-tune → evaluate, round by round')
    .requiredOption('--project <name>')
    .option('--rounds <n>', 'rounds', parseIntOption('--rounds'), 3)
    .option('--batch <n>', 'items selected per round', parseIntOption('--batch'), 50)
    .option('--annotators <spec>', 'simulated:K:NOISE (K annotators, mean error rate NOISE)', 'simulated:3:0.15')
    .option('--price-label <x>', 'price of one answer (one annotator labelling one item; a made-up default)', priceOption('--price-label'), 0.1)
    .option('--price-review <y>', 'price of one review decision (a made-up default)', priceOption('--price-review'), 1)
    .option('--currency <name>', 'what prices are counted in (default: none, "cost units")')
    .option('--strategy <s>', 'selection after round 0: random|least-confidence|margin|entropy|k-center|badge', 'badge')
    .option('--overlap <n>', 'annotators per item (default: min(K, 3))', parseIntOption('--overlap'))
    .option('--seed <k>', 'seed', parseIntOption('--seed'), 0)
    .option('--pretrain-epochs <n>', 'epochs when an encoder must be pretrained first', parseIntOption('--pretrain-epochs'), 5)
    .option('--pretext <name>', 'pretext when pretraining')
    .option('--train <method>', 'each round’s classifier: linear (head on the frozen encoder) | fine-tune (the whole encoder) | auto (the better on a validation split)', parseTrainMethod, 'auto')
    .option('--fine-tune-epochs <n>', 'most fine-tuning epochs (early stopping usually ends sooner)', parseIntOption('--fine-tune-epochs'), 30)
    .option('--prior-shift', "move each round's classifier from its labels' class prior to the prior EM estimates on the items still unlabelled (Saerens et al. 2002), when that does not make its validation log-loss worse: active selection skews the labels' class mix; suggestions and the registered model use the moved probabilities")
    .option('--json', 'print one JSON document')
    .action(
      act(async (f: { project: string; rounds: number; batch: number; annotators: string; priceLabel: number; priceReview: number; currency?: string; strategy: string; overlap?: number; seed: number; pretrainEpochs: number; pretext?: string; train: TrainMethod; fineTuneEpochs: number; priorShift?: boolean; json?: boolean }, cmd: Command) => {
        const out = makeOut(Boolean(f.json));
        const pricesGiven = cmd.getOptionValueSource('priceLabel') === 'cli' || cmd.getOptionValueSource('priceReview') === 'cli';
        let annotators;
        try {
          annotators = parseAnnotatorSpec(f.annotators);
        } catch (e) {
          throw new UserError((e as Error).message);
        }
        if (f.rounds < 1 || f.batch < 1) throw new UserError('--rounds and --batch must be ≥ 1');
        const opts: LoopOptions = {
          project: f.project,
          rounds: f.rounds,
          batch: f.batch,
          annotators,
          priceLabel: f.priceLabel,
          priceReview: f.priceReview,
          currency: f.currency,
          seed: f.seed,
          strategy: f.strategy,
          overlap: f.overlap,
          pretrain: { epochs: f.pretrainEpochs, batch: 128, pretext: f.pretext },
          train: { method: f.train, epochs: f.fineTuneEpochs, priorShift: Boolean(f.priorShift) },
          actor: actor(),
        };
        return withStore(async (store) => {
          const report = await loopWithProgress(store, out, opts);
          out.result(report, () => `${formatLoop(report)}\n${pricesLine(f.priceLabel, f.priceReview, f.currency, pricesGiven ? 'given' : 'demo')}`);
        });
      }),
    );
}

export async function loopWithProgress(store: Store, out: Out, opts: LoopOptions): Promise<LoopReport> {
  const runner = new InProcessRunner(store, jobHandlers(store));
  await runner.recover();
  return runLoop(store, runner, opts, { log: (l) => out.log(l), guardSettings: signalGuard(out) });
}

/**
 * Ctrl-C (or SIGTERM) while the loop's label settings are in force: put the project's own back,
 * then exit (130 / 143). Without it the process would die with the loop's settings in force —
 * serving nothing but prioritised items to the people who come next.
 */
export function signalGuard(out: Out): SettingsGuard {
  return (restore) => {
    const on = (signal: NodeJS.Signals) => {
      out.log(`tessera: ${signal}: restoring the project's label settings, then stopping`);
      restore().then(
        () => process.exit(signal === 'SIGINT' ? 130 : 143),
        (e) => {
          out.log(`tessera: could not restore the project's label settings: ${(e as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
    return () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    };
  };
}

export function formatLoop(r: LoopReport): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const lines = [`loop on ${r.project}: encoder ${r.encoder}, ${r.testItems} held-out test items; the classifier head read ${r.features === 'raw' ? 'raw features (the probe found SSL does not help here)' : 'the SSL embeddings'}`];
  if (r.probe) lines.push(`probe: ${r.probe.verdict.text}`);
  lines.push('round  strategy   labelled items  answers  reviews     cost  model      model id  promoted  accuracy  macro-F1    ECE');
  for (const x of r.rounds) {
    lines.push(
      `${String(x.round).padStart(5)}  ${x.strategy.padEnd(9)} ${String(x.labelledItems).padStart(15)} ${String(x.labelsBought).padStart(8)} ${String(x.reviews).padStart(8)} ${x.cost.toFixed(2).padStart(8)}  ${x.training.method.padEnd(9)} ${String(x.model).padStart(9)}  ${(x.promoted ? 'yes' : 'no').padEnd(8)} ${pct(x.test.accuracy).padStart(9)} ${pct(x.test.macroF1).padStart(9)} ${x.test.ece.toFixed(3).padStart(6)}`,
    );
  }
  for (const x of r.rounds) if (!x.promoted) lines.push(`round ${x.round}: model ${x.model} not promoted — ${x.promotion.reason}`);
  lines.push(r.summary);
  return lines.join('\n');
}
