/** One numeric vector per row, row-major. */
export interface Sample {
  rows: number;
  dim: number;
  data: Float32Array | Float64Array;
}

/** Every drift test honours this contract (ARCHITECTURE.md): test(ref, cur, opts) → result. */
export interface DriftResult {
  statistic: number;
  pValue: number;
  drift: boolean;
}

export interface DriftOptions {
  alpha?: number;
  seed?: number;
}
