import { UserError } from '../core/errors.ts';
import {
  checkLabelDefs,
  checkQuestionChange,
  checkQuestions,
  classQuestion,
  hasLabels,
  isClassKind,
  legacyQuestion,
  labelNames,
  type ClassKind,
  type LabelDef,
  type Question,
} from './questions.ts';

export { labelNames, type LabelDef } from './questions.ts';

/**
 * Taxonomies: versioned questions (questions.ts) with guidelines; labels carry descriptions and
 * examples. A new version carries a mapping from the previous one; the labels a mapping step
 * takes as input are "touched", and items whose answers use a touched label go back for review.
 * A legacy body `{kind, labels}` is one single/multi question named `label`.
 * Pure functions: validation and mapping. Storage is in taxonomies.ts.
 */
export type MappingStep = (
  | { op: 'rename'; from: string; to: string }
  | { op: 'merge'; from: string[]; to: string }
  | { op: 'split'; from: string; to: string[] }
) & {
  /** Which question's labels (needed when the previous version has several labelled questions). */
  question?: string;
};

export interface TaxonomyInput {
  /** Legacy form: one single/multi question. */
  kind?: 'single' | 'multi';
  labels?: LabelDef[];
  /** Questions of several kinds (instead of kind + labels). */
  questions?: unknown[];
  guidelines?: string;
  /** How the previous version's labels become this version's (required when labels go away). */
  mapping?: MappingStep[];
}

export interface Taxonomy {
  version: number;
  /** The single/multi question's kind and labels, when the taxonomy has one (what legacy clients read). */
  kind?: ClassKind;
  labels?: LabelDef[];
  questions: Question[];
  guidelines: string;
  mapping: MappingStep[] | null;
  createdAt: string;
  createdBy: string | null;
}

/** A taxonomy as far as checks need it: questions, or (older callers) a legacy kind + labels. */
export interface TaxonomyLike {
  version: number;
  questions?: readonly Question[];
  kind?: ClassKind;
  labels?: readonly LabelDef[];
}

export const questionsOf = (t: TaxonomyLike): Question[] => (t.questions ? [...t.questions] : t.kind ? [legacyQuestion(t.kind, [...(t.labels ?? [])])] : []);

/** The class question's kind and labels (legacy fields), for API responses. */
export function legacyFields(questions: readonly Question[]): { kind?: ClassKind; labels?: LabelDef[] } {
  const c = classQuestion({ questions });
  return c ? { kind: c.kind, labels: c.labels } : {};
}

/** Old label → the labels it becomes: one (rename, merge) or several (split: ambiguous). */
export type LabelMap = Map<string, string[]>;

export interface CheckedTaxonomy {
  input: { questions: Question[]; guidelines: string; mapping: MappingStep[] | null };
  /** The class question's labels of the previous version that the mapping changes (empty for a first version). */
  touched: Set<string>;
  map: LabelMap;
  /** Per question of the new version (by name): the previous labels the mapping changes, and how. */
  touchedBy: Map<string, Set<string>>;
  maps: Map<string, LabelMap>;
}

/** Validates a new version against the previous one; every message names the bad part. */
export function checkTaxonomy(input: TaxonomyInput, previous?: TaxonomyLike): CheckedTaxonomy {
  const legacyForm = input.questions === undefined;
  let questions: Question[];
  if (legacyForm) {
    if (input.kind !== 'single' && input.kind !== 'multi') throw new UserError(`kind: expected "single" or "multi", got ${JSON.stringify(input.kind)}`);
    const labels = checkLabelDefs(input.labels, 'labels');
    if (input.kind === 'single' && labels.length < 2) throw new UserError('labels: a single-label taxonomy needs at least two labels to choose from');
    questions = [legacyQuestion(input.kind, labels)];
  } else {
    if (input.kind !== undefined || input.labels !== undefined) throw new UserError('questions: give either "kind" and "labels" (one single/multi question) or "questions", not both');
    questions = checkQuestions(input.questions);
  }
  const guidelines = input.guidelines ?? '';
  const mapping = input.mapping ?? [];
  const none = { touched: new Set<string>(), map: new Map() as LabelMap, touchedBy: new Map<string, Set<string>>(), maps: new Map<string, LabelMap>() };
  if (!previous) {
    if (mapping.length > 0) throw new UserError('mapping: the first version of a taxonomy has nothing to map from');
    return { input: { questions, guidelines, mapping: null }, ...none };
  }
  const prevQuestions = questionsOf(previous);
  // Plain messages when both versions are one single/multi question (as before questions existed).
  const plain = legacyForm && prevQuestions.length === 1 && isClassKind(prevQuestions[0].kind);
  // A question's counterpart in the other version: the same name, or the class question (which may be renamed).
  const prevOf = (q: Question) => prevQuestions.find((p) => p.name === q.name) ?? (isClassKind(q.kind) ? prevQuestions.find((p) => isClassKind(p.kind)) : undefined);
  const nextOf = (p: Question) => questions.find((q) => q.name === p.name) ?? (isClassKind(p.kind) ? questions.find((q) => isClassKind(q.kind)) : undefined);
  questions.forEach((q, i) => {
    const p = prevOf(q);
    if (!p) return;
    if (plain) {
      if (p.kind === 'multi' && q.kind === 'single') throw new UserError('kind: a multi-label taxonomy cannot become single-label (items may hold several labels); create a new project');
    } else checkQuestionChange(p, q, `questions[${i}]`);
  });

  const labelled = prevQuestions.filter((p) => hasLabels(p.kind));
  const maps = new Map<string, LabelMap>();
  mapping.forEach((step, i) => {
    const w = `mapping[${i}]`;
    let p: Question | undefined;
    if (step?.question !== undefined) {
      p = labelled.find((x) => x.name === step.question) ?? labelled.find((x) => isClassKind(x.kind) && nextOf(x)?.name === step.question);
      if (!p) throw new UserError(`${w}.question: "${String(step.question)}" is not a question with labels in version ${previous.version} (${labelled.map((x) => x.name).join(', ')})`);
    } else if (labelled.length === 1) p = labelled[0];
    else throw new UserError(`${w}.question: required: version ${previous.version} has ${labelled.length} questions with labels (${labelled.map((x) => x.name).join(', ')}); say whose labels this step maps`);
    const q = nextOf(p);
    if (!q || !hasLabels(q.kind)) throw new UserError(`${w}.question: question "${p.name}" is not in the new version, so its labels map to nothing`);
    const of = plain ? '' : ` of question "${p.name}"`;
    const old = new Set(labelNames(p));
    const names = new Set(labelNames(q));
    const map = maps.get(q.name) ?? new Map();
    maps.set(q.name, map);
    const from = (l: unknown, where: string): string => {
      if (typeof l !== 'string' || !old.has(l)) throw new UserError(`${where}: "${String(l)}" is not a label${of} of version ${previous.version} (${[...old].join(', ')})`);
      if (map.has(l)) throw new UserError(`${where}: "${l}" is mapped twice`);
      return l;
    };
    const to = (l: unknown, where: string): string => {
      if (typeof l !== 'string' || !names.has(l)) throw new UserError(`${where}: "${String(l)}" is not a label${of} of the new version (${[...names].join(', ')})`);
      return l;
    };
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
  for (const p of labelled) {
    const q = nextOf(p);
    if (!q || !hasLabels(q.kind)) continue;
    const names = new Set(labelNames(q));
    const map = maps.get(q.name) ?? new Map();
    const dropped = labelNames(p).filter((l) => !names.has(l) && !map.has(l));
    if (dropped.length > 0) {
      const of = plain ? '' : ` of question "${p.name}"`;
      throw new UserError(`labels ${dropped.map((l) => `"${l}"`).join(', ')}${of} of version ${previous.version} are gone without a mapping: add a rename, merge or split step for each`);
    }
  }
  const touchedBy = new Map([...maps].map(([name, m]) => [name, new Set(m.keys())]));
  const cls = classQuestion({ questions });
  const map = (cls && maps.get(cls.name)) || new Map();
  return { input: { questions, guidelines, mapping: mapping.length ? mapping : null }, touched: new Set(map.keys()), map, touchedBy, maps };
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

/** Checks one annotation's (or reviewer's) labels — the class question's answer — against a taxonomy version. */
export function checkLabels(t: TaxonomyLike, labels: unknown): string[] {
  const c = classQuestion({ questions: questionsOf(t) });
  if (!c) throw new UserError(`labels: taxonomy version ${t.version} has no single/multi question: answer its questions with "answers"`);
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) throw new UserError('labels: expected a list of label names');
  const names = labelNames(c);
  for (const l of labels as string[]) {
    if (!names.includes(l)) throw new UserError(`labels: "${l}" is not a label of taxonomy version ${t.version} (${names.join(', ')})`);
  }
  if (new Set(labels).size !== labels.length) throw new UserError('labels: a label appears twice');
  if (c.kind === 'single' && labels.length !== 1) throw new UserError(`labels: this taxonomy is single-label: give exactly one label, got ${labels.length}`);
  return [...(labels as string[])];
}
