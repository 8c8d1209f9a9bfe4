import type { LabelDef, Taxonomy } from '../../api.ts';

/** The taxonomy editor's draft of the next version, and the request body and migration preview it makes (pure). */

export interface Draft {
  kind: 'single' | 'multi';
  labels: Array<{ name: string; description: string; examples: string }>;
  guidelines: string;
  mapping: Array<{ op: 'rename' | 'merge' | 'split'; from: string; to: string }>;
}

export const toDraft = (t: Taxonomy | undefined): Draft => ({
  kind: t?.kind ?? 'single',
  labels: t
    ? t.labels.map((l) => ({ name: l.name, description: l.description ?? '', examples: (l.examples ?? []).join('\n') }))
    : [{ name: '', description: '', examples: '' }],
  guidelines: t?.guidelines ?? '',
  mapping: [],
});

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export function draftBody(d: Draft) {
  return {
    kind: d.kind,
    labels: d.labels
      .filter((l) => l.name.trim())
      .map((l): LabelDef => {
        const out: LabelDef = { name: l.name.trim() };
        if (l.description.trim()) out.description = l.description.trim();
        const ex = l.examples
          .split('\n')
          .map((x) => x.trim())
          .filter(Boolean);
        if (ex.length) out.examples = ex;
        return out;
      }),
    guidelines: d.guidelines,
    ...(d.mapping.length
      ? {
          mapping: d.mapping.map((m) =>
            m.op === 'rename'
              ? { op: m.op, from: m.from.trim(), to: m.to.trim() }
              : m.op === 'merge'
                ? { op: m.op, from: list(m.from), to: m.to.trim() }
                : { op: m.op, from: m.from.trim(), to: list(m.to) },
          ),
        }
      : {}),
  };
}

/** What POST …/taxonomy/preview answers (the server's reply schema). */
export type { TaxonomyPreview as Preview } from '../../api.ts';
