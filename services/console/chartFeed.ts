/**
 * What the dashboard's charts draw, kept beside the trading loop from what it already sees: per
 * symbol the last closed 1m candles, the support and resistance levels in force, and markers for
 * entries, exits and stop moves; and the account's equity, sampled once per market minute, for
 * the equity and drawdown chart.
 *
 * The levels are those of the strategy's first higher timeframe (5m in standard mode, 3m in hf),
 * computed by the same LevelTracker with the same config from the same closed candles, so they are
 * the levels the strategy trades on that timeframe; the strategy itself exposes none. Every list
 * has a bound: the chart is a window, not a history (the state table and the archive keep that).
 */
import type { Config } from '../config/schema.js';
import { CandleAggregator } from '../candles/candleAggregator.js';
import type { Candle, SymbolId } from '../core/types.js';
import { MINUTE_MS, type Timeframe } from '../core/timeframes.js';
import { LevelTracker } from '../levels/levelTracker.js';

/** Closed 1m candles kept per symbol (four hours). */
export const CHART_CANDLES = 240;
/** Markers kept per symbol. */
export const CHART_MARKERS = 100;
/** Equity samples kept (one per market minute: a day). */
export const EQUITY_POINTS = 1440;
/** Levels shown per symbol, strongest first. */
export const CHART_LEVELS = 8;

/** One candle as the chart takes it: open time (epoch ms), then open, high, low, close, volume. */
export type ChartCandle = readonly [number, number, number, number, number, number];

export interface ChartLevel {
  readonly price: number;
  readonly kind: 'support' | 'resistance';
  readonly touches: number;
  readonly timeframe: string;
}

export interface ChartMarker {
  readonly time: number;
  readonly kind: 'entry' | 'exit' | 'stop';
  readonly price: number;
  readonly text: string;
}

export interface SymbolChart {
  readonly symbol: string;
  readonly candles: readonly ChartCandle[];
  readonly levels: readonly ChartLevel[];
  readonly markers: readonly ChartMarker[];
}

export interface EquityPoint {
  readonly time: number;
  readonly equity: number;
}

interface SymbolState {
  readonly candles: ChartCandle[];
  readonly markers: ChartMarker[];
  readonly aggregator: CandleAggregator;
  readonly levels: LevelTracker;
  last: number;
}

export class ChartFeed {
  private readonly symbols = new Map<SymbolId, SymbolState>();
  private readonly equity: EquityPoint[] = [];
  private readonly tf: Timeframe;

  constructor(private readonly cfg: Config) {
    const higher = cfg.modeSettings.timeframes.filter((t) => t !== '30s' && t !== '1m');
    this.tf = (higher[0] ?? '5m');
  }

  private state(symbol: SymbolId): SymbolState {
    let s = this.symbols.get(symbol);
    if (!s) {
      s = { candles: [], markers: [], aggregator: new CandleAggregator('1m', [this.tf]), levels: new LevelTracker(this.cfg.levels, this.tf), last: -Infinity };
      this.symbols.set(symbol, s);
    }
    return s;
  }

  /** A closed 1m candle (warm-up or live); older or repeated candles are ignored. */
  candle(symbol: SymbolId, c: Candle): void {
    const s = this.state(symbol);
    if (c.openTime <= s.last || c.openTime % MINUTE_MS !== 0) return;
    s.last = c.openTime;
    s.candles.push([c.openTime, c.open, c.high, c.low, c.close, c.volume]);
    if (s.candles.length > CHART_CANDLES) s.candles.splice(0, s.candles.length - CHART_CANDLES);
    for (const closed of s.aggregator.push(c)) s.levels.update(closed.candle);
  }

  /** An entry, exit or stop move on the chart of `symbol`. */
  marker(symbol: SymbolId, m: ChartMarker): void {
    if (!Number.isFinite(m.price) || !Number.isFinite(m.time)) return;
    const s = this.state(symbol);
    s.markers.push(m);
    if (s.markers.length > CHART_MARKERS) s.markers.shift();
  }

  /** Samples the equity at market time `time` (at most one point per minute: a later sample in the same minute replaces it). */
  sampleEquity(time: number, equity: number): void {
    if (!Number.isFinite(equity)) return;
    const minute = time - (time % MINUTE_MS);
    const last = this.equity[this.equity.length - 1];
    if (last && last.time === minute) this.equity[this.equity.length - 1] = { time: minute, equity };
    else if (!last || minute > last.time) this.equity.push({ time: minute, equity });
    if (this.equity.length > EQUITY_POINTS) this.equity.shift();
  }

  /** The charts of the given symbols, with at most `candles` candles each (default all kept). */
  charts(symbols: readonly SymbolId[], candles = CHART_CANDLES): SymbolChart[] {
    return symbols.map((symbol) => {
      const s = this.symbols.get(symbol);
      if (!s) return { symbol, candles: [], levels: [], markers: [] };
      const levels = [...s.levels.levels()]
        .sort((a, b) => b.strength - a.strength)
        .slice(0, CHART_LEVELS)
        .map((l) => ({ price: l.price, kind: l.kind, touches: l.touches, timeframe: this.tf }));
      const from = s.candles.length > candles ? s.candles.length - candles : 0;
      const first = s.candles[from]?.[0] ?? 0;
      return { symbol, candles: s.candles.slice(from), levels, markers: s.markers.filter((m) => m.time >= first) };
    });
  }

  /** The equity samples, oldest first (at most `points`, the newest). */
  equityCurve(points = EQUITY_POINTS): EquityPoint[] {
    return this.equity.slice(Math.max(0, this.equity.length - points));
  }
}

/** Peak equity and the current drawdown from it (percent, >= 0) over a curve; null when empty. */
export function drawdownOf(curve: readonly EquityPoint[]): { peak: number; drawdownPct: number; maxDrawdownPct: number } | null {
  if (curve.length === 0) return null;
  let peak = -Infinity;
  let max = 0;
  for (const p of curve) {
    peak = Math.max(peak, p.equity);
    if (peak > 0) max = Math.max(max, ((peak - p.equity) / peak) * 100);
  }
  const last = curve[curve.length - 1]!.equity;
  return { peak, drawdownPct: peak > 0 ? ((peak - last) / peak) * 100 : 0, maxDrawdownPct: max };
}
