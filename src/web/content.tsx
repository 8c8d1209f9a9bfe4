import { useEffect, useRef, useState } from 'react';
import { fetchBlob, P, type Modality } from './api.ts';
import { decodeAudio } from './lib/wav.ts';
import { spectrogram, spectrogramPixels, type Spectrogram } from './lib/spectrogram.ts';
import { ErrorBox, Kbd, Loading, useKeys, typing } from './ui.tsx';

/**
 * How an item looks, per modality. Text is always a React text node (the browser never parses
 * it as HTML); images and audio are fetched with the bearer token and shown from blob: URLs;
 * the audio's spectrogram is computed here from the WAV samples (STFT, Hann window) and drawn.
 */
export interface ShownItem {
  id: number;
  modality: Modality;
  text: string | null;
  values: Record<string, unknown> | null;
  /** Whether the item has bytes (image, audio) to fetch from …/content. */
  hasBlob: boolean;
  /** Raw pixel images: their size, when known (item metadata; staff views only). */
  dims?: { width: number; height: number };
}

/** Width and height of a raw item's metadata, if it has them. */
export const dimsOf = (meta: Record<string, unknown> | undefined) =>
  meta && typeof meta.width === 'number' && typeof meta.height === 'number' ? { width: meta.width, height: meta.height } : undefined;

/**
 * Raw 8-bit grayscale pixels (the digits and IDX readers store them so) as a PNG the browser
 * can show: the size from the metadata, else a square (8×8 digits, 28×28 MNIST).
 */
async function rawGrayToPng(bytes: Uint8Array, dims?: { width: number; height: number }): Promise<Blob> {
  const side = Math.round(Math.sqrt(bytes.length));
  const { width, height } = dims ?? (side * side === bytes.length ? { width: side, height: side } : { width: 0, height: 0 });
  if (!width || width * height !== bytes.length) throw new Error(`a raw grayscale image of ${bytes.length} bytes without its width and height`);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  const img = new ImageData(width, height);
  for (let i = 0; i < bytes.length; i++) {
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = bytes[i];
    img.data[i * 4 + 3] = 255;
  }
  c.getContext('2d')!.putImageData(img, 0, 0);
  return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('could not encode the image'))), 'image/png'));
}

export interface Prepared {
  url?: string;
  natural?: { width: number; height: number };
  spec?: Spectrogram;
  pixels?: Uint8ClampedArray;
  duration?: number;
}

/** Fetches and decodes what an item needs before it can appear at once (used to preload). */
export async function prepareContent(project: string, item: ShownItem): Promise<Prepared> {
  if (!item.hasBlob || (item.modality !== 'image' && item.modality !== 'audio')) return {};
  let blob = await fetchBlob(`${P(project)}/items/${item.id}/content`);
  if (blob.type === 'image/x-raw-gray8') blob = await rawGrayToPng(new Uint8Array(await blob.arrayBuffer()), item.dims);
  const url = URL.createObjectURL(blob);
  if (item.modality === 'image') {
    const img = new Image();
    img.src = url;
    await img.decode();
    return { url, natural: { width: img.naturalWidth, height: img.naturalHeight } };
  }
  const decoded = await decodeAudio(await blob.arrayBuffer());
  const spec = spectrogram(decoded.samples, decoded.sampleRate);
  return { url, spec, pixels: spectrogramPixels(spec), duration: decoded.samples.length / decoded.sampleRate };
}

export const releaseContent = (p: Prepared | undefined) => {
  if (p?.url) URL.revokeObjectURL(p.url);
};

/** The item, with content prepared ahead (labelling) or loaded on demand (review, map). */
export function ItemContent(props: { project: string; item: ShownItem; prepared?: Prepared; keys?: boolean }) {
  const { item } = props;
  const [loaded, setLoaded] = useState<{ id: number; p?: Prepared; error?: unknown }>({ id: -1 });
  const needs = item.hasBlob && (item.modality === 'image' || item.modality === 'audio');
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the item id, not the item object
  useEffect(() => {
    if (!needs || props.prepared) return;
    let live = true;
    let got: Prepared | undefined;
    prepareContent(props.project, item).then(
      (p) => {
        got = p;
        if (live) setLoaded({ id: item.id, p });
        else releaseContent(p);
      },
      (error) => live && setLoaded({ id: item.id, error }),
    );
    return () => {
      live = false;
      releaseContent(got);
    };
  }, [item.id, needs, props.prepared, props.project]);
  const prepared = props.prepared ?? (loaded.id === item.id ? loaded.p : undefined);
  if (loaded.id === item.id && loaded.error) return <ErrorBox error={loaded.error} />;

  switch (item.modality) {
    case 'text':
      return (
        <div className="item-text" data-item-text="">
          {item.text ?? ''}
        </div>
      );
    case 'tabular':
      return <TabularRow values={item.values ?? {}} />;
    case 'image':
      return prepared?.url ? <ZoomImage url={prepared.url} natural={prepared.natural} keys={props.keys} /> : <Loading what="image" />;
    case 'audio':
      return prepared?.url ? <AudioWithSpectrogram prepared={prepared} keys={props.keys} /> : <Loading what="audio" />;
  }
}

function TabularRow(props: { values: Record<string, unknown> }) {
  const entries = Object.entries(props.values);
  return (
    <table className="tabular" data-item-tabular="">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v === null || v === undefined ? <span className="muted">missing</span> : typeof v === 'object' ? JSON.stringify(v) : String(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ZoomImage(props: { url: string; natural?: { width: number; height: number }; keys?: boolean }) {
  const [zoom, setZoom] = useState(1);
  const nat = props.natural ?? { width: 256, height: 256 };
  const fit = Math.min(420 / nat.width, 320 / nat.height);
  const scale = fit * zoom;
  const clamp = (z: number) => Math.max(0.25, Math.min(16, z));
  useKeys((e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '+' || e.key === '=') setZoom((z) => clamp(z * 1.5));
    else if (e.key === '-' || e.key === '_') setZoom((z) => clamp(z / 1.5));
    else if (e.key === '0') setZoom(1);
    else return;
    e.preventDefault();
  }, !!props.keys);
  return (
    <div className="image-box">
      <div
        className="image-scroll"
        onWheel={(e) => {
          if (!e.ctrlKey && !e.shiftKey) return;
          e.preventDefault();
          setZoom((z) => clamp(z * (e.deltaY < 0 ? 1.25 : 0.8)));
        }}
      >
        <img
          src={props.url}
          alt="item"
          data-item-image=""
          width={Math.round(nat.width * scale)}
          height={Math.round(nat.height * scale)}
          className={nat.width * scale > nat.width * 2 ? 'pixelated' : undefined}
          draggable={false}
        />
      </div>
      <div className="zoom-bar">
        <button type="button" onClick={() => setZoom((z) => clamp(z / 1.5))} aria-label="zoom out">
          −
        </button>
        <span data-zoom={zoom.toFixed(2)}>{Math.round(scale * 100)}%</span>
        <button type="button" onClick={() => setZoom((z) => clamp(z * 1.5))} aria-label="zoom in">
          +
        </button>
        <button type="button" onClick={() => setZoom(1)}>
          fit
        </button>
        <span className="muted">
          <Kbd>+</Kbd> <Kbd>−</Kbd> <Kbd>0</Kbd> or Ctrl+wheel · {nat.width}×{nat.height}px
        </span>
      </div>
    </div>
  );
}

function AudioWithSpectrogram(props: { prepared: Prepared; keys?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [pos, setPos] = useState(0);
  const { spec, pixels, url, duration } = props.prepared;
  useEffect(() => {
    const c = canvas.current;
    if (!c || !spec || !pixels) return;
    c.width = spec.frames;
    c.height = spec.bins;
    c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(pixels), spec.frames, spec.bins), 0, 0);
  }, [spec, pixels]);
  useKeys((e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== 'p') return;
    e.preventDefault();
    const a = audio.current;
    if (!a) return;
    if (a.paused) void a.play();
    else a.pause();
  }, !!props.keys);
  return (
    <div className="audio-box">
      <div className="spectrogram-wrap">
        <canvas ref={canvas} className="spectrogram" data-spectrogram="" aria-label="spectrogram (time → right, frequency ↑)" />
        {duration ? <div className="playhead" style={{ left: `${(pos / duration) * 100}%` }} /> : null}
      </div>
      <div className="muted small">
        Spectrogram: {spec?.frames} frames × {spec?.bins} bins, 0–{spec ? Math.round(spec.sampleRate / 2) : 0} Hz, {duration?.toFixed(2)} s · <Kbd>P</Kbd> play / pause
      </div>
      <audio ref={audio} src={url} controls preload="auto" data-item-audio="" onTimeUpdate={(e) => setPos(e.currentTarget.currentTime)} />
    </div>
  );
}
