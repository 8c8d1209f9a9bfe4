import { UserError } from '../core/errors.ts';

/**
 * Taxonomies: versioned label sets with guidelines and per-label descriptions and examples.
 * A new version carries a mapping from the previous one; the labels a mapping step takes as
 * input are "touched", and items whose labels include a touched one go back for review.
 * Pure functions: validation and mapping. Storage is in taxonomies.ts.
 */
export interface LabelDef {
  name: string;
  description?: string;
  examples?: string[];
}

export type MappingStep =
  | { op: 'rename'; from: string; to: string }
  | { op: 'merge'; from: string[]; to: string }
  | { op: 'split'; from: string; to: string[] };

export interface TaxonomyInput {
  kind: 'single' | 'multi';
  labels: LabelDef[];
  guidelines?: string;
  /** How the previous version's labels become this version's (required when labels go away). */
  mapping?: MappingStep[];
}

export interface Taxonomy {
  version: number;
  kind: 'single' | 'multi';
  labels: LabelDef[];
  guidelines: string;
  mapping: MappingStep[] | null;
  createdAt: string;
  createdBy: string | null;
}

export const labelNames = (t: { labels: readonly LabelDef[] }) => t.labels.map((l) => l.name);

/** Old label → the labels it becomes: one (rename, merge) or several (split: ambiguous). */
export type LabelMap = Map<string, string[]>;

export interface CheckedTaxonomy {
  input: Required<Omit<TaxonomyInput, 'mapping'>> & { mapping: MappingStep[] | null };
  /** Labels of the previous version that the mapping changes (empty for a first version). */
  touched: Set<string>;
  map: LabelMap;
}

/** Validates a new version against the previous one; every message names the bad part. */
export function checkTaxonomy(input: TaxonomyInput, previous?: Taxonomy): CheckedTaxonomy {
  if (input.kind !== 'single' && input.kind !== 'multi') throw new UserError(`kind: expected "single" or "multi", got ${JSON.stringify(input.kind)}`);
  if (!Array.isArray(input.labels) || input.labels.length === 0) throw new UserError('labels: expected at least one label');
  const names = new Set<string>();
  const labels = input.labels.map((l, i): LabelDef => {
    const name = typeof l?.name === 'string' ? l.name.trim() : '';
    if (!name || name.length > 200) throw new UserError(`labels[${i}].name: expected 1–200 characters`);
    if (names.has(name)) throw new UserError(`labels[${i}].name: "${name}" appears twice`);
    names.add(name);
    const out: LabelDef = { name };
    if (l.description !== undefined) out.description = String(l.description);
    if (l.examples !== undefined) {
      if (!Array.isArray(l.examples) || l.examples.some((e) => typeof e !== 'string')) throw new UserError(`labels[${i}].examples: expected a list of strings`);
      out.examples = [...l.examples];
    }
    return out;
  });
  if (input.kind === 'single' && labels.length < 2) throw new UserError('labels: a single-label taxonomy needs at least two labels to choose from');
  const guidelines = input.guidelines ?? '';
  const mapping = input.mapping ?? [];
  if (!previous) {
    if (mapping.length > 0) throw new UserError('mapping: the first version of a taxonomy has nothing to map from');
    return { input: { kind: input.kind, labels, guidelines, mapping: null }, touched: new Set(), map: new Map() };
  }
  if (previous.kind === 'multi' && input.kind === 'single') {
    throw new UserError('kind: a multi-label taxonomy cannot become single-label (items may hold several labels); create a new project');
  }
  const old = new Set(labelNames(previous));
  const map: LabelMap = new Map();
  const from = (l: unknown, where: string): string => {
    if (typeof l !== 'string' || !old.has(l)) throw new UserError(`${where}: "${String(l)}" is not a label of version ${previous.version} (${[...old].join(', ')})`);
    if (map.has(l)) throw new UserError(`${where}: "${l}" is mapped twice`);
    return l;
  };
  const to = (l: unknown, where: string): string => {
    if (typeof l !== 'string' || !names.has(l)) throw new UserError(`${where}: "${String(l)}" is not a label of the new version (${[...names].join(', ')})`);
    return l;
  };
  mapping.forEach((step, i) => {
    const w = `mapping[${i}]`;
    if (step?.op === 'rename') map.set(from(step.from, `${w}.from`), [to(step.to, `${w}.to`)]);
    else if (step?.op === 'merge') {
      if (!Array.isArray(step.from) || step.from.length < 2) throw new UserError(`${w}.from: a merge takes a list of at least two labels`);
      const target = to(step.to, `${w}.to`);
      step.from.forEach((l, j) => map.set(from(l, `${w}.from[${j}]`), [target]));
    } else if (step?.op === 'split') {
      if (!Array.isArray(step.to) || step.to.length < 2) throw new UserError(`${w}.to: a split gives a list of at least two labels`);
      map.set(from(step.from, `${w}.from`), step.to.map((l, j) => to(l, `${w}.to[${j}]`)));
    } else throw new UserError(`${w}.op: expected "rename", "merge" or "split", got ${JSON.stringify((step as { op?: unknown })?.op)}`);
  });
  const dropped = [...old].filter((l) => !names.has(l) && !map.has(l));
  if (dropped.length > 0) {
    throw new UserError(`labels ${dropped.map((l) => `"${l}"`).join(', ')} of version ${previous.version} are gone without a mapping: add a rename, merge or split step for each`);
  }
  return { input: { kind: input.kind, labels, guidelines, mapping: mapping.length ? mapping : null }, touched: new Set(map.keys()), map };
}

/** Whether a change touches this label set. */
export const touches = (labels: readonly string[], touched: ReadonlySet<string>) => labels.some((l) => touched.has(l));

/**
 * A label set carried to the new version: unchanged labels stay, renamed and merged ones
 * follow the mapping; null when a label was split (a person must choose).
 */
export function mapLabels(labels: readonly string[], map: LabelMap): string[] | null {
  const out: string[] = [];
  for (const l of labels) {
    const m = map.get(l) ?? [l];
    if (m.length !== 1) return null;
    if (!out.includes(m[0])) out.push(m[0]);
  }
  return out;
}

/** Checks one annotation's (or reviewer's) labels against a taxonomy version. */
export function checkLabels(t: { kind: 'single' | 'multi'; labels: readonly LabelDef[]; version: number }, labels: unknown): string[] {
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) throw new UserError('labels: expected a list of label names');
  const names = labelNames(t);
  for (const l of labels as string[]) {
    if (!names.includes(l)) throw new UserError(`labels: "${l}" is not a label of taxonomy version ${t.version} (${names.join(', ')})`);
  }
  if (new Set(labels).size !== labels.length) throw new UserError('labels: a label appears twice');
  if (t.kind === 'single' && labels.length !== 1) throw new UserError(`labels: this taxonomy is single-label: give exactly one label, got ${labels.length}`);
  return [...(labels as string[])];
}
