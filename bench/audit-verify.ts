// bench/audit-verify: `audit-log verify` (chain + state replay, src/label/audit-verify.ts) on a
// SQLite store of N audit events, beside the same at a baseline size, measured in one run. Each
// step runs in a fresh child process over the persisted store, so its peak RSS and heap are its
// own; `open` (open the store, nothing else) is the floor. The chain check streams (its memory
// should not grow with N); the state replay keeps a compact expectation per row the log names
// (row-expectations.ts), so its memory grows with the rows, never with the events' text.
//
// Fixture (bulk SQL, not measured): 3 annotators answer every item (annotation.create events
// with row digests, as submitTask writes them) and each item is decided (consensus.reached with
// the label_items digest): 3/4 of the events are annotations, 1/4 decisions.
// Prints figures and ratios only.
//
// Usage: npx tsx bench/audit-verify.ts [--events 1000000] [--baseline 100000] [--out FILE.json]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { canonicalJson } from '../src/core/json.ts';
import { verifyAuditLog } from '../src/label/audit-verify.ts';
import { rowDigest } from '../src/label/row-digest.ts';
import { GENESIS_HASH, eventHash } from '../src/store/audit.ts';
import { openStore } from '../src/store/db.ts';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
};

async function child(step: string, file: string) {
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 10);
  const store = await openStore({ kind: 'sqlite', location: file });
  const t0 = performance.now();
  let extra: Record<string, unknown> = {};
  if (step !== 'open') {
    const r = await verifyAuditLog(store.db, { state: step === 'state' });
    extra = { ok: r.ok, events: r.events, verified: r.verified, checked: r.state?.checked ?? null };
  }
  const seconds = (performance.now() - t0) / 1000;
  await store.close();
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  process.stdout.write(JSON.stringify({ seconds, peakRssMB: process.resourceUsage().maxRSS / 1024, peakHeapMB: peakHeap / 2 ** 20, ...extra }) + '\n');
}

/** Writes the fixture: `events` audit events, valid chain, rows matching their digests. */
async function build(file: string, events: number) {
  const store = await openStore({ kind: 'sqlite', location: file });
  const raw = store.sqlite!;
  raw.pragma('foreign_keys = OFF');
  const items = Math.floor(events / 4);
  const at = '2026-12-01T00:00:00.000Z';
  raw.exec(`INSERT INTO projects (id, name, created_at, settings) VALUES (1, 'bench', '${at}', '{}')`);
  for (let u = 1; u <= 3; u++) raw.exec(`INSERT INTO users (id, name, display_name, created_at) VALUES (${u}, 'ann-${u}', 'ann-${u}', '${at}')`);
  const insAnn = raw.prepare('INSERT INTO annotations (id, project_id, item_id, user_id, taxonomy_version, labels, time_ms, skipped, question, created_at, round, assignment_id) VALUES (?, 1, ?, ?, 1, ?, ?, 0, 0, ?, 0, ?)');
  const insLi = raw.prepare("INSERT INTO label_items (item_id, project_id, round, status, final_labels, final_source, final_confidence, final_taxonomy_version, final_provenance, decided_at, updated_at) VALUES (?, 1, 0, 'done', ?, 'consensus', 1, 1, ?, ?, ?)");
  const insEv = raw.prepare('INSERT INTO audit_events (seq, project_id, at, actor, action, subject, payload, prev_hash, hash) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)');
  let prev = GENESIS_HASH;
  let seq = 0;
  let annId = 0;
  const event = (actor: string, action: string, subject: string, payload: Record<string, unknown>) => {
    const row = { project_id: 1, at, actor, action, subject, payload: canonicalJson(payload) };
    const hash = eventHash(prev, row);
    insEv.run(++seq, at, actor, action, subject, row.payload, prev, hash);
    prev = hash;
  };
  raw.exec('BEGIN');
  for (let item = 1; item <= items; item++) {
    const labels = JSON.stringify([['spam', 'ham', 'other'][item % 3]]);
    const ids: number[] = [];
    for (let u = 1; u <= 3; u++) {
      const id = ++annId;
      ids.push(id);
      const timeMs = 1000 + ((item * 7 + u) % 5000);
      insAnn.run(id, item, u, labels, timeMs, at, id);
      const digest = rowDigest('annotations', { id, project_id: 1, item_id: item, user_id: u, round: 0, assignment_id: id, taxonomy_version: 1, labels, time_ms: timeMs, skipped: 0, question: 0, created_at: at });
      event(`user:ann-${u}`, 'annotation.create', `item:${item}`, { annotation: id, task: id, labels: JSON.parse(labels), taxonomyVersion: 1, timeMs, suggestion: null, suggestionAccepted: null, question: false, round: 0, gold: false, rows: { v: 1, annotations: { [id]: digest } } });
    }
    const provenance = JSON.stringify({ source: 'consensus', round: 0, annotations: ids });
    insLi.run(item, labels, provenance, at, at);
    const li = rowDigest('label_items', { item_id: item, project_id: 1, round: 0, status: 'done', final_labels: labels, final_source: 'consensus', final_confidence: 1, final_taxonomy_version: 1, final_provenance: provenance, decided_at: at });
    event('user:ann-3', 'consensus.reached', `item:${item}`, { labels: JSON.parse(labels), confidence: 1, method: 'majority', round: 0, annotations: ids, rows: { v: 1, label_items: { [item]: li } } });
    if (item % 50000 === 0) {
      raw.exec('COMMIT');
      raw.exec('BEGIN');
    }
  }
  raw.exec('COMMIT');
  await store.close();
  return seq;
}

function step(name: string, file: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', process.argv[1], '--child', name, file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`step ${name} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main() {
  if (process.argv.includes('--child')) {
    const i = process.argv.indexOf('--child');
    return child(process.argv[i + 1], process.argv[i + 2]);
  }
  const sizes = [Number(arg('--baseline', '100000')), Number(arg('--events', '1000000'))];
  const results: Record<string, unknown> = { bench: 'audit-verify', store: 'sqlite', node: process.version, sizes: {} };
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-audit-'));
    try {
      const file = join(dir, 'tessera.db');
      const t0 = performance.now();
      const events = await build(file, n);
      process.stderr.write(`fixture: ${events} events in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      const out: Record<string, unknown> = { events };
      for (const s of ['open', 'chain', 'state']) {
        out[s] = step(s, file);
        process.stderr.write(`${n} ${s}: ${JSON.stringify(out[s])}\n`);
      }
      (results.sizes as Record<string, unknown>)[n] = out;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const [a, b] = sizes.map((n) => (results.sizes as Record<number, Record<string, { seconds: number; peakHeapMB: number; peakRssMB: number }>>)[n]);
  const lines = [`events           ${sizes.map((n) => String(n).padStart(10)).join('')}      ratio`];
  for (const s of ['open', 'chain', 'state'] as const) {
    for (const m of ['seconds', 'peakHeapMB', 'peakRssMB'] as const) {
      lines.push(`${`${s} ${m}`.padEnd(17)}${[a[s][m], b[s][m]].map((v) => v.toFixed(1).padStart(10)).join('')} ${(b[s][m] / a[s][m]).toFixed(2).padStart(10)}`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  const outFile = arg('--out', '');
  if (outFile) writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
}

await main();
