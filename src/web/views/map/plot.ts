import uPlot from 'uplot';
import type { MapItem } from '../../api.ts';
import type { Group, Layout } from './points.ts';

/** The uPlot scatter of the embedding map: one series per coloured group, then the selection on top. */

export function mapPlotData(layout: Layout, groups: Group[], selected: Set<number>, items: MapItem[]): uPlot.AlignedData {
  const pos = layout.positions;
  const series = groups.map((g) => [Float64Array.from(g.members, (i) => pos[i * 2]), Float64Array.from(g.members, (i) => pos[i * 2 + 1])]);
  const sel = [...selected].map((id) => items.findIndex((it) => it.id === id)).filter((i) => i >= 0);
  series.push([Float64Array.from(sel, (i) => pos[i * 2]), Float64Array.from(sel, (i) => pos[i * 2 + 1])]);
  return [null, ...series] as unknown as uPlot.AlignedData;
}

export function mapPlotOptions(groups: Group[]): uPlot.Options {
  return {
    mode: 2,
    width: 0,
    height: 0,
    legend: { show: false },
    cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false }, x: false, y: false },
    scales: { x: { time: false }, y: {} },
    axes: [
      { label: 'UMAP 1', size: 36, values: () => [] },
      { label: 'UMAP 2', size: 36, values: () => [] },
    ],
    series: [
      {},
      ...groups.map((g) => ({
        label: g.name,
        stroke: g.colour,
        fill: g.colour + 'b0',
        width: 0.5,
        paths: uPlot.paths.points!(),
        points: { show: false, size: 6 },
      })),
      { label: 'selected', stroke: '#111111', fill: '#11111100', width: 1.5, paths: uPlot.paths.points!(), points: { show: false, size: 9 } },
    ],
  } as unknown as uPlot.Options;
}
