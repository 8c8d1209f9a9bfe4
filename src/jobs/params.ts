import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UserError } from '../core/errors.ts';
import { JOB_PARAMS } from './types.ts';

const SCHEMAS: Record<string, TSchema> = JOB_PARAMS;

/** `params` checked against a schema and typed by it; a UserError naming the first problems otherwise. */
export function checkParams<S extends TSchema>(type: string, schema: S, params: unknown): Static<S> {
  if (Value.Check(schema, params)) return params;
  const problems = [...Value.Errors(schema, params)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
  throw new UserError(`invalid params for job type "${type}": ${problems.join('; ')}`);
}

/** At submit: the params of a known job type must match its schema (other types belong to the caller). */
export function checkJobParams(type: string, params: unknown): void {
  if (Object.hasOwn(SCHEMAS, type)) checkParams(type, SCHEMAS[type], params);
}
