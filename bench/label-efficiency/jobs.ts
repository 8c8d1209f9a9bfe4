/**
 * `--jobs N` for the label-efficiency benchmark: the arms' tasks (tasks.ts armTasks)
 * shared by N worker threads. The wasm engine runs one thread per isolate in Node, so
 * one job uses one core. Each job loads the data, embeds it and then asks for tasks one at a
 * time; longest first (the active curve trains every round in sequence, then full supervision,
 * then the larger random points), so the jobs end close together.
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../../src/core/errors.ts';
import { tsWorkerBootstrap } from '../../src/ml/parallel.ts';
import type { ArmOptions } from './settings.ts';
import type { ArmTask, ArmTaskResult } from './tasks.ts';

/** What a job posts back (worker.ts). */
export type JobMessage =
  | { type: 'log'; line: string }
  | { type: 'ready' }
  | { type: 'done'; index: number; result: ArmTaskResult }
  | { type: 'failed'; message: string; user: boolean };

/** Task indices in the order jobs take them: the active curve, full supervision, random points by size (largest first), scratch. */
export function scheduleOrder(tasks: readonly ArmTask[]): number[] {
  const rank = (t: ArmTask) => (t.arm === 'ssl_active' ? 0 : t.arm === 'full_supervised' ? 1 : t.arm === 'ssl_random' ? 2 : 3);
  const size = (t: ArmTask) => (t.arm === 'ssl_random' ? t.labels : 0);
  return tasks.map((_, i) => i).sort((a, b) => rank(tasks[a]) - rank(tasks[b]) || size(tasks[b]) - size(tasks[a]) || a - b);
}

const WORKER = new URL('./worker.ts', import.meta.url).href;

/** Runs every task on min(jobs, tasks) worker threads; results in the tasks' order. Any job's failure stops them all. */
export function runArmTasks(tasks: readonly ArmTask[], jobs: number, opts: ArmOptions, log: (line: string) => void): Promise<ArmTaskResult[]> {
  const queue = scheduleOrder(tasks);
  const results: Array<ArmTaskResult | undefined> = new Array(tasks.length);
  let left = tasks.length;
  const workers: Worker[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(results as ArmTaskResult[]);
    };
    const next = (w: Worker) => {
      const index = queue.shift();
      if (index !== undefined) w.postMessage({ type: 'task', index, task: tasks[index] });
    };
    for (let j = 1; j <= Math.min(jobs, tasks.length); j++) {
      const w = new Worker(tsWorkerBootstrap(WORKER), { eval: true, workerData: { opts } });
      workers.push(w);
      w.on('message', (m: JobMessage) => {
        if (m.type === 'log') log(`[job ${j}] ${m.line}`);
        else if (m.type === 'ready') next(w);
        else if (m.type === 'done') {
          results[m.index] = m.result;
          if (--left === 0) finish();
          else next(w);
        } else finish(m.user ? new UserError(m.message) : new Error(`job ${j}: ${m.message}`));
      });
      w.on('error', (e) => finish(new Error(`job ${j} crashed: ${e.message}`)));
      w.on('exit', (code) => finish(new Error(`job ${j} ended (exit code ${code}) with ${left} task(s) unfinished`)));
    }
  });
}
