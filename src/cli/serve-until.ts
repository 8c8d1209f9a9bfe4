import { syncEveryCommit, type Store } from '../store/db.ts';

/** Serves the API (and UI) on `host:port` until SIGINT/SIGTERM; the caller owns the store. */
export async function serveUntilSignal(store: Store, port: number, host: string): Promise<void> {
  // Loaded here: Fastify and Swagger would add half a second to every other command.
  const { buildApp } = await import('../server/app.ts');
  await (await import('../server/web.ts')).ensureWebUi((line) => process.stderr.write(`tessera: ${line}\n`));
  // An acknowledged change (a 201 for an annotation) must survive power loss, not only a kill.
  const sync = syncEveryCommit(store);
  const app = await buildApp({ store, logger: { level: process.env.TESSERA_LOG_LEVEL ?? 'info', stream: process.stderr } as never });
  try {
    const url = await app.listen({ port, host });
    process.stderr.write(`tessera: serving ${store.dialect} store ${store.location} at ${url} (API under /api/, docs at ${url}/docs)\n`);
    // One machine-readable line for scripts and tests: where, which process, how commits are synced.
    process.stderr.write(`tessera: ready ${JSON.stringify({ url, pid: process.pid, store: store.dialect, synchronous: sync })}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    process.stderr.write('tessera: shutting down\n');
  } finally {
    await app.close();
  }
}
