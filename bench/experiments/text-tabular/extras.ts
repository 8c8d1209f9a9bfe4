// Further representations and heads, registered here so run.ts stays a harness.
import type { Head, Rep } from './run.ts';
export const EXTRA_REPS: Record<string, () => Rep> = {};
export const EXTRA_HEADS: Record<string, Head> = {};
