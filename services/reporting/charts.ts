/**
 * The period report's chart: one self-contained SVG (no scripts, no external resources) with three
 * panels on the period's UTC time axis: the realized equity, its drawdown below the running peak,
 * and the net PnL per hour (daily report) or per day (weekly, monthly) as bars. Text is set in the
 * bundled font (REPORT_FONT_FAMILY), so the PNG made from it looks the same on every machine: the
 * renderer loads that one font file and no system fonts.
 */
import { drawdownSeries } from '../analytics/drawdown.js';
import { escapeXml, fmtNum } from '../report/format.js';
import { timeTicks, valueAxis } from '../report/scales.js';
import type { ReportFigures } from './figures.js';

/** The family name of the font file in assets/fonts (Cantarell, SIL Open Font License 1.1). */
export const REPORT_FONT_FAMILY = 'Cantarell';

const W = 1200;
const H = 900;
const L = 90;
const R = 30;
const C = { equity: '#2563eb', dd: '#dc2626', up: '#16a34a', down: '#dc2626', grid: '#e2e8f0', axis: '#94a3b8', text: '#334155', muted: '#64748b' };

const n1 = (x: number): string => (Math.round(x * 10) / 10).toFixed(1);

interface Panel {
  readonly top: number;
  readonly height: number;
}

function text(x: number, y: number, s: string, size: number, opts: { anchor?: string; color?: string } = {}): string {
  return `<text x="${n1(x)}" y="${n1(y)}" font-size="${size}" fill="${opts.color ?? C.text}"${opts.anchor ? ` text-anchor="${opts.anchor}"` : ''}>${escapeXml(s)}</text>`;
}

function yAxis(p: Panel, lo: number, hi: number, decimals: number): { y: (v: number) => number; svg: string } {
  const ax = valueAxis(lo, hi, 5);
  const y = (v: number): number => p.top + p.height - ((v - ax.min) / (ax.max - ax.min || 1)) * p.height;
  const parts = ax.ticks.map((t) => `<line x1="${L}" x2="${W - R}" y1="${n1(y(t))}" y2="${n1(y(t))}" stroke="${C.grid}"/>` + text(L - 8, y(t) + 4, fmtNum(t, Math.max(decimals, ax.decimals)), 12, { anchor: 'end', color: C.muted }));
  return { y, svg: parts.join('') };
}

/** The chart of a period report (see the file comment). */
export function periodChartSvg(f: ReportFigures): string {
  const x = (t: number): number => L + ((t - f.start) / (f.end - f.start)) * (W - L - R);
  const eqPanel: Panel = { top: 100, height: 280 };
  const ddPanel: Panel = { top: 420, height: 150 };
  const barPanel: Panel = { top: 620, height: 220 };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${REPORT_FONT_FAMILY}">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(text(L, 36, `${f.period} report · ${f.label}`, 22));
  out.push(text(L, 62, `net PnL ${fmtNum(Number(f.netPnl), 2)} ${f.quoteAsset} · fees ${fmtNum(Number(f.fees), 2)} · ${f.trades} trades · day boundary ${f.dayBoundary}`, 14, { color: C.muted }));

  // Equity.
  const eq = f.equity;
  const vals = eq.map((p) => p.equity);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const ey = yAxis(eqPanel, lo, hi === lo ? lo + 1 : hi, 2);
  out.push(ey.svg);
  out.push(text(L, eqPanel.top - 8, f.startEquity ? `realized equity (${f.quoteAsset})` : `cumulative net PnL (${f.quoteAsset}; no recorded start equity)`, 13, { color: C.muted }));
  if (eq.length > 0) {
    // A step line: equity changes at each exit and stays flat in between.
    const pts: string[] = [];
    let prev: number | undefined;
    for (const p of eq) {
      if (prev !== undefined) pts.push(`${n1(x(p.time))},${n1(ey.y(prev))}`);
      pts.push(`${n1(x(p.time))},${n1(ey.y(p.equity))}`);
      prev = p.equity;
    }
    out.push(`<polyline class="equity" fill="none" stroke="${C.equity}" stroke-width="2" points="${pts.join(' ')}"/>`);
  }

  // Drawdown.
  const dd = drawdownSeries(eq.map((p) => ({ time: p.time, equity: p.equity })));
  const ddLo = Math.min(0, ...dd.map((d) => d.drawdownPct));
  const dy = yAxis(ddPanel, ddLo === 0 ? -1 : ddLo, 0, 2);
  out.push(dy.svg);
  out.push(text(L, ddPanel.top - 8, 'drawdown below the running peak (%)', 13, { color: C.muted }));
  if (dd.length > 0) {
    const pts = dd.map((d) => `${n1(x(d.time))},${n1(dy.y(d.drawdownPct))}`);
    out.push(`<polygon class="drawdown" fill="${C.dd}" fill-opacity="0.25" stroke="${C.dd}" points="${n1(x(dd[0]!.time))},${n1(dy.y(0))} ${pts.join(' ')} ${n1(x(dd[dd.length - 1]!.time))},${n1(dy.y(0))}"/>`);
  }

  // PnL bars.
  const b = f.pnlBuckets;
  const bVals = b.map((v) => v.netPnl);
  const bLo = Math.min(0, ...bVals);
  const bHi = Math.max(0, ...bVals);
  const by = yAxis(barPanel, bLo, bHi === bLo ? bLo + 1 : bHi, 2);
  out.push(by.svg);
  out.push(text(L, barPanel.top - 8, `net PnL per ${f.period === 'daily' ? 'hour' : 'day'} (${f.quoteAsset})`, 13, { color: C.muted }));
  const slot = (W - L - R) / Math.max(1, b.length);
  b.forEach((v, i) => {
    const y0 = by.y(0);
    const y1 = by.y(v.netPnl);
    const top = Math.min(y0, y1);
    const h = Math.abs(y1 - y0);
    if (h > 0) out.push(`<rect class="bar" x="${n1(L + i * slot + slot * 0.15)}" y="${n1(top)}" width="${n1(slot * 0.7)}" height="${n1(Math.max(h, 1))}" fill="${v.netPnl >= 0 ? C.up : C.down}"/>`);
    if (b.length <= 31 && (b.length <= 12 || i % 2 === 0)) out.push(text(L + i * slot + slot / 2, barPanel.top + barPanel.height + 18, v.label, 11, { anchor: 'middle', color: C.muted }));
  });

  // Time axis under the equity and drawdown panels.
  for (const t of timeTicks(f.start, f.end, 8)) {
    out.push(`<line x1="${n1(x(t.time))}" x2="${n1(x(t.time))}" y1="${ddPanel.top + ddPanel.height}" y2="${ddPanel.top + ddPanel.height + 5}" stroke="${C.axis}"/>`);
    out.push(text(x(t.time), ddPanel.top + ddPanel.height + 20, t.label, 11, { anchor: 'middle', color: C.muted }));
  }
  if (f.empty) out.push(text(W / 2, eqPanel.top + eqPanel.height / 2, 'no trades closed in this period', 20, { anchor: 'middle', color: C.muted }));
  out.push('</svg>');
  return out.join('');
}
