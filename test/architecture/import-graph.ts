// The import graph of src/: every relative import, re-export and dynamic import('…') between files.
// Type-only imports count too: a type import still ties two modules' designs together, and a cycle
// through types is the same tangle the moment one side needs a value.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SPECIFIER = [
  // import … from '…' / export … from '…' (also multi-line, and `import type`).
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  // Side-effect imports: import '…'.
  /\bimport\s*['"]([^'"]+)['"]/g,
  // Dynamic imports: import('…').
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** Source without comments, so commented-out or documented imports do not count. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Relative specifiers a file imports (deduplicated). */
export function importsOf(src: string): string[] {
  const code = stripComments(src);
  const found = new Set<string>();
  for (const re of SPECIFIER) for (const m of code.matchAll(re)) if (m[1].startsWith('.')) found.add(m[1]);
  return [...found];
}

/** Graph of `root`'s files (paths relative to `repo`) → the files they import (also relative to `repo`). */
export function importGraph(repo: string, root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(join(repo, root))) {
    const from = relative(repo, file);
    const targets = importsOf(readFileSync(file, 'utf8')).map((s) => relative(repo, resolve(dirname(file), s)));
    graph.set(from, targets.sort());
  }
  return graph;
}

/** Every strongly connected component of more than one file (or a file importing itself), each as one cycle path. */
export function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative over the sorted node list so the output is stable.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const sccs: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(scc);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return sccs.map((scc) => cyclePath(graph, new Set(scc)));
}

/** One concrete cycle inside a strongly connected component: start → … → start. */
function cyclePath(graph: Map<string, string[]>, scc: Set<string>): string[] {
  const start = [...scc].sort()[0];
  // Breadth-first from start back to start, within the component: the shortest cycle through it.
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
