/**
 * What changed between two taxonomy versions, for the annotator whose page still showed the old
 * one: labels added, removed, renamed, merged, split (the versions' mappings say which removal
 * was a rename). Pure functions over the labels and mappings the API returns.
 */
export type MappingOp = { op: 'rename'; from: string; to: string } | { op: 'merge'; from: string[]; to: string } | { op: 'split'; from: string; to: string[] };

export interface TaxonomyChange {
  from: number;
  to: number;
  added: string[];
  removed: string[];
  renamed: Array<{ from: string; to: string }>;
  merged: Array<{ from: string[]; to: string }>;
  split: Array<{ from: string; to: string[] }>;
  /** single ↔ multi, when it changed. */
  kind: { from: 'single' | 'multi'; to: 'single' | 'multi' } | null;
}

export interface VersionLike {
  version: number;
  kind: 'single' | 'multi';
  labels: Array<{ name: string }>;
  mapping: unknown[] | null;
}

/**
 * The change from version `from` to version `to` of `versions` (all of them, as GET
 * …/taxonomy/versions lists them). Renames chain across versions (a → b, then b → c is a → c).
 */
export function taxonomyChange(versions: VersionLike[], from: number, to: number): TaxonomyChange {
  const at = (v: number) => versions.find((x) => x.version === v);
  const a = at(from);
  const b = at(to);
  const before = a ? a.labels.map((l) => l.name) : [];
  const after = b ? b.labels.map((l) => l.name) : [];
  const steps = versions.filter((v) => v.version > from && v.version <= to).sort((x, y) => x.version - y.version);
  // Where each old label ended up through renames only (a merge or split ends the chain).
  const renamedTo = new Map(before.map((n) => [n, n]));
  const merged: TaxonomyChange['merged'] = [];
  const split: TaxonomyChange['split'] = [];
  for (const v of steps) {
    for (const op of (v.mapping ?? []) as MappingOp[]) {
      if (op.op === 'rename') {
        for (const [orig, cur] of renamedTo) if (cur === op.from) renamedTo.set(orig, op.to);
      } else if (op.op === 'merge') {
        merged.push({ from: op.from.map((f) => originOf(renamedTo, f)), to: op.to });
        for (const [orig, cur] of renamedTo) if (op.from.includes(cur)) renamedTo.delete(orig);
      } else if (op.op === 'split') {
        split.push({ from: originOf(renamedTo, op.from), to: op.to });
        for (const [orig, cur] of renamedTo) if (cur === op.from) renamedTo.delete(orig);
      }
    }
  }
  const renamed = [...renamedTo].filter(([orig, cur]) => orig !== cur && after.includes(cur) && !after.includes(orig)).map(([orig, cur]) => ({ from: orig, to: cur }));
  const accounted = new Set([...renamed.flatMap((r) => [r.from, r.to]), ...merged.flatMap((m) => [...m.from, m.to]), ...split.flatMap((s) => [s.from, ...s.to])]);
  return {
    from,
    to,
    added: after.filter((n) => !before.includes(n) && !accounted.has(n)),
    removed: before.filter((n) => !after.includes(n) && !accounted.has(n)),
    renamed,
    merged,
    split,
    kind: a && b && a.kind !== b.kind ? { from: a.kind, to: b.kind } : null,
  };
}

function originOf(renamedTo: Map<string, string>, current: string): string {
  for (const [orig, cur] of renamedTo) if (cur === current) return orig;
  return current;
}

/** The change as short phrases: `renamed "spam" → "junk"`, `added "unsure"`, … (empty: nothing the annotator sees). */
export function describeChange(c: TaxonomyChange): string[] {
  const q = (s: string) => `“${s}”`;
  const out: string[] = [];
  for (const r of c.renamed) out.push(`renamed ${q(r.from)} → ${q(r.to)}`);
  for (const m of c.merged) out.push(`merged ${m.from.map(q).join(' and ')} into ${q(m.to)}`);
  for (const s of c.split) out.push(`split ${q(s.from)} into ${s.to.map(q).join(' and ')}`);
  if (c.added.length) out.push(`added ${c.added.map(q).join(', ')}`);
  if (c.removed.length) out.push(`removed ${c.removed.map(q).join(', ')}`);
  if (c.kind) out.push(c.kind.to === 'multi' ? 'several labels may now be chosen per item' : 'one label per item now');
  return out;
}

/**
 * An answer given under the old version, carried over: renamed and merged labels follow their
 * new name; a label removed or split is dropped (the annotator chooses again). A single-label
 * taxonomy keeps an answer only when exactly one label is left.
 */
export function carryAnswer(labels: string[], c: TaxonomyChange, now: { kind: 'single' | 'multi'; labels: string[] }): string[] {
  const out: string[] = [];
  for (const l of labels) {
    const to = c.renamed.find((r) => r.from === l)?.to ?? c.merged.find((m) => m.from.includes(l))?.to ?? l;
    if (now.labels.includes(to) && !out.includes(to)) out.push(to);
  }
  return now.kind === 'single' && out.length !== 1 ? [] : out;
}
