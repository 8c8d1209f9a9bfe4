/**
 * Kinds without a renderer of their own yet (load, scale, import, probe-datasets, ui-keypress,
 * ssl-fashion-mnist): the common fields, an optional dataset, and `results` as the bench prints
 * it, shown as a table of its values. Giving a kind its own file here replaces this.
 */
import { Type, type Static } from '@sinclair/typebox';
import { duration, recordLink, table } from '../format.ts';
import { recordSchema, type CommonRecord, type Entry, type KindSpec } from '../schema.ts';

/** Leaves of a JSON value as (dotted path, text); arrays of plain values stay one leaf. */
export function leaves(value: unknown, path = ''): Array<[string, string]> {
  if (value !== null && typeof value === 'object' && !(Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object'))) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k));
  }
  return [[path, Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join(', ') : JSON.stringify(value)]];
}

export function genericKind(kind: string, title: string): KindSpec {
  const schema = recordSchema(kind, { dataset: Type.Optional(Type.String({ minLength: 1 })) }, Type.Record(Type.String(), Type.Unknown()));
  type R = Static<typeof schema> & CommonRecord;
  return {
    kind,
    title,
    schema,
    check: () => null,
    stem: (r) => (r as R).dataset ?? kind,
    section: (entries: Entry[]) =>
      entries.flatMap(({ file, record }) => {
        const r = record as R;
        return [`${r.dataset ? `${r.dataset}; ` : ''}seeds ${r.seeds.join(', ')}; flags ${r.flags.length ? r.flags.join(' ') : 'defaults'}; wall time ${duration(r.seconds)}. ${recordLink(file)}`, '', ...table(['result', 'value'], leaves(r.results)), ''];
      }),
    readme: () => [],
  };
}
