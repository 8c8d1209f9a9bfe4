import type { MapItem } from '../../api.ts';
import { colourOf } from '../../ui.tsx';

/** The embedding map's points: their layout, what they are coloured by, and the coloured groups they fall into (pure). */

export type ColourBy = 'label' | 'uncertainty' | 'cluster' | 'source' | 'status';
export const SEED = 42;
export const CLUSTERS = 8;

export interface Layout {
  positions: Float32Array;
  clusters: Int32Array;
  ms: number;
}

export interface Group {
  name: string;
  colour: string;
  members: number[];
}

const UNCERTAINTY_BINS = [
  { name: 'certain (< 0.1)', max: 0.1, colour: '#1a9850' },
  { name: '0.1–0.25', max: 0.25, colour: '#91cf60' },
  { name: '0.25–0.4', max: 0.4, colour: '#fee08b' },
  { name: '0.4–0.5', max: 0.5, colour: '#fc8d59' },
  { name: 'most uncertain (≥ 0.5)', max: Infinity, colour: '#d73027' },
];

/** Uncertainty of an item: 1 − the suggestion's confidence, else 1 − the consensus confidence. */
const uncertainty = (it: MapItem): number | null =>
  typeof it.suggestion?.confidence === 'number' ? 1 - it.suggestion.confidence : typeof it.confidence === 'number' ? 1 - it.confidence : null;

export function groupsOf(items: MapItem[], by: ColourBy, clusters: Int32Array | null, labels: string[]): Group[] {
  const groups = new Map<string, Group>();
  const add = (name: string, colour: string, i: number) => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, colour, members: [] }));
    g.members.push(i);
  };
  const order = (name: string) => {
    const k = labels.indexOf(name);
    return k >= 0 ? k : labels.length;
  };
  items.forEach((it, i) => {
    if (by === 'label') {
      const l = it.labels?.length ? it.labels.join('+') : null;
      if (l) add(l, colourOf(it.labels!.length === 1 ? order(l) : labels.length + 1), i);
      else add('no final label', '#b8b8b8', i);
    } else if (by === 'source') {
      const l = it.sourceLabel;
      if (l) add(l, colourOf(order(l) < labels.length ? order(l) : [...groups.keys()].length), i);
      else add('no source label', '#b8b8b8', i);
    } else if (by === 'status') {
      add(it.status, it.status === 'done' ? '#009E73' : it.status === 'review' ? '#D55E00' : '#56B4E9', i);
    } else if (by === 'cluster') {
      const c = clusters ? clusters[i] : 0;
      add(`cluster ${c + 1}`, colourOf(c), i);
    } else {
      const u = uncertainty(it);
      if (u === null) add('no suggestion', '#b8b8b8', i);
      else {
        const b = UNCERTAINTY_BINS.find((x) => u < x.max)!;
        add(b.name, b.colour, i);
      }
    }
  });
  const list = [...groups.values()];
  if (by === 'uncertainty') list.sort((a, b) => UNCERTAINTY_BINS.findIndex((x) => x.name === a.name) - UNCERTAINTY_BINS.findIndex((x) => x.name === b.name));
  else if (by === 'cluster') list.sort((a, b) => Number(a.name.slice(8)) - Number(b.name.slice(8)));
  else list.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  return list;
}

export function decodeVectors(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}
