// Generators for the fuzz tests (issue #8): seeded, deterministic mutations of valid seed files
// (CSV, JSONL, PNG, JPEG, WAV) and malformed API requests. Everything here is a pure function of
// an Rng, so a case is reproduced exactly from (seed, kind, index).
import { deflateSync } from 'node:zlib';
import { mulberry32 } from '../../src/core/rng.ts';

/** The seed of a run: TESSERA_FUZZ_SEED, else the fixed default (so `npm test` is deterministic). */
export const DEFAULT_FUZZ_SEED = 20260108;
export function fuzzSeed(): number {
  const env = process.env.TESSERA_FUZZ_SEED;
  if (env === undefined || env === '') return DEFAULT_FUZZ_SEED;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`TESSERA_FUZZ_SEED=${env}: expected an integer 0…4294967295`);
  return n;
}

export class Rng {
  private readonly f: () => number;
  constructor(seed: number) {
    this.f = mulberry32(seed);
  }
  /** The generator of case `index` of `kind` under `seed`: each case reproducible on its own. */
  static forCase(seed: number, kind: string, index: number): Rng {
    let h = 2166136261 ^ seed;
    for (const ch of `${kind}#${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    return new Rng((h ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
  }
  float(): number {
    return this.f();
  }
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.f() * n));
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.f() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations (any format)
// ---------------------------------------------------------------------------------------------

export type Mutation = { name: string; apply(b: Buffer, r: Rng): Buffer };

const at = (b: Buffer, r: Rng) => r.int(b.length + 1);
const insert = (b: Buffer, pos: number, x: Buffer | string) => Buffer.concat([b.subarray(0, pos), Buffer.from(x as never), b.subarray(pos)]);

/** Invalid UTF-8 sequences: stray continuation, overlong, surrogate, truncated multibyte, 0xff. */
export const INVALID_UTF8 = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3]];

export const BYTE_MUTATIONS: Mutation[] = [
  { name: 'bit-flip', apply: (b, r) => { const c = Buffer.from(b); for (let k = r.range(1, 8); k > 0 && c.length; k--) c[r.int(c.length)] ^= 1 << r.int(8); return c; } },
  { name: 'truncate', apply: (b, r) => b.subarray(0, r.int(b.length)) },
  { name: 'insert-bytes', apply: (b, r) => insert(b, at(b, r), r.bytes(r.range(1, 16))) },
  { name: 'delete-bytes', apply: (b, r) => { const p = r.int(b.length); return Buffer.concat([b.subarray(0, p), b.subarray(p + r.range(1, 16))]); } },
  { name: 'duplicate-chunk', apply: (b, r) => { const p = r.int(b.length); const q = Math.min(b.length, p + r.range(1, 64)); return insert(b, at(b, r), b.subarray(p, q)); } },
  { name: 'nul-bytes', apply: (b, r) => insert(b, at(b, r), Buffer.alloc(r.range(1, 4))) },
  { name: 'invalid-utf8', apply: (b, r) => insert(b, at(b, r), Buffer.from(r.pick(INVALID_UTF8))) },
  { name: 'overwrite-random', apply: (b, r) => { if (b.length === 0) return r.bytes(r.range(1, 32)); const c = Buffer.from(b); const p = r.int(c.length); r.bytes(r.range(1, 32)).copy(c, p); return c; } },
];

/** Text-level mutations for line-based formats (CSV, JSONL). */
export const TEXT_MUTATIONS: Mutation[] = [
  { name: 'bom', apply: (b, r) => insert(b, r.chance(0.7) ? 0 : at(b, r), Buffer.from([0xef, 0xbb, 0xbf])) },
  { name: 'crlf', apply: (b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r\n'), 'latin1') },
  { name: 'cr-only', apply: (b) => Buffer.from(b.toString('latin1').replace(/\n/g, '\r'), 'latin1') },
  { name: 'mixed-eol', apply: (b, r) => Buffer.from(b.toString('latin1').replace(/\n/g, () => r.pick(['\n', '\r\n', '\r', '\n\r', '\r\r\n', '\n\n'])), 'latin1') },
  { name: 'overlong-line', apply: (b, r) => insert(b, lineStart(b, r), Buffer.alloc(r.range(1100, 2500), r.pick(['x', '"', ',', '{', ' ']))) },
  { name: 'dup-delimiter', apply: (b, r) => replaceNth(b, r, ',', ',,') },
  { name: 'drop-delimiter', apply: (b, r) => replaceNth(b, r, ',', '') },
  { name: 'add-quote', apply: (b, r) => insert(b, at(b, r), '"') },
  { name: 'drop-quote', apply: (b, r) => replaceNth(b, r, '"', '') },
  { name: 'double-quote', apply: (b, r) => replaceNth(b, r, '"', '""') },
  { name: 'huge-number', apply: (b, r) => replaceNumber(b, r) },
  { name: 'drop-newline', apply: (b, r) => replaceNth(b, r, '\n', '') },
  { name: 'dup-line', apply: (b, r) => { const lines = b.toString('latin1').split('\n'); const i = r.int(lines.length); lines.splice(i, 0, lines[i]); return Buffer.from(lines.join('\n'), 'latin1'); } },
  { name: 'drop-line', apply: (b, r) => { const lines = b.toString('latin1').split('\n'); lines.splice(r.int(lines.length), 1); return Buffer.from(lines.join('\n'), 'latin1'); } },
  { name: 'blank-lines', apply: (b, r) => insert(b, lineStart(b, r), r.pick(['\n', '\n\n\n', '   \n', '\t\n'])) },
  { name: 'control-chars', apply: (b, r) => insert(b, at(b, r), String.fromCharCode(r.pick([0, 1, 7, 8, 0x1b, 0x7f, 0x0b, 0x0c]))) },
  { name: 'unicode', apply: (b, r) => insert(b, at(b, r), r.pick(['é', '\u2028', '\u2029', '😀', '\ufeff', '\u0301', '\ud7ff', '𝒳', '\u200b'])) },
];

/** Line-specific mutations for CSV: change the number of fields in one row. */
export const CSV_MUTATIONS: Mutation[] = [
  { name: 'extra-column', apply: (b, r) => editLine(b, r, (l) => l + r.pick([',', ',x', ',,,', ',"y"'])) },
  { name: 'missing-column', apply: (b, r) => editLine(b, r, (l) => l.slice(0, Math.max(0, l.lastIndexOf(',')))) },
  { name: 'header-mangle', apply: (b, r) => { const s = b.toString('latin1'); const nl = s.indexOf('\n'); const h = nl < 0 ? s : s.slice(0, nl); const m = r.pick([h.toUpperCase(), h.replace('text', 'txt'), h + ',text', ' ' + h, h.replace(/,/g, ';'), '', h + ',id']); return Buffer.from(m + (nl < 0 ? '' : s.slice(nl)), 'latin1'); } },
  { name: 'quote-field', apply: (b, r) => editLine(b, r, (l) => { const f = l.split(','); const i = r.int(f.length); f[i] = r.pick([`"${f[i]}"`, `"${f[i]}`, `${f[i]}"`, `"${f[i]}"x`, `x"${f[i]}"`]); return f.join(','); }) },
];

/** JSONL-specific: wrong types, broken syntax, deep nesting. */
export const JSONL_MUTATIONS: Mutation[] = [
  { name: 'wrong-type-text', apply: (b, r) => editLine(b, r, (l) => l.replace(/"text":\s*"(?:[^"\\]|\\.)*"/, `"text":${r.pick(['1', 'null', 'true', '[]', '{}', '1e999', '"x"', '-0', '[["a"]]'])}`)) },
  { name: 'wrong-type-id', apply: (b, r) => editLine(b, r, (l) => l.replace(/"id":\s*(?:"[^"]*"|\d+)/, `"id":${r.pick(['null', 'true', '[]', '{}', '""', '" "', '1.5', '1e400', '99999999999999999999999', '-1'])}`)) },
  { name: 'wrong-type-label', apply: (b, r) => editLine(b, r, (l) => l.replace(/"label":\s*"[^"]*"/, `"label":${r.pick(['null', 'true', '[]', '{"a":1}', '""', '7'])}`)) },
  { name: 'not-an-object', apply: (b, r) => editLine(b, r, () => r.pick(['[1,2]', '"text"', '42', 'null', 'true', '{', '}', '{"text":"a",}', "{'text':'a'}", '{"text":"a"}{"text":"b"}', 'NaN', '{"text":"\\ud800"}', '{"text":"\\u00"}'])) },
  { name: 'deep-nesting', apply: (b, r) => editLine(b, r, () => { const d = r.range(50, 3000); return `{"text":"deep","x":${'['.repeat(d)}${']'.repeat(r.chance(0.8) ? d : d - 1)}}`; }) },
  { name: 'drop-brace', apply: (b, r) => replaceNth(b, r, r.pick(['{', '}', ':', '"']), '') },
  { name: 'extra-fields', apply: (b, r) => editLine(b, r, (l) => l.replace(/^\{/, `{"__proto__":{"x":1},"constructor":1,"${'k'.repeat(r.range(1, 300))}":${r.pick(['1', '"v"', '[1]', '{}'])},`)) },
  { name: 'duplicate-key', apply: (b, r) => editLine(b, r, (l) => l.replace(/^\{/, `{"text":${r.pick(['1', '"dup"', 'null'])},`)) },
];

function lineStart(b: Buffer, r: Rng): number {
  const starts = [0];
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) starts.push(i + 1);
  return r.pick(starts);
}

function replaceNth(b: Buffer, r: Rng, what: string, by: string): Buffer {
  const s = b.toString('latin1');
  const hits: number[] = [];
  for (let i = s.indexOf(what); i !== -1; i = s.indexOf(what, i + 1)) hits.push(i);
  if (hits.length === 0) return b;
  const i = r.pick(hits);
  return Buffer.from(s.slice(0, i) + by + s.slice(i + what.length), 'latin1');
}

function replaceNumber(b: Buffer, r: Rng): Buffer {
  const s = b.toString('latin1');
  const hits = [...s.matchAll(/\d+(\.\d+)?/g)];
  const huge = r.pick(['1e309', '-1e309', '99999999999999999999999999999', '1' + '0'.repeat(400), 'NaN', 'Infinity', '-0', '0x1F', '1_000', '4294967296', '9007199254740993', '1e-400', '  3  ']);
  if (hits.length === 0) return Buffer.from(huge + s, 'latin1');
  const m = r.pick(hits);
  return Buffer.from(s.slice(0, m.index) + huge + s.slice(m.index! + m[0].length), 'latin1');
}

function editLine(b: Buffer, r: Rng, f: (line: string) => string): Buffer {
  const lines = b.toString('latin1').split('\n');
  const nonEmpty = lines.map((l, i) => [l, i] as const).filter(([l]) => l !== '');
  if (nonEmpty.length === 0) return b;
  const [l, i] = r.pick(nonEmpty);
  lines[i] = f(l);
  return Buffer.from(lines.join('\n'), 'latin1');
}

/** Applies 1–`max` mutations drawn from `pools`; returns the bytes and the names (for the report). */
export function mutate(seed: Buffer, r: Rng, pools: Mutation[][], max = 3): { bytes: Buffer; applied: string[] } {
  let bytes = seed;
  const applied: string[] = [];
  for (let k = r.range(1, max); k > 0; k--) {
    const m = r.pick(r.pick(pools));
    bytes = m.apply(bytes, r);
    applied.push(m.name);
  }
  return { bytes, applied };
}

/** Splices the head of one seed onto the tail of another. */
export function splice(a: Buffer, b: Buffer, r: Rng): Buffer {
  return Buffer.concat([a.subarray(0, r.int(a.length + 1)), b.subarray(r.int(b.length + 1))]);
}

// ---------------------------------------------------------------------------------------------
// Seed files
// ---------------------------------------------------------------------------------------------

/** Seed files; `#` marks where the test puts the case number, so ids differ between cases. */
export const CSV_SEEDS = [
  'id,text,label\n#1,hello world,pos\n#2,"quoted, with comma",neg\n#3,"multi\nline field",pos\n#4,"he said ""hi""",neg\n#5,,pos\n',
  'text,label,score\nfirst row #,a,0.5\nsecond row,b,-3\n"third, quoted",a,1e3\n',
  'id,text\n#10,alpha\n#11,beta\n#12,"gamma\r\ndelta"\n',
];

export const TABULAR_SEEDS = ['a,b,c,label\n1,2.5,x,yes\n3,-4,y,no\n5,6e2,x,yes\n,?,z,no\nNaN,7,y,yes\n', 'id,f1,f2,cls\n#r1,0,1,a\n#r2,1,0,b\n#r3,0.25,0.75,a\n'];

export const JSONL_SEEDS = [
  '{"id":"#a1","text":"hello","label":"pos"}\n{"id":"#a2","text":"world","label":"neg","extra":{"k":[1,2]}}\n{"id":"#a3","text":"caf\u00e9 \\u00e9 \\n newline","label":"pos"}\n',
  '{"text":"no id","label":1}\n{"text":"nested","meta":{"a":{"b":null}}}\n\n{"text":"","label":null}\n',
];

let crcTable: Uint32Array | undefined;
export function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

const PNG_SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG built by hand (so IHDR fields can be set to anything, with correct CRCs). */
export function makePng(o: { width: number; height: number; bitDepth?: number; colorType?: number; interlace?: number; raw?: Buffer; idat?: Buffer }): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width >>> 0, 0);
  ihdr.writeUInt32BE(o.height >>> 0, 4);
  ihdr[8] = o.bitDepth ?? 8;
  ihdr[9] = o.colorType ?? 0;
  ihdr[12] = o.interlace ?? 0;
  const idat = o.idat ?? deflateSync(o.raw ?? Buffer.alloc((o.width + 1) * o.height));
  return Buffer.concat([PNG_SIG, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Structural PNG mutations: valid headers over corrupt bodies, impossible IHDR fields, bad chunks. */
export function malformedPng(seeds: Buffer[], r: Rng): { bytes: Buffer; applied: string[] } {
  const kind = r.int(10);
  const seed = r.pick(seeds);
  switch (kind) {
    case 0: { // header fine, IDAT body replaced by noise (CRC recomputed: the zlib stream is what is wrong)
      const w = r.range(1, 32), h = r.range(1, 32);
      return { bytes: makePng({ width: w, height: h, idat: r.bytes(r.range(0, 200)) }), applied: ['png:noise-idat'] };
    }
    case 1: { // impossible or huge IHDR over a small body
      const w = r.pick([0, 1, 65535, 100000, 0x7fffffff, 0xffffffff, r.range(1, 5000)]);
      const h = r.pick([0, 1, 65535, 100000, 0x7fffffff, 0xffffffff, r.range(1, 5000)]);
      return { bytes: makePng({ width: w, height: h, idat: deflateSync(Buffer.alloc(r.range(0, 64))) }), applied: [`png:ihdr-${w}x${h}`] };
    }
    case 2: { // invalid bit depth / colour type / interlace combinations
      const bitDepth = r.pick([0, 1, 2, 3, 4, 7, 8, 16, 32, 255]);
      const colorType = r.pick([0, 1, 2, 3, 4, 5, 6, 7, 255]);
      const w = r.range(1, 16), h = r.range(1, 16);
      return { bytes: makePng({ width: w, height: h, bitDepth, colorType, interlace: r.pick([0, 1, 2]), raw: r.bytes((w * 8 + 1) * h) }), applied: [`png:depth${bitDepth}-type${colorType}`] };
    }
    case 3: { // decompressed data shorter or longer than the image needs
      const w = r.range(1, 64), h = r.range(1, 64);
      return { bytes: makePng({ width: w, height: h, raw: Buffer.alloc(Math.max(0, (w + 1) * h + r.pick([-w - 1, -1, 1, 1000]))) }), applied: ['png:wrong-raw-length'] };
    }
    case 4: { // bad filter type bytes
      const w = r.range(1, 16), h = r.range(1, 16);
      const raw = Buffer.alloc((w + 1) * h);
      for (let y = 0; y < h; y++) raw[y * (w + 1)] = r.range(5, 255);
      return { bytes: makePng({ width: w, height: h, raw }), applied: ['png:bad-filter'] };
    }
    case 5: // truncated real file (keeps the signature, usually IHDR)
      return { bytes: seed.subarray(0, r.range(8, seed.length - 1)), applied: ['png:truncate'] };
    case 6: { // chunk length field lies
      const c = Buffer.from(seed);
      const p = 8 + 8 + 13 + 4; // the IDAT chunk's length field (after signature and IHDR)
      c.writeUInt32BE(r.pick([0, 1, 0x7fffffff, 0xffffffff, c.readUInt32BE(p) + r.range(1, 100)]), p);
      return { bytes: c, applied: ['png:idat-length'] };
    }
    case 7: // body bytes flipped after the header (CRC mismatch)
      return { bytes: mutateAfter(seed, 33, r), applied: ['png:corrupt-body'] };
    case 8: // signature only, or signature + IHDR only
      return { bytes: r.chance(0.5) ? PNG_SIG : seed.subarray(0, 33), applied: ['png:header-only'] };
    default:
      return mutate(seed, r, [BYTE_MUTATIONS], 4);
  }
}

/** Structural JPEG mutations. */
export function malformedJpeg(seeds: Buffer[], r: Rng): { bytes: Buffer; applied: string[] } {
  const seed = r.pick(seeds);
  const sos = seed.indexOf(Buffer.from([0xff, 0xda]));
  const sof = seed.indexOf(Buffer.from([0xff, 0xc0]));
  switch (r.int(8)) {
    case 0: // cut inside the entropy-coded data
      return { bytes: seed.subarray(0, r.range(sos + 2, seed.length - 2)), applied: ['jpeg:truncate-scan'] };
    case 1: // cut inside the headers
      return { bytes: seed.subarray(0, r.range(2, Math.max(2, sos))), applied: ['jpeg:truncate-header'] };
    case 2: { // huge or zero dimensions in SOF0
      const c = Buffer.from(seed);
      if (sof > 0) {
        c.writeUInt16BE(r.pick([0, 1, 65535, r.range(1, 65535)]), sof + 5);
        c.writeUInt16BE(r.pick([0, 1, 65535, r.range(1, 65535)]), sof + 7);
      }
      return { bytes: c, applied: ['jpeg:sof-dims'] };
    }
    case 3: { // component count / sampling factors nonsense
      const c = Buffer.from(seed);
      if (sof > 0) c[sof + 9] = r.pick([0, 2, 4, 255]);
      if (sof > 0 && r.chance(0.5)) c[sof + 11] = r.int(256);
      return { bytes: c, applied: ['jpeg:sof-components'] };
    }
    case 4: // noise after the scan header
      return { bytes: mutateAfter(seed, sos + 12, r), applied: ['jpeg:corrupt-scan'] };
    case 5: // SOI + noise
      return { bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), r.bytes(r.range(0, 300))]), applied: ['jpeg:soi-noise'] };
    case 6: { // a segment length that lies
      const c = Buffer.from(seed);
      c.writeUInt16BE(r.pick([0, 1, 2, 0xffff]), 4);
      return { bytes: c, applied: ['jpeg:segment-length'] };
    }
    default:
      return mutate(seed, r, [BYTE_MUTATIONS], 4);
  }
}

function mutateAfter(b: Buffer, from: number, r: Rng): Buffer {
  const c = Buffer.from(b);
  const start = Math.min(from, c.length - 1);
  for (let k = r.range(1, 24); k > 0; k--) c[start + r.int(c.length - start)] = r.int(256);
  return c;
}

// ---------------------------------------------------------------------------------------------
// WAV
// ---------------------------------------------------------------------------------------------

export interface WavSpec {
  formatCode?: number;
  channels?: number;
  sampleRate?: number;
  bitDepth?: number;
  blockAlign?: number;
  fmtSize?: number;
  riffSize?: number;
  dataSize?: number;
  data?: Buffer;
  extraChunks?: Buffer;
  dataFirst?: boolean;
}

/** A WAV built field by field (every header field overridable). */
export function makeWav(s: WavSpec = {}): Buffer {
  const channels = s.channels ?? 1;
  const bitDepth = s.bitDepth ?? 16;
  const rate = s.sampleRate ?? 8000;
  const fmtSize = s.fmtSize ?? 16;
  const fmt = Buffer.alloc(Math.max(fmtSize, 16));
  fmt.writeUInt16LE(s.formatCode ?? 1, 0);
  fmt.writeUInt16LE(channels & 0xffff, 2);
  fmt.writeUInt32LE(rate >>> 0, 4);
  fmt.writeUInt32LE((rate * channels * Math.ceil(bitDepth / 8)) >>> 0, 8);
  fmt.writeUInt16LE((s.blockAlign ?? channels * Math.ceil(bitDepth / 8)) & 0xffff, 12);
  fmt.writeUInt16LE(bitDepth & 0xffff, 14);
  const data = s.data ?? Buffer.alloc(channels * Math.ceil(bitDepth / 8) * 64, 0x11);
  const chunk = (id: string, body: Buffer, size = body.length) => {
    const h = Buffer.alloc(8);
    h.write(id, 0, 'latin1');
    h.writeUInt32LE(size >>> 0, 4);
    return Buffer.concat([h, body, body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const fmtChunk = chunk('fmt ', fmt.subarray(0, fmtSize), fmtSize);
  const dataChunk = chunk('data', data, s.dataSize ?? data.length);
  const body = Buffer.concat([Buffer.from('WAVE'), ...(s.dataFirst ? [dataChunk, fmtChunk] : [fmtChunk]), s.extraChunks ?? Buffer.alloc(0), ...(s.dataFirst ? [] : [dataChunk])]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE((s.riffSize ?? body.length) >>> 0, 4);
  return Buffer.concat([head, body]);
}

/** Structural WAV mutations: bad RIFF sizes, wrong fmt chunks, zero channels, absurd rates, truncation, odd depths. */
export function malformedWav(r: Rng): { bytes: Buffer; applied: string[] } {
  const base: WavSpec = { channels: r.pick([1, 2]), sampleRate: r.pick([8000, 16000, 22050, 44100]), bitDepth: r.pick([8, 16, 24, 32]) };
  const frames = r.range(0, 120);
  const withData = (s: WavSpec) => ({ ...s, data: s.data ?? r.bytes((s.channels ?? 1) * Math.ceil((s.bitDepth ?? 16) / 8) * frames) });
  switch (r.int(13)) {
    case 0: {
      const riffSize = r.pick([0, 4, 0xffffffff, r.int(2 ** 32)]);
      return { bytes: makeWav(withData({ ...base, riffSize })), applied: [`wav:riff-size-${riffSize}`] };
    }
    case 1: {
      const fmtSize = r.pick([0, 2, 14, 15, 18, 40, 39]);
      return { bytes: makeWav(withData({ ...base, fmtSize, formatCode: fmtSize >= 40 ? 0xfffe : base.formatCode })), applied: [`wav:fmt-size-${fmtSize}`] };
    }
    case 2:
      return { bytes: makeWav(withData({ ...base, channels: 0 })), applied: ['wav:zero-channels'] };
    case 3: {
      const sampleRate = r.pick([0, 1, 3, 999, 1000, 768001, 1_000_000_000, 0xffffffff, 0x7fffffff, r.int(2 ** 32)]);
      return { bytes: makeWav(withData({ ...base, sampleRate })), applied: [`wav:rate-${sampleRate}`] };
    }
    case 4: { // data chunk declares more than is there, or a partial frame
      const spec = withData(base);
      const dataSize = r.pick([spec.data!.length + r.range(1, 1000), 0xffffffff, Math.max(0, spec.data!.length - 1)]);
      return { bytes: makeWav({ ...spec, dataSize }), applied: [`wav:data-size-${dataSize}`] };
    }
    case 5: {
      const bitDepth = r.pick([0, 1, 4, 7, 12, 20, 48, 64, 65535]);
      return { bytes: makeWav(withData({ ...base, bitDepth })), applied: [`wav:bits-${bitDepth}`] };
    }
    case 6: {
      const formatCode = r.pick([0, 2, 3, 6, 7, 0x55, 0xfffe, 0xffff]);
      const bitDepth = formatCode === 3 ? r.pick([32, 64, 16]) : base.bitDepth;
      return { bytes: makeWav(withData({ ...base, formatCode, bitDepth, fmtSize: formatCode === 0xfffe ? r.pick([16, 40]) : 16 })), applied: [`wav:format-${formatCode}`] };
    }
    case 7: {
      const blockAlign = r.pick([0, 1, 3, 65535]);
      return { bytes: makeWav(withData({ ...base, blockAlign })), applied: [`wav:block-align-${blockAlign}`] };
    }
    case 8: { // float samples: NaN / Infinity
      const data = Buffer.alloc(4 * r.range(1, 32));
      for (let i = 0; i < data.length; i += 4) data.writeFloatLE(r.pick([0.5, NaN, Infinity, -Infinity, 1e30, -0]), i);
      return { bytes: makeWav({ formatCode: 3, channels: 1, bitDepth: 32, sampleRate: 8000, data }), applied: ['wav:float-nonfinite'] };
    }
    case 9: { // stray chunks: odd sizes, huge sizes, data before fmt, two data chunks
      const extra = Buffer.alloc(8 + 3);
      extra.write(r.pick(['LIST', 'junk', 'fact', 'data', '\0\0\0\0']), 0, 'latin1');
      extra.writeUInt32LE(r.pick([3, 0, 0xfffffff0, 11]), 4);
      return { bytes: makeWav(withData({ ...base, extraChunks: extra, dataFirst: r.chance(0.3) })), applied: ['wav:stray-chunk'] };
    }
    case 10: { // many channels
      const channels = r.pick([3, 255, 65535]);
      return { bytes: makeWav({ ...base, channels, bitDepth: 8, data: r.bytes(r.range(0, 600)) }), applied: [`wav:channels-${channels}`] };
    }
    case 11: { // truncated anywhere
      const b = makeWav(withData(base));
      return { bytes: b.subarray(0, r.int(b.length)), applied: ['wav:truncate'] };
    }
    default:
      return mutate(makeWav(withData(base)), r, [BYTE_MUTATIONS], 4);
  }
}

// ---------------------------------------------------------------------------------------------
// API requests
// ---------------------------------------------------------------------------------------------

type Schema = Record<string, any>;

/** A random JSON value of any type (for wrong types), with nesting up to `depth`. */
export function randomJson(r: Rng, depth = 3): unknown {
  switch (r.int(depth > 0 ? 9 : 6)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1, 1.5, -0.0001, 2 ** 31, 2 ** 31 - 1, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE]);
    case 3: return r.pick(['', ' ', 'a', 'null', '1', 'true', '[]', '{}', '-1', '1e999', '../../etc/passwd', '%00', '\u0000', '😀'.repeat(3), "'; DROP TABLE items; --", '__proto__', 'constructor', '\ud800', 'x'.repeat(r.range(100, 3000))]);
    case 4: return r.int(1000);
    case 5: return 'w' + r.int(100);
    case 6: return Array.from({ length: r.int(4) }, () => randomJson(r, depth - 1));
    case 7: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick(['a', 'labels', 'url', 'items', '__proto__', 'constructor', 'kind', 'x'.repeat(r.range(1, 50))]), randomJson(r, depth - 1)]));
    default: return deepNest(r.range(20, 200), r.chance(0.5));
  }
}

export function deepNest(depth: number, arrays: boolean): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
}

/**
 * A value the schema accepts, drawn at random and leaning on the edges (empty/longest strings,
 * min/max numbers, empty/long arrays): what reaches the handler after validation.
 */
export function fromSchema(s: Schema, r: Rng, depth = 0): unknown {
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.anyOf)) return fromSchema(r.pick(s.anyOf), r, depth);
  if (Array.isArray(s.oneOf)) return fromSchema(r.pick(s.oneOf), r, depth);
  if (Array.isArray(s.enum)) return r.pick(s.enum);
  switch (s.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const req = new Set<string>(s.required ?? []);
      for (const [k, v] of Object.entries<Schema>(s.properties ?? {})) if (req.has(k) || r.chance(0.6)) out[k] = fromSchema(v, r, depth + 1);
      return out;
    }
    case 'array': {
      const lo = s.minItems ?? 0;
      const hi = Math.min(s.maxItems ?? 8, lo + (depth > 2 ? 2 : 8));
      return Array.from({ length: r.range(lo, Math.max(lo, hi)) }, () => fromSchema(s.items ?? {}, r, depth + 1));
    }
    case 'string': {
      if (s.pattern) return r.pick(['a', 'sec', 'A0', 'x.y-z_1', 'nobody']);
      const lo = s.minLength ?? 0;
      const hi = Math.min(s.maxLength ?? 64, 4096);
      const len = r.pick([lo, lo, hi, r.range(lo, Math.min(hi, lo + 20))]);
      const alphabet = r.pick(['ab', 'a', 'b', 'é😀\u0000\u2028', "'\"\\<>%", ' ']);
      let str = '';
      while (str.length < len) str += alphabet[r.int(alphabet.length)];
      return [...str].slice(0, Math.max(lo, len)).join('').slice(0, hi).padEnd(lo, 'a');
    }
    case 'integer':
    case 'number': {
      const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -(2 ** 31));
      const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 2 ** 31 - 1);
      const v = r.pick([lo, hi, 0, 1, 2, 3, lo + 1, Math.floor((lo + hi) / 2), r.range(Math.max(lo, -1000), Math.min(hi, 1000))]);
      const n = Math.min(hi, Math.max(lo, v));
      return s.type === 'number' && r.chance(0.3) ? Math.min(hi, Math.max(lo, n + 0.5)) : n;
    }
    case 'boolean':
      return r.chance(0.5);
    case 'null':
      return null;
    default:
      return randomJson(r, 1);
  }
}

/** Breaks a (schema-valid) value: wrong types, extra properties, huge strings/arrays, deep nesting. */
export function breakValue(v: unknown, r: Rng): { value: unknown; how: string } {
  const k = r.int(8);
  if (k === 0 || v === null || typeof v !== 'object') return { value: randomJson(r), how: 'wrong-type' };
  if (k === 1) return { value: Array.isArray(v) ? { ...v } : [v], how: 'array-object-swap' };
  const copy = structuredClone(v) as any;
  const paths: Array<[any, string | number]> = [];
  const walk = (o: any, d: number) => {
    if (d > 6 || o === null || typeof o !== 'object') return;
    for (const key of Object.keys(o)) {
      paths.push([o, Array.isArray(o) ? Number(key) : key]);
      walk(o[key], d + 1);
    }
  };
  walk(copy, 0);
  const target = paths.length ? r.pick(paths) : null;
  switch (k) {
    case 2: // extra property at some depth
      if (target && typeof target[0][target[1]] === 'object' && target[0][target[1]] !== null && !Array.isArray(target[0][target[1]])) target[0][target[1]].zz_extra = 1;
      else if (!Array.isArray(copy)) copy[r.pick(['extra', '__proto__', 'constructor', 'prototype'])] = randomJson(r, 1);
      else copy.push(randomJson(r, 1));
      return { value: copy, how: 'extra-property' };
    case 3: // a wrong type somewhere inside
      if (target) target[0][target[1]] = randomJson(r, 1);
      return { value: copy, how: 'inner-wrong-type' };
    case 4: // a huge string
      if (target) target[0][target[1]] = 'h'.repeat(r.pick([1001, 10001, 200001, 300000]));
      return { value: copy, how: 'huge-string' };
    case 5: // a huge array
      if (target) target[0][target[1]] = Array.from({ length: r.pick([1001, 5000, 100001]) }, (_, i) => (r.chance(0.5) ? i : 'x'));
      return { value: copy, how: 'huge-array' };
    case 6: // deep nesting
      if (target) target[0][target[1]] = deepNest(r.range(30, 3000), r.chance(0.5));
      return { value: copy, how: 'deep-nesting' };
    default: // a property removed
      if (target) {
        if (Array.isArray(target[0])) target[0].splice(Number(target[1]), 1);
        else delete target[0][target[1]];
      }
      return { value: copy, how: 'missing-property' };
  }
}

/** A raw request body and its content type, many of them not JSON at all. */
export function rawBody(r: Rng, valid: unknown): { payload: string | Buffer; contentType: string | undefined; how: string } {
  const json = JSON.stringify(valid ?? {});
  switch (r.int(10)) {
    case 0: return { payload: json.slice(0, r.int(json.length)), contentType: 'application/json', how: 'truncated-json' };
    case 1: return { payload: r.pick(['not json', '{', '}', '[', '{"a":}', "{'a':1}", 'NaN', 'undefined', '{"a":1,}', '\u0000', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}']), contentType: 'application/json', how: 'non-json' };
    case 2: return { payload: Buffer.concat([Buffer.from(json.slice(0, 2)), Buffer.from(r.pick(INVALID_UTF8)), Buffer.from(json.slice(2))]), contentType: 'application/json', how: 'invalid-utf8' };
    case 3: return { payload: '', contentType: 'application/json', how: 'empty-json' };
    case 4: return { payload: json, contentType: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'image/png', 'application/json-patch+json']), how: 'wrong-content-type' };
    case 5: return { payload: json, contentType: r.pick(['application/json; charset=latin1', 'application/json; charset=utf-16', 'APPLICATION/JSON', 'application/json;;', 'application/jsonx', '']), how: 'odd-content-type' };
    case 6: return { payload: '['.repeat(r.range(1000, 100000)), contentType: 'application/json', how: 'deep-unclosed' };
    case 7: { const d = r.range(1000, 50000); const arr = r.chance(0.5); return { payload: (arr ? '[' : '{"a":').repeat(d) + '1' + (arr ? ']' : '}').repeat(d), contentType: 'application/json', how: 'deep-nesting' }; }
    case 8: return { payload: '"' + 'x'.repeat(r.pick([1 << 20, (1 << 20) + 10, 9 << 20])) + '"', contentType: 'application/json', how: 'oversized' };
    default: return { payload: Buffer.concat([Buffer.from('\ufeff'), Buffer.from(json)]), contentType: 'application/json', how: 'bom-json' };
  }
}

/** encodeURIComponent that cannot throw: lone surrogates (which it refuses) become U+FFFD. */
export function urlEncode(s: string): string {
  return encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** Weird path parameter values (each URL-encoded by the caller). */
export const PARAM_VALUES = ['0', '-1', '1.5', '2147483648', '99999999999999999999999', '1e3', 'abc', '', ' ', '%00', '..', '.', 'null', 'true', '[]', '😀', 'a'.repeat(300), "'", '"', '%', '%zz', '0x10', '00001', 'NaN', 'Infinity', '\u0000'];

/** Query strings: unknown keys, repeated keys, wrong types, huge values. */
export function randomQuery(r: Rng, schema: Schema | undefined): { qs: string; how: string } {
  const props = Object.keys(schema?.properties ?? {});
  const key = props.length && r.chance(0.7) ? r.pick(props) : r.pick(['x', 'limit', 'after', 'format', '__proto__', 'a[b]', '', 'limit[]']);
  const val = r.pick([...PARAM_VALUES, '1', '1000', '1001', 'jsonl', 'csv', 'label-studio', 'xml']);
  const enc = urlEncode;
  switch (r.int(4)) {
    case 0: return { qs: `${enc(key)}=${enc(val)}`, how: 'query-value' };
    case 1: return { qs: `${enc(key)}=${enc(val)}&${enc(key)}=${enc(r.pick(PARAM_VALUES))}`, how: 'query-repeated' };
    case 2: return { qs: `${enc(key)}=${enc(val)}&zz=${enc(val)}`, how: 'query-unknown' };
    default: return { qs: r.pick(['%', '&&&', '=', '==1', `${enc(key)}`, `${enc(key)}=%E0%A4%A`, `${enc(key)}=${'9'.repeat(400)}`]), how: 'query-raw' };
  }
}
