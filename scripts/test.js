#!/usr/bin/env node
// `npm test`: runs every test/**/*.test.ts with Node's own test runner (TypeScript via tsx).
// Store tests run against SQLite and PostgreSQL inside the same files (see test/helpers/stores.ts).
// Pass file paths or substrings to run a subset: `npm test -- ingest`.
// TESSERA_TEST_TIMES=FILE writes the time each test file took to FILE (slowest first at the end).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('test')
  .map((f) => relative('.', f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// TESSERA_TEST_TIMES=FILE: also write each file's test time there (scripts/test-file-times.mjs).
const times = process.env.TESSERA_TEST_TIMES;
const reporters = times
  ? ['--test-reporter=tap', '--test-reporter-destination=stdout', `--test-reporter=${join(import.meta.dirname, 'test-file-times.mjs')}`, `--test-reporter-destination=${times}`]
  : [];
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
