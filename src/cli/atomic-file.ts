import { createWriteStream, readdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Writes started by this process (numbers the temporary files). */
let calls = 0;

/**
 * Streams `chunks` to `target` all or nothing: the data goes to a hidden temporary file beside it
 * (`.NAME.PID.N.partial`, same folder so the rename is atomic), which is fsynced and renamed over
 * `target` only once the last chunk is written. A failure, SIGINT or SIGTERM removes the
 * temporary file and leaves `target` as it was (absent, or the previous complete file).
 * A kill -9 cannot run any clean-up: the target is still untouched, and the orphaned temporary
 * file (its PID no longer alive) is removed by the next write to the same target.
 * Returns the bytes written.
 */
export async function writeFileAtomically(target: string, chunks: AsyncIterable<string | Uint8Array>): Promise<number> {
  const path = resolve(target);
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  removeOrphans(dir, prefix);
  // One name per call: a failed write's stream may still create its file after the clean-up ran
  // (the open is asynchronous), and a later write in the same process must not trip over it.
  const tmp = join(dir, `${prefix}${process.pid}.${++calls}.partial`);
  const cleanup = () => rmSync(tmp, { force: true });
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let bytes = 0;
  const ws = createWriteStream(tmp, { flags: 'wx' });
  try {
    const counted = Readable.from(
      (async function* () {
        for await (const c of chunks) {
          const b = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
          bytes += b.length;
          yield b;
        }
      })(),
      { objectMode: false, highWaterMark: 64 * 1024 },
    );
    await pipeline(counted, ws);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    renameSync(tmp, path);
    return bytes;
  } catch (e) {
    // The stream opens its file asynchronously: let it close (bounded) so the removal comes after.
    if (!ws.closed) await Promise.race([new Promise<void>((r) => ws.once('close', () => r())), new Promise<void>((r) => setTimeout(r, 1000))]);
    cleanup();
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Temporary files of earlier writes to the same target whose process is gone (kill -9). */
function removeOrphans(dir: string, prefix: string) {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.partial')) continue;
    const pid = Number(n.slice(prefix.length, -'.partial'.length).split('.')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(dir, n), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
