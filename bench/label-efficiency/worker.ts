/**
 * Worker entry of jobs.ts: one job. Loads the data and the resolved
 * encoder, embeds, says it is ready, then runs the tasks it is sent one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UserError } from '../../src/core/errors.ts';
import { openArms } from './arms.ts';
import type { JobMessage } from './jobs.ts';
import type { ArmOptions } from './settings.ts';
import type { ArmTask, ArmsRunner } from './tasks.ts';

const port = parentPort!;
const post = (m: JobMessage) => port.postMessage(m);
const fail = (e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e), user: e instanceof UserError });

let runner: ArmsRunner | undefined;
port.on('message', (m: { type: 'task'; index: number; task: ArmTask }) => {
  runner!.run(m.task).then((result) => post({ type: 'done', index: m.index, result }), fail);
});
try {
  runner = await openArms((workerData as { opts: ArmOptions }).opts, (line) => post({ type: 'log', line }));
  post({ type: 'ready' });
} catch (e) {
  fail(e);
}
