import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * Charts, all drawn by uPlot (a kept chart library): a React wrapper that creates the chart
 * once per option set, feeds it new data, follows its container's width and cleans up.
 */
export interface ChartProps {
  opts: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height?: number;
  /** Called with the chart after it is created (hover, click and lasso handlers hook in here). */
  onCreate?: (u: uPlot) => void;
  className?: string;
  label?: string;
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const { opts, data, height = 220, onCreate } = props;
  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt only when the options or height change; data goes through setData
  useEffect(() => {
    const el = box.current!;
    const u = new uPlot({ ...opts, width: Math.max(200, el.clientWidth), height } as uPlot.Options, data, el);
    chart.current = u;
    onCreate?.(u);
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      chart.current = null;
    };
    // The chart is rebuilt when its options change; data changes go through setData below.
  }, [opts, height]);
  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);
  return <div ref={box} className={`chart ${props.className ?? ''}`} role="img" aria-label={props.label} />;
}

/** Options for a categorical bar chart (x = category index; labels on the axis). */
export function barOptions(categories: string[], series: { label: string; colour: string }, yRange?: [number, number]): ChartProps['opts'] {
  const n = categories.length;
  return {
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    scales: {
      x: { time: false, range: () => [-0.5, Math.max(0.5, n - 0.5)] },
      y: yRange ? { range: () => yRange } : { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
    },
    axes: [
      { splits: () => categories.map((_, i) => i), values: (_u, splits) => splits.map((i) => categories[i] ?? ''), grid: { show: false }, size: 40 },
      { size: 50 },
    ],
    series: [{}, { label: series.label, stroke: series.colour, fill: series.colour + 'cc', width: 1, paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } }],
  };
}

/** Options for a line chart over numbers (or seconds since the epoch with `time`). */
export function lineOptions(series: Array<{ label: string; colour: string }>, opts: { time?: boolean; xLabel?: string; yLabel?: string; yRange?: [number, number] } = {}): ChartProps['opts'] {
  return {
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: !!opts.time }, y: opts.yRange ? { range: () => opts.yRange! } : {} },
    axes: [{ label: opts.xLabel, size: 40 }, { label: opts.yLabel, size: 55 }],
    series: [{ label: opts.xLabel ?? 'x' }, ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, points: { show: true, size: 5 } }))],
  };
}
