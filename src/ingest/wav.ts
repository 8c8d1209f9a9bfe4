/**
 * WAV decoding, downmixing, band-limited resampling and 16-bit encoding.
 *
 * Pure functions over bytes and typed arrays (no I/O). The decoder validates the RIFF/WAVE
 * structure itself so that every failure has a precise message (which chunk, which offset,
 * how many bytes were declared and how many are present).
 *
 * Supported: PCM 8-bit (unsigned), 16/24/32-bit (signed, little-endian), IEEE float 32/64,
 * and WAVE_FORMAT_EXTENSIBLE wrapping either; any number of channels.
 * Samples are returned as Float32 in [-1, 1): PCM values are divided by 2^(bits-1).
 */

export interface DecodedWav {
  sampleRate: number;
  /** One array per channel, de-interleaved, each `frames` long. */
  channels: Float32Array[];
  /** Container bits per sample (8, 16, 24, 32, 64). */
  bitDepth: number;
  format: 'pcm' | 'float';
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Bytes 2..15 shared by the KSDATAFORMAT_SUBTYPE_* GUIDs (`xxxx0000-0000-0010-8000-00aa00389b71`). */
const KSDATAFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
}

/** Printable form of a chunk id for error messages. */
function showId(id: string): string {
  return JSON.stringify(id);
}

function formatName(code: number): string {
  const known: Record<number, string> = {
    0x0002: 'Microsoft ADPCM',
    0x0006: 'A-law',
    0x0007: 'mu-law',
    0x0011: 'IMA ADPCM',
    0x0055: 'MPEG Layer 3',
  };
  const hex = `0x${code.toString(16).padStart(4, '0')}`;
  return known[code] ? `${hex} (${known[code]})` : hex;
}

/**
 * Decode a WAV file. Throws an Error whose message says what is wrong and what was expected.
 * A file whose data chunk is empty decodes to zero-length channels (callers decide whether
 * that is acceptable).
 */
export function parseWav(bytes: Uint8Array): DecodedWav {
  if (bytes.length < 12) {
    throw new Error(`not a WAV file: ${bytes.length} bytes, too short for a RIFF/WAVE header (12 bytes)`);
  }
  const riff = fourcc(bytes, 0);
  const wave = fourcc(bytes, 8);
  if (riff !== 'RIFF' || wave !== 'WAVE') {
    if (riff === 'RIFX' || riff === 'RF64') {
      throw new Error(`unsupported WAV container ${showId(riff)}: expected a little-endian "RIFF" file`);
    }
    throw new Error(`not a WAV file: expected "RIFF" at byte 0 and "WAVE" at byte 8, found ${showId(riff)} and ${showId(wave)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let fmt: { offset: number; size: number } | null = null;
  let data: { offset: number; size: number } | null = null;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = fourcc(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    const available = bytes.length - body;
    if (id === 'data') {
      if (size > available) {
        throw new Error(`truncated WAV: the data chunk declares ${size} bytes but only ${available} are present`);
      }
      if (!data) data = { offset: body, size };
    } else if (size > available) {
      throw new Error(`truncated WAV: the ${showId(id)} chunk at byte ${pos} declares ${size} bytes but only ${available} are present`);
    } else if (id === 'fmt ' && !fmt) {
      fmt = { offset: body, size };
    }
    pos = body + size + (size & 1); // chunks are padded to an even length
    if (data && fmt) break;
  }
  if (!fmt) throw new Error('invalid WAV: no "fmt " chunk (expected one before the data chunk)');
  if (!data) throw new Error('invalid WAV: no "data" chunk');
  if (fmt.size < 16) throw new Error(`invalid WAV: the "fmt " chunk is ${fmt.size} bytes, expected at least 16`);

  const f = fmt.offset;
  let formatCode = view.getUint16(f, true);
  const numChannels = view.getUint16(f + 2, true);
  const sampleRate = view.getUint32(f + 4, true);
  const blockAlign = view.getUint16(f + 12, true);
  const bitDepth = view.getUint16(f + 14, true);

  if (formatCode === WAVE_FORMAT_EXTENSIBLE) {
    if (fmt.size < 40) {
      throw new Error(`invalid WAV: WAVE_FORMAT_EXTENSIBLE needs a 40-byte "fmt " chunk, found ${fmt.size} bytes`);
    }
    const sub = view.getUint16(f + 24, true);
    const tailOk = KSDATAFORMAT_GUID_TAIL.every((v, i) => bytes[f + 26 + i] === v);
    if (!tailOk || (sub !== WAVE_FORMAT_PCM && sub !== WAVE_FORMAT_IEEE_FLOAT)) {
      throw new Error(
        `unsupported WAV sub-format ${tailOk ? formatName(sub) : '(unknown GUID)'} in WAVE_FORMAT_EXTENSIBLE: expected PCM (1) or IEEE float (3)`,
      );
    }
    formatCode = sub;
  }
  if (formatCode !== WAVE_FORMAT_PCM && formatCode !== WAVE_FORMAT_IEEE_FLOAT) {
    throw new Error(
      `unsupported WAV format code ${formatName(formatCode)}: expected PCM (1), IEEE float (3) or WAVE_FORMAT_EXTENSIBLE (0xfffe) with one of them`,
    );
  }
  const format = formatCode === WAVE_FORMAT_PCM ? 'pcm' : 'float';
  const okDepths = format === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!okDepths.includes(bitDepth)) {
    throw new Error(`unsupported bit depth ${bitDepth} for ${format === 'pcm' ? 'PCM' : 'IEEE float'} WAV: expected ${okDepths.join(', ')}`);
  }
  if (numChannels < 1) throw new Error('invalid WAV: the "fmt " chunk declares 0 channels');
  if (sampleRate < 1) throw new Error('invalid WAV: the "fmt " chunk declares a sample rate of 0 Hz');
  const bytesPerSample = bitDepth / 8;
  const frameBytes = bytesPerSample * numChannels;
  if (blockAlign !== frameBytes) {
    throw new Error(
      `invalid WAV: block align is ${blockAlign} bytes, expected ${frameBytes} (${numChannels} channel(s) × ${bytesPerSample} bytes)`,
    );
  }
  if (data.size % frameBytes !== 0) {
    const whole = data.size - (data.size % frameBytes);
    throw new Error(
      `truncated WAV: the data chunk holds ${data.size} bytes, not a whole number of ${frameBytes}-byte sample frames ` +
        `(expected ${whole} or ${whole + frameBytes}; the final frame is partial)`,
    );
  }

  const frames = data.size / frameBytes;
  const channels = Array.from({ length: numChannels }, () => new Float32Array(frames));
  const d = data.offset;
  for (let c = 0; c < numChannels; c++) {
    const out = channels[c];
    let p = d + c * bytesPerSample;
    if (format === 'pcm') {
      switch (bitDepth) {
        case 8:
          for (let i = 0; i < frames; i++, p += frameBytes) out[i] = (bytes[p] - 128) / 128;
          break;
        case 16:
          for (let i = 0; i < frames; i++, p += frameBytes) out[i] = (((bytes[p] | (bytes[p + 1] << 8)) << 16) >> 16) / 32768;
          break;
        case 24:
          for (let i = 0; i < frames; i++, p += frameBytes) {
            out[i] = (((bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16)) << 8) >> 8) / 8388608;
          }
          break;
        default: // 32
          for (let i = 0; i < frames; i++, p += frameBytes) out[i] = view.getInt32(p, true) / 2147483648;
      }
    } else if (bitDepth === 32) {
      for (let i = 0; i < frames; i++, p += frameBytes) out[i] = view.getFloat32(p, true);
    } else {
      for (let i = 0; i < frames; i++, p += frameBytes) out[i] = view.getFloat64(p, true);
    }
  }
  return { sampleRate, channels, bitDepth, format };
}

/** Mean of the channels (a new array; a single channel is copied). */
export function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  const n = channels[0].length;
  for (const ch of channels) {
    if (ch.length !== n) throw new Error(`downmix: channels differ in length (${n} and ${ch.length})`);
  }
  if (channels.length === 1) return channels[0].slice();
  const out = new Float32Array(n);
  const k = channels.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += channels[c][i];
    out[i] = s / k;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resampling: windowed-sinc interpolation (Smith's bandlimited interpolation), Kaiser window.
// ---------------------------------------------------------------------------------------------

/** Zero crossings of the sinc on each side of the centre. */
const RESAMPLE_ZEROS = 16;
/** Kaiser β: ≈ 85–90 dB stop-band attenuation. */
const RESAMPLE_BETA = 8.6;
/** Largest number of distinct filter phases precomputed (rational ratios up/down with up ≤ this). */
const MAX_PHASES = 4096;

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Resample `x` from `from` Hz to `to` Hz with a band-limited (windowed-sinc) interpolator.
 *
 * The low-pass cutoff is min(from, to) / 2, so downsampling removes what the new rate cannot
 * represent instead of aliasing it. The kernel spans 16 zero crossings of the sinc on each
 * side (at the lower of the two rates) under a Kaiser window (β = 8.6); each phase's taps are
 * normalised to sum to 1 so a constant signal stays exactly constant. Samples outside the
 * input are taken as 0. Output length is round(x.length · to / from).
 * When from === to the result is a copy of `x`.
 */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (!(from > 0) || !(to > 0) || !Number.isFinite(from) || !Number.isFinite(to)) {
    throw new Error(`resample: sample rates must be positive, got ${from} → ${to}`);
  }
  if (from === to) return x.slice();
  const n = x.length;
  const outLen = Math.round((n * to) / from);
  const out = new Float32Array(outLen);
  if (n === 0 || outLen === 0) return out;

  const r = Math.min(1, to / from); // cutoff relative to the input Nyquist
  const half = RESAMPLE_ZEROS / r; // kernel half-width in input samples
  const reach = Math.ceil(half); // taps d = -reach+1 .. reach around floor(t)
  const taps = 2 * reach;
  const i0beta = besselI0(RESAMPLE_BETA);

  /** Normalised taps for fractional position `frac` ∈ [0, 1): weight of x[base + d] for d = 1 - reach … reach. */
  const kernel = (frac: number, into: Float64Array) => {
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const u = frac - (j + 1 - reach); // distance from the output instant to the tap, in input samples
      let w = 0;
      if (Math.abs(u) < half) {
        const ru = r * u;
        // sinc(ru) is exactly 0 at non-zero integers (sin(πk) only rounds to ~1e-16)
        const sinc = ru === 0 ? 1 : Number.isInteger(ru) ? 0 : Math.sin(Math.PI * ru) / (Math.PI * ru);
        const a = u / half;
        w = r * sinc * (besselI0(RESAMPLE_BETA * Math.sqrt(1 - a * a)) / i0beta);
      }
      into[j] = w;
      sum += w;
    }
    for (let j = 0; j < taps; j++) into[j] /= sum;
  };

  const integerRates = Number.isInteger(from) && Number.isInteger(to);
  const g = integerRates ? gcd(from, to) : 1;
  const up = integerRates ? to / g : Infinity; // output instants per period
  const down = integerRates ? from / g : NaN; // input samples per period
  if (up <= MAX_PHASES) {
    // Rational ratio: output j sits at input position j·down/up; only `up` distinct phases
    // exist, so their taps are computed once into one flat table (phase p at p·taps).
    const table = new Float64Array(up * taps);
    // Each phase's non-zero span [lo, hi): e.g. when upsampling by an integer factor, phase 0
    // is a single tap (the input sample itself), which halves the work for 8 → 16 kHz.
    const lo = new Int32Array(up);
    const hi = new Int32Array(up);
    const w = new Float64Array(taps);
    for (let p = 0; p < up; p++) {
      kernel(p / up, w);
      table.set(w, p * taps);
      let a = 0;
      let b = taps;
      while (a < b && w[a] === 0) a++;
      while (b > a && w[b - 1] === 0) b--;
      lo[p] = a;
      hi[p] = b;
    }
    let phase = 0; // (j·down) mod up, advanced incrementally
    let base = 0; // floor(j·down / up)
    const baseStep = Math.floor(down / up);
    const phaseStep = down - baseStep * up;
    for (let j = 0; j < outLen; j++) {
      const start = base + 1 - reach;
      const t0 = phase * taps;
      let acc = 0;
      const kEnd = hi[phase];
      if (start >= 0 && start + taps <= n) {
        for (let k = lo[phase]; k < kEnd; k++) acc += table[t0 + k] * x[start + k];
      } else {
        for (let k = lo[phase]; k < kEnd; k++) {
          const i = start + k;
          if (i >= 0 && i < n) acc += table[t0 + k] * x[i];
        }
      }
      out[j] = acc;
      base += baseStep;
      phase += phaseStep;
      if (phase >= up) {
        phase -= up;
        base += 1;
      }
    }
  } else {
    const w = new Float64Array(taps);
    const step = from / to;
    for (let j = 0; j < outLen; j++) {
      const t = j * step;
      const base = Math.floor(t);
      kernel(t - base, w);
      const start = base + 1 - reach;
      let acc = 0;
      for (let k = 0; k < taps; k++) {
        const i = start + k;
        if (i >= 0 && i < n) acc += w[k] * x[i];
      }
      out[j] = acc;
    }
  }
  return out;
}

/** Encode mono samples in [-1, 1] as a 16-bit PCM mono WAV (values outside are clipped; NaN → 0). */
export function encodeWav16(mono: Float32Array, sampleRate: number): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 0xffffffff) {
    throw new Error(`encodeWav16: sample rate must be a positive integer, got ${sampleRate}`);
  }
  const dataBytes = mono.length * 2;
  if (dataBytes + 36 > 0xffffffff) throw new Error(`encodeWav16: ${mono.length} samples do not fit in one WAV file`);
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  let p = 44;
  for (let i = 0; i < mono.length; i++, p += 2) {
    // ×32768 makes decode∘encode exact for 16-bit input (decode divides by 32768).
    const s = mono[i];
    let v = Number.isNaN(s) ? 0 : Math.round(s * 32768);
    if (v > 32767) v = 32767;
    else if (v < -32768) v = -32768;
    out[p] = v & 0xff;
    out[p + 1] = (v >> 8) & 0xff;
  }
  return out;
}
