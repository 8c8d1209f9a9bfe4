// The benchmark records (bench/results/): the committed RESULTS.md and README block agree with the
// committed records; rendering (means, t-intervals, verdicts, test-set counts); validation that
// names the file and the field; atomic writes; the test-set ledger and configuration hashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalJson } from '../../bench/results/canonical.ts';
import { appendTestEvaluation, configHash, parseTestEvaluations, readTestEvaluations, testEvaluationCounts, type TestEvaluation } from '../../bench/results/evaluations.ts';
import { meanWithInterval, shareWithInterval } from '../../bench/results/format.ts';
import { generate, writeGenerated } from '../../bench/results/generate.ts';
import { strongestBaseline, verdictSummary, type LabelEfficiencyRecord } from '../../bench/results/kinds/label-efficiency.ts';
import { labelEfficiencyRecord, recordLabelEfficiency, type SeedReport } from '../../bench/results/record-label-efficiency.ts';
import { cacheKey, codeVersion, nonDefaultFlags, readRecords, RecordError, validateRecord, writeRecord, type RunStart } from '../../bench/results/records.ts';
import { diffSummary, readmeBlock, renderReadmeBlock, renderResultsMd, spliceReadme } from '../../bench/results/render.ts';
import { studentTQuantile, summarizeSeeds, wilsonInterval } from '../../bench/results/stats.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'tessera-results-'));

const machine = { cpu: 'Test CPU', cores: 2, memoryGB: 8, node: 'v20.0.0', os: 'Linux 6 x64', load: { start: [1, 1, 1], end: [1.5, 1.2, 1] } };
const COMMIT = 'a'.repeat(40);
const start: RunStart = { command: 'npx tsx bench/label-efficiency.ts --only digits --record', commit: COMMIT, dirty: false, loadStart: [1, 1, 1], t0: performance.now() };

/** One seed's bench report with the given accuracy per arm. */
const report = (seed: number, acc: Record<string, number>, l95: { active: number | null; random: number | null } = { active: 40, random: 80 }): SeedReport => ({
  seed,
  seconds: 100 + seed,
  results: Object.fromEntries(Object.entries(acc).map(([a, x]) => [a, { accuracy: x, macroF1: x - 0.01 }])),
  labelsTo95pct: l95,
  details: { protocol: 'p', rounds: [20, 40, 60, 80, 100], fineTune: { lr: 0.001 }, encoder: { dir: `/x/digits-s${seed}`, pretext: 'rotation', epochs: 8 }, curves: { ssl_active: [{ labels: 20, accuracy: 0.5, method: 'linear' }, { labels: 100, accuracy: acc.ssl_active }], ssl_random: [{ labels: 100, accuracy: acc.ssl_random }] } },
});
const threeSeeds = [
  report(0, { ssl_active: 0.8, ssl_random: 0.7, scratch_random: 0.75, full_supervised: 0.95 }),
  report(1, { ssl_active: 0.82, ssl_random: 0.71, scratch_random: 0.74, full_supervised: 0.96 }, { active: 50, random: null }),
  report(2, { ssl_active: 0.84, ssl_random: 0.72, scratch_random: 0.73, full_supervised: 0.97 }),
];
const leRecord = (reports = threeSeeds, o: Partial<{ dataset: string; budget: number; flags: string[] }> = {}): LabelEfficiencyRecord =>
  ({ ...labelEfficiencyRecord(start, { dataset: o.dataset ?? 'digits', budget: o.budget ?? 100, flags: o.flags ?? [], reports }), machine, seconds: 321 }) as LabelEfficiencyRecord;

/** A records folder holding `records` (written as files under <kind>/) and optionally a ledger. */
function folder(records: Array<[string, unknown]>, ledger = ''): string {
  const dir = tmp();
  for (const [file, r] of records) {
    mkdirSync(join(dir, file.split('/')[0]), { recursive: true });
    writeFileSync(join(dir, file), typeof r === 'string' ? r : JSON.stringify(r, null, 2));
  }
  writeFileSync(join(dir, 'test-evaluations.jsonl'), ledger);
  return dir;
}

// ---- the committed tree ---------------------------------------------------------------------

test('the committed RESULTS.md and README results block agree with the committed records (npm run results -- --check)', () => {
  const g = generate();
  assert.deepEqual(g.stale, [], g.stale.join('\n'));
  const cli = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/results.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  // Every committed record is valid and linked from RESULTS.md; the ledger parses.
  const results = readFileSync(join(ROOT, 'bench/results/RESULTS.md'), 'utf8');
  for (const e of readRecords()) assert.ok(results.includes(`(${e.file})`), `${e.file} is not linked from RESULTS.md`);
  readTestEvaluations();
});

test('--check: a changed record makes RESULTS.md stale, an edited README block too; README text outside the markers does not', () => {
  const r = leRecord();
  const dir = folder([['label-efficiency/digits-b100-aaaaaaaaaa.json', r]]);
  const readmePath = join(dir, 'README.md');
  writeFileSync(readmePath, '# T\n\nintro\n\n<!-- results:start -->\n<!-- results:end -->\n\nrest\n');
  assert.equal(generate({ dir, readmePath }).stale.length, 2); // nothing generated yet
  writeGenerated(generate({ dir, readmePath }));
  assert.deepEqual(generate({ dir, readmePath }).stale, []);
  const readme = readFileSync(readmePath, 'utf8');
  assert.ok(readme.startsWith('# T\n\nintro\n\n<!-- results:start -->\n') && readme.endsWith('<!-- results:end -->\n\nrest\n'));
  assert.match(readmeBlock(readme), /\| label efficiency, budget 100 \| digits \| `ssl_active` 82\.0% \[77\.0, 87\.0\] \| strongest baseline `scratch_random` 74\.0% \[71\.5, 76\.5\] \| 3 \|/);

  writeFileSync(readmePath, readme.replace('intro', 'another helper changed this'));
  assert.deepEqual(generate({ dir, readmePath }).stale, []);

  const changed = structuredClone(r);
  changed.results.runs[1].results.ssl_active.accuracy = 0.9;
  writeFileSync(join(dir, 'label-efficiency/digits-b100-aaaaaaaaaa.json'), JSON.stringify(changed));
  const stale = generate({ dir, readmePath }).stale;
  assert.equal(stale.length, 2);
  assert.match(stale[0], /^bench\/results\/RESULTS\.md: stale — \d+ line\(s\) differ.*first at line \d+: expected ".*84\.7%.*", found ".*82\.0%/);
  assert.match(stale[1], /^README\.md, the block between the results markers: stale/);

  writeGenerated(generate({ dir, readmePath }));
  writeFileSync(readmePath, readFileSync(readmePath, 'utf8').replace('84.7%', '99.9%'));
  assert.deepEqual(
    generate({ dir, readmePath }).stale.map((s) => s.split(':')[0]),
    ['README.md, the block between the results markers'],
  );
  rmSync(dir, { recursive: true });
});

test('README markers: each exactly once and in order, or an error naming the file', () => {
  assert.equal(spliceReadme('a\n<!-- results:start -->\nold\n<!-- results:end -->\nb\n', 'new'), 'a\n<!-- results:start -->\nnew\n<!-- results:end -->\nb\n');
  assert.throws(() => spliceReadme('no markers', 'x', 'README.md'), /README\.md: expected the marker <!-- results:start --> exactly once, found it 0/);
  assert.throws(() => spliceReadme('<!-- results:start --><!-- results:start --><!-- results:end -->', 'x'), /exactly once, found it 2/);
  assert.throws(() => spliceReadme('<!-- results:end --> <!-- results:start -->', 'x', 'R.md'), /R\.md: <!-- results:end --> comes before/);
  assert.equal(diffSummary('F', 'a\nb\n', 'a\nb\n'), null);
  assert.equal(diffSummary('F', 'a\nb', null), 'F: missing (expected 2 lines)');
  assert.equal(diffSummary('F', 'a\nb\nc', 'a\nX\nc\nd'), 'F: stale — 2 line(s) differ from what the records give (3 lines expected, 4 found); first at line 2: expected "b", found "X"');
  // A long row that differs late is shown from just before the difference.
  const row = (v: string) => `| ${'x'.repeat(150)} | ${v} | tail |`;
  assert.equal(diffSummary('F', row('0.050'), row('0.040')), `F: stale — 1 line(s) differ from what the records give (1 lines expected, 1 found); first at line 1, column 159: expected "…${'x'.repeat(24)} | 0.050 | tail |", found "…${'x'.repeat(24)} | 0.040 | tail |"`);
});

// ---- rendering ------------------------------------------------------------------------------

test('intervals: Student t quantiles match the published table; Wilson matches Newcombe (1998)', () => {
  // t(0.975, df) from any statistics table.
  for (const [df, t] of [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [9, 2.262], [10, 2.228], [29, 2.045], [30, 2.042], [120, 1.98]]) {
    assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 5e-4, `df ${df}: ${studentTQuantile(0.975, df)}`);
  }
  // Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3 (score interval).
  for (const [k, n, lo, hi] of [[81, 263, 0.2553, 0.3662], [15, 148, 0.0624, 0.1605], [0, 20, 0, 0.1611], [1, 29, 0.0061, 0.1718]]) {
    const [a, b] = wilsonInterval(k, n);
    assert.ok(Math.abs(a - lo) < 5e-5 && Math.abs(b - hi) < 5e-5, `${k}/${n}: ${a} ${b}`);
  }
  const s = summarizeSeeds([0.8, 0.82, 0.84]);
  assert.ok(Math.abs(s.mean - 0.82) < 1e-12 && Math.abs(s.sd! - 0.02) < 1e-12);
  assert.ok(Math.abs(s.interval![0] - (0.82 - (4.3027 * 0.02) / Math.sqrt(3))) < 1e-4);
  assert.equal(meanWithInterval([0.8, 0.82, 0.84]), '82.0% [77.0, 87.0]');
  assert.equal(meanWithInterval([0.91]), '91.0% (1 seed, no interval)');
  assert.equal(meanWithInterval([0.5, 0.5, 0.5], (x) => x.toFixed(2)), '0.50 (3 seeds, all equal)');
  // A share's interval stops at 1 (two seeds give t = 12.7).
  assert.equal(shareWithInterval([0.95, 0.99]), '97.0% [71.6, 100.0]');
});

test('label efficiency: one row per record with every arm, labels to 95%, verdicts, seeds, wall time and the record; test-set counts per dataset', () => {
  const r3 = leRecord();
  const r1 = leRecord([report(0, { ssl_active: 0.6, ssl_random: 0.62, scratch_random: 0.5, full_supervised: 0.9 })], { dataset: 'sms-spam', budget: 50, flags: ['--epochs 40'] });
  const evals: TestEvaluation[] = [
    { bench: 'label-efficiency', dataset: 'digits', budget: 100, configHash: 'b'.repeat(64), commit: COMMIT, dirty: false, seeds: [0, 1, 2], result: {} },
    { bench: 'label-efficiency', dataset: 'digits', budget: 100, configHash: 'b'.repeat(64), commit: COMMIT, dirty: false, seeds: [3], result: {} },
    { bench: 'label-efficiency', dataset: 'digits', budget: 200, configHash: 'c'.repeat(64), commit: COMMIT, dirty: true, seeds: [0], result: {} },
    { bench: 'probe-datasets', dataset: 'trec', budget: null, configHash: 'd'.repeat(64), commit: COMMIT, dirty: false, seeds: [0], result: {} },
  ];
  const md = renderResultsMd(
    [
      { file: 'label-efficiency/sms-spam-b50-epochs-40-aaaaaaaaaa.json', record: r1 },
      { file: 'label-efficiency/digits-b100-aaaaaaaaaa.json', record: r3 },
    ],
    evals,
  );
  const rows = md.split('\n').filter((l) => l.startsWith('| digits') || l.startsWith('| sms-spam') || l.startsWith('| trec'));
  assert.deepEqual(rows, [
    '| digits | 100 | defaults | 82.0% [77.0, 87.0] | 71.0% [68.5, 73.5] | 74.0% [71.5, 76.5] | 96.0% [93.5, 98.5] | active 40 / 50 / 40; random 80 / – / 80 | helped 2, active only reached it 1 (of 3 seeds) | 0, 1, 2 | 5 min 21 s | [record](label-efficiency/digits-b100-aaaaaaaaaa.json) |',
    '| sms-spam | 50 | `--epochs 40` | 60.0% (1 seed, no interval) | 62.0% (1 seed, no interval) | 50.0% (1 seed, no interval) | 90.0% (1 seed, no interval) | active 40; random 80 | helped (1 seed) | 0 | 5 min 21 s | [record](label-efficiency/sms-spam-b50-epochs-40-aaaaaaaaaa.json) |',
    '| digits | 2 | 3 | 1 |',
    '| sms-spam | 0 | 0 | 1 |',
    '| trec | 1 | 1 | 0 |',
  ]);
  assert.match(md, /\| dataset \| budget \| flags \| `ssl_active` \| `ssl_random` \| `scratch_random` \| `full_supervised` \| labels → 95% \| active learning \| seeds \| wall time \| record \|/);
  assert.deepEqual([...testEvaluationCounts(evals)], [['digits', { configurations: 2, evaluations: 3 }], ['trec', { configurations: 1, evaluations: 1 }]]);
  assert.equal(strongestBaseline(r3), 'scratch_random'); // 74.0% beats ssl_random's 71.0%; full_supervised is a ceiling
  assert.equal(strongestBaseline(r1), 'ssl_random');
  assert.equal(verdictSummary(r1), 'helped (1 seed)');

  // README: one row per dataset, from the default-flag record with the most seeds.
  const more = leRecord([report(5, { ssl_active: 0.7, ssl_random: 0.6, scratch_random: 0.5, full_supervised: 0.9 })], { flags: ['--fixmatch'] });
  const block = renderReadmeBlock(
    [
      { file: 'label-efficiency/digits-b100-aaaaaaaaaa.json', record: r3 },
      { file: 'label-efficiency/digits-b100-fixmatch-aaaaaaaaaa.json', record: more },
      { file: 'label-efficiency/sms-spam-b50-epochs-40-aaaaaaaaaa.json', record: r1 },
    ],
    [],
  );
  assert.deepEqual(
    block.split('\n').filter((l) => l.startsWith('| label')),
    [
      '| label efficiency, budget 100 | digits | `ssl_active` 82.0% [77.0, 87.0] | strongest baseline `scratch_random` 74.0% [71.5, 76.5] | 3 |',
      '| label efficiency, budget 50 (--epochs 40) | sms-spam | `ssl_active` 60.0% (1 seed, no interval) | strongest baseline `ssl_random` 62.0% (1 seed, no interval) | 1 |',
    ],
  );
  assert.match(block, /\[bench\/results\/RESULTS\.md\]\(bench\/results\/RESULTS\.md\)/);
  // With no record at all the section says so (and still counts test-set use).
  assert.match(renderResultsMd([], []), /## Label efficiency[\s\S]*No label-efficiency record yet\.[\s\S]*No test-set evaluation logged yet\.[\s\S]*## Records\n\nNo record yet\./);
});

test('consensus and drift records render beside the published values and with Wilson intervals over runs', () => {
  const seeds = [1, 2, 3];
  const accuracy = Object.fromEntries(['mv_unresolved', 'mv_random', 'mv_first', 'dawid_skene', 'one_coin', 'glad'].map((m) => [m, { bluebirds: [0.75, 0.75, 0.75], RTE: m === 'mv_random' ? [0.89, 0.9, 0.901] : [0.9275, 0.9275, 0.9275] }]));
  const consensus = {
    kind: 'consensus', seeds, flags: [], command: 'npx tsx bench/consensus.ts --seeds 1,2,3 --record', commit: COMMIT, dirty: true, machine, seconds: 30,
    results: { sets: [{ name: 'bluebirds', items: 108, answers: 4212 }, { name: 'RTE', items: 800, answers: 8000 }], accuracy, dsAtLeastMv: true, speed: { answers: 1000, items: 100, classes: 4, annotators: 20, runs: 3, perSeed: seeds.map((seed) => ({ seed, mvMs: 10, dsMs: 40 + seed, mvAccuracy: 0.9, dsAccuracy: 0.95, dsIterations: 20, dsConverged: true })) } },
  };
  const drift = {
    kind: 'drift', dataset: 'digits', seeds: [0], flags: [], command: 'npx tsx bench/drift-failing-loudly.ts --record', commit: COMMIT, dirty: false, machine, seconds: 400,
    results: { representation: 'PCA(32) of raw pixels', n: 200, alpha: 0.05, tests: ['mmd', 'ks'], shifts: [{ name: 'no shift', runs: 263, flagged: { mmd: [81], ks: [0] } }, { name: 'noise', runs: 148, flagged: { mmd: [15], ks: [148] } }], mmdSpeed: { rows: 10000, dim: 128, permutations: 100, method: 'rff', seconds: [3, 2, 4], pValue: 0.01 } },
  };
  const entries = [{ file: 'consensus/consensus-aaaaaaaaaa.json', record: validateRecord(consensus, 'c') }, { file: 'drift/digits-n200-aaaaaaaaaa.json', record: validateRecord(drift, 'd') }];
  const md = renderResultsMd(entries, []);
  assert.match(md, /\| Dawid-Skene \| 0\.7500 \(3 seeds, all equal\) \| 0\.8981 \| 0\.9275 \(3 seeds, all equal\) \| 0\.927–0\.929 \|/);
  assert.match(md, /\| majority vote, tie → random \(seeded\) \| 0\.7500 \(3 seeds, all equal\) \| 0\.7593 \| 0\.8970 \[0\.8819, 0\.9121\] \| 0\.8969 \|/);
  assert.match(md, /\| no shift \| 263 \| 0\.308 \[0\.255, 0\.366\] \| 0\.000 \[0\.000, 0\.014\] \|/);
  assert.match(md, /best of 3 2\.00 s, median 3\.00 s \(goal < 10 s: met/);
  assert.match(md, /`aaaaaaaaaa` \(uncommitted changes\)/);
  assert.match(md, /load 1\.0 1\.0 1\.0 → 1\.5 1\.2 1\.0/);
  const block = renderReadmeBlock(entries, []);
  assert.match(block, /\| consensus \| RTE \| Dawid-Skene 0\.9275 \(3 seeds, all equal\); published 0\.927–0\.929 \| majority vote, random ties 0\.8970 \[0\.8819, 0\.9121\]; published 0\.8969 \| 3 \|/);
  assert.match(block, /\| drift \(Failing Loudly protocol\) \| digits, PCA\(32\) of raw pixels \| false alarms at α 0\.05: mmd 0\.308 \[0\.255, 0\.366\], ks 0\.000 \[0\.000, 0\.014\] \|/);
});

// ---- validation -----------------------------------------------------------------------------

test('malformed records: the error names the file and the field, and what was expected', () => {
  const good = leRecord();
  const bad = (mutate: (r: Record<string, any>) => void) => {
    const r = structuredClone(good) as Record<string, any>;
    mutate(r);
    return r;
  };
  const cases: Array<[string, unknown, RegExp]> = [
    ['label-efficiency/a.json', '{"kind": "label-efficiency",', /label-efficiency\/a\.json: not JSON/],
    ['label-efficiency/b.json', [1, 2], /b\.json: expected a JSON object/],
    ['label-efficiency/c.json', bad((r) => (r.kind = 'label-effciency')), /c\.json: field kind: expected one of label-efficiency, .*consensus, drift.*, got "label-effciency"/],
    ['label-efficiency/d.json', bad((r) => delete r.commit), /d\.json: field commit: missing \(expected a string\)/],
    ['label-efficiency/e.json', bad((r) => (r.machine.cores = '2')), /e\.json: field machine\.cores: expected integer, got "2"/],
    ['label-efficiency/f.json', bad((r) => (r.seed = 0)), /f\.json: field seed: not a field of this record \(a typo\?\)/],
    ['label-efficiency/g.json', bad((r) => (r.commit = 'abc')), /g\.json: field commit: expected string to match/],
    ['label-efficiency/h.json', bad((r) => (r.results.runs[1].results.ssl_random.accuracy = 71)), /h\.json: field results\.runs\[1\]\.results\.ssl_random\.accuracy: expected number to be less or equal to 1, got 71/],
    ['label-efficiency/i.json', bad((r) => (r.results.runs[1].seed = 7)), /i\.json: field results\.runs\[1\]\.seed: expected 1 \(seeds\[1\]\), got 7/],
    ['label-efficiency/j.json', bad((r) => (r.seeds = [0, 1, 1])), /j\.json: field seeds: seed 1 appears twice/],
    ['label-efficiency/k.json', bad((r) => (r.results.runs[0].labelsTo95pct.active = 'many')), /k\.json: field results\.runs\[0\]\.labelsTo95pct\.active: expected a number or a null, got "many"/],
    ['label-efficiency/l.json', bad((r) => delete r.results.runs[2].results.scratch_random), /l\.json: field results\.runs\[2\]\.results: arms .* differ from results\.runs\[0\]'s/],
    ['label-efficiency/m.json', bad((r) => r.curves.pop()), /m\.json: field curves: 2 entr\(ies\) for 3 seed\(s\)/],
    ['drift/n.json', good, /drift\/n\.json: field kind: "label-efficiency" records belong under bench\/results\/label-efficiency\//],
    ['label-efficiency/o.json', bad((r) => (r.flags = ['epochs 40'])), /o\.json: field flags\[0\]: expected string to match '\^--'/],
  ];
  for (const [file, value, message] of cases) {
    const dir = folder([[file, value]]);
    assert.throws(() => readRecords(dir), (e: unknown) => e instanceof RecordError && message.test(e.message) && e.message.startsWith(`bench/results/${file}: `), `${file}: expected ${message}`);
    rmSync(dir, { recursive: true });
  }
  // The good record itself passes, and the CLI reports a malformed one with exit 2 (bad input).
  const dir = folder([['label-efficiency/ok.json', good]]);
  assert.equal(readRecords(dir).length, 1);
  rmSync(dir, { recursive: true });
});

test('writeRecord: validated first, atomic, never overwrites (a second run at one commit gets -2)', () => {
  const dir = tmp();
  const first = writeRecord(leRecord(), dir);
  const second = writeRecord(leRecord(), dir);
  assert.equal(first, join(dir, 'label-efficiency/digits-b100-aaaaaaaaaa.json'));
  assert.equal(second, join(dir, 'label-efficiency/digits-b100-aaaaaaaaaa-2.json'));
  assert.equal(writeRecord(leRecord(threeSeeds, { flags: ['--fixmatch final', '--epochs 40'] }), dir), join(dir, 'label-efficiency/digits-b100-fixmatch-final-epochs-40-aaaaaaaaaa.json'));
  const broken = { ...leRecord(), budget: 0 };
  assert.throws(() => writeRecord(broken, dir), /record to write \(label-efficiency\): field budget: expected integer to be greater or equal to 1, got 0/);
  assert.deepEqual(readdirSync(join(dir, 'label-efficiency')).sort(), ['digits-b100-aaaaaaaaaa-2.json', 'digits-b100-aaaaaaaaaa.json', 'digits-b100-fixmatch-final-epochs-40-aaaaaaaaaa.json']);
  assert.equal(readRecords(dir).length, 3);
  rmSync(dir, { recursive: true });
});

test('nonDefaultFlags: one string per flag with its values, defaults and own-field flags left out, sorted', () => {
  const argv = ['--only', 'digits', '--budget', '100', '--fixmatch', 'final', '--strategy', 'badge', '--epochs=40', '--refit', '--seeds', '0,1', '--record', '--rounds', '6'];
  assert.deepEqual(nonDefaultFlags(argv, { omit: ['--only', '--budget', '--seeds', '--record'], defaults: { '--strategy': 'badge', '--rounds': '4' } }), ['--epochs 40', '--fixmatch final', '--refit', '--rounds 6']);
  assert.deepEqual(nonDefaultFlags(['--seeds', '1,2', '--record'], { omit: ['--seeds', '--record'] }), []);
  // 'constructor' is not a default of anything.
  assert.deepEqual(nonDefaultFlags(['--constructor'], { defaults: {} }), ['--constructor']);
});

// ---- the test-set ledger and configuration hashes -------------------------------------------

test('configHash: canonical (key order and undefined do not matter, array order does), refuses seeds and non-JSON values', () => {
  const a = configHash({ budget: 100, opts: { b: 1, a: [1, 2], skip: undefined }, dataset: 'digits' });
  assert.equal(a, configHash({ dataset: 'digits', opts: { a: [1, 2], b: 1 }, budget: 100 }));
  assert.notEqual(a, configHash({ dataset: 'digits', opts: { a: [2, 1], b: 1 }, budget: 100 }));
  assert.notEqual(a, configHash({ dataset: 'digits', opts: { a: [1, 2], b: 1 }, budget: 101 }));
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true }), '{"a":true,"b":[1,{"c":"x","d":null}]}');
  assert.throws(() => configHash({ dataset: 'digits', seeds: [0, 1] }), /holds "seeds"; seeds are not part of a configuration/);
  assert.throws(() => configHash({ seed: 0 }), /holds "seed"/);
  assert.throws(() => configHash({ lr: Number.NaN }), /\$\.lr: NaN has no JSON form/);
  assert.throws(() => configHash({ when: new Date(0) }), /\$\.when: a Date object is not a plain JSON value/);
});

test('appendTestEvaluation: one validated line per evaluation, counts earlier looks, refuses a ledger cut short; bad lines name file:line and field', () => {
  const dir = tmp();
  const file = join(dir, 'test-evaluations.jsonl');
  const entry: TestEvaluation = { bench: 'label-efficiency', dataset: 'digits', budget: 100, configHash: 'e'.repeat(64), commit: COMMIT, dirty: false, seeds: [0, 1, 2], result: { accuracy: { ssl_active: [0.8, 0.82, 0.84] } } };
  assert.deepEqual(appendTestEvaluation(entry, file), { earlier: 0 });
  assert.deepEqual(appendTestEvaluation({ ...entry, seeds: [3] }, file), { earlier: 1 });
  assert.deepEqual(appendTestEvaluation({ ...entry, dataset: 'sms-spam' }, file), { earlier: 0 });
  assert.equal(readTestEvaluations(file).length, 3);
  assert.deepEqual([...testEvaluationCounts(readTestEvaluations(file))], [['digits', { configurations: 1, evaluations: 2 }], ['sms-spam', { configurations: 1, evaluations: 1 }]]);
  assert.throws(() => appendTestEvaluation({ ...entry, configHash: 'short' }, file), /field configHash: expected string to match/);
  assert.equal(readTestEvaluations(file).length, 3, 'a refused entry writes nothing');
  appendFileSync(file, '{"bench":"label-efficiency"');
  assert.throws(() => appendTestEvaluation(entry, file), /not JSON/);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/\{"bench":"label-efficiency"$/, ''));
  writeFileSync(file, readFileSync(file, 'utf8').trimEnd());
  assert.throws(() => appendTestEvaluation(entry, file), /does not end with a newline \(cut short\?\)/);
  assert.throws(() => parseTestEvaluations(`${JSON.stringify(entry)}\n${JSON.stringify({ ...entry, budget: 'all' })}\n`, 'L.jsonl'), /^RecordError: L\.jsonl:2: field budget: expected a whole number ≥ 1 or a null, got "all"$/);
  assert.throws(() => parseTestEvaluations(`${JSON.stringify(entry)}\n\n${JSON.stringify(entry)}\n`, 'L.jsonl'), /L\.jsonl:2: empty line/);
  assert.throws(() => parseTestEvaluations(`${JSON.stringify({ ...entry, extra: 1 })}\n`, 'L.jsonl'), /L\.jsonl:1: field extra: not a field/);
  assert.deepEqual(readTestEvaluations(join(dir, 'absent.jsonl')), []);
  rmSync(dir, { recursive: true });
});

test('recordLabelEfficiency (the bench hook): a valid record and one ledger line; the same configuration again is counted, not a new one', () => {
  const dir = tmp();
  const ledger = join(dir, 'test-evaluations.jsonl');
  const options = { budget: 100, strategy: 'badge', rounds: 4, fixmatch: false, keep: 'final', epochs: undefined };
  const a = recordLabelEfficiency(start, { dataset: 'digits', budget: 100, flags: [], options, reports: threeSeeds, dir, ledger });
  assert.equal(a.earlier, 0);
  const b = recordLabelEfficiency(start, { dataset: 'digits', budget: 100, flags: [], options, reports: [report(7, { ssl_active: 0.8, ssl_random: 0.7, scratch_random: 0.75, full_supervised: 0.95 })], dir, ledger });
  assert.equal(b.configHash, a.configHash, 'more seeds of one configuration: same hash');
  assert.equal(b.earlier, 1);
  const c = recordLabelEfficiency(start, { dataset: 'digits', budget: 100, flags: ['--rounds 6'], options: { ...options, rounds: 6 }, reports: threeSeeds, dir, ledger });
  assert.notEqual(c.configHash, a.configHash);
  const changedDefault = threeSeeds.map((r) => ({ ...r, details: { ...r.details, fineTune: { lr: 0.002 } } }));
  assert.notEqual(recordLabelEfficiency(start, { dataset: 'digits', budget: 100, flags: [], options, reports: changedDefault, dir, ledger }).configHash, a.configHash, 'a resolved default that changed is a new configuration');

  const entries = readRecords(dir);
  assert.equal(entries.length, 4);
  const rec = entries.find((e) => e.file === 'label-efficiency/digits-b100-aaaaaaaaaa.json')!.record as LabelEfficiencyRecord;
  assert.deepEqual(rec.seeds, [0, 1, 2]);
  assert.deepEqual(rec.results.runs[1], { seed: 1, seconds: 101, results: threeSeeds[1].results, labelsTo95pct: { active: 50, random: null } });
  assert.deepEqual(rec.curves[0], { seed: 0, arms: { ssl_active: [{ labels: 20, accuracy: 0.5 }, { labels: 100, accuracy: 0.8 }], ssl_random: [{ labels: 100, accuracy: 0.7 }] } });
  assert.equal(rec.command, start.command);
  assert.ok(rec.machine.cores >= 1 && rec.machine.node === process.version);
  const lines = readTestEvaluations(ledger);
  assert.deepEqual(lines.map((l) => l.seeds), [[0, 1, 2], [7], [0, 1, 2], [0, 1, 2]]);
  assert.deepEqual(lines[0].result.accuracy, { ssl_active: [0.8, 0.82, 0.84], ssl_random: [0.7, 0.71, 0.72], scratch_random: [0.75, 0.74, 0.73], full_supervised: [0.95, 0.96, 0.97] });
  assert.match(renderResultsMd(entries, lines), /\| digits \| 3 \| 4 \| 4 \|/);
  rmSync(dir, { recursive: true });
});

test('codeVersion moves with the bytes of the code folders, not with other files; cacheKey combines it with the configuration', () => {
  const root = tmp();
  mkdirSync(join(root, 'src/ssl'), { recursive: true });
  writeFileSync(join(root, 'src/ssl/a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'other.txt'), 'x');
  const v1 = codeVersion(['src'], root);
  writeFileSync(join(root, 'other.txt'), 'y');
  assert.equal(codeVersion(['src'], root), v1);
  writeFileSync(join(root, 'src/ssl/a.ts'), 'export const a = 2;\n');
  const v2 = codeVersion(['src'], root);
  assert.notEqual(v2, v1);
  cpSync(join(root, 'src/ssl/a.ts'), join(root, 'src/ssl/b.ts'));
  assert.notEqual(codeVersion(['src'], root), v2, 'a new file is a new version');
  assert.notEqual(cacheKey({ dataset: 'digits', seed: 0 }, v1), cacheKey({ dataset: 'digits', seed: 0 }, v2));
  assert.notEqual(cacheKey({ dataset: 'digits', seed: 0 }, v1), cacheKey({ dataset: 'digits', seed: 1 }, v1));
  assert.throws(() => codeVersion(['nope'], root), /does not exist/);
  assert.ok(existsSync(root));
  rmSync(root, { recursive: true });
});
