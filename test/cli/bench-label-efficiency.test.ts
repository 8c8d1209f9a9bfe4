/**
 * `tessera bench label-efficiency` in generic CSV mode, as other tools call it: the exact JSON
 * contract key by key (on train/test CSVs cut from SMS Spam, tiny budget, 1 pretraining epoch),
 * the report and SVG files, the encoder cache, and malformed input → exit 2 naming file/line/field.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tessera } from '../helpers/cli.ts';
import { dataset } from '../helpers/datasets.ts';
import { mulberry32, shuffled } from '../../src/core/rng.ts';
import { learningCurveSvg } from '../../bench/label-efficiency/svg.ts';

let dir: string;
const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-bench-le-'));
  const lines = readFileSync(dataset('text', 'sms-spam', 'SMSSpamCollection'), 'utf8').trim().split('\n');
  const rows = lines.map((l) => ({ label: l.slice(0, l.indexOf('\t')), text: l.slice(l.indexOf('\t') + 1) }));
  // Balanced-ish small subset: 60 spam + 140 ham, seeded.
  const r = mulberry32(11);
  const spam = shuffled(rows.filter((x) => x.label === 'spam'), r).slice(0, 60);
  const ham = shuffled(rows.filter((x) => x.label === 'ham'), r).slice(0, 140);
  const all = shuffled([...spam, ...ham], r);
  const write = (name: string, part: typeof rows) => writeFileSync(join(dir, name), 'id,message,category\n' + part.map((x, i) => `${i},${csvField(x.text)},${x.label}`).join('\n') + '\n');
  write('train.csv', all.slice(0, 150));
  write('test.csv', all.slice(150));
  // The --tta test's digits: the first 400 of the 1,797 images, in the shared datasets' layout
  // (--datasets), so the three runs it needs stay small; the full set is the benchmark's.
  const digits = join(dir, 'datasets', 'images', 'digits');
  mkdirSync(digits, { recursive: true });
  const rowsCsv = gunzipSync(readFileSync(dataset('images', 'digits', 'digits.csv.gz'))).toString('utf8').trim().split('\n');
  writeFileSync(join(digits, 'digits.csv.gz'), gzipSync(rowsCsv.slice(0, 400).join('\n') + '\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The bench in generic CSV mode on the SMS Spam cut, kept tiny (1 pretraining epoch, 2 fine-tuning epochs, 1 for full supervision), plus `extra`. */
const csvBench = (...extra: string[]) =>
  tessera(['bench', 'label-efficiency', '--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'), '--text-column', 'message', '--label-column', 'category', '--pretrain-epochs', '1', '--epochs', '2', '--full-epochs', '1', ...extra, '--json'], {});

/** A minimal XML well-formedness check: one root, every tag closed in order, attributes quoted, entities known. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    assert.ok(!/[<>]/.test(text), `stray markup in text: ${JSON.stringify(text.slice(0, 80))}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text), `bad entity in text: ${JSON.stringify(text.slice(0, 80))}`);
    last = tag.lastIndex;
    if (m[0].startsWith('<!--')) continue;
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  assert.equal(body.slice(last).trim(), '', 'nothing after the root element');
  assert.deepEqual(stack, [], 'every element closed');
  assert.equal(roots, 1, 'one root element');
}

test('bench label-efficiency, generic CSV mode: exact JSON contract, report, SVG and encoder cache', () => {
  const cache = join(dir, 'cache');
  const report = join(dir, 'out', 'report.json');
  const r = csvBench(
    '--budget', '12', '--rounds', '2', '--cache-dir', cache, '--report', report,
  );
  assert.equal(r.code, 0, r.stderr);
  const j = r.json;
  assert.deepEqual(Object.keys(j), ['dataset', 'budget', 'strategy', 'seed', 'seconds', 'results', 'labelsTo95pct', 'details']);
  assert.equal(j.dataset, 'csv-train');
  assert.equal(j.budget, 12);
  assert.equal(j.strategy, 'badge');
  assert.equal(j.seed, 0);
  assert.equal(typeof j.seconds, 'number');
  assert.ok(j.seconds > 0);
  assert.deepEqual(Object.keys(j.results), ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']);
  for (const [arm, v] of Object.entries(j.results) as Array<[string, Record<string, unknown>]>) {
    assert.deepEqual(Object.keys(v), ['accuracy', 'macroF1'], arm);
    for (const k of ['accuracy', 'macroF1']) {
      const x = v[k] as number;
      assert.ok(typeof x === 'number' && x >= 0 && x <= 1, `${arm}.${k} = ${x}`);
    }
  }
  assert.deepEqual(Object.keys(j.labelsTo95pct), ['active', 'random']);
  for (const k of ['active', 'random']) {
    const n = j.labelsTo95pct[k];
    assert.ok(n === null || (Number.isInteger(n) && n >= 1 && n <= 12), `labelsTo95pct.${k} = ${n}`);
  }
  // Details: the learning curves behind labelsTo95pct, and what each arm used.
  const d = j.details;
  assert.deepEqual(d.curves.ssl_active.map((p: { labels: number }) => p.labels), [6, 12]);
  assert.deepEqual(d.curves.ssl_random.map((p: { labels: number }) => p.labels), [6, 12]);
  assert.equal(d.curves.ssl_active[0].selectedBy, 'typiclust');
  assert.equal(d.curves.ssl_active[1].selectedBy, 'badge');
  assert.equal(d.selectWith, 'head');
  assert.equal(d.train, 'auto');
  assert.equal(d.curves.ssl_active[0].uncertaintyFrom, null);
  assert.equal(d.curves.ssl_active[1].uncertaintyFrom, 'head', 'by default a linear head on the frozen embeddings gives the probabilities');
  assert.equal(d.curves.ssl_active[1].accuracy, j.results.ssl_active.accuracy);
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) assert.ok(['linear', 'fine-tune', 'fixmatch'].includes(d.arms[arm].method), arm);
  assert.equal(d.arms.full_supervised.labels, 150);
  assert.equal(d.fullSupervised.epochsCap, 1);
  assert.equal(d.split.test, 50);
  assert.equal(d.fixmatch.enabled, false);
  assert.equal(d.encoder.epochs, 1);
  assert.equal(d.encoder.pretrainedNow, true);
  // Files: the report (same document) and the SVG beside it; the encoder cached by data hash, pretext, epochs, seed.
  assert.deepEqual(JSON.parse(readFileSync(report, 'utf8')), j);
  const svgPath = join(dir, 'out', 'report.svg');
  assert.equal(d.svg, svgPath);
  const svg = readFileSync(svgPath, 'utf8');
  assertWellFormedXml(svg);
  for (const s of ['SSL + badge', 'SSL + random', 'scratch + random', 'full supervision', 'labels bought', 'test accuracy']) assert.ok(svg.includes(s), `SVG shows "${s}"`);
  const cached = readdirSync(cache);
  assert.equal(cached.length, 1);
  assert.match(cached[0], /^csv-train-[0-9a-f]{12}-mlm-e1-s0$/);
  assert.ok(existsSync(join(cache, cached[0], 'encoder.json')));
});

test('bench label-efficiency --fixmatch final --fixmatch-mu/--fixmatch-tau: FixMatch only in the budget arms\' final training, with those settings; --min-steps and --noisy-student reach the run', () => {
  const report = join(dir, 'out-final', 'report.json');
  const r = csvBench(
    '--budget', '12', '--rounds', '2', '--min-steps', '3', '--fixmatch', 'final', '--fixmatch-mu', '2', '--fixmatch-tau', '0.9', '--noisy-student',
    // Early stopping keeps this short: with final weights each noisy student runs its whole 1,200 steps.
    '--keep', 'best', '--cache-dir', join(dir, 'cache'), '--report', report,
  );
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.equal(d.fixmatch.enabled, true);
  assert.equal(d.fixmatch.when, 'final');
  assert.deepEqual([d.fixmatch.mu, d.fixmatch.tau, d.fixmatch.lambdaU], [2, 0.9, 1]);
  assert.equal(d.fineTune.minSteps, 3);
  assert.equal(d.noisyStudent.enabled, true);
  assert.match(d.protocol, /FixMatch on the unlabelled training items in each budget arm's final training/);
  // The first curve points trained without FixMatch; full supervision never uses it.
  for (const arm of ['ssl_active', 'ssl_random']) assert.notEqual(d.curves[arm][0].method, 'fixmatch', arm);
  assert.notEqual(d.arms.full_supervised.method, 'fixmatch');
  // The final trainings fine-tuned with FixMatch: when fine-tuning beat the linear head it is reported as FixMatch.
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random']) assert.notEqual(d.arms[arm].method, 'fine-tune', arm);
  assert.equal(d.encoder.pretrainedNow, false, 'the encoder cached by the first test is reused');

  const bad = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--fixmatch', 'sometimes', '--json'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.json.error.message, /--fixmatch expects all or final, got "sometimes"/);
  for (const [flags, message] of [
    [['--fixmatch', 'final', '--fixmatch-mu', '0'], /--fixmatch-mu expects an unlabelled-to-labelled batch ratio in \(0, 64\], got 0/],
    [['--fixmatch', '--fixmatch-tau', '1.2'], /--fixmatch-tau expects a confidence threshold in \[0, 1\], got 1\.2/],
    [['--fixmatch', '--fixmatch-mu', 'two'], /--fixmatch-mu expects a number, got "two"/],
    [['--fixmatch-mu', '2'], /--fixmatch-mu needs --fixmatch/],
  ] as const) {
    const b = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', ...flags, '--json'], {});
    assert.equal(b.code, 2, flags.join(' '));
    assert.match(b.json.error.message, message);
  }
});

test('bench label-efficiency --refit --keep best: fine-tuned winners trained again on every label up to the validated step; not with --noisy-student', () => {
  const report = join(dir, 'out-refit', 'report.json');
  const r = csvBench(
    '--budget', '12', '--rounds', '2', '--min-steps', '3', '--refit', '--keep', 'best',
    '--cache-dir', join(dir, 'cache'), '--report', report,
  );
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.equal(d.refit, true);
  assert.equal(d.fineTune.keep, 'best');
  assert.match(d.protocol, /early stopping with best-validation weights restored/);
  assert.match(d.protocol, /trained again from the same start on all its labels .* to the validated step/);
  let refitted = 0;
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) {
    const a = d.arms[arm];
    if (a.method === 'fine-tune') {
      assert.ok(a.refit, `${arm}: a fine-tuned winner is refitted`);
      assert.ok(a.refit.validatedSteps > 0 && a.refit.steps === a.refit.validatedSteps, `${arm}: ${JSON.stringify(a.refit)}`);
      refitted++;
    } else assert.equal(a.refit, null, `${arm}: a linear winner is not refitted`);
  }
  assert.ok(refitted > 0, 'at least one arm fine-tuned, so the refit ran');
  for (const arm of ['ssl_active', 'ssl_random']) for (const p of d.curves[arm]) assert.equal(p.refitted, p.method === 'fine-tune', `${arm} at ${p.labels} labels`);

  const both = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--refit', '--noisy-student', '--json'], {});
  assert.equal(both.code, 2);
  assert.match(both.json.error.message, /--refit and --noisy-student do not combine/);
});

test('bench label-efficiency --ensemble [K]: the averaged head + K fine-tuned models competes on validation in every arm and wins only above both; bad K, --method linear or --noisy-student → exit 2', () => {
  const report = join(dir, 'out-ensemble', 'report.json');
  const r = csvBench('--budget', '12', '--rounds', '2', '--min-steps', '3', '--ensemble', '2', '--cache-dir', join(dir, 'cache'), '--report', report);
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.deepEqual(d.ensemble, { enabled: true, fineTunedModels: 2, scratchMember: false });
  assert.match(d.protocol, /2 fine-tuned models \(seeds seed … seed\+1; the head weighing one half, the networks' mean the other\), competing as a third candidate, kept only when it validates strictly better than both/);
  let compared = 0;
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) {
    const a = d.arms[arm];
    assert.ok('valEnsemble' in a, `${arm} reports its ensemble's validation accuracy`);
    if (a.valEnsemble === null) {
      assert.notEqual(a.method, 'ensemble', arm);
      continue;
    }
    compared++;
    const best = Math.max(a.valLinear, a.valFineTune);
    if (a.method === 'ensemble') {
      assert.ok(a.valEnsemble > best, `${arm}: ${JSON.stringify(a)}`);
      assert.equal(a.fineTunedModels, 2, arm);
    } else {
      assert.ok(a.valEnsemble <= best, `${arm}: the ensemble validated above both but was not kept: ${JSON.stringify(a)}`);
      assert.equal(a.fineTunedModels, a.method === 'linear' ? 0 : 1, arm);
    }
  }
  assert.ok(compared > 0, 'fine-tuning moved in at least one arm, so the ensemble was validated');
  for (const [flags, message] of [
    [['--method', 'linear'], /--ensemble needs --method auto .*got --method linear/],
    [['--noisy-student'], /--ensemble and --noisy-student do not combine/],
    [['9'], /--ensemble expects a whole number of fine-tuned models from 1 to 8, got 9/],
    [['0'], /--ensemble expects a whole number ≥ 1, got "0"/],
    [['two'], /--ensemble expects a whole number ≥ 0, got "two"/],
  ] as const) {
    const bad = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--ensemble', ...flags, '--json'], {});
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.json.error.message, message);
  }
});

test('bench label-efficiency --ensemble --ensemble-scratch: the SSL arms\' ensembles take a random-init network as a further member, scratch_random\'s do not; without --ensemble → exit 2', () => {
  const report = join(dir, 'out-ensemble-scratch', 'report.json');
  const r = csvBench('--budget', '12', '--rounds', '2', '--min-steps', '3', '--ensemble', '--ensemble-scratch', '--cache-dir', join(dir, 'cache'), '--report', report);
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.deepEqual(d.ensemble, { enabled: true, fineTunedModels: 1, scratchMember: true });
  assert.match(d.protocol, /the fine-tuned model \(in the SSL arms with a network fine-tuned from the random-init encoder on the same labels as a further member, head, SSL networks and it weighing a third each\), competing as a third candidate/);
  let scored = 0;
  for (const arm of ['ssl_active', 'ssl_random', 'full_supervised']) {
    const a = d.arms[arm];
    assert.ok('valScratch' in a, `${arm} reports its scratch member's validation accuracy`);
    // The scratch member is trained and scored exactly when the ensemble is.
    assert.equal(a.valScratch === null, a.valEnsemble === null, `${arm}: ${JSON.stringify(a)}`);
    if (a.valScratch !== null) (scored++, assert.ok(a.valScratch >= 0 && a.valScratch <= 1));
    if (a.method === 'ensemble') assert.equal(a.fineTunedModels, 2, `${arm}: the SSL network and the random-init one`);
  }
  assert.ok(scored > 0, 'fine-tuning moved in at least one SSL arm, so the scratch member was trained');
  assert.equal(d.arms.scratch_random.valScratch, null, 'scratch_random is not given a second random-init network');
  assert.ok(d.arms.scratch_random.method !== 'ensemble' || d.arms.scratch_random.fineTunedModels === 1);

  const bad = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--ensemble-scratch', '--json'], {});
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.json.error.message, /--ensemble-scratch adds a member to the ensemble candidate: it needs --ensemble/);
});

test('bench label-efficiency --jobs 2: two worker threads share the tasks and report exactly what one job does; bad --jobs → exit 2', () => {
  const args = ['--budget', '12', '--rounds', '2', '--min-steps', '3', '--ensemble', '--ensemble-scratch', '--cache-dir', join(dir, 'cache')];
  const one = csvBench(...args, '--report', join(dir, 'out-jobs', 'one.json'));
  const two = csvBench(...args, '--jobs', '2', '--report', join(dir, 'out-jobs', 'two.json'));
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.code, 0, two.stderr);
  assert.equal(one.json.details.jobs, 1);
  assert.equal(two.json.details.jobs, 2);
  // Every task starts from the encoders' initial weights and is seeded alike: the same numbers, to the bit.
  const numbers = (j: { results: unknown; labelsTo95pct: unknown; details: Record<string, unknown> }) =>
    JSON.stringify({ results: j.results, labelsTo95pct: j.labelsTo95pct, curves: j.details.curves, arms: j.details.arms, target: j.details.target95pct }, (k, v) => (k === 'seconds' ? undefined : v));
  assert.equal(numbers(two.json), numbers(one.json));
  assert.match(two.stderr, /2 jobs \(one process thread each\) share 5 tasks/);
  // Both jobs took work: the active curve whole on whichever was ready first, the rest as each came free; every task once.
  const taskLines = [...two.stderr.matchAll(/^\[job (\d)\] (ssl_active r\d|ssl_random|scratch_random|full_supervised) +(\d+) labels/gm)].map((m) => ({ job: m[1], task: `${m[2]} ${m[3]}` }));
  assert.deepEqual(taskLines.map((l) => l.task).sort(), ['full_supervised 150', 'scratch_random 12', 'ssl_active r0 6', 'ssl_active r1 12', 'ssl_random 12', 'ssl_random 6']);
  assert.deepEqual(new Set(taskLines.map((l) => l.job)), new Set(['1', '2']));
  assert.equal(new Set(taskLines.filter((l) => l.task.startsWith('ssl_active')).map((l) => l.job)).size, 1, 'the active rounds run in one job, in order');
  assert.doesNotMatch(one.stderr, /\[job \d\]/);
  const bad = csvBench('--budget', '12', '--jobs', '17');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.json.error.message, /--jobs expects a whole number of processes from 1 to 16, got 17/);
  const zero = csvBench('--budget', '12', '--jobs', '0');
  assert.equal(zero.code, 2, zero.stderr);
  assert.match(zero.json.error.message, /--jobs/);
});

test("bench label-efficiency --tta on digits: every arm's models predict with the test-time views (--method linear too: the heads read the views' embeddings); a text dataset → exit 2", () => {
  const report = join(dir, 'out-tta', 'report.json');
  const r = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--datasets', join(dir, 'datasets'), '--budget', '20', '--rounds', '1', '--pretrain-epochs', '1', '--epochs', '2', '--full-epochs', '1', '--min-steps', '3', '--method', 'fine-tune', '--tta', '--cache-dir', join(dir, 'cache'), '--report', report, '--json'], {});
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  const tta = { enabled: true, views: 5, what: 'the image and its one-pixel shifts', linearHead: 'trains on every view of the frozen embeddings, averages its logits over them' };
  assert.deepEqual(d.tta, tta, 'digits are not flipped: the image and four one-pixel shifts');
  assert.match(d.protocol, /logits averaged over the image and its one-pixel shifts/);
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) assert.equal(d.arms[arm].method, 'fine-tune', arm);
  assert.deepEqual(JSON.parse(readFileSync(report, 'utf8')).details.tta, d.tta);
  assert.match(r.stderr, /test-time views: 4 more embeddings of every item per encoder/);
  // Linear heads only: the views still reach them, and the accuracy moves off the plain heads' (same labels, same encoder).
  const linear = (...extra: string[]) => tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--datasets', join(dir, 'datasets'), '--budget', '20', '--rounds', '1', '--pretrain-epochs', '1', '--full-epochs', '1', '--method', 'linear', ...extra, '--cache-dir', join(dir, 'cache'), '--report', join(dir, 'out-tta-linear', `report${extra.length}.json`), '--json'], {});
  const [withViews, without] = [linear('--tta'), linear()];
  assert.equal(withViews.code, 0, withViews.stderr);
  assert.equal(without.code, 0, without.stderr);
  assert.deepEqual(withViews.json.details.tta, tta);
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) assert.equal(withViews.json.details.arms[arm].method, 'linear', arm);
  assert.notDeepEqual(withViews.json.results, without.json.results);
  for (const [args, message] of [
    [['--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'), '--text-column', 'message', '--label-column', 'category'], /--tta needs an image dataset .*csv-train is text/],
  ] as const) {
    const bad = tessera(['bench', 'label-efficiency', ...args, '--budget', '4', '--tta', '--json'], {});
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.json.error.message, message);
  }
});

test('bench label-efficiency --prior-shift: every arm reports its labels\' prior and the pool prior EM estimated; not with --noisy-student', () => {
  const report = join(dir, 'out-prior', 'report.json');
  const r = csvBench('--budget', '12', '--rounds', '2', '--min-steps', '3', '--prior-shift', '--cache-dir', join(dir, 'cache'), '--report', report);
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.deepEqual(d.priorShift, { enabled: true, poolLimit: 10000 });
  assert.match(d.protocol, /moved from its labels' class prior to the prior EM estimates/);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) {
    const ps = d.arms[arm].priorShift;
    assert.ok(ps, `${arm} reports its prior shift`);
    assert.equal(ps.labelPrior.length, 2);
    assert.ok(Math.abs(sum(ps.poolPrior) - 1) < 1e-9 && Math.abs(sum(ps.labelPrior) - 1) < 1e-9, `${arm}: ${JSON.stringify(ps)}`);
    // The budget arms bought 12 of 150 training items: EM reads the other 138; full supervision has none left.
    assert.equal(ps.items, arm === 'full_supervised' ? 0 : 138, arm);
    // Applied only when EM left no labelled class out and held-out validation vouches for it.
    const vouched = ps.validation !== null && ps.validation.logLossMoved <= ps.validation.logLossKept;
    assert.equal(ps.applied, ps.collapsed.length === 0 && vouched, `${arm}: ${JSON.stringify(ps)}`);
    if (ps.collapsed.length > 0) assert.equal(ps.validation, null, `${arm}: a collapsed estimate is never validated`);
  }
  assert.deepEqual(d.arms.full_supervised.priorShift.collapsed, [], 'nothing unlabelled, nothing collapses');
  assert.deepEqual(d.arms.full_supervised.priorShift.poolPrior, d.arms.full_supervised.priorShift.labelPrior, 'nothing unlabelled: the prior stays');
  const both = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--prior-shift', '--noisy-student', '--json'], {});
  assert.equal(both.code, 2);
  assert.match(both.json.error.message, /--prior-shift and --noisy-student do not combine/);
});

test('bench label-efficiency --pretext --method fine-tune: the chosen pretext is pretrained and cached; every arm fine-tunes; by default every fine-tuning run keeps its last epoch; bad values → exit 2', () => {
  const report = join(dir, 'out-pretext', 'report.json');
  const r = csvBench(
    '--budget', '12', '--rounds', '2', '--min-steps', '3', '--pretext', 'simcse', '--method', 'fine-tune',
    '--cache-dir', join(dir, 'cache-pretext'), '--report', report,
  );
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.equal(d.encoder.pretext, 'simcse');
  assert.match(d.encoder.dir, /-simcse-e1-s0$/);
  assert.ok(readdirSync(join(dir, 'cache-pretext')).some((n) => n.endsWith('-simcse-e1-s0')), 'cached under the pretext');
  assert.equal(d.fineTune.keep, 'final');
  assert.match(d.protocol, /the whole schedule run and its final weights kept/);
  assert.equal(d.train, 'fine-tune');
  assert.match(d.protocol, /per arm, for every arm alike, only the second of a linear head .* and full fine-tuning/);
  for (const arm of ['ssl_active', 'ssl_random', 'scratch_random', 'full_supervised']) {
    const a = d.arms[arm];
    assert.equal(a.method, 'fine-tune', `${arm}: fine-tuned whatever the validation split says`);
    assert.ok(a.fineTuneEpochs > 0);
    assert.equal(a.fineTuneBestEpoch, a.fineTuneEpochs, `${arm}: the last epoch's weights`);
  }
  for (const arm of ['ssl_active', 'ssl_random']) for (const p of d.curves[arm]) assert.equal(p.method, 'fine-tune', `${arm} at ${p.labels} labels`);

  const wrong = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--pretext', 'mlm', '--json'], {});
  assert.equal(wrong.code, 2);
  assert.match(wrong.json.error.message, /--pretext "mlm" is not a pretext for image data \(digits\); use one of: simclr, rotation/);
  const both = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--pretext', 'simclr', '--encoder', dir, '--json'], {});
  assert.equal(both.code, 2);
  assert.match(both.json.error.message, /give --pretext or --encoder, not both/);
  const keep = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--keep', 'last', '--json'], {});
  assert.equal(keep.code, 2);
  assert.match(keep.json.error.message, /--keep expects best or final, got "last"/);
  const method = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--method', 'knn', '--json'], {});
  assert.equal(method.code, 2);
  assert.match(method.json.error.message, /--method expects linear\|fine-tune\|auto, got "knn"/);
});

test("bench label-efficiency --select-with model: uncertainty from the previous round's trained classifier; bad values → exit 2", () => {
  const report = join(dir, 'out-select', 'report.json');
  const r = csvBench(
    '--budget', '18', '--rounds', '3', '--min-steps', '3', '--strategy', 'margin', '--select-with', 'model',
    '--cache-dir', join(dir, 'cache'), '--report', report,
  );
  assert.equal(r.code, 0, r.stderr);
  const d = r.json.details;
  assert.equal(d.selectWith, 'model');
  assert.match(d.protocol, /later rounds the strategy on the calibrated probabilities of the previous round's trained classifier/);
  const curve = d.curves.ssl_active as Array<{ labels: number; method: string; selectedBy: string; uncertaintyFrom: string | null }>;
  assert.deepEqual(curve.map((p) => p.labels), [6, 12, 18]);
  assert.deepEqual(curve.map((p) => p.selectedBy), ['typiclust', 'margin', 'margin']);
  // Each round's uncertainty came from the classifier the round before trained, whichever method won there.
  assert.equal(curve[0].uncertaintyFrom, null);
  for (let i = 1; i < curve.length; i++) assert.equal(curve[i].uncertaintyFrom, curve[i - 1].method, `round ${i}`);

  const bad = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--select-with', 'teacher', '--json'], {});
  assert.equal(bad.code, 2);
  assert.match(bad.json.error.message, /--select-with expects head or model, got "teacher"/);
});

test('bench label-efficiency: malformed CSV → exit 2 naming the file, line and field', () => {
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'message,category\nhello there,ham\nhi,there,spam\n"unterminated, spam\n');
  const a = tessera(['bench', 'label-efficiency', '--train', bad, '--test', join(dir, 'test.csv'), '--text-column', 'message', '--label-column', 'category', '--budget', '4', '--cache-dir', join(dir, 'c2'), '--json'], {});
  assert.equal(a.code, 2, a.stderr);
  assert.match(a.json.error.message, /^malformed train file .*bad\.csv: bad\.csv:3: wrong column count: expected 2 fields \(message,category\), got 3 \(and 1 more rejected record\(s\)\)$/);
  assert.match(a.stderr, /bad\.csv:3/);

  const c = tessera(['bench', 'label-efficiency', '--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'), '--text-column', 'body', '--label-column', 'category', '--budget', '4', '--json'], {});
  assert.equal(c.code, 2);
  assert.match(c.json.error.message, /train\.csv:1: header has no text column "body"/);

  const d = tessera(['bench', 'label-efficiency', '--train', join(dir, 'train.csv'), '--text-column', 'message', '--budget', '4', '--json'], {});
  assert.equal(d.code, 2);
  assert.equal(d.json.error.message, 'generic CSV mode needs --test, --label-column');

  const e = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--ssl-encoder-lr', 'fast', '--json'], {});
  assert.equal(e.code, 2);
  assert.equal(e.json.error.message, '--ssl-encoder-lr expects a number, got "fast"');
  // A number out of range passes the CLI parser and is refused by runLabelEfficiency before any data is read.
  const f = tessera(['bench', 'label-efficiency', '--dataset', 'digits', '--budget', '4', '--ssl-encoder-lr', '11', '--json'], {});
  assert.equal(f.code, 2);
  assert.equal(f.json.error.message, '--ssl-encoder-lr expects a ratio between 0 and 10, got 11');
});

test('learning-curve SVG: well-formed XML with axes, tick labels, legend; text escaped', () => {
  const svg = learningCurveSvg({
    title: 'A <b> & "c"',
    series: [
      { name: 'SSL & active', color: '#1f77b4', points: [{ labels: 10, accuracy: 0.5 }, { labels: 20, accuracy: 0.8 }] },
      { name: 'random', color: '#ff7f0e', points: [{ labels: 10, accuracy: 0.4 }, { labels: 20, accuracy: 0.7 }] },
    ],
    lines: [{ name: 'full', color: 'green', y: 0.9 }],
  });
  assertWellFormedXml(svg);
  assert.ok(svg.includes('A &lt;b&gt; &amp; &quot;c&quot;'));
  assert.ok(svg.includes('SSL &amp; active'));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.ok(svg.includes('>20<'), 'x tick label');
  assert.ok(svg.includes('>80%<'), 'y tick label');
});
