import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { TarGzWriter } from '../tar.ts';
import type { BackupManifest, SnapshotFacts } from './manifest.ts';

/** The model files of a backup: what goes into the archive and where a restore puts it back. */

/**
 * Adds every checkpoint the store registers to the archive: those under $TESSERA_HOME/models were
 * added with that folder; one kept elsewhere goes under external/<model id>. A missing one is
 * recorded (archivedAs null) with a warning, so the backup still describes the model.
 */
export async function archiveCheckpoints(
  tar: TarGzWriter,
  modelsDir: string,
  checkpoints: SnapshotFacts['models'],
  files: BackupManifest['files'],
): Promise<{ models: BackupManifest['models']; warnings: string[] }> {
  const models: BackupManifest['models'] = [];
  const warnings: string[] = [];
  for (const m of checkpoints) {
    const p = resolve(m.checkpointPath);
    if (isInside(p, modelsDir)) {
      const archivedAs = existsSync(p) ? `home/models/${relative(modelsDir, p).split(sep).join('/')}` : null;
      models.push({ id: m.id, checkpointPath: m.checkpointPath, archivedAs });
    } else if (existsSync(p)) {
      const base = `external/${m.id}`;
      const isDir = statSync(p).isDirectory();
      for (const f of isDir ? listFiles(p) : [p]) {
        const name = `${base}/${isDir ? relative(p, f).split(sep).join('/') : basename(p)}`;
        files.push({ path: name, ...(await tar.addFile(name, f)) });
      }
      models.push({ id: m.id, checkpointPath: m.checkpointPath, archivedAs: isDir ? base : `${base}/${basename(p)}` });
    } else {
      models.push({ id: m.id, checkpointPath: m.checkpointPath, archivedAs: null });
    }
    if (models[models.length - 1].archivedAs === null) {
      warnings.push(`model ${m.id}: its checkpoint ${m.checkpointPath} is missing; the backup records the model without it`);
    }
  }
  return { models, warnings };
}

/** Moves the staged model files into `home/models` (replacing what was there if `replace`). */
export function installModels(staging: string, home: string, manifest: BackupManifest, targets: Map<number, string>, replace: boolean): void {
  const dest = join(home, 'models');
  if (replace && existsSync(dest)) renameSync(dest, join(staging, 'replaced-models'));
  const staged = join(staging, 'home', 'models');
  if (existsSync(staged)) {
    mkdirSync(home, { recursive: true });
    renameSync(staged, dest);
  }
  for (const m of manifest.models) {
    if (!m.archivedAs?.startsWith('external/')) continue;
    const to = targets.get(m.id)!;
    mkdirSync(dirname(to), { recursive: true });
    renameSync(join(staging, ...m.archivedAs.split('/')), to);
  }
}

export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

export function isInside(p: string, dir: string): boolean {
  const r = relative(dir, p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}
