/**
 * A Donchian channel breakout: trend following on a slower timeframe, a different family from the
 * S/R bounce (it buys strength above a range, where the S/R strategy buys weakness at a support).
 * Parameters are the `breakout` config section; `--strategy breakout` selects it.
 *
 * On each closed candle of `breakout.timeframe` (aggregated from the 1m candles the kernel feeds):
 * - no position: a long when the close is above the highest high of the `channel` candles before
 *   it (the channel excludes the breaking candle, so the level is known before the break). Stop
 *   `stopAtr` ATRs (period `atrPeriod`, on the same timeframe) below the close; with `targetAtr`
 *   one target for the whole position that many ATRs above it, otherwise none (a trend follower
 *   lets winners run); the market filters of the `entry` section apply (24h quote volume, spread);
 * - an open position: exit ('signal') when the close is below the lowest low of the `exitChannel`
 *   candles before it; with `trailAtr` the stop trails the highest high since entry minus that
 *   many ATRs. The time stop (`timeStopHours`) is checked on every 1m close.
 * With `entry.orderType` limit or maker and `entry.limitPrice: level`, the entry rests at the
 * broken channel high (a retest) instead of the close.
 */
import { ATR } from 'trading-signals';
import type { BreakoutConfig, Config } from '../config/schema.js';
import type { Candle, SymbolId } from '../core/types.js';
import { MINUTE_MS, timeframeMs, type Timeframe } from '../core/timeframes.js';
import { CandleAggregator } from '../candles/index.js';
import type { PositionView } from '../model/positions.js';
import type { EnterIntent, Intent } from '../model/intents.js';
import type { MarketContext, Strategy } from './port.js';

const NO_INTENTS: readonly Intent[] = Object.freeze([]);

/** The last `size` values of a series in a ring, with their max or min on demand (O(size), once per slow candle). */
class Window {
  private readonly ring: Float64Array;
  private head = 0;
  count = 0;
  constructor(readonly size: number) {
    this.ring = new Float64Array(size);
  }
  push(x: number): void {
    this.ring[this.head] = x;
    this.head = (this.head + 1) % this.size;
    if (this.count < this.size) this.count++;
  }
  get full(): boolean {
    return this.count === this.size;
  }
  max(): number {
    let m = -Infinity;
    for (let i = 0; i < this.count; i++) m = Math.max(m, this.ring[i] as number);
    return m;
  }
  min(): number {
    let m = Infinity;
    for (let i = 0; i < this.count; i++) m = Math.min(m, this.ring[i] as number);
    return m;
  }
}

interface SymbolState {
  readonly aggregator: CandleAggregator;
  readonly highs: Window;
  readonly lows: Window;
  readonly atr: ATR;
  atrValue: number | null;
  /** Channel bounds of the candles before the latest slow close (NaN until full). */
  upper: number;
  exitLow: number;
  trailFor: string | null;
  trailHigh: number;
}

/** Entry funnel of the breakout strategy: why slow closes without a position gave no entry. */
export type BreakoutFunnel = {
  evaluated: number;
  warmup: number;
  quoteVolume: number;
  spread: number;
  noBreakout: number;
  signals: number;
};

export class BreakoutStrategy implements Strategy {
  readonly name = 'breakout';
  readonly funnel: BreakoutFunnel = { evaluated: 0, warmup: 0, quoteVolume: 0, spread: 0, noBreakout: 0, signals: 0 };
  private readonly b: BreakoutConfig;
  private readonly tf: Timeframe;
  private readonly states = new Map<SymbolId, SymbolState>();

  constructor(private readonly cfg: Config) {
    this.b = cfg.breakout;
    this.tf = this.b.timeframe;
  }

  private state(symbol: SymbolId): SymbolState {
    let s = this.states.get(symbol);
    if (!s) {
      s = {
        aggregator: new CandleAggregator('1m', [this.tf]),
        highs: new Window(this.b.channel),
        lows: new Window(this.b.exitChannel),
        atr: new ATR(this.b.atrPeriod),
        atrValue: null,
        upper: Number.NaN,
        exitLow: Number.NaN,
        trailFor: null,
        trailHigh: 0,
      };
      this.states.set(symbol, s);
    }
    return s;
  }

  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined, ctx: MarketContext = {}): readonly Intent[] {
    const s = this.state(symbol);
    const closeTime = candle.openTime + MINUTE_MS;
    let slow: Candle | null = null;
    for (const closed of s.aggregator.push(candle)) if (closed.tf === this.tf) slow = closed.candle;
    const open = position?.state === 'open' ? position : undefined;
    if (open && closeTime >= open.expiresAt) {
      return [{ kind: 'exit', id: `${open.id}-time`, symbol, positionId: open.id, time: closeTime, reason: 'time', detail: `time stop of ${this.b.timeStopHours} h reached` }];
    }
    if (slow === null) return NO_INTENTS;
    // The channels of the candles BEFORE this one, then this one joins them.
    const upper = s.highs.full ? s.highs.max() : Number.NaN;
    const exitLow = s.lows.full ? s.lows.min() : Number.NaN;
    s.highs.push(slow.high);
    s.lows.push(slow.low);
    s.atrValue = s.atr.update(slow, false);
    s.upper = upper;
    s.exitLow = exitLow;
    if (open) return this.manage(symbol, slow, closeTime, open, s);
    if (position) return NO_INTENTS;
    const entry = this.evaluateEntry(symbol, slow, closeTime, s, ctx);
    return entry ? [entry] : NO_INTENTS;
  }

  private manage(symbol: SymbolId, c: Candle, closeTime: number, p: PositionView, s: SymbolState): readonly Intent[] {
    if (c.close < s.exitLow) {
      return [{ kind: 'exit', id: `${p.id}-chan`, symbol, positionId: p.id, time: closeTime, reason: 'signal', detail: `${this.tf} close ${c.close} below the ${this.b.exitChannel}-candle low ${s.exitLow}` }];
    }
    const k = this.b.trailAtr;
    if (k === null) return NO_INTENTS;
    if (s.trailFor !== p.id) {
      s.trailFor = p.id;
      s.trailHigh = c.high;
    } else if (c.high > s.trailHigh) s.trailHigh = c.high;
    if (s.atrValue === null) return NO_INTENTS;
    const trail = s.trailHigh - k * s.atrValue;
    if (!(trail > p.stop)) return NO_INTENTS;
    return [{ kind: 'move_stop', id: `${p.id}-tr${closeTime.toString(36)}`, symbol, positionId: p.id, time: closeTime, stop: trail, reason: 'trail' }];
  }

  private evaluateEntry(symbol: SymbolId, c: Candle, closeTime: number, s: SymbolState, ctx: MarketContext): EnterIntent | null {
    const f = this.funnel;
    const e = this.cfg.entry;
    f.evaluated++;
    const atr = s.atrValue;
    if (Number.isNaN(s.upper) || atr === null) {
      f.warmup++;
      return null;
    }
    if (ctx.quoteVolume24h !== undefined && ctx.quoteVolume24h <= e.minQuoteVolume24h) {
      f.quoteVolume++;
      return null;
    }
    if (ctx.book) {
      const mid = (ctx.book.bid + ctx.book.ask) / 2;
      if (!(mid > 0) || ((ctx.book.ask - ctx.book.bid) / mid) * 100 >= e.maxSpreadPct) {
        f.spread++;
        return null;
      }
    }
    if (!(c.close > s.upper)) {
      f.noBreakout++;
      return null;
    }
    const atLevel = e.limitPrice === 'level';
    const entry = atLevel ? s.upper : c.close;
    const stop = entry - this.b.stopAtr * atr;
    if (!(stop > 0)) {
      f.noBreakout++;
      return null;
    }
    f.signals++;
    const target = this.b.targetAtr;
    return {
      kind: 'enter',
      id: `${symbol}B${closeTime.toString(36)}`,
      symbol,
      direction: 'long',
      time: closeTime,
      price: c.close,
      ...(atLevel ? { limitPrice: s.upper } : {}),
      stop,
      targets: target === null ? [] : [{ label: 'primary', price: entry + target * atr, fraction: 1 }],
      level: { price: s.upper, touches: 0, sources: ['donchian'] },
      oppositeLevel: null,
      reasons: [`${this.tf} close ${c.close} above the ${this.b.channel}-candle high ${s.upper}`, `ATR ${atr.toPrecision(6)}`],
      expiresAt: closeTime + this.b.timeStopHours * 60 * MINUTE_MS,
    };
  }

  /** The channel bounds in force (entry high, exit low), for charts. */
  levels(symbol: SymbolId): readonly number[] {
    const s = this.states.get(symbol);
    if (!s) return [];
    return [s.exitLow, s.upper].filter((x) => Number.isFinite(x));
  }

  /** Minutes of 1m history before the first possible signal (for warm-up sizing). */
  get warmupMinutes(): number {
    return (Math.max(this.b.channel, this.b.atrPeriod) + 1) * (timeframeMs(this.tf) / MINUTE_MS);
  }
}
