import { basename, join, relative, resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import type { ExtractedEntry } from '../tar.ts';

/**
 * The backup archive's manifest and the pure checks made against it: which entries it must hold,
 * whether a restored store matches its counts and audit head, where each checkpoint goes.
 */

export const MANIFEST = 'manifest.json';
export const SQLITE_ENTRY = 'store/tessera.db';
export const PG_ENTRY = 'store/postgres.dump';

export interface BackupManifest {
  format: 'tessera-backup';
  version: 1;
  createdAt: string;
  store: { kind: 'sqlite' | 'postgres'; schema: string | null; bossSchema: string | null; migrations: string[] };
  /** The TESSERA_HOME backed up (checkpoint paths under it are moved to the restoring home). */
  home: string;
  audit: { events: number; head: { seq: number; hash: string } | null };
  /** Rows per table in the snapshot. */
  tables: Record<string, number>;
  files: Array<{ path: string; size: number; sha256: string }>;
  /** Registered models and where their checkpoint is in the archive (null: it was missing). */
  models: Array<{ id: number; checkpointPath: string; archivedAs: string | null }>;
}

/** What the snapshot holds, read inside the snapshot itself. */
export interface SnapshotFacts {
  tables: Record<string, number>;
  migrations: string[];
  audit: BackupManifest['audit'];
  models: Array<{ id: number; checkpointPath: string }>;
}

/** The archive's store is not the kind the environment configures, or the target is occupied. */
export class RestoreRefused extends UserError {
  constructor(message: string) {
    super(message, 'E_RESTORE_REFUSED');
  }
}

export const auditOf = (tables: Record<string, number>, head: { seq: number; hash: string } | undefined): BackupManifest['audit'] => ({
  events: tables.audit_events ?? 0,
  head: head ? { seq: Number(head.seq), hash: head.hash } : null,
});

/** Why the unpacked archive's entries do not match its manifest, or null when every file is as listed. */
export function manifestProblem(manifest: BackupManifest, entries: ExtractedEntry[]): string | null {
  if (manifest.format !== 'tessera-backup' || manifest.version !== 1) {
    return `${MANIFEST} is not a Tessera backup manifest of version 1 (format ${JSON.stringify(manifest.format)}, version ${JSON.stringify(manifest.version)})`;
  }
  const got = new Map(entries.map((e) => [e.name, e]));
  for (const f of manifest.files) {
    const e = got.get(f.path);
    if (!e) return `${f.path} is listed in the manifest but missing from the archive`;
    if (e.size !== f.size || e.sha256 !== f.sha256) {
      return `${f.path} does not match the manifest (size ${e.size} vs ${f.size}, sha256 ${e.sha256.slice(0, 12)}… vs ${f.sha256.slice(0, 12)}…)`;
    }
    got.delete(f.path);
  }
  got.delete(MANIFEST);
  if (got.size) return `files not in the manifest: ${[...got.keys()].slice(0, 5).join(', ')}`;
  const storeEntry = manifest.store.kind === 'sqlite' ? SQLITE_ENTRY : PG_ENTRY;
  if (!manifest.files.some((f) => f.path === storeEntry)) return `the ${manifest.store.kind} store file is missing`;
  return null;
}

/** Where each model's checkpoint goes in the restoring home: the same place under models/, or models/_restored/<id>/ for one kept elsewhere. */
export function modelTargets(manifest: BackupManifest, home: string): Map<number, string> {
  const out = new Map<number, string>();
  const oldModels = join(manifest.home, 'models');
  for (const m of manifest.models) {
    if (m.archivedAs === null) continue;
    if (m.archivedAs.startsWith('home/models/')) out.set(m.id, join(home, 'models', relative(oldModels, resolve(m.checkpointPath))));
    else {
      const isDir = !manifest.files.some((f) => f.path === m.archivedAs);
      out.set(m.id, join(home, 'models', '_restored', String(m.id), ...(isDir ? [] : [basename(m.checkpointPath)])));
    }
  }
  return out;
}

export function compareFacts(facts: Pick<SnapshotFacts, 'tables' | 'audit'>, manifest: BackupManifest): void {
  for (const [t, n] of Object.entries(manifest.tables)) {
    if (facts.tables[t] !== n) {
      throw new UserError(`the restored table ${t} has ${facts.tables[t] ?? 'no'} rows, the manifest says ${n}; nothing was restored`, 'E_ARCHIVE');
    }
  }
  const a = facts.audit.head;
  const b = manifest.audit.head;
  if ((a === null) !== (b === null) || (a && b && (a.seq !== b.seq || a.hash !== b.hash))) {
    const restored = a ? `${a.seq}:${a.hash}` : 'empty';
    const expected = b ? `${b.seq}:${b.hash}` : 'empty';
    throw new UserError(`the restored audit head is ${restored}, the manifest says ${expected}; nothing was restored`, 'E_ARCHIVE');
  }
}
