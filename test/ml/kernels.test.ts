/**
 * Gradient checks of the project's wasm kernels (src/ml/kernels/).
 *
 * Convolutions: L(x, w) = Σ R ⊙ conv2d(x, w) for a random R, so dL/dx = Conv2DBackpropInput(R)
 * and dL/dw = Conv2DBackpropFilter(x, R). Reference: a float64 JS convolution, differentiated by
 * central differences (exact up to rounding, L being bilinear), for every stride/padding a small
 * ResNet uses, with odd and non-square sizes. The other kernels are checked against float64 JS
 * references (MaxPoolGrad replaces a buggy shipped kernel), and a small ResNet-style block's gradients (BN, ReLU, pools, residual add, 1×1
 * stride-2 projection, GAP, dense) against tfjs's pure-JS cpu backend.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initEngine, projectKernelNames, tf, useProjectKernels } from '../../src/ml/engine.ts';

type Pad = 'same' | 'valid';
type S2 = [number, number];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const rand = (n: number, r: () => number) => Float64Array.from({ length: n }, r);

/** TF padding arithmetic, written out independently of tfjs. */
function geometry(inSize: number, k: number, s: number, pad: Pad) {
  if (pad === 'valid') return { out: Math.ceil((inSize - k + 1) / s), before: 0 };
  const out = Math.ceil(inSize / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - inSize, 0) / 2) };
}

/** float64 NHWC conv2d: x [n,h,w,ci], f [kh,kw,ci,co]. */
function refConv(x: Float64Array, xs: number[], f: Float64Array, fs: number[], [sh, sw]: S2, pad: Pad) {
  const [n, h, w, ci] = xs as [number, number, number, number];
  const [kh, kw, , co] = fs as [number, number, number, number];
  const gh = geometry(h, kh, sh, pad), gw = geometry(w, kw, sw, pad);
  const y = new Float64Array(n * gh.out * gw.out * co);
  for (let b = 0; b < n; b++) for (let i = 0; i < gh.out; i++) for (let j = 0; j < gw.out; j++) {
    const yo = ((b * gh.out + i) * gw.out + j) * co;
    for (let a = 0; a < kh; a++) {
      const r = i * sh + a - gh.before;
      if (r < 0 || r >= h) continue;
      for (let c = 0; c < kw; c++) {
        const q = j * sw + c - gw.before;
        if (q < 0 || q >= w) continue;
        for (let k = 0; k < ci; k++) {
          const xv = x[((b * h + r) * w + q) * ci + k]!;
          const fo = ((a * kw + c) * ci + k) * co;
          for (let o = 0; o < co; o++) y[yo + o]! += xv * f[fo + o]!;
        }
      }
    }
  }
  return { y, shape: [n, gh.out, gw.out, co] };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

/** Central differences of L = Σ R·conv(x, f) with respect to every entry of `v` (x or f). */
function numericGrad(v: Float64Array, L: () => number, h = 1e-3) {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const old = v[i]!;
    v[i] = old + h; const up = L();
    v[i] = old - h; const down = L();
    v[i] = old;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** Analytic float64 dL/dw (direct sum), used for sizes too large for central differences. */
function refFilterGrad(x: Float64Array, xs: number[], R: Float64Array, fs: number[], [sh, sw]: S2, pad: Pad) {
  const [n, h, w, ci] = xs as [number, number, number, number];
  const [kh, kw, , co] = fs as [number, number, number, number];
  const gh = geometry(h, kh, sh, pad), gw = geometry(w, kw, sw, pad);
  const g = new Float64Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++) for (let i = 0; i < gh.out; i++) for (let j = 0; j < gw.out; j++) {
    const ro = ((b * gh.out + i) * gw.out + j) * co;
    for (let a = 0; a < kh; a++) for (let c = 0; c < kw; c++) {
      const r = i * sh + a - gh.before, q = j * sw + c - gw.before;
      if (r < 0 || r >= h || q < 0 || q >= w) continue;
      for (let k = 0; k < ci; k++) {
        const xv = x[((b * h + r) * w + q) * ci + k]!;
        for (let o = 0; o < co; o++) g[((a * kw + c) * ci + k) * co + o]! += xv * R[ro + o]!;
      }
    }
  }
  return g;
}

function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>) {
  assert.equal(got.length, want.length);
  let err = 0, scale = 1e-12;
  for (let i = 0; i < want.length; i++) { err = Math.max(err, Math.abs(got[i]! - want[i]!)); scale = Math.max(scale, Math.abs(want[i]!)); }
  return err / scale;
}

/** wasm gradients (project kernels) of Σ R·conv2d(x, f). */
function wasmGrads(x: Float64Array, xs: number[], f: Float64Array, fs: number[], R: Float64Array, rs: number[], s: S2, pad: Pad) {
  return tf.tidy(() => {
    const r = tf.tensor(Float32Array.from(R), rs);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), r)));
    const [dx, df] = g([tf.tensor(Float32Array.from(x), xs), tf.tensor(Float32Array.from(f), fs)]);
    return [dx!.dataSync() as Float32Array, df!.dataSync() as Float32Array];
  });
}

before(async () => { await initEngine(); });

test('initEngine registers the project kernels on wasm', () => {
  assert.equal(tf.getBackend(), 'wasm');
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul', 'Tile', 'Sum', 'Mean', 'Slice', 'Identity', 'Cast', 'FusedBatchNorm']) {
    assert.ok(projectKernelNames.includes(name), name);
    assert.ok(tf.getKernel(name, 'wasm'), name);
  }
});

// [x shape, filter size, strides, padding]: every combination a small ResNet uses, odd sizes.
const convCases: Array<[number[], number, S2, Pad]> = [
  [[2, 9, 7, 3], 3, [1, 1], 'same'],
  [[2, 9, 7, 3], 3, [2, 2], 'same'],
  [[2, 8, 8, 3], 3, [2, 2], 'same'],
  [[2, 9, 7, 3], 3, [1, 1], 'valid'],
  [[2, 9, 7, 3], 3, [2, 2], 'valid'],
  [[2, 8, 8, 3], 3, [2, 2], 'valid'], // last row and column never read
  [[2, 9, 7, 3], 1, [1, 1], 'valid'],
  [[2, 9, 7, 3], 1, [1, 1], 'same'],
  [[2, 9, 7, 3], 1, [2, 2], 'valid'],
  [[2, 8, 8, 3], 1, [2, 2], 'same'],
  [[1, 11, 10, 2], 5, [3, 3], 'same'],
  [[1, 11, 10, 2], 5, [3, 3], 'valid'],
  [[2, 9, 8, 3], 3, [1, 2], 'same'],
  [[2, 8, 8, 3], 2, [2, 2], 'same'], // even kernel: asymmetric padding
];

for (const [xs, k, s, pad] of convCases) {
  test(`conv2d grads vs central differences: x ${xs.join('×')}, ${k}×${k}, stride ${s.join(',')}, ${pad}`, () => {
    const r = rng(xs.reduce((p, q) => p * 31 + q, k * 7 + s[0] * 3 + s[1]));
    const co = 4;
    const fs = [k, k, xs[3]!, co];
    const x = rand(xs.reduce((p, q) => p * q), r), f = rand(k * k * xs[3]! * co, r);
    const { shape: rs } = refConv(x, xs, f, fs, s, pad);
    const R = rand(rs.reduce((p, q) => p * q), r);
    const L = () => dot(refConv(x, xs, f, fs, s, pad).y, R);
    const [dx, df] = wasmGrads(x, xs, f, fs, R, rs, s, pad);
    const ex = maxRelErr(dx!, numericGrad(x, L)), ef = maxRelErr(df!, numericGrad(f, L));
    assert.ok(ex < 1e-5, `dx relative error ${ex}`);
    assert.ok(ef < 1e-5, `dw relative error ${ef}`);
  });
}

test('Conv2DBackpropFilter splits large batches into chunks correctly (28×28, batch 24)', () => {
  const r = rng(5);
  for (const [s, pad] of [[[1, 1], 'same'], [[2, 2], 'same'], [[2, 2], 'valid']] as Array<[S2, Pad]>) {
    const xs = [24, 28, 28, 2], fs = [3, 3, 2, 3];
    const x = rand(24 * 28 * 28 * 2, r), f = rand(54, r);
    const { shape: rs } = refConv(x, xs, f, fs, s, pad);
    const R = rand(rs.reduce((p, q) => p * q), r);
    const [, df] = wasmGrads(x, xs, f, fs, R, rs, s, pad);
    const e = maxRelErr(df!, refFilterGrad(x, xs, R, fs, s, pad));
    assert.ok(e < 1e-5, `stride ${s} ${pad}: dw relative error ${e}`);
  }
});

test('BatchMatMul: transposes, batches and broadcasting vs float64', () => {
  const r = rng(11);
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[33, 20], [20, 17], false, false], [[20, 33], [20, 17], true, false], [[33, 20], [17, 20], false, true],
    [[20, 33], [17, 20], true, true], [[3, 30, 40], [3, 25, 40], false, true], [[3, 40, 30], [3, 25, 40], true, true],
    [[4, 30, 40], [40, 25], false, false], [[30, 40], [2, 40, 25], false, false], [[2, 2, 30, 40], [2, 2, 25, 40], false, true],
    [[5, 3, 4], [5, 4, 2], false, false], // small: shipped kernel
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = rand(sa.reduce((p, q) => p * q), r), b = rand(sb.reduce((p, q) => p * q), r);
    const got = tf.tidy(() => tf.matMul(tf.tensor(Float32Array.from(a), sa), tf.tensor(Float32Array.from(b), sb), ta, tb).dataSync());
    // reference: broadcast batch dims (one side has none or equal ones)
    const m = ta ? sa.at(-1)! : sa.at(-2)!, k = ta ? sa.at(-2)! : sa.at(-1)!, n = tb ? sb.at(-2)! : sb.at(-1)!;
    const ba = sa.slice(0, -2).reduce((p, q) => p * q, 1), bb = sb.slice(0, -2).reduce((p, q) => p * q, 1), batch = Math.max(ba, bb);
    const want = new Float64Array(batch * m * n);
    for (let t = 0; t < batch; t++) {
      const ao = (ba === 1 ? 0 : t) * m * k, bo = (bb === 1 ? 0 : t) * k * n;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let l = 0; l < k; l++) acc += a[ao + (ta ? l * m + i : i * k + l)]! * b[bo + (tb ? j * k + l : l * n + j)]!;
        want[(t * m + i) * n + j] = acc;
      }
    }
    assert.ok(maxRelErr(got, want) < 1e-5, `${sa} × ${sb} (${ta}, ${tb})`);
  }
});

test('Sum/Mean over outer axes, Tile and Slice vs float64 references', () => {
  const r = rng(13);
  const xs = [6, 5, 7, 3];
  const x = rand(6 * 5 * 7 * 3, r);
  const xt = tf.tensor(Float32Array.from(x), xs);
  const at = (i: number[]) => x[((i[0]! * 5 + i[1]!) * 7 + i[2]!) * 3 + i[3]!]!;
  for (const axes of [[0], [0, 1], [0, 1, 2], [1, 2], [1], [2], [3], [0, 2], [2, 3]]) {
    const keep = xs.map((d, i) => (axes.includes(i) ? 1 : d));
    const want = new Float64Array(keep.reduce((p, q) => p * q));
    for (let a = 0; a < 6; a++) for (let b = 0; b < 5; b++) for (let c = 0; c < 7; c++) for (let d = 0; d < 3; d++) {
      const o = [a, b, c, d].map((v, i) => (axes.includes(i) ? 0 : v));
      want[((o[0]! * keep[1]! + o[1]!) * keep[2]! + o[2]!) * keep[3]! + o[3]!]! += at([a, b, c, d]);
    }
    const count = axes.reduce((p, i) => p * xs[i]!, 1);
    assert.ok(maxRelErr(tf.sum(xt, axes).dataSync(), want) < 1e-5, `sum ${axes}`);
    assert.ok(maxRelErr(tf.mean(xt, axes, true).dataSync(), want.map((v) => v / count)) < 1e-5, `mean ${axes}`);
    assert.deepEqual(tf.sum(xt, axes, true).shape, keep);
  }
  for (const [shape, reps] of [[[1, 1, 1, 3], [2, 3, 4, 1]], [[2, 3], [3, 2]], [[2, 1, 3], [1, 4, 1]], [[3, 1], [1, 5]]]) {
    const n = shape!.reduce((p, q) => p * q);
    const v = Array.from({ length: n }, (_, i) => i + 1);
    const want = tf.tidy(() => { useProjectKernels(false); const t = tf.tile(tf.tensor(v, shape, 'int32'), reps).arraySync(); useProjectKernels(true); return t; });
    assert.deepEqual(tf.tile(tf.tensor(v, shape, 'int32'), reps).arraySync(), want, `tile ${shape} by ${reps}`);
  }
  const at4 = (b: number[], s: number[]) => {
    const out: number[] = [];
    for (let a = 0; a < s[0]!; a++) for (let c = 0; c < s[1]!; c++) for (let d = 0; d < s[2]!; d++) for (let e = 0; e < s[3]!; e++) out.push(at([a + b[0]!, c + b[1]!, d + b[2]!, e + b[3]!]));
    return out;
  };
  for (const [b, s] of [[[1, 0, 0, 0], [2, 5, 7, 3]], [[0, 1, 2, 1], [6, 3, 4, 2]], [[5, 4, 6, 2], [1, 1, 1, 1]], [[2, 0, 3, 0], [3, 5, 2, 3]]]) {
    assert.ok(maxRelErr(tf.slice(xt, b!, s!).dataSync(), at4(b!, s!)) < 1e-7, `slice ${b} ${s}`);
  }
  xt.dispose();
});

test('FusedBatchNorm (per-channel affine), Cast and Identity vs references', () => {
  const r = rng(23);
  for (const shape of [[3, 5, 4, 6], [7, 6], [2, 3, 6]]) {
    const c = shape.at(-1)!;
    const x = rand(shape.reduce((p, q) => p * q), r);
    const [mean, vr, off, sc] = [rand(c, r), rand(c, () => 0.2 + Math.abs(r())), rand(c, r), rand(c, r)];
    for (const withAffine of [true, false]) {
      const want = x.map((v, i) => { const k = i % c; return (v - mean[k]!) / Math.sqrt(vr[k]! + 1e-3) * (withAffine ? sc[k]! : 1) + (withAffine ? off[k]! : 0); });
      const t = (a: Float64Array) => tf.tensor1d(Float32Array.from(a));
      const got = tf.tidy(() => tf.batchNorm(tf.tensor(Float32Array.from(x), shape), t(mean), t(vr), withAffine ? t(off) : undefined, withAffine ? t(sc) : undefined, 1e-3).dataSync());
      assert.ok(maxRelErr(got, want) < 1e-5, `batchNorm ${shape} affine=${withAffine}`);
    }
  }
  assert.deepEqual(tf.cast(tf.tensor([0.5, 0, -2, 1e-9]), 'bool').arraySync(), [1, 0, 1, 1]);
  assert.deepEqual(tf.cast(tf.tensor([3, 0], undefined, 'int32'), 'bool').arraySync(), [1, 0]);
  assert.deepEqual(tf.cast(tf.tensor([1.7, -1.7]), 'int32').arraySync(), [1, -1]);
  const a = tf.tensor([1, 2, 3]), b = tf.clone(a), c2 = tf.cast(a, 'float32');
  a.dispose();
  assert.deepEqual(b.arraySync(), [1, 2, 3], 'a clone survives its source');
  assert.deepEqual(c2.arraySync(), [1, 2, 3]);
  tf.dispose([b, c2]);
});

test('MaxPoolGrad vs float64 reference (incl. all-negative and all-zero windows)', () => {
  const r = rng(19);
  for (const [k, st, pad, hh] of [[2, 2, 'valid', 8], [2, 1, 'same', 5], [3, 2, 'same', 9], [3, 2, 'same', 8], [3, 2, 'valid', 9], [2, 2, 'same', 7]] as Array<[number, number, Pad, number]>) {
    const c = 3, n = 2;
    const x = Float32Array.from({ length: n * hh * hh * c }, (_, i) => (i % 7 === 0 ? 0 : r() - 0.3));
    const out = geometry(hh, k, st, pad);
    const R = Float32Array.from({ length: n * out.out * out.out * c }, r);
    const want = new Float64Array(x.length);
    for (let b = 0; b < n; b++) for (let i = 0; i < out.out; i++) for (let j = 0; j < out.out; j++) for (let ch = 0; ch < c; ch++) {
      let best = -Infinity, at = -1;
      for (let a = 0; a < k; a++) for (let q = 0; q < k; q++) {
        const hr = i * st + a - out.before, wc = j * st + q - out.before;
        if (hr < 0 || wc < 0 || hr >= hh || wc >= hh) continue;
        const idx = ((b * hh + hr) * hh + wc) * c + ch;
        if (x[idx]! > best) { best = x[idx]!; at = idx; }
      }
      want[at]! += R[((b * out.out + i) * out.out + j) * c + ch]!;
    }
    const got = tf.tidy(() => {
      const rt = tf.tensor(R, [n, out.out, out.out, c]);
      return tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(z as tf.Tensor4D, k, st, pad), rt)))(tf.tensor4d(x, [n, hh, hh, c])).dataSync();
    });
    assert.ok(maxRelErr(got, want) < 1e-6, `maxPool ${k}×${k} stride ${st} ${pad} on ${hh}×${hh}`);
  }
});

test('ResNet-style block gradients on wasm match the cpu backend (BN, ReLU, pools, residual, GAP, dense)', async () => {
  const r = rng(17);
  const shapes: Record<string, number[]> = { x: [4, 9, 9, 2], w1: [3, 3, 2, 4], w2: [3, 3, 4, 6], w3: [1, 1, 4, 6], g: [6], b: [6], d: [6, 5] };
  const values = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float32Array.from(rand(s.reduce((p, q) => p * q), r))]));
  const labels = [0, 3, 1, 4];
  const run = () => tf.tidy(() => {
    const p = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tf.tensor(v, shapes[k])]));
    const names = Object.keys(p);
    const f = (...t: tf.Tensor[]) => {
      const [x, w1, w2, w3, g, b, d] = t as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D];
      const h = tf.relu(tf.conv2d(x, w1, 1, 'same'));
      const y = tf.conv2d(h, w2, 2, 'same'); // 9×9 → 5×5
      const { mean, variance } = tf.moments(y, [0, 1, 2]);
      const bn = tf.relu(tf.batchNorm(y, mean, variance, b, g, 1e-5));
      const skip = tf.conv2d(h, w3, 2, 'valid'); // 1×1 stride-2 projection
      const pooled = tf.avgPool(tf.maxPool(tf.add(bn, skip) as tf.Tensor4D, 2, 1, 'same'), 2, 1, 'valid'); // 5×5 → 4×4
      const logits = tf.matMul(tf.mean(pooled, [1, 2]), d);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), logits) as tf.Scalar;
    };
    const gs = tf.grads(f)(names.map((k) => p[k]!));
    return Object.fromEntries(names.map((k, i) => [k, gs[i]!.dataSync() as Float32Array]));
  });
  const onWasm = run();
  await tf.setBackend('cpu');
  let onCpu: Record<string, Float32Array>;
  try { onCpu = run(); } finally { await tf.setBackend('wasm'); }
  for (const k of Object.keys(shapes)) {
    const e = maxRelErr(onWasm[k]!, onCpu[k]!);
    assert.ok(e < 1e-4, `d${k}: relative difference ${e}`);
  }
});
