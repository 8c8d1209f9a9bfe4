// The import graph of src/: every relative import, re-export and dynamic import('…') between files.
// Type-only imports count too: a type import still ties two modules' designs together, and a cycle
// through types is the same tangle the moment one side needs a value.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/**
 * Every module specifier a file names, parsed with the TypeScript compiler (no regex over source
 * text, so comments and strings cannot fool it): static imports, `import type`, re-exports
 * (`export … from`), dynamic `import('…')` and type positions `import('…').T`.
 */
export function importsOf(fileName: string, src: string): string[] {
  const sf = ts.createSourceFile(fileName, src, ts.ScriptTarget.Latest, false, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found = new Set<string>();
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) found.add(node.moduleSpecifier.text);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) found.add(node.arguments[0].text);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) found.add(node.argument.literal.text);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) found.add(node.moduleReference.expression.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return [...found];
}

export interface ModuleImports {
  /** Files it imports, relative to the repository (relative specifiers, resolved). */
  files: string[];
  /** Packages and Node built-ins it imports (bare specifiers). */
  packages: string[];
}

/** Every file under `root` (relative to `repo`) and what it imports. */
export function importGraph(repo: string, root: string): Map<string, ModuleImports> {
  const graph = new Map<string, ModuleImports>();
  for (const file of sourceFiles(join(repo, root))) {
    const specs = importsOf(file, readFileSync(file, 'utf8'));
    const files = specs.filter((s) => s.startsWith('.')).map((s) => relative(repo, resolve(dirname(file), s)));
    graph.set(relative(repo, file), { files: files.sort(), packages: specs.filter((s) => !s.startsWith('.')).sort() });
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
