import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import type uPlot from 'uplot';
import { api, get, P, post, type BulkLabelled, type MapData, type MapItem } from '../api.ts';
import { Chart } from '../charts.tsx';
import { inPolygon } from '../lib/geometry.ts';
import type { MapJob, MapMessage } from '../map.worker.ts';
import { can, type Role } from '../roles.ts';
import { Empty, ErrorBox, Kbd, Loading, typing, useAsync, useKeys } from '../ui.tsx';
import { ItemPanel } from './map/ItemPanel.tsx';
import { MapTip } from './map/MapTip.tsx';
import { mapPlotData, mapPlotOptions } from './map/plot.ts';
import { CLUSTERS, decodeVectors, groupsOf, SEED, type ColourBy, type Layout } from './map/points.ts';

export { ItemPanel } from './map/ItemPanel.tsx';

/**
 * The embedding map: a UMAP layout of the items' vectors (computed in a Web Worker), drawn by
 * uPlot as a scatter coloured by final label, uncertainty, cluster, source label or status.
 * Hover previews an item, click opens it; the lasso (L) selects a region to queue it for
 * labelling first or to bulk-label it.
 */
export function MapView(props: { project: string; role: Role; query?: URLSearchParams }) {
  const { project, role } = props;
  const [limit, setLimit] = useState(() => Math.min(20000, Math.max(10, Number(props.query?.get('limit') ?? 2000) || 2000)));
  const data = useAsync(() => get<MapData>(`${P(project)}/map?limit=${limit}`), [project, limit]);
  const [items, setItems] = useState<MapItem[]>([]);
  const [layout, setLayout] = useState<Layout | null>(null);
  const [progress, setProgress] = useState<{ stage: string; done: number; total: number } | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const [by, setBy] = useState<ColourBy>('label');
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [lasso, setLasso] = useState(false);
  const [path, setPath] = useState<Array<[number, number]>>([]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [bulkLabel, setBulkLabel] = useState('');
  const [message, setMessage] = useState<{ text: string; kind: 'info' | 'error' } | null>(null);
  const uRef = useRef<uPlot | null>(null);
  const [overEl, setOverEl] = useState<HTMLElement | null>(null);
  const drawing = useRef(false);

  useEffect(() => {
    const d = data.data;
    if (!d) return;
    setItems(d.items);
    setLayout(null);
    setSelected(new Set());
    if (d.count === 0) return;
    const vectors = decodeVectors(d.vectors);
    const worker = new Worker(new URL('../map.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<MapMessage>) => {
      const m = e.data;
      if (m.type === 'progress') setProgress(m);
      else if (m.type === 'done') {
        setLayout({ positions: m.positions, clusters: m.clusters, ms: m.ms });
        setProgress(null);
        worker.terminate();
      } else {
        setLayoutError(m.message);
        worker.terminate();
      }
    };
    worker.onerror = (e) => setLayoutError(e.message || 'the layout worker failed');
    const job: MapJob = { vectors, rows: d.count, dim: d.dim, seed: SEED, clusters: CLUSTERS, epochs: d.count > 3000 ? 150 : 250 };
    worker.postMessage(job, [vectors.buffer]);
    return () => worker.terminate();
  }, [data.data]);

  const labels = data.data?.labels ?? [];
  const groups = useMemo(() => (layout ? groupsOf(items, by, layout.clusters, labels) : []), [items, by, layout, labels]);
  const plotData = useMemo(() => (layout ? mapPlotData(layout, groups, selected, items) : null), [layout, groups, selected, items]);

  const groupKey = groups.map((g) => `${g.name}:${g.colour}`).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the groups' names and colours, not the array
  const opts = useMemo<uPlot.Options | null>(() => {
    if (!layout) return null;
    return mapPlotOptions(groups);
  }, [layout, groupKey]);

  /** The item nearest to a pixel position in the plot (within 12 px). */
  const nearest = useCallback(
    (px: number, py: number): number | null => {
      const u = uRef.current;
      if (!u || !layout) return null;
      let best = -1;
      let bd = 144;
      for (let i = 0; i < items.length; i++) {
        const x = u.valToPos(layout.positions[i * 2], 'x');
        const y = u.valToPos(layout.positions[i * 2 + 1], 'y');
        const d = (x - px) ** 2 + (y - py) ** 2;
        if (d < bd) {
          bd = d;
          best = i;
        }
      }
      return best >= 0 ? best : null;
    },
    [items, layout],
  );

  const onCreate = useCallback((u: uPlot) => {
    uRef.current = u;
    setOverEl(u.over);
  }, []);

  useKeys((e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'l' || e.key === 'L') setLasso((l) => !l);
    else if (e.key === 'Escape') {
      setOpen(null);
      setLasso(false);
      setSelected(new Set());
    } else if (e.key === '1') setBy('label');
    else if (e.key === '2') setBy('uncertainty');
    else if (e.key === '3') setBy('cluster');
    else return;
    e.preventDefault();
  });

  const local = (e: React.MouseEvent) => {
    const r = e.currentTarget.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top] as [number, number];
  };

  const finishLasso = () => {
    drawing.current = false;
    const u = uRef.current;
    if (!u || !layout || path.length < 3) {
      setPath([]);
      return;
    }
    const picked = new Set<number>();
    for (let i = 0; i < items.length; i++) {
      const x = u.valToPos(layout.positions[i * 2], 'x');
      const y = u.valToPos(layout.positions[i * 2 + 1], 'y');
      if (inPolygon(x, y, path)) picked.add(items[i].id);
    }
    setSelected(picked);
    setPath([]);
    setMessage({ text: `${picked.size} item(s) selected`, kind: 'info' });
  };

  const queue = async () => {
    try {
      await api('PUT', `${P(project)}/priorities`, { items: [...selected].map((itemId) => ({ itemId, priority: 1000 })) });
      setMessage({ text: `${selected.size} item(s) queued: annotators get them first`, kind: 'info' });
    } catch (e) {
      setMessage({ text: (e as Error).message, kind: 'error' });
    }
  };
  const bulk = async () => {
    if (!bulkLabel) return;
    try {
      const r = await post<BulkLabelled>(`${P(project)}/labels/bulk`, {
        itemIds: [...selected],
        labels: [bulkLabel],
        note: 'embedding map lasso',
      });
      const done = new Set([...selected].filter((id) => !r.skipped.some((s) => s.itemId === id)));
      setItems((xs) => xs.map((it) => (done.has(it.id) ? { ...it, status: 'done', labels: [bulkLabel], confidence: null } : it)));
      const left = r.skipped.length ? `; ${r.skipped.length} left alone (already decided, in review or gold)` : '';
      setMessage({ text: `${r.labelled} item(s) labelled "${bulkLabel}"${left}`, kind: 'info' });
    } catch (e) {
      setMessage({ text: (e as Error).message, kind: 'error' });
    }
  };

  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading what="the map" />;
  const d = data.data;
  if (d.count === 0) return <Empty name="map">No vectors for this project: {d.source.reason}</Empty>;
  const h = hover !== null ? items[hover.i] : undefined;
  const sourceText =
    d.source.kind === 'model'
      ? `embeddings of model #${d.source.model}${d.source.pretext ? ` (${d.source.pretext})` : ''}`
      : `${d.source.features}; ${d.source.reason}`;

  return (
    <div className="map-layout">
      <div className="card map-card">
        <header className="card-head">
          <h2>Embedding map</h2>
          <div className="map-controls">
            <label>
              colour by{' '}
              <select value={by} onChange={(e) => setBy(e.target.value as ColourBy)} data-colour-by="">
                <option value="label">final label (1)</option>
                <option value="uncertainty">uncertainty (2)</option>
                <option value="cluster">cluster (3)</option>
                <option value="source">source label</option>
                <option value="status">status</option>
              </select>
            </label>
            <label>
              items{' '}
              <select value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
                {[...new Set([500, 2000, 5000, limit])].sort((a, b) => a - b).map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" aria-pressed={lasso} onClick={() => setLasso((l) => !l)} data-lasso-toggle="">
              lasso <Kbd>L</Kbd>
            </button>
          </div>
        </header>
        <div className="muted small" data-map-source={d.source.kind}>
          {d.count} of {d.total} items ·{' '}
          {sourceText} · UMAP seed {SEED}
          {layout ? `, laid out in ${(layout.ms / 1000).toFixed(1)} s` : ''}
        </div>
        {layoutError ? <ErrorBox error={layoutError} /> : null}
        {!layout || !opts || !plotData ? (
          <div className="map-progress" data-map-state="computing">
            Computing the layout… {progress ? `${progress.stage} ${progress.total > 1 ? Math.round((100 * progress.done) / progress.total) + '%' : ''}` : ''}
          </div>
        ) : (
          <div className={`map-plot${lasso ? ' lasso' : ''}`} data-map-state="ready">
            <Chart opts={opts} data={plotData} height={520} onCreate={onCreate} label="embedding map" />
            {overEl
              ? createPortal(
            <div
              className="map-overlay"
              onMouseMove={(e) => {
                const [x, y] = local(e);
                if (drawing.current) setPath((p) => [...p, [x, y]]);
                else {
                  const i = nearest(x, y);
                  setHover(i === null ? null : { i, x, y });
                }
              }}
              onMouseLeave={() => {
                setHover(null);
                if (drawing.current) finishLasso();
              }}
              onMouseDown={(e) => {
                if (!lasso) return;
                drawing.current = true;
                setHover(null);
                setPath([local(e)]);
              }}
              onMouseUp={() => {
                if (drawing.current) finishLasso();
              }}
              onClick={(e) => {
                if (lasso) return;
                const [x, y] = local(e);
                const i = nearest(x, y);
                if (i !== null) setOpen(items[i].id);
              }}
            >
              {path.length > 1 ? (
                <svg className="lasso-path" width="100%" height="100%">
                  <polygon points={path.map((p) => p.join(',')).join(' ')} />
                </svg>
              ) : null}
              {h && hover ? <MapTip item={h} x={hover.x} y={hover.y} /> : null}
            </div>,
                  overEl,
                )
              : null}
            <ul className="legend">
              {groups.map((g) => (
                <li key={g.name}>
                  <span className="swatch" style={{ background: g.colour }} /> {g.name} ({g.members.length})
                </li>
              ))}
            </ul>
          </div>
        )}
        <div className="muted small">
          hover to preview · click to open · <Kbd>L</Kbd> lasso · <Kbd>1</Kbd>/<Kbd>2</Kbd>/<Kbd>3</Kbd> colour by label / uncertainty / cluster · <Kbd>Esc</Kbd> clear
        </div>
        {selected.size > 0 ? (
          <div className="lasso-actions" data-selected={selected.size}>
            <b>{selected.size}</b> selected:
            {can(role, 'priorities.write') ? (
              <button type="button" onClick={() => void queue()} data-action="queue">
                queue for labelling first
              </button>
            ) : null}
            {can(role, 'review.decide') ? (
              <>
                <select value={bulkLabel} onChange={(e) => setBulkLabel(e.target.value)} aria-label="label for the selection">
                  <option value="">label…</option>
                  {labels.map((l) => (
                    <option key={l} value={l}>
                      {l}
                    </option>
                  ))}
                </select>
                <button type="button" disabled={!bulkLabel} onClick={() => void bulk()} data-action="bulk-label">
                  bulk-label
                </button>
              </>
            ) : null}
            <button type="button" onClick={() => setSelected(new Set())}>
              clear
            </button>
          </div>
        ) : null}
        {message ? (
          <div className={`toast ${message.kind}`} role="status">
            {message.text}
          </div>
        ) : null}
      </div>
      {open !== null ? <ItemPanel project={project} id={open} role={role} onClose={() => setOpen(null)} /> : null}
    </div>
  );
}
