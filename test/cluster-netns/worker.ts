/**
 * `tessera worker` for the namespace cluster test and bench, in a child process inside a host's
 * namespace. Everything is the real command; two test hooks make faults land where the test wants:
 *
 * - TESSERA_TEST_SHARD_DELAY_MS slows every shard down before its output is written (lease held);
 *   a file `delay-ms` in TESSERA_TEST_HOLD_DIR overrides it while it exists.
 * - TESSERA_TEST_HOLD_DIR: while the file `hold-<hostname>` exists there, this worker stops before
 *   writing its shard (printing `netns-test: held job=J shard=K`), so the test can cut its link or
 *   SIGSTOP it at that exact point; deleting the file lets it go on and try to write.
 *
 * - while `hold-tx-<hostname>` exists, it stops inside the shard's write transaction, right after
 *   its first rows are written (`netns-test: held-in-tx job=J shard=K`): a cut there leaves an
 *   open transaction holding row locks on the server.
 *
 * It also prints the outcome of each "mark this shard done" update (`netns-test: done-update
 * job=J shard=K rows=N`): rows=0 is a write attempted after the lease was lost, which is how the
 * test knows a late write has been made, and the end of that transaction (`netns-test: tx-end
 * job=J shard=K commit|rollback|error=…`), after which the test checks whether it changed anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { shardHooks } from '../../src/jobs/shards.ts';

const say = (line: string) => process.stderr.write(`netns-test: ${line}\n`);
const delay = Number(process.env.TESSERA_TEST_SHARD_DELAY_MS ?? 0);
const holdDir = process.env.TESSERA_TEST_HOLD_DIR;
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** The delay now: `<hold dir>/delay-ms` overrides the environment's, so a test can slow a job it is about to disturb. */
function delayMs(): number {
  const f = holdDir ? join(holdDir, 'delay-ms') : undefined;
  if (f && existsSync(f)) {
    const v = Number(readFileSync(f, 'utf8'));
    if (Number.isFinite(v) && v >= 0) return v;
  }
  return delay;
}

/** The shard this worker is writing (concurrency 1: one at a time). */
let writing: { job: number; shard: number } | undefined;

shardHooks.beforeWrite = async (s) => {
  writing = { job: s.job_id, shard: s.shard };
  const ms = delayMs();
  if (ms > 0) await sleep(ms);
  const hold = holdDir ? join(holdDir, `hold-${hostname()}`) : undefined;
  if (hold && existsSync(hold)) {
    say(`held job=${s.job_id} shard=${s.shard}`);
    while (existsSync(hold)) await sleep(50);
    say(`released job=${s.job_id} shard=${s.shard}`);
  }
};

/** The client that ran a shard's "mark done" update, until its transaction ends. */
const PENDING = Symbol('pending shard');
const DONE_UPDATE = /^update "job_shards" set "status" = \$1, "done_at" = \$2/;
const OUTPUT_WRITE = /^insert into "(embeddings|suggestions)"/;
type Query = (this: pg.Client, ...args: unknown[]) => Promise<pg.QueryResult>;
const query = pg.Client.prototype.query as unknown as Query;
(pg.Client.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const [text, values] = args as [unknown, unknown[] | undefined];
  const holdTx = holdDir ? join(holdDir, `hold-tx-${hostname()}`) : undefined;
  if (typeof text === 'string' && OUTPUT_WRITE.test(text) && holdTx && existsSync(holdTx)) {
    // Stops inside the shard's write transaction, after its first rows are written (row locks held).
    return query.apply(this, args).then(async (res) => {
      say(`held-in-tx job=${writing?.job} shard=${writing?.shard}`);
      while (existsSync(holdTx)) await sleep(50);
      return res;
    });
  }
  const r = query.apply(this, args);
  const client = this as pg.Client & { [PENDING]?: string };
  if (typeof text === 'string' && DONE_UPDATE.test(text) && Array.isArray(values) && r && typeof r.then === 'function') {
    const tag = `job=${values[4]} shard=${values[5]}`;
    client[PENDING] = tag;
    void r.then(
      (res) => say(`done-update ${tag} rows=${res.rowCount}`),
      (e: Error) => say(`done-update ${tag} error=${e.message}`),
    );
  } else if (typeof text === 'string' && /^(commit|rollback)$/i.test(text) && client[PENDING] && r && typeof r.then === 'function') {
    // The end of that shard's transaction: only now are its writes visible (or gone).
    const tag = client[PENDING];
    client[PENDING] = undefined;
    void r.then(
      () => say(`tx-end ${tag} ${text.toLowerCase()}`),
      (e: Error) => say(`tx-end ${tag} error=${e.message}`),
    );
  }
  return r;
};

const { main } = await import('../../src/cli/main.ts');
process.exitCode = await main(['node', 'tessera', 'worker', ...process.argv.slice(2)]);
