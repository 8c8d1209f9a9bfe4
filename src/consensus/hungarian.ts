/**
 * Optimal assignment (the Hungarian method: Kuhn 1955, Munkres 1957), in the O(n²·m) form with
 * row/column potentials and shortest augmenting paths (Jonker & Volgenant 1987; as written in
 * e-maxx's "Hungarian algorithm"). Used to match one annotator's spans, boxes or segments to
 * another's one-to-one.
 */

/**
 * The assignment of every row to a distinct column (rows ≤ columns) with the least total cost.
 * Returns, per row, its column.
 */
export function minCostAssignment(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  if (n === 0) return [];
  const m = cost[0].length;
  if (m < n) throw new Error(`minCostAssignment: ${n} rows but only ${m} columns (transpose first)`);
  for (const r of cost) if (r.length !== m || r.some((x) => !Number.isFinite(x))) throw new Error('minCostAssignment: the cost matrix must be rectangular and finite');
  // 1-based potentials u (rows), v (columns); p[j] = row matched to column j; way[j] = previous column on the path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] > 0) out[p[j] - 1] = j - 1;
  return out;
}

export interface Match {
  /** Row and column of a matched pair, and its weight. */
  i: number;
  j: number;
  w: number;
}

/**
 * A one-to-one matching of rows to columns over the allowed pairs (`w[i][j]` a number ≥ 0;
 * null = may not match) that has the most pairs and, among those, the largest total weight.
 * Each allowed pair is worth BIG + w with BIG larger than every allowed weight summed, so one
 * more pair always beats any gain in weight; the assignment minimises the negated worth (a
 * forbidden or padding cell costs 0, i.e. "unmatched").
 */
export function maxMatching(w: readonly (readonly (number | null)[])[]): Match[] {
  const n = w.length;
  const m = n === 0 ? 0 : w[0].length;
  if (n === 0 || m === 0) return [];
  let total = 0;
  for (const r of w) {
    if (r.length !== m) throw new Error('maxMatching: the weight matrix must be rectangular');
    for (const x of r) {
      if (x === null) continue;
      if (!Number.isFinite(x) || x < 0) throw new Error(`maxMatching: weights must be finite and ≥ 0, got ${x}`);
      total += x;
    }
  }
  const big = total + 1;
  const transpose = n > m;
  const rows = transpose ? m : n;
  const cols = transpose ? n : m;
  const at = (r: number, c: number) => (transpose ? w[c][r] : w[r][c]);
  const cost = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => {
    const x = at(r, c);
    return x === null ? 0 : -(big + x);
  }));
  const assigned = minCostAssignment(cost);
  const out: Match[] = [];
  assigned.forEach((c, r) => {
    const x = at(r, c);
    if (c >= 0 && x !== null) out.push(transpose ? { i: c, j: r, w: x } : { i: r, j: c, w: x });
  });
  return out.sort((a, b) => a.i - b.i);
}
