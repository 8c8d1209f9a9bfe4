import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { Store } from '../db.ts';
import { listFiles } from './files.ts';
import { auditOf, compareFacts, type BackupManifest, type SnapshotFacts } from './manifest.ts';

/** The SQLite side of backup and restore: a consistent snapshot, the facts read from it, the occupied check. */

/**
 * SQLite's online backup API (better-sqlite3 `backup`), every page in one step: one read
 * transaction, so the copy is the store as of one commit while the server keeps committing (WAL:
 * readers do not block writers). In smaller steps, a write by another connection between two
 * steps restarts the copy, which under steady annotation traffic may never finish.
 */
export async function sqliteSnapshot(store: Store, dest: string): Promise<void> {
  await store.sqlite!.backup(dest, { progress: ({ totalPages }) => Math.max(totalPages, 100) * 2 });
}

type CheckpointRow = { id: number; checkpoint_path: string };

export function sqliteFacts(file: string): SnapshotFacts {
  const db = new SQLite(file, { readonly: true });
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the snapshot fails SQLite's quick_check: ${String(check)}`);
    const catalogue = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`);
    const names = (catalogue.all() as Array<{ name: string }>).map((r) => r.name);
    const tables: Record<string, number> = {};
    for (const n of names) {
      // Table names come from the snapshot's own catalogue; only plain identifiers are counted.
      if (!/^[a-z_][a-z0-9_]*$/i.test(n)) throw new Error(`the snapshot holds a table with an unexpected name: ${JSON.stringify(n)}`);
      tables[n] = Number((db.prepare(`SELECT count(*) AS n FROM "${n}"`).get() as { n: number }).n);
    }
    return {
      tables,
      migrations: names.includes('kysely_migration')
        ? (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name)
        : [],
      audit: auditOf(tables, db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined),
      models: (db.prepare('SELECT id, checkpoint_path FROM models WHERE checkpoint_path IS NOT NULL ORDER BY id').all() as CheckpointRow[]).map((r) => ({
        id: r.id,
        checkpointPath: r.checkpoint_path,
      })),
    };
  } finally {
    db.close();
  }
}

export function sqliteOccupied(home: string, dbFile: string): string | null {
  if (existsSync(dbFile) && statSync(dbFile).size > 0) return `${home} already holds a store (${dbFile})`;
  const models = join(home, 'models');
  if (listFiles(models).length > 0) return `${home} already holds model files (${models})`;
  return null;
}

/** Staged SQLite file: integrity, rows per table and audit head as in the manifest; checkpoint paths moved to the new home. */
export function checkSqliteAgainstManifest(file: string, manifest: BackupManifest, targets: Map<number, string>): void {
  const facts = sqliteFacts(file);
  compareFacts(facts, manifest);
  const db = new SQLite(file);
  try {
    db.pragma('journal_mode = DELETE');
    const set = db.prepare('UPDATE models SET checkpoint_path = ? WHERE id = ?');
    db.transaction(() => {
      for (const [id, p] of targets) set.run(p, id);
    })();
  } finally {
    db.close();
  }
}
