/** Formatting shared by the renderers: figures with their intervals, durations, Markdown tables. */
import { summarizeSeeds } from './stats.ts';
import type { Machine } from './schema.ts';

/** A proportion as a percentage with one decimal: 0.9123 → "91.2%". */
export const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
export const fixed = (digits: number) => (x: number) => x.toFixed(digits);

/**
 * Mean over seeds with its 95% t-interval, e.g. "91.2% [89.9, 92.5]"; one seed: "91.2% (1 seed,
 * no interval)"; every seed equal: "0.8981 (3 seeds, all equal)". The interval's ends are clipped
 * to what the quantity can be (`lo`, `hi`: a share lies in [0, 1], a time is ≥ 0) — with few
 * seeds a t-interval easily reaches past them.
 */
export function meanWithInterval(xs: readonly number[], show: (x: number) => string = pct, lo = -Infinity, hi = Infinity): string {
  const s = summarizeSeeds(xs);
  if (s.interval === null) return `${show(s.mean)} (1 seed, no interval)`;
  // Compared exactly: a mean of equal floats need not equal them, nor its spread be 0.
  if (xs.every((x) => x === xs[0])) return `${show(xs[0])} (${s.n} seeds, all equal)`;
  const bare = (x: number) => show(Math.min(hi, Math.max(lo, x))).replace(/( ?%| ms)$/, '');
  return `${show(s.mean)} [${bare(s.interval[0])}, ${bare(s.interval[1])}]`;
}

/** A share (accuracy, rate) over seeds: meanWithInterval within [0, 1]. */
export const shareWithInterval = (xs: readonly number[], show: (x: number) => string = pct) => meanWithInterval(xs, show, 0, 1);

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export const shortCommit = (commit: string, dirty: boolean) => `\`${commit.slice(0, 10)}\`${dirty ? ' (uncommitted changes)' : ''}`;

export function machineSummary(m: Machine): string {
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGB.toFixed(0)} GB, node ${m.node}, ${m.os}; load ${load(m.load.start)} → ${load(m.load.end)}`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${headers.map(cell).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

/** A Markdown link to a record from RESULTS.md (which sits in bench/results/, beside the records). */
export const recordLink = (file: string, text = 'record') => `[${text}](${file})`;
