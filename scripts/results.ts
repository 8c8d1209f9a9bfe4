// `npm run results`: regenerates bench/results/RESULTS.md and README.md's results block (between
// <!-- results:start --> and <!-- results:end -->, nothing else in README.md) from the records
// under bench/results/ and bench/results/test-evaluations.jsonl.
// `npm run results -- --check`: changes nothing; exits 1 naming each stale file and its first
// differing line. A malformed record exits 2 with the file and field.
import { generate, writeGenerated } from '../bench/results/generate.ts';
import { RecordError } from '../bench/results/records.ts';

const check = process.argv.includes('--check');
const unknown = process.argv.slice(2).filter((a) => a !== '--check');
if (unknown.length) {
  console.error(`unknown argument(s) ${unknown.join(' ')}; usage: npm run results [-- --check]`);
  process.exit(2);
}
try {
  const g = generate();
  if (check) {
    for (const s of g.stale) console.error(s);
    if (g.stale.length) console.error('run `npm run results` and commit the result');
    else console.log('bench/results/RESULTS.md and the README block agree with the records');
    process.exitCode = g.stale.length ? 1 : 0;
  } else {
    writeGenerated(g);
    console.log(g.stale.length ? `updated: ${g.stale.map((s) => s.split(':')[0]).join('; ')}` : 'already up to date');
  }
} catch (e) {
  if (!(e instanceof RecordError) && !(e instanceof Error && /expected the marker|comes before/.test(e.message))) throw e;
  console.error(e.message);
  process.exitCode = 2;
}
