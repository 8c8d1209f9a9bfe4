/**
 * The benchmarks sit on top of the product, never under it: nothing in src/ imports bench/ (the
 * CLI loads the label-efficiency bench at run time), and src/train does not reach up into
 * src/loop (the loop calls the training API, not the other way round).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

/** Every relative module a file imports, statically or with a literal dynamic import(), as a path from the root. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

const offenders = (dir: string, forbidden: string) =>
  sources(join(ROOT, dir)).flatMap((f) => imports(f).filter((i) => i === forbidden || i.startsWith(`${forbidden}/`)).map((i) => `${relative(ROOT, f)} → ${i}`));

test('nothing in src/ imports bench/', () => {
  assert.deepEqual(offenders('src', 'bench'), []);
});

test('nothing in src/train imports src/loop', () => {
  assert.deepEqual(offenders('src/train', 'src/loop'), []);
});

test('the check sees imports: bench/label-efficiency.ts imports src/cli and the bench', () => {
  const found = imports(join(ROOT, 'bench', 'label-efficiency.ts'));
  assert.ok(found.includes('src/cli/commands/bench.ts'), found.join(', '));
  assert.ok(found.includes('bench/label-efficiency/index.ts'), found.join(', '));
});
