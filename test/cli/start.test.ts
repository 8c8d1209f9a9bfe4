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

test('`tessera start --train auto` on the demo: the head reads raw features, so fine-tuning wins a round only by passing McNemar’s test on validation', { timeout: 400_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-start-'));
  try {
    const r = tessera(['start', '--no-serve', '--json', '--rounds', '2', '--batch', '20', '--epochs', '1', '--train', 'auto'], { TESSERA_HOME: dir, TESSERA_DATABASE_URL: '' });
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const loop = r.json.loop;
    assert.equal(loop.features, 'raw', `one pretraining epoch: the probe finds SSL does not help (${loop.probe?.verdict?.text})`);
    for (const round of loop.rounds) {
      const t = round.training;
      assert.equal(t.requested, 'auto');
      const contested = t.fineTuneBestEpoch !== null && t.valFineTune !== null && t.valLinear !== null && t.valFineTune >= t.valLinear;
      assert.equal(t.challenge !== null, contested, `round ${round.round}: tested exactly when fine-tuning validated at least as well (${JSON.stringify(t)})`);
      if (t.challenge) {
        assert.equal(t.challenge.challenger, 'fine-tune');
        assert.equal(t.challenge.alpha, 0.05);
        assert.equal(t.method, t.challenge.passed ? 'fine-tune' : 'linear');
        assert.match(r.stderr, /McNemar p \d\.\d{3}/);
      } else assert.equal(t.method, 'linear');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
