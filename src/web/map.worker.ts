import { UMAP } from 'umap-js';
import { kmeans } from './lib/kmeans.ts';
import { mulberry32 } from '../core/rng.ts';

/**
 * The embedding map's layout, off the main thread: UMAP (umap-js, seeded) of the item vectors
 * to 2-D, and k-means clusters of the vectors themselves (for "colour by cluster").
 */
export interface MapJob {
  vectors: Float32Array;
  rows: number;
  dim: number;
  seed: number;
  clusters: number;
  epochs: number;
}

export type MapMessage = { type: 'progress'; done: number; total: number; stage: string } | { type: 'done'; positions: Float32Array; clusters: Int32Array; ms: number } | { type: 'error'; message: string };

const post = (m: MapMessage, transfer: Transferable[] = []) => (self as unknown as { postMessage(m: MapMessage, t: Transferable[]): void }).postMessage(m, transfer);

self.onmessage = (e: MessageEvent<MapJob>) => {
  const t0 = performance.now();
  try {
    const { vectors, rows, dim, seed } = e.data;
    post({ type: 'progress', done: 0, total: 1, stage: 'clusters' });
    const clusters = kmeans(vectors, rows, dim, e.data.clusters, seed);
    const positions = new Float32Array(rows * 2);
    if (rows < 4) {
      for (let i = 0; i < rows; i++) positions[i * 2] = i;
    } else {
      const X: number[][] = [];
      for (let r = 0; r < rows; r++) X.push(Array.from(vectors.subarray(r * dim, (r + 1) * dim)));
      const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, rows - 1), minDist: 0.1, nEpochs: e.data.epochs, random: mulberry32(seed) });
      post({ type: 'progress', done: 0, total: 1, stage: 'neighbours' });
      const epochs = umap.initializeFit(X);
      for (let i = 0; i < epochs; i++) {
        umap.step();
        if (i % 20 === 0) post({ type: 'progress', done: i, total: epochs, stage: 'layout' });
      }
      umap.getEmbedding().forEach((p, i) => {
        positions[i * 2] = p[0];
        positions[i * 2 + 1] = p[1];
      });
    }
    post({ type: 'done', positions, clusters, ms: performance.now() - t0 }, [positions.buffer, clusters.buffer]);
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};
