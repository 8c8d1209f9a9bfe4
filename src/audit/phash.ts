import { bucketPairs, starClusters, type NearDuplicatePair, type NearDuplicateResult } from './minhash.ts';

/**
 * Perceptual hashes of grayscale images, as 64-bit values held in two unsigned 32-bit halves
 * (hi = bits 63…32, lo = bits 31…0), and near-duplicate search by Hamming distance.
 *
 * - dHash (Krawetz 2013, "Kind of like that"): resize to 9×8, one bit per horizontally
 *   adjacent pair, set when the left pixel is brighter — robust to brightness, contrast, scale.
 * - pHash (Zauner 2010; as in the `imagehash` library): resize to 32×32, 2-D DCT-II, keep the
 *   8×8 lowest frequencies, one bit per coefficient above their median.
 *
 * Resizing is exact area averaging (box filter), so it works from any size, up or down. Below
 * 32×32 pixels (pHash's working size) a 64-bit hash no longer tells near-duplicates from
 * look-alikes — measured on Fashion-MNIST (28×28): pairs with equal pHash are farther apart in
 * pixel space (median L2 1190) than an image and its nearest neighbour (median 884) — so the
 * audit hashes only images of at least MIN_HASH_SIDE on both sides; embeddings cover the rest.
 */
export const MIN_HASH_SIDE = 32;

export interface Gray {
  width: number;
  height: number;
  /** Row-major luminance, any scale. */
  pixels: ArrayLike<number>;
}

export interface Hash64 {
  hi: number;
  lo: number;
}

/** Area-average resampling of a grayscale image to W×H. */
export function resizeArea(img: Gray, W: number, H: number): Float64Array {
  const { width: w, height: h, pixels } = img;
  const out = new Float64Array(W * H);
  const sx = w / W;
  const sy = h / H;
  for (let Y = 0; Y < H; Y++) {
    const y0 = Y * sy;
    const y1 = y0 + sy;
    for (let X = 0; X < W; X++) {
      const x0 = X * sx;
      const x1 = x0 + sx;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          if (wx <= 0) continue;
          sum += pixels[y * w + x] * wx * wy;
          area += wx * wy;
        }
      }
      out[Y * W + X] = area > 0 ? sum / area : 0;
    }
  }
  return out;
}

function fromBits(bits: ArrayLike<boolean | number>): Hash64 {
  let hi = 0;
  let lo = 0;
  for (let b = 0; b < 64; b++) {
    if (!bits[b]) continue;
    if (b < 32) lo |= 1 << b;
    else hi |= 1 << (b - 32);
  }
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

export function dHash(img: Gray): Hash64 {
  const s = resizeArea(img, 9, 8);
  const bits = new Uint8Array(64);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) bits[y * 8 + x] = s[y * 9 + x] > s[y * 9 + x + 1] ? 1 : 0;
  return fromBits(bits);
}

const N = 32;
/** DCT-II basis cos(π(2x+1)u / 2N) for u < 8, x < 32. */
const COS = (() => {
  const c = new Float64Array(8 * N);
  for (let u = 0; u < 8; u++) for (let x = 0; x < N; x++) c[u * N + x] = Math.cos((Math.PI * (2 * x + 1) * u) / (2 * N));
  return c;
})();

export function pHash(img: Gray): Hash64 {
  const s = resizeArea(img, N, N);
  // Separable DCT, only the 8 lowest frequencies in each direction are needed.
  const rowsT = new Float64Array(N * 8); // [y][u]
  for (let y = 0; y < N; y++)
    for (let u = 0; u < 8; u++) {
      let acc = 0;
      for (let x = 0; x < N; x++) acc += s[y * N + x] * COS[u * N + x];
      rowsT[y * 8 + u] = acc;
    }
  const coef = new Float64Array(64); // [v][u]
  for (let v = 0; v < 8; v++)
    for (let u = 0; u < 8; u++) {
      let acc = 0;
      for (let y = 0; y < N; y++) acc += rowsT[y * 8 + u] * COS[v * N + y];
      coef[v * 8 + u] = acc;
    }
  const sorted = Float64Array.from(coef).sort();
  const median = (sorted[31] + sorted[32]) / 2;
  return fromBits(Array.from(coef, (c) => c > median));
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function hamming(a: Hash64, b: Hash64): number {
  return popcount32((a.hi ^ b.hi) >>> 0) + popcount32((a.lo ^ b.lo) >>> 0);
}

export const hashHex = (h: Hash64) => h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');

function bitsOf(h: Hash64, start: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) {
    const b = start + i;
    const bit = b < 32 ? (h.lo >>> b) & 1 : (h.hi >>> (b - 32)) & 1;
    v |= bit << i;
  }
  return v >>> 0;
}

/**
 * Pairs of hashes within Hamming distance `maxDistance` (t), without comparing all pairs:
 * multi-index hashing (Norouzi, Punjani & Fleet 2012). The 64 bits are cut into t + 1 blocks;
 * by the pigeonhole principle two hashes within distance t agree exactly on at least one block,
 * so only hashes sharing a block value are compared. Similarity = 1 − distance / 64.
 */
export function hammingNearDuplicates(hashes: ReadonlyArray<Hash64>, maxDistance = 4, opts: { maxBucket?: number; maxPairs?: number } = {}): NearDuplicateResult {
  const n = hashes.length;
  const blocks = maxDistance + 1;
  const maxPairs = opts.maxPairs ?? 1_000_000;
  const pairs: NearDuplicatePair[] = [];
  let found = 0;
  let candidates = 0;
  const keys = new Uint32Array(n * blocks);
  for (let b = 0; b < blocks; b++) {
    const start = Math.floor((b * 64) / blocks);
    const len = Math.floor(((b + 1) * 64) / blocks) - start;
    for (let i = 0; i < n; i++) keys[i * blocks + b] = bitsOf(hashes[i], start, len);
  }
  for (let b = 0; b < blocks; b++) {
    bucketPairs(n, (i) => keys[i * blocks + b], opts.maxBucket ?? 500, (a, c) => {
      // A pair sharing an earlier block was already compared there.
      for (let e = 0; e < b; e++) if (keys[a * blocks + e] === keys[c * blocks + e]) return;
      candidates++;
      const d = hamming(hashes[a], hashes[c]);
      if (d <= maxDistance) {
        found++;
        if (pairs.length < maxPairs) pairs.push({ a, b: c, similarity: 1 - d / 64 });
      }
    });
  }
  pairs.sort((p, q) => p.a - q.a || p.b - q.b);
  return { pairs, pairCount: found, truncated: found > pairs.length, clusters: starClusters(n, pairs).clusters, candidates };
}
