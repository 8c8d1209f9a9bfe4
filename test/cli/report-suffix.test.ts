/** The bench report's file-name suffix: every non-default setting named, defaults add nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportSuffix } from '../../src/cli/commands/bench.ts';

test('reportSuffix names non-default settings only, FixMatch μ/τ included', () => {
  assert.equal(reportSuffix({ fixmatch: false }), '');
  assert.equal(reportSuffix({ fixmatch: 'final', fixmatchSettings: { mu: 7, tau: 0.95 } }), '-fixmatch-final');
  assert.equal(reportSuffix({ fixmatch: 'final', fixmatchSettings: { mu: 2 } }), '-fixmatch-final-mu2');
  assert.equal(reportSuffix({ fixmatch: true, fixmatchSettings: { mu: 2, tau: 0.9 } }), '-fixmatch-mu2-tau0.9');
  assert.equal(reportSuffix({ fixmatch: true, fixmatchSettings: { mu: 2, tau: 0.9 }, keep: 'best', selectWith: 'model', train: 'fine-tune', pretext: 'simcse' }), '-simcse-fine-tune-fixmatch-mu2-tau0.9-keep-best-select-model');
  assert.equal(reportSuffix({ fixmatch: false, priorShift: true }), '-prior-shift');
  assert.equal(reportSuffix({ fixmatch: false, refit: true, ensemble: 1 }), '-refit-ensemble');
  assert.equal(reportSuffix({ fixmatch: false, ensemble: 3 }), '-ensemble3');
  assert.equal(reportSuffix({ fixmatch: false, ensemble: 0 }), '');
  assert.equal(reportSuffix({ fixmatch: false, refit: true, ensemble: 1, tta: true }), '-refit-ensemble-tta');
  assert.equal(reportSuffix({ fixmatch: false, tta: false }), '');
  assert.equal(reportSuffix({ fixmatch: false, refit: true, ensemble: 1, ensembleScratch: true, tta: true }), '-refit-ensemble-scratch-tta');
});
