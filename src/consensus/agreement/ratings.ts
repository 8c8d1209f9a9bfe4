import { UserError } from '../../core/errors.ts';
import { byCodeUnit } from '../encode.ts';
import type { Answer } from '../types.ts';

/** One coder's rating of one unit: a category name or a number (ordinal / interval / ratio). */
export type Rating = string | number;

/**
 * Reliability data: rows = units (items), columns = coders (annotators);
 * null / undefined = that coder did not rate that unit (missing ratings are allowed).
 */
export type RatingMatrix = ReadonlyArray<ReadonlyArray<Rating | null | undefined>>;

/** A chance-corrected coefficient with its parts: value = (observed − expected) / (1 − expected). */
export interface Coefficient {
  value: number;
  /** Observed (weighted) agreement p_a. */
  observed: number;
  /** Agreement expected by chance p_e. */
  expected: number;
  /** Units the coefficient was computed on. */
  n: number;
}

export const isRated = (v: Rating | null | undefined): v is Rating => v !== null && v !== undefined;

/**
 * The category order: `given` as is (validated), else the values seen, sorted — numerically
 * if all are numbers, by UTF-16 code units if all are strings. Mixing 1 and "1" is rejected:
 * they would silently be two different categories.
 */
export function categoriesOf(values: Iterable<Rating | null | undefined>, given?: readonly Rating[]): Rating[] {
  const seen = new Set<Rating>();
  for (const v of values) {
    if (!isRated(v)) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) throw new UserError(`rating ${v} is not a finite number`);
    if (typeof v !== 'number' && typeof v !== 'string') {
      throw new UserError(`rating ${JSON.stringify(v)} is neither a string nor a number`);
    }
    seen.add(v);
  }
  if (given) {
    const allowed = new Set(given);
    if (allowed.size !== given.length) throw new UserError(`categories have duplicates: ${given.join(', ')}`);
    for (const v of seen) {
      if (!allowed.has(v)) {
        throw new UserError(`rating ${JSON.stringify(v)} is not one of the categories [${given.join(', ')}]`);
      }
    }
    return [...given];
  }
  const all = [...seen];
  if (all.every((v) => typeof v === 'number')) return (all as number[]).sort((a, b) => a - b);
  if (all.every((v) => typeof v === 'string')) return (all as string[]).sort(byCodeUnit);
  throw new UserError('ratings mix numbers and strings (e.g. 1 and "1"); use one type');
}

export const cells = (m: RatingMatrix): Iterable<Rating | null | undefined> => m.flat();

/** Per unit, how many coders chose each category: units × K, in category order. */
export function unitCounts(matrix: RatingMatrix, categories: readonly Rating[]): number[][] {
  const index = new Map(categories.map((c, k) => [c, k]));
  return matrix.map((row) => {
    const counts = new Array<number>(categories.length).fill(0);
    for (const v of row) if (isRated(v)) counts[index.get(v)!]++;
    return counts;
  });
}

/**
 * Answers (item, annotator, label) → a units × coders matrix, units and coders sorted.
 * An annotator rating the same item twice is rejected: agreement needs one rating per cell.
 */
export function answersToMatrix(answers: readonly Answer[]): {
  units: string[];
  coders: string[];
  matrix: (string | null)[][];
} {
  const units = [...new Set(answers.map((a) => a.item))].sort(byCodeUnit);
  const coders = [...new Set(answers.map((a) => a.annotator))].sort(byCodeUnit);
  const u = new Map(units.map((x, i) => [x, i]));
  const c = new Map(coders.map((x, i) => [x, i]));
  const matrix = units.map(() => new Array<string | null>(coders.length).fill(null));
  for (const a of answers) {
    const row = matrix[u.get(a.item)!];
    const col = c.get(a.annotator)!;
    if (row[col] !== null) {
      throw new UserError(`annotator ${a.annotator} rated item ${a.item} twice; agreement needs one rating per annotator and item`);
    }
    row[col] = a.label;
  }
  return { units, coders, matrix };
}
