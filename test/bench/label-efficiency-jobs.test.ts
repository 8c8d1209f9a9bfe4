/**
 * --jobs for the label-efficiency benchmark: the task list, the order jobs take tasks in, how the
 * results are put back together, and a job's failure reaching the caller as the same clear error.
 * (That two jobs report exactly what one does is tested through the CLI, test/cli/bench-label-efficiency.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { armTasks, gatherArms, type ArmScore, type ArmTaskResult } from '../../bench/label-efficiency/tasks.ts';
import { runArmTasks, scheduleOrder } from '../../bench/label-efficiency/jobs.ts';
import { UserError } from '../../src/core/errors.ts';

const score = (labels: number, accuracy: number) => ({ labels, accuracy }) as unknown as ArmScore;

test('armTasks: the active curve, each random point, scratch, full — the order one job runs them', () => {
  assert.deepEqual(armTasks([150, 300, 450, 600]), [
    { arm: 'ssl_active' },
    { arm: 'ssl_random', labels: 150 },
    { arm: 'ssl_random', labels: 300 },
    { arm: 'ssl_random', labels: 450 },
    { arm: 'ssl_random', labels: 600 },
    { arm: 'scratch_random' },
    { arm: 'full_supervised' },
  ]);
});

test('scheduleOrder: longest first — active curve, full supervision, random points largest first, scratch last', () => {
  const tasks = armTasks([150, 300, 450, 600]);
  assert.deepEqual(scheduleOrder(tasks).map((i) => tasks[i]), [
    { arm: 'ssl_active' },
    { arm: 'full_supervised' },
    { arm: 'ssl_random', labels: 600 },
    { arm: 'ssl_random', labels: 450 },
    { arm: 'ssl_random', labels: 300 },
    { arm: 'ssl_random', labels: 150 },
    { arm: 'scratch_random' },
  ]);
  assert.deepEqual([...scheduleOrder(tasks)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6], 'every task exactly once');
});

test('gatherArms: results put back by task, the random curve by labels whatever order they came in', () => {
  const tasks = armTasks([5, 10]);
  const results: ArmTaskResult[] = [
    { arm: 'ssl_active', curve: [{ ...score(5, 0.6), strategy: 'typiclust', uncertaintyFrom: null }, { ...score(10, 0.8), strategy: 'badge', uncertaintyFrom: 'head' }] },
    { arm: 'ssl_random', score: score(5, 0.5) },
    { arm: 'ssl_random', score: score(10, 0.7) },
    { arm: 'scratch_random', score: score(10, 0.65) },
    { arm: 'full_supervised', score: score(99, 0.9) },
  ];
  const g = gatherArms(tasks, results);
  assert.deepEqual(g.activeCurve.map((p) => p.accuracy), [0.6, 0.8]);
  assert.deepEqual(g.randomCurve.map((p) => [p.labels, p.accuracy]), [[5, 0.5], [10, 0.7]]);
  assert.equal(g.scratch.accuracy, 0.65);
  assert.equal(g.full.accuracy, 0.9);
  // A random point answered with another arm's result, or a missing task, is a bug, not a silent gap.
  assert.throws(() => gatherArms(tasks, [results[0], results[3], results[2], results[3], results[4]]), /got a scratch_random result/);
  assert.throws(() => gatherArms(tasks, results.slice(0, 4)), /5 tasks but 4 results/);
});

test("runArmTasks: a job that cannot start fails the run with that job's error, naming the file", async () => {
  const missing = '/nonexistent/tessera-train.csv';
  const opts = {
    csv: { train: missing, test: missing, textColumn: 'text', labelColumn: 'label' },
    budget: 4, strategy: 'badge', seed: 0, rounds: 1, fixmatch: false as const,
    encoderDir: '/nonexistent/encoder', cacheDir: '/tmp', datasetsDir: '/tmp', fashionDir: '/tmp', reportPath: '/tmp/never.json',
  };
  const lines: string[] = [];
  await assert.rejects(runArmTasks(armTasks([4]), 2, opts, (l) => lines.push(l)), (e: Error) => e instanceof UserError && e.message === `${missing}: no such file or folder`);
});
