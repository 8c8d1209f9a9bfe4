// bench/import: N synthetic JSONL text rows (default 1,000,000) imported into SQLite and
// PostgreSQL through the real import path, each beside a bare-insert baseline measured in the
// same run. Prints rows/s, peak RSS, and the ratio to the baseline.
// Goal (issue #2): SQLite ≥ 50,000 rows/s and < 500 MB peak RSS.
// Usage: npx tsx bench/import.ts [--rows N] [--seed K] [--pg postgres://…]
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};
const N = Number(arg('--rows', '1000000'));
const SEED = Number(arg('--seed', '1'));
const PG = arg('--pg', 'postgres://postgres@127.0.0.1:5432/test');

// mulberry32: a seeded PRNG so every run imports the same bytes.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const WORDS = 'the a data label model review queue text image audio row drift annotate consensus agree batch select train probe embed cluster'.split(' ');

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const file = join(dir, 'rows.jsonl');
const rand = rng(SEED);
const out = createWriteStream(file);
for (let i = 0; i < N; i++) {
  const len = 5 + Math.floor(rand() * 20);
  const words = Array.from({ length: len }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
  const line = JSON.stringify({ id: `r${i}`, text: words, label: rand() < 0.2 ? 'spam' : 'ham' }) + '\n';
  if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
}
await new Promise<void>((r) => out.end(() => r()));

console.log(`bench/import — protocol: ${N.toLocaleString('en')} synthetic JSONL rows {id,text (5–24 words),label}, seed ${SEED}; ` + `each run in a fresh child process (peak RSS = its maxRSS); one transaction per import.`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}`);

function run(mode: string, kind: string, where: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'import-child.ts'), mode, kind, file, where], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mode}/${kind} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function dropSchema() {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query('DROP SCHEMA IF EXISTS bench_import CASCADE');
  await c.end();
}

const rows: string[] = [];
for (const kind of ['sqlite', 'postgres']) {
  const sqliteDir = mkdtempSync(join(dir, `${kind}-`));
  if (kind === 'postgres') await dropSchema();
  const base = run('baseline', kind, kind === 'sqlite' ? sqliteDir : PG);
  const ours = run('tessera', kind, kind === 'sqlite' ? sqliteDir : PG);
  if (ours.rows !== N) throw new Error(`${kind}: imported ${ours.rows} rows, expected ${N}`);
  if (kind === 'postgres') await dropSchema();
  const fmt = (x: { rowsPerSec: number; peakRssMB: number; seconds: number }) => `${Math.round(x.rowsPerSec).toLocaleString('en').padStart(9)} rows/s  ${x.seconds.toFixed(1).padStart(6)} s  peak RSS ${x.peakRssMB.toFixed(0).padStart(4)} MB`;
  rows.push(`${kind.padEnd(9)} tessera import  ${fmt(ours)}`);
  rows.push(`${kind.padEnd(9)} bare baseline   ${fmt(base)}`);
  rows.push(`${kind.padEnd(9)} ratio tessera/baseline: ${(ours.rowsPerSec / base.rowsPerSec).toFixed(2)}× throughput` + (kind === 'sqlite' ? `   goal ≥ 50,000 rows/s: ${ours.rowsPerSec >= 50000 ? 'met' : 'NOT met'}; < 500 MB: ${ours.peakRssMB < 500 ? 'met' : 'NOT met'}` : ''));
  rmSync(sqliteDir, { recursive: true, force: true });
  console.log(rows.splice(0).join('\n'));
}
rmSync(dir, { recursive: true, force: true });
