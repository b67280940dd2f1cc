/**
 * The price chart of one symbol: a self-contained SVG of the price (each drawn bucket's high-low
 * band and its last close), the levels the strategy acted on (grey), and every trade: its entry
 * (green triangle), its exit (a dot, green for a win, red for a loss), its initial stop (red) and
 * final stop when it moved (orange, dashed) and its targets (green, dashed), each drawn from entry
 * to exit.
 *
 * Light enough for a month of 1m candles: only what is DRAWN is reduced. Candles are bucketed
 * into at most `maxBuckets` columns keeping each bucket's true high and low (no extreme is lost);
 * level snapshots that repeat a price become one segment; trades beyond `maxTrades` are drawn as
 * markers only. The figures elsewhere are computed from the full data.
 */
import type { ClosedTrade } from '../analytics/types.js';
import type { Candle } from '../core/types.js';
import { DAY_MS } from '../analytics/returns.js';
import { escapeXml, fmtDate, fmtNum } from './format.js';
import { timeTicks, valueAxis } from './scales.js';

export interface PriceChartInput {
  readonly symbol: string;
  readonly candles: readonly Candle[];
  /** The symbol's trades (others are ignored). */
  readonly trades: readonly ClosedTrade[];
  /** Level snapshots (time, prices in force from then on), oldest first. */
  readonly levels?: readonly { readonly time: number; readonly prices: readonly number[] }[];
}

export interface PriceChartOptions {
  readonly width?: number;
  readonly height?: number;
  /** Most price columns drawn (default 1000). */
  readonly maxBuckets?: number;
  /** Most trades drawn with their stop and target lines (default 600); later ones as markers only. */
  readonly maxTrades?: number;
  /** Most level segments drawn (default 1500; the longest are kept). */
  readonly maxLevelSegments?: number;
}

const C = { band: '#93c5fd', close: '#1d4ed8', level: '#94a3b8', entry: '#16a34a', win: '#16a34a', loss: '#dc2626', stop: '#dc2626', moved: '#ea580c', target: '#16a34a', grid: '#e2e8f0', axis: '#94a3b8', text: '#334155', muted: '#64748b' };
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const f1 = (x: number): string => {
  const s = x.toFixed(1);
  return s === '-0.0' ? '0.0' : s;
};

interface Bucket {
  t: number;
  hi: number;
  lo: number;
  close: number;
}

/** Candles into at most `max` equal-count columns: each keeps its first time, true high and low, last close. */
export function bucketCandles(candles: readonly Candle[], max: number): Bucket[] {
  const n = candles.length;
  const per = Math.max(1, Math.ceil(n / Math.max(1, max)));
  const out: Bucket[] = [];
  for (let i = 0; i < n; i += per) {
    const first = candles[i] as Candle;
    const b: Bucket = { t: first.openTime, hi: first.high, lo: first.low, close: first.close };
    for (let j = i + 1; j < Math.min(n, i + per); j++) {
      const c = candles[j] as Candle;
      if (c.high > b.hi) b.hi = c.high;
      if (c.low < b.lo) b.lo = c.low;
      b.close = c.close;
    }
    out.push(b);
  }
  return out;
}

/** Snapshots into segments: a price present in consecutive snapshots is one segment [from, to). */
export function levelSegments(snaps: readonly { readonly time: number; readonly prices: readonly number[] }[], end: number): { price: number; from: number; to: number }[] {
  const open = new Map<number, number>();
  const out: { price: number; from: number; to: number }[] = [];
  for (const s of snaps) {
    const now = new Set(s.prices);
    for (const [price, from] of open) {
      if (!now.has(price)) {
        out.push({ price, from, to: s.time });
        open.delete(price);
      }
    }
    for (const p of now) if (!open.has(p)) open.set(p, s.time);
  }
  for (const [price, from] of open) out.push({ price, from, to: end });
  return out;
}

/** Renders the chart (see the file comment). */
export function priceChartSvg(input: PriceChartInput, opts: PriceChartOptions = {}): string {
  const width = opts.width ?? 1200;
  const height = opts.height ?? 460;
  const title = `${input.symbol}: price, levels and trades`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<g font-family="${escapeXml(FONT)}" fill="${C.text}">`,
    `<text x="24" y="30" font-size="16" font-weight="600">${escapeXml(title)}</text>`,
  ];
  const candles = input.candles;
  if (candles.length === 0) {
    out.push(`<text x="${width / 2}" y="${height / 2}" font-size="15" text-anchor="middle" fill="${C.muted}">No candles</text>`, '</g>', '</svg>');
    return out.join('\n');
  }
  const left = 84;
  const right = width - 24;
  const top = 56;
  const bottom = height - 44;
  const buckets = bucketCandles(candles, opts.maxBuckets ?? 1000);
  const trades = input.trades.filter((t) => t.symbol === input.symbol);
  const t0 = (candles[0] as Candle).openTime;
  const t1 = Math.max((candles[candles.length - 1] as Candle).openTime + 60_000, t0 + 60_000);
  let lo = Infinity;
  let hi = -Infinity;
  for (const b of buckets) {
    if (b.lo < lo) lo = b.lo;
    if (b.hi > hi) hi = b.hi;
  }
  // Stops and targets widen the scale only moderately (a far target would flatten the price).
  const span = hi - lo || hi * 0.01 || 1;
  const floor = lo - span * 0.15;
  const ceil = hi + span * 0.15;
  for (const t of trades) {
    for (const p of [t.plan?.stop.toNumber(), ...(t.plan?.targets.map((x) => x.toNumber()) ?? [])]) {
      if (p === undefined || !Number.isFinite(p)) continue;
      if (p < lo && p >= floor) lo = p;
      if (p > hi && p <= ceil) hi = p;
    }
  }
  const axis = valueAxis(lo, hi, 6);
  const sx = (t: number): number => left + ((t - t0) / (t1 - t0)) * (right - left);
  const sy = (v: number): number => bottom - ((v - axis.min) / (axis.max - axis.min)) * (bottom - top);
  const inY = (v: number): boolean => v >= axis.min && v <= axis.max;
  const xTicks = timeTicks(t0, t1, Math.max(2, Math.floor((right - left) / 120)));
  for (const tk of xTicks) {
    const x = f1(sx(tk.time));
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${C.grid}" stroke-width="1"/>`,
      `<text x="${x}" y="${bottom + 18}" font-size="11" text-anchor="middle" fill="${C.muted}">${escapeXml(tk.label)}</text>`,
    );
  }
  const oneDay = Math.floor(t0 / DAY_MS) === Math.floor(t1 / DAY_MS);
  out.push(`<text x="${right}" y="${bottom + 34}" font-size="10" text-anchor="end" fill="${C.muted}">${oneDay ? `${fmtDate(t0)} UTC` : 'UTC'}</text>`);
  for (const v of axis.ticks) {
    const y = f1(sy(v));
    out.push(
      `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${C.grid}" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${y}" dy="4" font-size="11" text-anchor="end" fill="${C.muted}">${fmtNum(v, axis.decimals)}</text>`,
    );
  }
  const clip = `pc-${input.symbol.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  out.push(`<clipPath id="${clip}"><rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/></clipPath>`, `<g clip-path="url(#${clip})">`);

  // Levels: one path of horizontal segments, the longest kept when there are too many.
  if (input.levels && input.levels.length > 0) {
    // Drawn on whole pixel rows: levels a pixel apart are one line, so a level that drifts by a
    // tick between snapshots stays one segment.
    const rows = input.levels.map((l) => ({ time: l.time, prices: [...new Set(l.prices.filter(inY).map((p) => Math.round(sy(p))))] }));
    let segs = levelSegments(rows, t1);
    const maxSegs = opts.maxLevelSegments ?? 1500;
    if (segs.length > maxSegs) segs = segs.sort((a, b) => b.to - b.from - (a.to - a.from)).slice(0, maxSegs);
    const d = segs.map((s) => `M${f1(sx(s.from))} ${s.price}H${f1(sx(s.to))}`).join('');
    if (d) out.push(`<path class="levels" d="${d}" stroke="${C.level}" stroke-width="1" stroke-opacity="0.7" fill="none"/>`);
  }

  // Price: the high-low band and the close line.
  const upper = buckets.map((b) => `${f1(sx(b.t))},${f1(sy(b.hi))}`);
  const lower = buckets.map((b) => `${f1(sx(b.t))},${f1(sy(b.lo))}`).reverse();
  out.push(
    `<polygon class="band" points="${[...upper, ...lower].join(' ')}" fill="${C.band}" fill-opacity="0.45" stroke="none"/>`,
    `<polyline class="price" points="${buckets.map((b) => `${f1(sx(b.t))},${f1(sy(b.close))}`).join(' ')}" fill="none" stroke="${C.close}" stroke-width="1.1"/>`,
  );

  // Trades: plan lines first, markers on top.
  const maxTrades = opts.maxTrades ?? 600;
  const plan: string[] = [];
  const moved: string[] = [];
  const targets: string[] = [];
  const marks: string[] = [];
  trades.forEach((t, i) => {
    const x0 = sx(t.entryTime);
    const x1 = Math.max(sx(t.exitTime), x0 + 2);
    const p = t.plan;
    if (p && i < maxTrades) {
      const st = p.stop.toNumber();
      plan.push(`M${f1(x0)} ${f1(sy(st))}H${f1(x1)}`);
      if (!p.finalStop.eq(p.stop)) moved.push(`M${f1(x0)} ${f1(sy(p.finalStop.toNumber()))}H${f1(x1)}`);
      for (const tg of p.targets) targets.push(`M${f1(x0)} ${f1(sy(tg.toNumber()))}H${f1(x1)}`);
    }
    const ey = sy(t.entryPrice.toNumber());
    marks.push(`<path class="entry" d="M${f1(x0)} ${f1(ey + 1)}l-4 7h8z" fill="${C.entry}"/>`);
    if (!t.exitPrice.isZero()) marks.push(`<circle class="exit" cx="${f1(x1)}" cy="${f1(sy(t.exitPrice.toNumber()))}" r="2.8" fill="${t.netPnl.isPositive() ? C.win : C.loss}"/>`);
  });
  if (plan.length) out.push(`<path class="stops" d="${plan.join('')}" stroke="${C.stop}" stroke-width="1.3" fill="none"/>`);
  if (moved.length) out.push(`<path class="moved-stops" d="${moved.join('')}" stroke="${C.moved}" stroke-width="1.2" stroke-dasharray="4 3" fill="none"/>`);
  if (targets.length) out.push(`<path class="targets" d="${targets.join('')}" stroke="${C.target}" stroke-width="1.1" stroke-dasharray="3 3" fill="none"/>`);
  out.push(...marks, '</g>');
  const notes = [`${candles.length.toLocaleString('en-US')} candles in ${buckets.length} columns`, `${trades.length} trades`];
  if (trades.length > maxTrades) notes.push(`stops and targets of the first ${maxTrades}`);
  out.push(
    `<text x="${right}" y="30" font-size="11" text-anchor="end" fill="${C.muted}">${escapeXml(notes.join(' · '))} · green ▲ entry, ● exit, red stop, orange moved stop, green dashed targets, grey levels</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="${C.axis}" stroke-width="1"/>`,
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${C.axis}" stroke-width="1"/>`,
    '</g>',
    '</svg>',
  );
  return out.join('\n');
}
