/** Every image of `d` moved by whole pixels: output pixel (x, y) takes source pixel `move(x, y)`, zero where that falls outside (an independent shift, for checking test-time views). */
export function shiftedImages(d: { pixels: Float32Array; count: number; height: number; width: number }, move: (x: number, y: number) => [number, number]): Float32Array {
  const { height: H, width: W } = d;
  const out = new Float32Array(d.pixels.length);
  for (let i = 0; i < d.count; i++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const [sx, sy] = move(x, y);
        if (sx >= 0 && sx < W && sy >= 0 && sy < H) out[i * H * W + y * W + x] = d.pixels[i * H * W + sy * W + sx];
      }
    }
  }
  return out;
}
