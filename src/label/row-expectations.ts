/**
 * What the replayed log says each row of one table must be, in compact form: per row key a
 * 64-bit fingerprint, how to compare (a mode), the seq of the event that said so, and whether
 * the table scan met the row. About 65 bytes a row (the key index and the typed arrays, measured
 * by bench/audit-verify.ts), so a replay of a million-row log stays in tens of megabytes rather
 * than holding events.
 */
export class RowExpectations<K extends number | string> {
  private readonly index = new Map<K, number>();
  private keys: K[] = [];
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private modes = new Uint16Array(1024);
  private seqs = new Float64Array(1024);
  private seen = new Uint8Array(1024);

  get size(): number {
    return this.keys.length;
  }

  /** Records (or replaces: a later event wins) what `key` must be. */
  set(key: K, seq: number, mode: number, fp: readonly [number, number]): void {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      if (i === this.hi.length) this.grow();
      this.index.set(key, i);
      this.keys.push(key);
    }
    this.hi[i] = fp[0];
    this.lo[i] = fp[1];
    this.modes[i] = mode;
    this.seqs[i] = seq;
  }

  /** The slot of `key`, or -1 when no event named the row. */
  slot(key: K): number {
    return this.index.get(key) ?? -1;
  }

  mode = (i: number) => this.modes[i];
  seq = (i: number) => this.seqs[i];
  key = (i: number) => this.keys[i];
  matches = (i: number, fp: readonly [number, number]) => this.hi[i] === fp[0] && this.lo[i] === fp[1];
  markSeen = (i: number) => void (this.seen[i] = 1);
  wasSeen = (i: number) => this.seen[i] === 1;

  private grow() {
    const n = this.hi.length * 2;
    const widen = <T extends Uint32Array | Uint16Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.hi = widen(this.hi, (k) => new Uint32Array(k));
    this.lo = widen(this.lo, (k) => new Uint32Array(k));
    this.modes = widen(this.modes, (k) => new Uint16Array(k));
    this.seqs = widen(this.seqs, (k) => new Float64Array(k));
    this.seen = widen(this.seen, (k) => new Uint8Array(k));
  }
}
