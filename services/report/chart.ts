/**
 * The equity chart: a self-contained SVG (no scripts, no external styles or fonts) with two panels
 * sharing a UTC time axis: the equity curve on top and the drawdown (percent below the running
 * peak, a filled area under zero) below.
 */

import { drawdownSeries } from '../analytics/drawdown.js';
import { DAY_MS } from '../analytics/returns.js';
import type { EquityPoint } from '../analytics/types.js';
import { downsampleMinMax, type XY } from './downsample.js';
import { escapeXml, fmtDate, fmtNum } from './format.js';
import { timeTicks, valueAxis } from './scales.js';

/** Options of `equityChartSvg`. */
export interface EquityChartOptions {
  /** Title line at the top, e.g. "BTCUSDT · standard · conservative". */
  readonly title?: string;
  /** Quote asset shown in the equity panel's caption. Default 'USDT'. */
  readonly currency?: string;
  /** Initial balance, drawn as a dashed reference line. */
  readonly baseline?: number;
  /** Pixel size of the drawing. Default 1200 x 720. */
  readonly width?: number;
  readonly height?: number;
  /** Most points drawn per series (min/max per bucket, so extremes survive). Default 2000. */
  readonly maxPoints?: number;
}

const C = {
  equity: '#2563eb',
  equityFill: '#2563eb',
  drawdown: '#dc2626',
  baseline: '#64748b',
  grid: '#e2e8f0',
  axis: '#94a3b8',
  text: '#334155',
  muted: '#64748b',
};
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

const f1 = (x: number): string => {
  const s = x.toFixed(1);
  return s === '-0.0' ? '0.0' : s;
};

/**
 * Renders the equity and drawdown chart as SVG text. Samples must be in ascending time order;
 * samples with a non-finite time or equity are skipped.
 * The equity curve is the `<polyline class="equity">`, the drawdown outline the
 * `<polyline class="drawdown">`; each has at most `maxPoints` points.
 */
export function equityChartSvg(input: readonly EquityPoint[], opts: EquityChartOptions = {}): string {
  // A sample without a finite time or equity cannot be placed; drop it rather than draw NaN.
  const points = input.every((p) => Number.isFinite(p.time) && Number.isFinite(p.equity))
    ? input
    : input.filter((p) => Number.isFinite(p.time) && Number.isFinite(p.equity));
  const width = opts.width ?? 1200;
  const height = opts.height ?? 720;
  const maxPoints = opts.maxPoints ?? 2000;
  const currency = opts.currency ?? 'USDT';
  const title = opts.title ?? 'Equity and drawdown';

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g font-family="${escapeXml(FONT)}" fill="${C.text}">`,
    `<text x="24" y="34" font-size="18" font-weight="600">${escapeXml(title)}</text>`,
  );

  const left = 84;
  const right = width - 96;
  const top = 96;
  const bottom = height - 44;
  const gap = 36;
  const plotH = bottom - top - gap;
  const eqTop = top;
  const eqBottom = top + Math.round(plotH * 0.68);
  const ddTop = eqBottom + gap;
  const ddBottom = bottom;

  // Legend, top right: entries laid out right to left.
  const legend: { label: string; swatch: string }[] = [
    { label: 'Equity', swatch: `<line x1="0" y1="-4" x2="22" y2="-4" stroke="${C.equity}" stroke-width="2.5"/>` },
  ];
  if (opts.baseline !== undefined) {
    legend.push({
      label: 'Initial balance',
      swatch: `<line x1="0" y1="-4" x2="22" y2="-4" stroke="${C.baseline}" stroke-width="1.5" stroke-dasharray="5 4"/>`,
    });
  }
  legend.push({
    label: 'Drawdown',
    swatch: `<rect x="0" y="-10" width="22" height="12" fill="${C.drawdown}" fill-opacity="0.3" stroke="${C.drawdown}" stroke-width="1"/>`,
  });
  let lx = right;
  const legendParts: string[] = [];
  for (let i = legend.length - 1; i >= 0; i--) {
    const e = legend[i]!;
    const w = 30 + e.label.length * 7.2;
    lx -= w;
    legendParts.unshift(`<g transform="translate(${f1(lx)},64)">${e.swatch}<text x="28" y="0" font-size="13">${escapeXml(e.label)}</text></g>`);
    lx -= 16;
  }
  out.push(...legendParts);

  if (points.length === 0) {
    out.push(
      `<text x="${width / 2}" y="${height / 2}" font-size="16" text-anchor="middle" fill="${C.muted}">No equity data</text>`,
      '</g>',
      '</svg>',
    );
    return out.join('\n');
  }

  // Series: drawdown from the full series (exact), then each downsampled on its own.
  const eqFull: XY[] = points.map((p) => ({ x: p.time, y: p.equity }));
  const ddFull: XY[] = drawdownSeries(points).map((p) => ({ x: p.time, y: p.drawdownPct }));
  const eq = downsampleMinMax(eqFull, maxPoints);
  const dd = downsampleMinMax(ddFull, maxPoints);

  let t0 = points[0]!.time;
  let t1 = points[points.length - 1]!.time;
  if (!(t1 > t0)) {
    t0 -= 1_800_000;
    t1 += 1_800_000;
  }
  const sx = (t: number): number => left + ((t - t0) / (t1 - t0)) * (right - left);

  let eMin = Infinity;
  let eMax = -Infinity;
  for (const p of eq) {
    if (p.y < eMin) eMin = p.y;
    if (p.y > eMax) eMax = p.y;
  }
  if (opts.baseline !== undefined && Number.isFinite(opts.baseline)) {
    eMin = Math.min(eMin, opts.baseline);
    eMax = Math.max(eMax, opts.baseline);
  }
  const eAxis = valueAxis(eMin, eMax, 6);
  const sy = (v: number): number => eqBottom - ((v - eAxis.min) / (eAxis.max - eAxis.min)) * (eqBottom - eqTop);

  let dMin = 0;
  let dMinTime = t0;
  for (const p of dd) {
    if (p.y < dMin) {
      dMin = p.y;
      dMinTime = p.x;
    }
  }
  const dAxis = valueAxis(dMin < 0 ? dMin : -1, 0, 4);
  const sd = (v: number): number => ddTop + ((0 - v) / (0 - dAxis.min)) * (ddBottom - ddTop);

  // Panel captions.
  out.push(
    `<text x="${left}" y="${eqTop - 10}" font-size="12" font-weight="600" fill="${C.muted}">Equity (${escapeXml(currency)})</text>`,
    `<text x="${left}" y="${ddTop - 10}" font-size="12" font-weight="600" fill="${C.muted}">Drawdown from peak (%)</text>`,
  );

  // Vertical grid lines and date labels (shared by both panels).
  const xTicks = timeTicks(t0, t1, Math.max(2, Math.floor((right - left) / 120)));
  for (const tk of xTicks) {
    const x = f1(sx(tk.time));
    out.push(
      `<line x1="${x}" y1="${eqTop}" x2="${x}" y2="${eqBottom}" stroke="${C.grid}" stroke-width="1"/>`,
      `<line x1="${x}" y1="${ddTop}" x2="${x}" y2="${ddBottom}" stroke="${C.grid}" stroke-width="1"/>`,
      `<line x1="${x}" y1="${ddBottom}" x2="${x}" y2="${ddBottom + 5}" stroke="${C.axis}" stroke-width="1"/>`,
      `<text x="${x}" y="${ddBottom + 20}" font-size="11" text-anchor="middle" fill="${C.muted}">${escapeXml(tk.label)}</text>`,
    );
  }
  // Sub-day labels within one day carry no date, so the footnote names it.
  const oneDay = Math.floor(t0 / DAY_MS) === Math.floor(t1 / DAY_MS);
  const zone = oneDay ? `${fmtDate(t0)} UTC` : 'UTC';
  out.push(`<text x="${right}" y="${ddBottom + 36}" font-size="10" text-anchor="end" fill="${C.muted}">${zone}</text>`);

  // Horizontal grid and value labels.
  for (const v of eAxis.ticks) {
    const y = f1(sy(v));
    out.push(
      `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${C.grid}" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${y}" dy="4" font-size="11" text-anchor="end" fill="${C.muted}">${fmtNum(v, eAxis.decimals)}</text>`,
    );
  }
  for (const v of dAxis.ticks) {
    const y = f1(sd(v));
    out.push(
      `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${C.grid}" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${y}" dy="4" font-size="11" text-anchor="end" fill="${C.muted}">${fmtNum(v, dAxis.decimals)}%</text>`,
    );
  }

  // Equity: soft area under the curve, the baseline, then the line on top.
  const eqPts = eq.map((p) => `${f1(sx(p.x))},${f1(sy(p.y))}`).join(' ');
  const firstX = f1(sx(eq[0]!.x));
  const lastX = f1(sx(eq[eq.length - 1]!.x));
  out.push(
    `<defs><linearGradient id="eqc-fill" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${C.equityFill}" stop-opacity="0.18"/><stop offset="1" stop-color="${C.equityFill}" stop-opacity="0.02"/></linearGradient></defs>`,
    `<polygon points="${firstX},${f1(eqBottom)} ${eqPts} ${lastX},${f1(eqBottom)}" fill="url(#eqc-fill)" stroke="none"/>`,
  );
  if (opts.baseline !== undefined && Number.isFinite(opts.baseline)) {
    const y = f1(sy(opts.baseline));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${C.baseline}" stroke-width="1.2" stroke-dasharray="5 4"/>`);
  }
  out.push(
    `<polyline class="equity" points="${eqPts}" fill="none" stroke="${C.equity}" stroke-width="1.6" stroke-linejoin="round"/>`,
  );

  // Final equity tag at the right end of the curve.
  const last = points[points.length - 1]!;
  const ly = sy(last.equity);
  out.push(
    `<circle cx="${lastX}" cy="${f1(ly)}" r="3" fill="${C.equity}"/>`,
    `<rect x="${right + 6}" y="${f1(ly - 10)}" width="86" height="20" rx="3" fill="${C.equity}"/>`,
    `<text x="${right + 49}" y="${f1(ly)}" dy="4" font-size="11" font-weight="600" text-anchor="middle" fill="#ffffff">${fmtNum(last.equity, last.equity >= 1000 ? 0 : 2)}</text>`,
  );

  // Drawdown: filled area between zero and the curve, outline, and the deepest point marked.
  const ddPts = dd.map((p) => `${f1(sx(p.x))},${f1(sd(p.y))}`).join(' ');
  const zeroY = f1(sd(0));
  out.push(
    `<polygon points="${f1(sx(dd[0]!.x))},${zeroY} ${ddPts} ${f1(sx(dd[dd.length - 1]!.x))},${zeroY}" fill="${C.drawdown}" fill-opacity="0.28" stroke="none"/>`,
    `<polyline class="drawdown" points="${ddPts}" fill="none" stroke="${C.drawdown}" stroke-width="1.2" stroke-linejoin="round"/>`,
  );
  if (dMin < 0) {
    const mx = sx(dMinTime);
    const my = sd(dMin);
    const anchor = mx > (left + right) / 2 ? 'end' : 'start';
    const tx = anchor === 'end' ? mx - 8 : mx + 8;
    out.push(
      `<circle cx="${f1(mx)}" cy="${f1(my)}" r="3.5" fill="${C.drawdown}"/>`,
      `<text x="${f1(tx)}" y="${f1(Math.min(my, ddBottom - 4))}" dy="-4" font-size="11" font-weight="600" text-anchor="${anchor}" fill="${C.drawdown}" stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">max ${fmtNum(dMin, 2)}%</text>`,
    );
  }

  // Axes drawn last so they sit above the fills.
  out.push(
    `<line x1="${left}" y1="${eqTop}" x2="${left}" y2="${eqBottom}" stroke="${C.axis}" stroke-width="1"/>`,
    `<line x1="${left}" y1="${eqBottom}" x2="${right}" y2="${eqBottom}" stroke="${C.axis}" stroke-width="1"/>`,
    `<line x1="${left}" y1="${ddTop}" x2="${left}" y2="${ddBottom}" stroke="${C.axis}" stroke-width="1"/>`,
    `<line x1="${left}" y1="${zeroY}" x2="${right}" y2="${zeroY}" stroke="${C.axis}" stroke-width="1"/>`,
    `<line x1="${left}" y1="${ddBottom}" x2="${right}" y2="${ddBottom}" stroke="${C.axis}" stroke-width="1"/>`,
    '</g>',
    '</svg>',
  );
  return out.join('\n');
}
