import type { MapItem } from '../../api.ts';
import { pct } from '../../ui.tsx';

/** The preview of the item under the pointer on the embedding map. */
export function MapTip(props: { item: MapItem; x: number; y: number }) {
  const h = props.item;
  return (
    <div className="map-tip" style={{ left: props.x + 14, top: props.y + 14 }} data-map-tip={h.id}>
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
  );
}
