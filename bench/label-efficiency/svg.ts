/**
 * A learning-curve chart as a standalone SVG document (hand-written, no chart library): accuracy
 * against labels for several series, optional horizontal reference lines, axes with ticks, axis
 * titles and a legend. Valid XML: every text is escaped.
 */
export interface CurveSeries {
  name: string;
  color: string;
  points: Array<{ labels: number; accuracy: number }>;
  /** Dashed line (reference series). */
  dashed?: boolean;
}

export interface CurveChart {
  title: string;
  series: CurveSeries[];
  /** Horizontal lines (e.g. the full-supervision accuracy and 95% of it). */
  lines?: Array<{ name: string; color: string; y: number }>;
  xLabel?: string;
  yLabel?: string;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** "Nice" tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function learningCurveSvg(c: CurveChart): string {
  const W = 720;
  const H = 440;
  const m = { left: 70, right: 200, top: 46, bottom: 58 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const pts = c.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p.labels);
  const ys = [...pts.map((p) => p.accuracy), ...(c.lines ?? []).map((l) => l.y)].filter(Number.isFinite);
  const xMax = Math.max(1, ...xs);
  const xMin = 0;
  let yMin = Math.min(1, ...ys);
  let yMax = Math.max(0, ...ys);
  yMin = Math.max(0, Math.floor((yMin - 0.05) * 10) / 10);
  yMax = Math.min(1, Math.ceil((yMax + 0.02) * 10) / 10);
  if (!(yMax > yMin)) [yMin, yMax] = [0, 1];
  const X = (v: number) => m.left + ((v - xMin) / (xMax - xMin)) * pw;
  const Y = (v: number) => m.top + ph - ((v - yMin) / (yMax - yMin)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${escapeXml(c.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - m.right / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(c.title)}</text>`);
  // Grid and ticks.
  for (const t of niceTicks(yMin, yMax)) {
    out.push(`<line x1="${m.left}" y1="${f(Y(t))}" x2="${m.left + pw}" y2="${f(Y(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${f(Y(t) + 4)}" text-anchor="end">${escapeXml(`${Math.round(t * 1000) / 10}%`)}</text>`);
  }
  for (const t of niceTicks(xMin, xMax)) {
    out.push(`<line x1="${f(X(t))}" y1="${m.top + ph}" x2="${f(X(t))}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(X(t))}" y="${m.top + ph + 19}" text-anchor="middle">${escapeXml(String(t))}</text>`);
  }
  // Axes.
  out.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${m.left + pw}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(c.xLabel ?? 'labels')}</text>`);
  out.push(`<text x="18" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 18 ${m.top + ph / 2})">${escapeXml(c.yLabel ?? 'test accuracy')}</text>`);
  // Reference lines.
  for (const l of c.lines ?? []) {
    if (!Number.isFinite(l.y)) continue;
    out.push(`<line x1="${m.left}" y1="${f(Y(l.y))}" x2="${m.left + pw}" y2="${f(Y(l.y))}" stroke="${escapeXml(l.color)}" stroke-dasharray="6 4"/>`);
  }
  // Series.
  for (const s of c.series) {
    const p = s.points.filter((q) => Number.isFinite(q.accuracy)).sort((a, b) => a.labels - b.labels);
    if (p.length === 0) continue;
    if (p.length > 1) {
      out.push(`<polyline fill="none" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${p.map((q) => `${f(X(q.labels))},${f(Y(q.accuracy))}`).join(' ')}"/>`);
    }
    for (const q of p) out.push(`<circle cx="${f(X(q.labels))}" cy="${f(Y(q.accuracy))}" r="3.5" fill="${escapeXml(s.color)}"/>`);
  }
  // Legend.
  const lx = m.left + pw + 16;
  let ly = m.top + 8;
  out.push(`<g>`);
  for (const s of c.series) {
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<circle cx="${lx + 11}" cy="${ly}" r="3.5" fill="${escapeXml(s.color)}"/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
    ly += 20;
  }
  for (const l of c.lines ?? []) {
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${escapeXml(l.color)}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(l.name)}</text>`);
    ly += 20;
  }
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
