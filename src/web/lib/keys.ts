/**
 * Label shortcuts: the first nine labels take 1–9, the next ones letters. Letters with a job
 * of their own are never given to a label: a (accept suggestion), c (comment), g (guidelines),
 * p (play), q (question), s (skip), z (undo).
 */
export const RESERVED = new Set(['a', 'c', 'g', 'p', 'q', 's', 'z']);
const LETTERS = 'bdefhijklmnortuvwxy';

export function labelKeys(labels: readonly string[]): string[] {
  return labels.map((_, i) => (i < 9 ? String(i + 1) : (LETTERS[i - 9] ?? '')));
}

/** The label a key stands for, or undefined. */
export function labelForKey(labels: readonly string[], key: string): string | undefined {
  const keys = labelKeys(labels);
  const i = keys.indexOf(key.toLowerCase());
  return i >= 0 && keys[i] !== '' ? labels[i] : undefined;
}
