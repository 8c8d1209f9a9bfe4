/**
 * `tessera worker` for tests and benchmarks, in a child process. TESSERA_TEST_SHARD_DELAY_MS slows
 * every embedding shard down (before its output is written, while its lease is held) so a test can
 * kill the worker mid-shard; everything else is the real command.
 */
import { shardHooks } from '../../src/jobs/shards.ts';

const delay = Number(process.env.TESSERA_TEST_SHARD_DELAY_MS ?? 0);
if (delay > 0) shardHooks.beforeWrite = () => new Promise((res) => setTimeout(res, delay));
const { main } = await import('../../src/cli/main.ts');
process.exitCode = await main(['node', 'tessera', 'worker', ...process.argv.slice(2)]);
