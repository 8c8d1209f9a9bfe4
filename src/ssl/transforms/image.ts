/**
 * Image views for SimCLR (Chen et al. 2020, §3 and appendix A) and rotation prediction
 * (Gidaris et al. 2018), on row-major H×W×C float images in [0, 1].
 *
 * Geometric steps (random resized crop, horizontal flip, affine: rotation/translation/scale/
 * shear, and the rotation pretext's fixed angles) are composed into one inverse affine map and
 * applied with a single bilinear resampling (zero outside the image), so stacking them costs
 * one pass and no repeated blurring. Photometric steps follow: brightness/contrast jitter,
 * Gaussian noise, random erasing (Zhong et al. 2020). Every step has a probability and can be
 * switched off (`false`) in the config.
 */
import type { Rng } from '../rng.ts';

/** Output pixel (u, v) samples the source at (a·u + b·v + tx, c·u + d·v + ty). */
export type Affine = [number, number, number, number, number, number];

export const IDENTITY: Affine = [1, 0, 0, 1, 0, 0];

/** m1 ∘ m2 (apply m2 to output coordinates first, then m1). */
export function compose(m1: Affine, m2: Affine): Affine {
  const [a1, b1, c1, d1, x1, y1] = m1;
  const [a2, b2, c2, d2, x2, y2] = m2;
  return [a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2, a1 * x2 + b1 * y2 + x1, c1 * x2 + d1 * y2 + y1];
}

/** Bilinear resampling of one image through `m` into `out` at `at` (zero fill outside). */
export function warp(src: Float32Array, srcAt: number, H: number, W: number, C: number, outH: number, outW: number, m: Affine, out: Float32Array, at: number): void {
  const [a, b, c, d, tx, ty] = m;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      const sx = a * u + b * v + tx;
      const sy = c * u + d * v + ty;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = at + (v * outW + u) * C;
      for (let ch = 0; ch < C; ch++) {
        let s = 0;
        for (let dy = 0; dy <= 1; dy++) {
          const y = y0 + dy;
          if (y < 0 || y >= H) continue;
          const wy = dy ? fy : 1 - fy;
          if (wy === 0) continue;
          for (let dx = 0; dx <= 1; dx++) {
            const x = x0 + dx;
            if (x < 0 || x >= W) continue;
            const wx = dx ? fx : 1 - fx;
            if (wx === 0) continue;
            s += wx * wy * src[srcAt + (y * W + x) * C + ch];
          }
        }
        out[o + ch] = s;
      }
    }
  }
}

/** Map for resizing H×W to outH×outW (pixel centres aligned). */
export function resizeMap(H: number, W: number, outH: number, outW: number): Affine {
  const sx = W / outW;
  const sy = H / outH;
  return [sx, 0, 0, sy, 0.5 * sx - 0.5, 0.5 * sy - 0.5];
}

/** Rotation by `deg` degrees (counter-clockwise on screen) about the centre of an H×W image. */
export function rotationMap(H: number, W: number, deg: number): Affine {
  const t = (deg * Math.PI) / 180;
  // Snap exact multiples of 90° so they are pure pixel permutations.
  const cos = Math.abs(deg % 90) < 1e-9 ? Math.round(Math.cos(t)) : Math.cos(t);
  const sin = Math.abs(deg % 90) < 1e-9 ? Math.round(Math.sin(t)) : Math.sin(t);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  // Inverse map: source = R(−θ)·(out − c) + c, with y pointing down.
  return [cos, -sin, sin, cos, cx - cos * cx + sin * cy, cy - sin * cx - cos * cy];
}

export interface CropAug {
  p: number;
  scale: [number, number];
  ratio: [number, number];
}
export interface AffineAug {
  p: number;
  degrees: number;
  translate: number;
  scale: [number, number];
  shear: number;
}
export interface ImageAugment {
  crop: CropAug | false;
  flip: number;
  affine: AffineAug | false;
  jitter: { p: number; brightness: number; contrast: number } | false;
  noise: { p: number; std: number } | false;
  erase: { p: number; area: [number, number]; ratio: [number, number] } | false;
}

/** A random geometric map for one H×W view (crop → affine → flip), as an inverse map. */
export function randomGeometry(H: number, W: number, aug: ImageAugment, rng: Rng): Affine {
  let m: Affine = IDENTITY;
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  if (aug.crop && rng.next() < aug.crop.p) {
    const area = H * W;
    let cw = W;
    let ch = H;
    for (let t = 0; t < 10; t++) {
      const s = rng.uniform(aug.crop.scale[0], aug.crop.scale[1]) * area;
      const r = Math.exp(rng.uniform(Math.log(aug.crop.ratio[0]), Math.log(aug.crop.ratio[1])));
      const w = Math.sqrt(s * r);
      const h = Math.sqrt(s / r);
      if (w <= W && h <= H) {
        cw = w;
        ch = h;
        break;
      }
    }
    const x0 = rng.uniform(0, W - cw);
    const y0 = rng.uniform(0, H - ch);
    // output pixel centre (u + 0.5)/W of the crop → source x0 + (u + 0.5)·cw/W − 0.5
    m = [cw / W, 0, 0, ch / H, x0 + (0.5 * cw) / W - 0.5, y0 + (0.5 * ch) / H - 0.5];
  }
  if (aug.affine && rng.next() < aug.affine.p) {
    const A = aug.affine;
    const rot = (rng.uniform(-A.degrees, A.degrees) * Math.PI) / 180;
    const sh = (rng.uniform(-A.shear, A.shear) * Math.PI) / 180;
    const sc = rng.uniform(A.scale[0], A.scale[1]);
    const tx = rng.uniform(-A.translate, A.translate) * W;
    const ty = rng.uniform(-A.translate, A.translate) * H;
    // Forward: p' = c + T + sc·R·S·(p − c); inverse: p = c + (sc·R·S)⁻¹·(p' − c − T).
    const cos = Math.cos(rot);
    const sin = Math.sin(rot);
    const k = Math.tan(sh);
    // R·S with S = [[1, k], [0, 1]]
    const f00 = sc * cos;
    const f01 = sc * (cos * k - sin);
    const f10 = sc * sin;
    const f11 = sc * (sin * k + cos);
    const det = f00 * f11 - f01 * f10;
    const i00 = f11 / det;
    const i01 = -f01 / det;
    const i10 = -f10 / det;
    const i11 = f00 / det;
    const ox = cx + tx;
    const oy = cy + ty;
    const inv: Affine = [i00, i01, i10, i11, cx - i00 * ox - i01 * oy, cy - i10 * ox - i11 * oy];
    m = compose(m, inv);
  }
  if (aug.flip > 0 && rng.next() < aug.flip) m = compose(m, [-1, 0, 0, 1, W - 1, 0]);
  return m;
}

/** Photometric steps applied in place to one H×W×C image at `at`. */
export function photometric(img: Float32Array, at: number, H: number, W: number, C: number, aug: ImageAugment, rng: Rng): void {
  const n = H * W * C;
  if (aug.jitter && rng.next() < aug.jitter.p) {
    const b = rng.uniform(-aug.jitter.brightness, aug.jitter.brightness);
    const c = 1 + rng.uniform(-aug.jitter.contrast, aug.jitter.contrast);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += img[at + i];
    mean /= n;
    for (let i = 0; i < n; i++) img[at + i] = Math.min(1, Math.max(0, (img[at + i] - mean) * c + mean + b));
  }
  if (aug.noise && rng.next() < aug.noise.p) {
    const s = rng.uniform(0, aug.noise.std);
    for (let i = 0; i < n; i++) img[at + i] += s * rng.normal();
  }
  if (aug.erase && rng.next() < aug.erase.p) {
    const E = aug.erase;
    for (let t = 0; t < 10; t++) {
      const s = rng.uniform(E.area[0], E.area[1]) * H * W;
      const r = Math.exp(rng.uniform(Math.log(E.ratio[0]), Math.log(E.ratio[1])));
      const h = Math.round(Math.sqrt(s * r));
      const w = Math.round(Math.sqrt(s / r));
      if (h < 1 || w < 1 || h >= H || w >= W) continue;
      const y0 = rng.int(H - h + 1);
      const x0 = rng.int(W - w + 1);
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) for (let ch = 0; ch < C; ch++) img[at + (y * W + x) * C + ch] = rng.next();
      break;
    }
  }
}
