import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import uPlot from 'uplot';
import { api, get, P, post, type FinalLabel, type ItemRow, type MapData, type MapItem, type Answer } from '../api.ts';
import { Chart } from '../charts.tsx';
import { dimsOf, ItemContent } from '../content.tsx';
import { inPolygon } from '../lib/geometry.ts';
import type { MapJob, MapMessage } from '../map.worker.ts';
import { can, type Role } from '../roles.ts';
import { href } from '../router.ts';
import { colourOf, Empty, ErrorBox, Kbd, Loading, pct, typing, useAsync, useKeys, when } from '../ui.tsx';

type ColourBy = 'label' | 'uncertainty' | 'cluster' | 'source' | 'status';
const SEED = 42;
const CLUSTERS = 8;

interface Layout {
  positions: Float32Array;
  clusters: Int32Array;
  ms: number;
}

interface Group {
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

function groupsOf(items: MapItem[], by: ColourBy, clusters: Int32Array | null, labels: string[]): Group[] {
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

function decodeVectors(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

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
  const plotData = useMemo<uPlot.AlignedData | null>(() => {
    if (!layout) return null;
    const pos = layout.positions;
    const series = groups.map((g) => [Float64Array.from(g.members, (i) => pos[i * 2]), Float64Array.from(g.members, (i) => pos[i * 2 + 1])]);
    const sel = [...selected].map((id) => items.findIndex((it) => it.id === id)).filter((i) => i >= 0);
    series.push([Float64Array.from(sel, (i) => pos[i * 2]), Float64Array.from(sel, (i) => pos[i * 2 + 1])]);
    return [null, ...series] as unknown as uPlot.AlignedData;
  }, [layout, groups, selected, items]);

  const groupKey = groups.map((g) => `${g.name}:${g.colour}`).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the groups' names and colours, not the array
  const opts = useMemo<uPlot.Options | null>(() => {
    if (!layout) return null;
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
        ...groups.map((g) => ({ label: g.name, stroke: g.colour, fill: g.colour + 'b0', width: 0.5, paths: uPlot.paths.points!(), points: { show: false, size: 6 } })),
        { label: 'selected', stroke: '#111111', fill: '#11111100', width: 1.5, paths: uPlot.paths.points!(), points: { show: false, size: 9 } },
      ],
    } as unknown as uPlot.Options;
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
      const r = await post<{ labelled: number; skipped: Array<{ itemId: number; reason: string }> }>(`${P(project)}/labels/bulk`, { itemIds: [...selected], labels: [bulkLabel], note: 'embedding map lasso' });
      const done = new Set([...selected].filter((id) => !r.skipped.some((s) => s.itemId === id)));
      setItems((xs) => xs.map((it) => (done.has(it.id) ? { ...it, status: 'done', labels: [bulkLabel], confidence: null } : it)));
      setMessage({ text: `${r.labelled} item(s) labelled "${bulkLabel}"${r.skipped.length ? `; ${r.skipped.length} left alone (already decided, in review or gold)` : ''}`, kind: 'info' });
    } catch (e) {
      setMessage({ text: (e as Error).message, kind: 'error' });
    }
  };

  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data) return <Loading what="the map" />;
  const d = data.data;
  if (d.count === 0) return <Empty name="map">No vectors for this project: {d.source.reason}</Empty>;
  const h = hover !== null ? items[hover.i] : undefined;

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
          {d.source.kind === 'model' ? `embeddings of model #${d.source.model}${d.source.pretext ? ` (${d.source.pretext})` : ''}` : `${d.source.features}; ${d.source.reason}`} · UMAP seed {SEED}
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
              {h && hover ? (
                <div className="map-tip" style={{ left: hover.x + 14, top: hover.y + 14 }} data-map-tip={h.id}>
                  <div>
                    <b>#{h.id}</b> · {h.status}
                    {h.labels?.length ? ` · ${h.labels.join(', ')}` : ''}
                    {h.sourceLabel ? ` · source: ${h.sourceLabel}` : ''}
                  </div>
                  {h.suggestion ? (
                    <div className="small">
                      suggestion {h.suggestion.labels.join(', ')} ({pct(h.suggestion.confidence)})
                    </div>
                  ) : null}
                  {h.text !== null ? <div className="tip-text">{h.text}</div> : <div className="muted small">{h.modality}: click to open</div>}
                </div>
              ) : null}
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

/** One item opened from the map: content, final label with how it was decided, annotations. */
export function ItemPanel(props: { project: string; id: number; role: Role; onClose: () => void }) {
  const { project, id, role } = props;
  const item = useAsync(() => get<ItemRow>(`${P(project)}/items/${id}`), [project, id]);
  const label = useAsync(() => (can(role, 'results.read') ? get<FinalLabel>(`${P(project)}/labels/${id}`) : Promise.resolve(null)), [project, id]);
  const anns = useAsync(
    () => (can(role, 'annotations.read') ? get<{ annotations: Array<Answer & { createdAt: string; skipped: boolean }> }>(`${P(project)}/items/${id}/annotations`) : Promise.resolve(null)),
    [project, id],
  );
  const it = item.data;
  return (
    <aside className="card item-panel" aria-label={`item ${id}`} data-item-panel={id}>
      <header className="card-head">
        <h2>Item #{id}</h2>
        <button type="button" onClick={props.onClose}>
          close <Kbd>Esc</Kbd>
        </button>
      </header>
      {item.error ? <ErrorBox error={item.error} /> : null}
      {it ? (
        <>
          <article className="item" data-item-id={it.id}>
            <ItemContent project={project} item={{ id: it.id, modality: it.modality, text: it.text, values: it.values, hasBlob: it.blob !== null, dims: dimsOf(it.meta) }} />
          </article>
          <div className="muted small">
            {it.locator} · imported {when(it.createdAt)} {it.sourceLabel ? `· source label ${it.sourceLabel}` : ''}
          </div>
        </>
      ) : (
        <Loading />
      )}
      {label.data ? (
        <p>
          Status <b>{label.data.status}</b>
          {label.data.labels ? (
            <>
              {' '}
              · final <b>{label.data.labels.join(', ')}</b> by {label.data.source}
              {label.data.confidence !== null ? ` (${pct(label.data.confidence)})` : ''} · {when(label.data.decidedAt)}
            </>
          ) : null}
          {label.data.status === 'review' && can(role, 'review.read') ? (
            <>
              {' '}
              · <a href={href(project, 'review')}>in the review queue</a>
            </>
          ) : null}
        </p>
      ) : null}
      {anns.data ? (
        anns.data.annotations.length ? (
          <table className="plain small">
            <thead>
              <tr>
                <th>annotator</th>
                <th>labels</th>
                <th>when</th>
              </tr>
            </thead>
            <tbody>
              {anns.data.annotations.map((a) => (
                <tr key={a.id}>
                  <td>{a.annotator}</td>
                  <td>{a.skipped ? <i>skipped</i> : a.labels.join(', ')}</td>
                  <td>{when(a.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted small">No annotations yet.</p>
        )
      ) : null}
    </aside>
  );
}
