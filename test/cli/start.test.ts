import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tessera } from '../helpers/cli.ts';

// The default (prior moved by EM) is checked on a served run in test/server/security-offline.test.ts.
test('`tessera start --no-prior-shift` keeps every round at its labels’ prior', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  try {
    const r = tessera(['start', '--no-serve', '--json', '--no-prior-shift', '--rounds', '1', '--batch', '20', '--epochs', '1', '--train', 'linear'], { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const rounds = r.json.loop.rounds;
    assert.equal(rounds.length, 1);
    assert.equal(rounds[0].labelledItems, 20);
    assert.equal(rounds[0].training.method, 'linear');
    assert.equal(rounds[0].training.priorShift, null);
    assert.doesNotMatch(r.stderr, /prior moved/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
