/**
 * Shared by test/jobs/cluster.test.ts and bench/cluster-embed.ts: a tabular project of N rows and
 * a small random-init encoder registered for it, plus `tessera worker` child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runImport } from '../../src/ingest/import.ts';
import { registerModel } from '../../src/store/models.ts';
import { getProject } from '../../src/store/projects.ts';
import type { Store } from '../../src/store/db.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Imports N seeded tabular rows (4 numeric columns, 1 categorical) into `project`. */
export async function tabularProject(store: Store, project: string, n: number, seed = 1): Promise<{ projectId: number; seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const file = join(dir, 'rows.csv');
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const lines = ['id,a,b,c,d,kind'];
  for (let i = 0; i < n; i++) lines.push(`r${i},${(rand() * 100).toFixed(3)},${(rand() * 10).toFixed(3)},${Math.floor(rand() * 1000)},${(rand() - 0.5).toFixed(4)},${['x', 'y', 'z'][i % 3]}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const t0 = performance.now();
  const report = await runImport(store, { project, path: file, format: 'tabular', options: { columns: 'id:id,a:num,b:num,c:num,d:num,kind:cat' }, actor: 'cli:test' });
  if (report.imported !== n) throw new Error(`imported ${report.imported} of ${n}: ${JSON.stringify(report.errors.slice(0, 3))}`);
  return { projectId: (await getProject(store.db, project)).id, seconds: (performance.now() - t0) / 1000 };
}

/** A random-init SCARF encoder (one layer of `width`) fitted on the project, saved and registered. */
export async function smallEncoder(store: Store, projectId: number, width = 16): Promise<{ modelId: number; dir: string }> {
  const { loadModalityData } = await import('../../src/ssl/data.ts');
  const { randomEncoder } = await import('../../src/ssl/index.ts');
  const loaded = await loadModalityData(store, projectId, 'tabular');
  const enc = await randomEncoder(loaded.data, { pretext: 'scarf', seed: 0, config: { encoder: { widths: [width] } } });
  const dir = join(mkdtempSync(join(tmpdir(), 'tessera-encoder-')), 'encoder');
  await enc.save(dir);
  enc.dispose();
  const modelId = await registerModel(store.db, { projectId, kind: 'encoder', pretext: 'scarf', parentId: null, datasetId: null, taxonomyVersion: null, checkpointPath: dir, params: { random: true }, metrics: {} });
  return { modelId, dir };
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** The owner string the worker writes into jobs and shards (host:pid). */
  owner: string;
  log: string[];
  exited: Promise<number | null>;
}

/**
 * Starts `tessera worker` in a child process (through test/jobs/cluster-worker.ts, which can slow
 * each shard by TESSERA_TEST_SHARD_DELAY_MS so a test can kill a worker mid-shard).
 */
export function startWorker(env: Record<string, string>, args: string[] = [], onLine?: (l: string) => void): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/jobs/cluster-worker.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  let buf = '';
  const take = (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      log.push(line);
      onLine?.(line);
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, pid: child.pid!, owner: '', log, exited };
}

/**
 * A classifier as `tessera loop` registers one with a frozen encoder: a linear head (with its
 * temperature) fitted on `labelled` items' embeddings, labelled by their `kind` column (x, y, z);
 * creates the project's taxonomy. Returns its model id.
 */
export async function smallClassifier(store: Store, projectId: number, encoderId: number, encoderDir: string, labelled = 60): Promise<number> {
  const { loadModalityData } = await import('../../src/ssl/data.ts');
  const { loadEncoder } = await import('../../src/ssl/index.ts');
  const { fitHead } = await import('../../src/train/linear-head.ts');
  const { createTaxonomy } = await import('../../src/label/taxonomies.ts');
  const { cliActor } = await import('../../src/store/context.ts');
  const { getProject: byName } = await import('../../src/store/projects.ts');
  const project = (await store.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirstOrThrow()).name;
  await createTaxonomy(store, await byName(store.db, project), cliActor('cli:test'), { kind: 'single', labels: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] });
  const { data } = await loadModalityData(store, projectId, 'tabular');
  if (data.modality !== 'tabular') throw new Error('expected a tabular project');
  const first = { ...data, rows: data.rows.slice(0, labelled) };
  const kindAt = data.columns.findIndex((c) => c.name === 'kind');
  const enc = await loadEncoder(encoderDir);
  const x = await enc.embed(first);
  const head = fitHead({ rows: labelled, dim: enc.dim, data: x }, first.rows.map((r) => String(r[kindAt])), ['x', 'y', 'z'], 0);
  enc.dispose();
  const m = head.model;
  return registerModel(store.db, {
    projectId,
    kind: 'classifier',
    pretext: 'scarf',
    parentId: encoderId,
    datasetId: null,
    taxonomyVersion: 1,
    checkpointPath: encoderDir,
    params: { features: 'ssl', classes: head.classes, temperature: head.temperature, lambda: m.lambda, W: Array.from(m.W), b: Array.from(m.b), mean: Array.from(m.mean), std: Array.from(m.std) },
    metrics: {},
  });
}
