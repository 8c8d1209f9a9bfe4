// One measured run, in its own process so its peak RSS is its own. Prints one JSON line.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../src/store/db.ts';
import { runImport } from '../src/ingest/import.ts';
import { readLines } from '../src/ingest/lines.ts';
import { openBytes } from '../src/ingest/source.ts';

const [mode, kind, file, where] = process.argv.slice(2);
const t0 = performance.now();
let rows = 0;

if (mode === 'tessera') {
  const store = await openStore(kind === 'postgres' ? { kind, location: where, schema: 'bench_import' } : { kind: 'sqlite', location: join(where, 'tessera.db') });
  const r = await runImport(store, { project: 'bench', path: file, format: 'jsonl', options: { idColumn: 'id', labelColumn: 'label' }, actor: 'bench' });
  rows = r.imported;
  await store.close();
} else {
  // Baseline: the same rows, parsed and inserted with a bare prepared statement / unnest batch,
  // no validation, hashing, idempotency keys or audit log.
  const lines = readLines(await openBytes(file), 1 << 20);
  if (kind === 'sqlite') {
    const db = new SQLite(join(where, 'baseline.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, text TEXT, label TEXT)');
    const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
    db.exec('BEGIN');
    for await (const l of lines) {
      if (!('text' in l)) continue;
      const o = JSON.parse(l.text);
      ins.run(String(o.id), o.text, o.label);
      rows++;
    }
    db.exec('COMMIT');
    db.close();
    rmSync(join(where, 'baseline.db'), { force: true });
  } else {
    const c = new pg.Client({ connectionString: where });
    await c.connect();
    await c.query('DROP TABLE IF EXISTS bench_baseline; CREATE TABLE bench_baseline (id TEXT PRIMARY KEY, text TEXT, label TEXT)');
    await c.query('BEGIN');
    let batch: { id: string; text: string; label: string }[] = [];
    const flush = async () => {
      await c.query('INSERT INTO bench_baseline SELECT * FROM unnest($1::text[], $2::text[], $3::text[])', [batch.map((b) => b.id), batch.map((b) => b.text), batch.map((b) => b.label)]);
      batch = [];
    };
    for await (const l of lines) {
      if (!('text' in l)) continue;
      const o = JSON.parse(l.text);
      batch.push({ id: String(o.id), text: o.text, label: o.label });
      rows++;
      if (batch.length === 1000) await flush();
    }
    if (batch.length) await flush();
    await c.query('COMMIT');
    await c.query('DROP TABLE bench_baseline');
    await c.end();
  }
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ mode, kind, rows, seconds, rowsPerSec: rows / seconds, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
