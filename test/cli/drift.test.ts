import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../src/core/rng.ts';
import { tessera } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-drift-'));
const r = mulberry32(5);
const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const csv = (name: string, rows: number, shift: number, header: boolean) => {
  const p = join(dir, name);
  writeFileSync(p, (header ? 'x,y,z\n' : '') + Array.from({ length: rows }, () => [g() + shift, g(), g()].join(',')).join('\n') + '\n');
  return p;
};

test('drift file mode: exact JSON contract for each test, shift detected, no-shift not', () => {
  const ref = csv('ref.csv', 200, 0, true);
  const same = csv('same.csv', 200, 0, false);
  const moved = csv('moved.csv', 200, 1, false);
  for (const t of ['mmd', 'ks', 'c2st']) {
    const a = tessera(['drift', '--reference', ref, '--current', moved, '--test', t, '--alpha', '0.01', '--seed', '3', '--json'], {});
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(Object.keys(a.json), ['test', 'statistic', 'pValue', 'alpha', 'drift']);
    assert.equal(a.json.test, t);
    assert.equal(a.json.alpha, 0.01);
    assert.equal(a.json.drift, true, `${t} p=${a.json.pValue}`);
    const b = tessera(['drift', '--reference', ref, '--current', same, '--test', t, '--json'], {});
    assert.equal(b.json.drift, false, `${t} false alarm p=${b.json.pValue}`);
  }
});

test('drift file mode: malformed input names file, line and column', () => {
  const ref = csv('ref2.csv', 20, 0, false);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, '1,2,3\n4,five,6\n');
  const r1 = tessera(['drift', '--reference', ref, '--current', bad, '--json'], {});
  assert.equal(r1.code, 2);
  assert.equal(r1.json.error.message, 'bad.csv:2, column 2: expected a number, got "five"');
  const narrow = join(dir, 'narrow.csv');
  writeFileSync(narrow, '1,2\n3,4\n');
  assert.match(tessera(['drift', '--reference', ref, '--current', narrow, '--json'], {}).json.error.message, /vectors have 2 values, the reference has 3/);
  assert.match(tessera(['drift', '--reference', ref, '--current', ref, '--test', 'nope', '--json'], {}).json.error.message, /--test expects mmd\|ks\|c2st/);
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  assert.match(tessera(['drift', '--reference', empty, '--current', ref, '--json'], {}).json.error.message, /empty\.csv: no vectors found/);
});
