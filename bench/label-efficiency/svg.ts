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

const W = 720;
const H = 440;
const M = { left: 70, right: 200, top: 46, bottom: 58 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const f = (v: number) => v.toFixed(1);

/** Data → pixel coordinates: x from 0 to the most labels, y over the accuracies rounded out to tenths. */
interface Scale {
  xMax: number;
  yMin: number;
  yMax: number;
  X(v: number): number;
  Y(v: number): number;
}

function scaleOf(c: CurveChart): Scale {
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
  return { xMax, yMin, yMax, X: (v) => M.left + ((v - xMin) / (xMax - xMin)) * PW, Y: (v) => M.top + PH - ((v - yMin) / (yMax - yMin)) * PH };
}

/** Grid, ticks, axes and axis titles. */
function frame(c: CurveChart, sc: Scale): string[] {
  const { X, Y } = sc;
  const out: string[] = [];
  for (const t of niceTicks(sc.yMin, sc.yMax)) {
    out.push(`<line x1="${M.left}" y1="${f(Y(t))}" x2="${M.left + PW}" y2="${f(Y(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${f(Y(t) + 4)}" text-anchor="end">${escapeXml(`${Math.round(t * 1000) / 10}%`)}</text>`);
  }
  for (const t of niceTicks(0, sc.xMax)) {
    out.push(`<line x1="${f(X(t))}" y1="${M.top + PH}" x2="${f(X(t))}" y2="${M.top + PH + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(X(t))}" y="${M.top + PH + 19}" text-anchor="middle">${escapeXml(String(t))}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`);
  out.push(`<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(c.xLabel ?? 'labels')}</text>`);
  out.push(`<text x="18" y="${M.top + PH / 2}" text-anchor="middle" transform="rotate(-90 18 ${M.top + PH / 2})">${escapeXml(c.yLabel ?? 'test accuracy')}</text>`);
  return out;
}

/** The reference lines, then each series as a polyline with its points. */
function plot(c: CurveChart, sc: Scale): string[] {
  const { X, Y } = sc;
  const out: string[] = [];
  for (const l of c.lines ?? []) {
    if (!Number.isFinite(l.y)) continue;
    out.push(`<line x1="${M.left}" y1="${f(Y(l.y))}" x2="${M.left + PW}" y2="${f(Y(l.y))}" stroke="${escapeXml(l.color)}" stroke-dasharray="6 4"/>`);
  }
  for (const s of c.series) {
    const p = s.points.filter((q) => Number.isFinite(q.accuracy)).sort((a, b) => a.labels - b.labels);
    if (p.length === 0) continue;
    if (p.length > 1) {
      out.push(`<polyline fill="none" stroke="${escapeXml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''} points="${p.map((q) => `${f(X(q.labels))},${f(Y(q.accuracy))}`).join(' ')}"/>`);
    }
    for (const q of p) out.push(`<circle cx="${f(X(q.labels))}" cy="${f(Y(q.accuracy))}" r="3.5" fill="${escapeXml(s.color)}"/>`);
  }
  return out;
}

/** The legend right of the plot: every series, then every reference line. */
function legend(c: CurveChart): string[] {
  const lx = M.left + PW + 16;
  let ly = M.top + 8;
  const out = [`<g>`];
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
  return out;
}

export function learningCurveSvg(c: CurveChart): string {
  const sc = scaleOf(c);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(c.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(c.title)}</text>`,
    ...frame(c, sc),
    ...plot(c, sc),
    ...legend(c),
    `</svg>`,
  ].join('\n') + '\n';
}
