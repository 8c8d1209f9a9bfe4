/**
 * Pretext configs: defaults deep-merged with what the user passes. Keys the defaults do not
 * know are rejected with the list of known ones (a typo such as `maskRatio` for `maskRate`
 * must not silently train with the default). Arrays and `null` replace, objects merge.
 */
import { UserError } from '../core/errors.ts';

export type Config = { [k: string]: unknown };

function isPlainObject(x: unknown): x is Config {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function mergeConfig(defaults: Config, user: Config | undefined, path = 'config'): Config {
  const out: Config = structuredClone(defaults);
  if (user === undefined) return out;
  if (!isPlainObject(user)) throw new UserError(`${path} must be an object`);
  for (const [k, v] of Object.entries(user)) {
    if (!(k in defaults)) {
      throw new UserError(`unknown setting ${path}.${k}; known: ${Object.keys(defaults).join(', ')}`);
    }
    const d = defaults[k];
    if (isPlainObject(d) && v !== null && v !== false) {
      if (!isPlainObject(v)) throw new UserError(`${path}.${k} must be an object like ${JSON.stringify(d)}`);
      out[k] = mergeConfig(d, v, `${path}.${k}`);
    } else if (typeof d === 'number' && typeof v !== 'number') {
      throw new UserError(`${path}.${k} must be a number, got ${JSON.stringify(v)}`);
    } else if (typeof d === 'boolean' && typeof v !== 'boolean') {
      throw new UserError(`${path}.${k} must be true or false, got ${JSON.stringify(v)}`);
    } else {
      out[k] = structuredClone(v);
    }
  }
  return out;
}

/** Typed reads from a merged config with range checks and actionable messages. */
export function num(c: Config, key: string, opts: { min?: number; max?: number; int?: boolean; where?: string } = {}): number {
  const v = c[key];
  const where = `${opts.where ?? 'config'}.${key}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${where} must be a number, got ${JSON.stringify(v)}`);
  if (opts.int && !Number.isInteger(v)) throw new UserError(`${where} must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new UserError(`${where} must be ≥ ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new UserError(`${where} must be ≤ ${opts.max}, got ${v}`);
  return v;
}

export function sub(c: Config, key: string): Config {
  const v = c[key];
  if (!isPlainObject(v)) throw new UserError(`config.${key} must be an object`);
  return v;
}

export function numPair(c: Config, key: string, where = 'config'): [number, number] {
  const v = c[key];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] > v[1]) {
    throw new UserError(`${where}.${key} must be [min, max] numbers, got ${JSON.stringify(v)}`);
  }
  return [v[0], v[1]];
}

export function numList(c: Config, key: string, where = 'config'): number[] {
  const v = c[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new UserError(`${where}.${key} must be a non-empty list of numbers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}
