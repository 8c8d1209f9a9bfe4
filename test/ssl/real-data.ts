/**
 * Small real subsets of the shared datasets (../shared/datasets, see its README) for the SSL
 * tests, with their labels (used only to check embeddings, never to pretrain).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dataset } from '../helpers/datasets.ts';
import { downmix, parseWav } from '../../src/ingest/wav.ts';
import type { ModalityData } from '../../src/ssl/types.ts';

export interface Labelled<D extends ModalityData = ModalityData> {
  data: D;
  labels: number[];
}

/** Deterministic stride subset: every item whose index ≡ offset (mod step) — keeps all classes. */
function pick<T>(xs: T[], n: number): T[] {
  if (n >= xs.length) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]);
}

/** SMS Spam Collection (Almeida & Gómez Hidalgo, CC BY 4.0): label 1 = spam. */
export function smsSpam(n = Infinity): Labelled<Extract<ModalityData, { modality: 'text' }>> {
  const rows = readFileSync(dataset('text/sms-spam/SMSSpamCollection'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const tab = l.indexOf('\t');
      return { label: l.slice(0, tab) === 'spam' ? 1 : 0, text: l.slice(tab + 1) };
    });
  const sel = pick(rows, n);
  return { data: { modality: 'text', texts: sel.map((r) => r.text) }, labels: sel.map((r) => r.label) };
}

/** UCI/scikit-learn 8×8 digits (BSD-3): 64 values 0–16, then the label. Pixels scaled to [0, 1]. */
export function digits(n = Infinity): Labelled<Extract<ModalityData, { modality: 'image' }>> {
  const text = gunzipSync(readFileSync(dataset('images/digits/digits.csv.gz'))).toString('utf8');
  const rows = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[0-9]/.test(l))
    .map((l) => l.split(',').map(Number));
  const sel = pick(rows, n);
  const pixels = new Float32Array(sel.length * 64);
  sel.forEach((r, i) => {
    for (let j = 0; j < 64; j++) pixels[i * 64 + j] = r[j] / 16;
  });
  return { data: { modality: 'image', pixels, count: sel.length, height: 8, width: 8, channels: 1 }, labels: sel.map((r) => r[64]) };
}

/** Free Spoken Digit Dataset (CC BY-SA 4.0), 8 kHz mono; `{digit}_{speaker}_{index}.wav`. */
export function fsdd(n = Infinity, filter: (index: number) => boolean = () => true): Labelled<Extract<ModalityData, { modality: 'audio' }>> {
  const dir = dataset('audio/fsdd/recordings');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .filter((f) => filter(Number(f.split('_')[2].replace('.wav', ''))))
    .sort();
  const sel = pick(files, n);
  let sampleRate = 0;
  const waves = sel.map((f) => {
    const w = parseWav(readFileSync(`${dir}/${f}`));
    sampleRate = w.sampleRate;
    return downmix(w.channels);
  });
  return { data: { modality: 'audio', waves, sampleRate }, labels: sel.map((f) => Number(f.split('_')[0])) };
}

const KDD_CAT = new Set([1, 2, 3]);
/** The usual grouping of NSL-KDD attack names into 4 categories (normal = 0). */
const KDD_GROUPS: Record<string, number> = {
  normal: 0,
  back: 1, land: 1, neptune: 1, pod: 1, smurf: 1, teardrop: 1,
  ipsweep: 2, nmap: 2, portsweep: 2, satan: 2,
  ftp_write: 3, guess_passwd: 3, imap: 3, multihop: 3, phf: 3, spy: 3, warezclient: 3, warezmaster: 3,
  buffer_overflow: 4, loadmodule: 4, perl: 4, rootkit: 4,
};

/**
 * NSL-KDD (UNB, research use), KDDTrain+_20Percent: 41 features (protocol_type, service, flag
 * categorical), then the attack name and difficulty. `labels`: 0 = normal, 1 = any attack;
 * `group`: 0 normal, 1 DoS, 2 probe, 3 R2L, 4 U2R.
 */
export function nslKdd(n = Infinity): Labelled<Extract<ModalityData, { modality: 'tabular' }>> & { attack: string[]; group: number[] } {
  const lines = readFileSync(dataset('tabular/nsl-kdd/KDDTrain+_20Percent.txt'), 'utf8').split('\n').filter((l) => l.includes(','));
  const sel = pick(lines, n);
  const columns = Array.from({ length: 41 }, (_, i) => ({ name: `f${i}`, type: KDD_CAT.has(i) ? ('cat' as const) : ('num' as const) }));
  const rows: Array<Array<number | string | null>> = [];
  const attack: string[] = [];
  for (const l of sel) {
    const f = l.split(',');
    rows.push(f.slice(0, 41).map((v, i) => (KDD_CAT.has(i) ? v : Number(v))));
    attack.push(f[41]);
  }
  return {
    data: { modality: 'tabular', rows, columns },
    labels: attack.map((a) => (a === 'normal' ? 0 : 1)),
    attack,
    group: attack.map((a) => KDD_GROUPS[a] ?? 5),
  };
}
