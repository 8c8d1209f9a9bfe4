/**
 * Decodes a PCM WAV (8/16/24/32-bit integer or 32/64-bit float, any channel count) into mono
 * float samples. Tessera stores audio as 16-bit mono WAV, so this is the usual path; anything
 * else goes through the browser's own decoder (Web Audio).
 */
export interface Decoded {
  samples: Float32Array;
  sampleRate: number;
}

export function decodeWav(buf: ArrayBuffer): Decoded | null {
  const v = new DataView(buf);
  const tag = (o: number) => String.fromCharCode(v.getUint8(o), v.getUint8(o + 1), v.getUint8(o + 2), v.getUint8(o + 3));
  if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let o = 12;
  while (o + 8 <= buf.byteLength) {
    const id = tag(o);
    const size = v.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ') {
      let format = v.getUint16(body, true);
      if (format === 0xfffe && size >= 26) format = v.getUint16(body + 24, true);
      fmt = { format, channels: v.getUint16(body + 2, true), rate: v.getUint32(body + 4, true), bits: v.getUint16(body + 14, true) };
    } else if (id === 'data' && fmt) {
      const { format, channels, bits } = fmt;
      const bytes = bits / 8;
      const end = Math.min(buf.byteLength, body + size);
      const n = Math.floor((end - body) / (bytes * channels));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) {
          const p = body + (i * channels + c) * bytes;
          let x: number;
          if (format === 3) x = bits === 64 ? v.getFloat64(p, true) : v.getFloat32(p, true);
          else if (bits === 8) x = (v.getUint8(p) - 128) / 128;
          else if (bits === 16) x = v.getInt16(p, true) / 32768;
          else if (bits === 24) x = ((v.getUint8(p) | (v.getUint8(p + 1) << 8) | (v.getInt8(p + 2) << 16)) / 8388608);
          else if (bits === 32) x = v.getInt32(p, true) / 2147483648;
          else return null;
          sum += x;
        }
        out[i] = sum / channels;
      }
      return { samples: out, sampleRate: fmt.rate };
    }
    o = body + size + (size & 1);
  }
  return null;
}

/** WAV through our decoder, anything else through Web Audio. */
export async function decodeAudio(buf: ArrayBuffer): Promise<Decoded> {
  const w = decodeWav(buf);
  if (w) return w;
  const ctx = new OfflineAudioContext(1, 1, 44100);
  const audio = await ctx.decodeAudioData(buf.slice(0));
  const ch = audio.getChannelData(0);
  return { samples: new Float32Array(ch), sampleRate: audio.sampleRate };
}
