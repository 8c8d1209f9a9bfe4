// The import graph of src/ (docs/architecture.md "Layers"): no import cycles, and every folder
// imports only folders below it in LAYERS. Type-only imports count (see import-graph.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cycles, importGraph } from './import-graph.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The one place the layer order is written: each folder of src/ may import itself and the folders
 * before it, never one after it. `web` (the browser UI) is outside the order: it imports only
 * modules that are pure (see below).
 */
export const LAYERS = ['core', 'ml', 'store', 'ingest', 'probe', 'ssl', 'select', 'audit', 'consensus', 'label', 'train', 'suggest', 'loop', 'monitor', 'jobs', 'server', 'cli'] as const;
const WEB = 'web';
/** Packages a pure module may import, with the reason. */
const PURE_PACKAGES: Record<string, string> = {
  '@sinclair/typebox': 'schemas are plain objects, no I/O: the web client takes its reply types from the server reply schemas (src/server/replies)',
};

/**
 * Reviewed exceptions, each with its reason; every one names a real import (a stale entry fails).
 * None at present: add one only with a reason that says why the import cannot go.
 */
const ALLOWED: Record<string, string> = {};

const graph = importGraph(REPO, 'src');
const folder = (file: string) => file.split('/')[1];
const edges = [...graph].flatMap(([from, m]) => m.files.map((to) => ({ from, to, key: `${from} -> ${to}` })));
const checked = edges.filter((e) => !Object.hasOwn(ALLOWED, e.key));

test('the allow-list names only imports that exist', () => {
  const keys = new Set(edges.map((e) => e.key));
  assert.deepEqual(Object.keys(ALLOWED).filter((k) => !keys.has(k)), []);
});

test('src/ has no import cycle', () => {
  const adjacency = new Map<string, string[]>([...graph.keys()].map((f) => [f, []]));
  for (const e of checked) adjacency.get(e.from)!.push(e.to);
  const found = cycles(adjacency).map((c) => c.join(' -> '));
  assert.deepEqual(found, [], `import cycles:\n  ${found.join('\n  ')}`);
});

test('every folder of src/ has its place in the layer order', () => {
  const folders = readdirSync(`${REPO}/src`, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const unplaced = folders.filter((f) => f !== WEB && !(LAYERS as readonly string[]).includes(f));
  assert.deepEqual(unplaced, [], `add these folders to LAYERS in ${fileURLToPath(import.meta.url)}`);
});

test('no folder imports one above it in the layer order', () => {
  const rank = (f: string) => (LAYERS as readonly string[]).indexOf(f);
  const upward = checked
    .filter((e) => e.to.startsWith('src/') && folder(e.from) !== WEB && folder(e.to) !== WEB && folder(e.from) !== folder(e.to))
    .filter((e) => rank(folder(e.to)) > rank(folder(e.from)))
    .map((e) => `${e.key}  (${folder(e.from)} is below ${folder(e.to)})`);
  assert.deepEqual(upward, [], `imports against the layer order (${LAYERS.join(' < ')}):\n  ${upward.join('\n  ')}`);
});

test('src/ imports nothing outside src/ (never bench/ or test/) by path', () => {
  const outside = edges.filter((e) => !e.to.startsWith('src/')).map((e) => e.key);
  assert.deepEqual(outside, []);
  // Resolving must also land on a file: a dangling path would hide an edge from the checks above.
  const missing = edges.filter((e) => !graph.has(e.to) && !existsSync(`${REPO}/${e.to}`)).map((e) => e.key);
  assert.deepEqual(missing, []);
});

test('the web UI imports only its own modules and pure ones; nothing imports the web UI', () => {
  // Pure: neither the module nor anything it imports, transitively, imports a Node built-in or a
  // package outside PURE_PACKAGES (no store, no fs, no tfjs): the browser bundle takes it as it is.
  const impure = new Map<string, string>();
  const why = (file: string, seen = new Set<string>()): string | undefined => {
    if (seen.has(file)) return undefined;
    seen.add(file);
    const m = graph.get(file);
    if (!m) return `${file} is not a source file`;
    const impurePackages = m.packages.filter((p) => !Object.hasOwn(PURE_PACKAGES, p));
    if (impurePackages.length) return `${file} imports ${impurePackages.join(', ')}`;
    for (const to of m.files) {
      const r = why(to, seen);
      if (r) return r;
    }
    return undefined;
  };
  for (const e of edges) {
    if (folder(e.from) === WEB && folder(e.to) !== WEB) {
      const r = why(e.to);
      if (r) impure.set(e.key, r);
    }
  }
  assert.deepEqual([...impure].map(([k, r]) => `${k}: ${r}`), []);
  const intoWeb = edges.filter((e) => folder(e.from) !== WEB && folder(e.to) === WEB).map((e) => e.key);
  assert.deepEqual(intoWeb, []);
});
