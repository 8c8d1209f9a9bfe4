// Test reporter (node:test): per test file, the sum of its top-level tests' durations and their
// pass/fail counts, slowest first; one line per finished test as it goes. Used by scripts/test.js
// when TESSERA_TEST_TIMES names a file, so a run shows where the suite spends its time.
export default async function* fileTimes(source) {
  const files = new Map();
  for await (const ev of source) {
    if ((ev.type === 'test:pass' || ev.type === 'test:fail') && ev.data.nesting === 0) {
      const f = ev.data.file ?? '?';
      const e = files.get(f) ?? { ms: 0, pass: 0, fail: 0 };
      e.ms += ev.data.details?.duration_ms ?? 0;
      if (ev.type === 'test:pass') e.pass++; else e.fail++;
      files.set(f, e);
      yield `${(e.ms / 1000).toFixed(1).padStart(8)} s  ${e.fail ? 'FAIL' : 'ok  '} ${f.replace(/.*\/test\//, 'test/')} [${ev.data.name.slice(0, 60)}] ${ev.type === 'test:fail' ? 'FAILED' : ''}\n`;
    }
  }
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  yield '\n# per file (s, pass, fail)\n';
  for (const [f, e] of rows) yield `${(e.ms / 1000).toFixed(1).padStart(8)} ${String(e.pass).padStart(4)} ${String(e.fail).padStart(3)}  ${f.replace(/.*\/test\//, 'test/')}\n`;
}
