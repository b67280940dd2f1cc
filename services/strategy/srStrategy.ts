/**
 * The support/resistance scalping strategy: pure, one instance for many symbols.
 *
 * On every closed 1m candle of a symbol it updates candles of the mode's timeframes, indicators
 * and levels, and returns intents:
 * - with no position: an `enter` intent when every entry rule passes (see `evaluateEntry`);
 * - with an open position: `exit` on the time stop or on a high-volume close through the level,
 *   `move_stop` to breakeven once the trade has been up `breakevenAfterPct`.
 *   A break is a close below the level by more than the entry proximity band (the band within
 *   which price counts as "at the level"), on volume above `breakVolumeMultiplier` x average.
 * Stops and targets themselves are executed by the executor on every price update.
 *
 * Spot accounts can only be long, so entries are bounces off support; resistance serves as the
 * opposite level that places the secondary and aggressive targets.
 */
import type { Candle, SymbolId } from '../core/types.js';
import { MINUTE_MS, type Timeframe } from '../core/timeframes.js';
import type { Config } from '../config/schema.js';
import { IndicatorSet } from '../indicators/indicatorSet.js';
import { CandleAggregator } from '../candles/index.js';
import { LevelTracker, type Level } from '../levels/index.js';
import { bullishReversalPattern } from './patterns.js';
import { RsiDivergenceDetector } from './divergence.js';
import type { PositionView } from '../model/positions.js';
import type { EnterIntent, Intent, TargetPlan } from '../model/intents.js';
import type { EntryFunnel, MarketContext, Strategy } from './port.js';

export type { EntryFunnel, MarketContext } from './port.js';

/** Returned when there is nothing to do: shared and frozen, so most candles allocate no array. */
const NO_INTENTS: readonly Intent[] = Object.freeze([]);

interface SymbolState {
  readonly aggregator: CandleAggregator;
  readonly base: IndicatorSet;
  /** Indicators per higher timeframe. */
  readonly higher: Map<Timeframe, IndicatorSet>;
  /** Levels per level timeframe (every timeframe above the base). */
  readonly levels: Map<Timeframe, LevelTracker>;
  /** Only kept when the RSI-divergence confirmation is on; it costs work on every candle. */
  readonly divergence: RsiDivergenceDetector | null;
  prev: Candle | null;
}


export class SrStrategy implements Strategy {
  readonly name = 'sr';
  private readonly states = new Map<SymbolId, SymbolState>();
  readonly funnel: EntryFunnel = { evaluated: 0, warmup: 0, quoteVolume: 0, spread: 0, volume: 0, regime: 0, noLevel: 0, confirmations: 0, rewardRisk: 0, signals: 0 };
  private readonly higherTfs: readonly Timeframe[];
  /** Timeframe whose ADX decides the regime: the first above the base. */
  private readonly regimeTf: Timeframe;
  /** Timeframe used for the multi-timeframe confirmation: the highest. */
  private readonly alignTf: Timeframe;

  constructor(private readonly cfg: Config) {
    const tfs = cfg.modeSettings.timeframes.filter((t) => t !== '30s' && t !== '1m');
    if (tfs.length === 0) throw new RangeError('the mode needs at least one timeframe above 1m');
    this.higherTfs = tfs;
    this.regimeTf = tfs[0] as Timeframe;
    this.alignTf = tfs[tfs.length - 1] as Timeframe;
  }

  private state(symbol: SymbolId): SymbolState {
    let s = this.states.get(symbol);
    if (!s) {
      const higher = new Map<Timeframe, IndicatorSet>();
      const levels = new Map<Timeframe, LevelTracker>();
      for (const tf of this.higherTfs) {
        // Higher timeframes feed the regime (ADX) and alignment (ADX, +DI/-DI) rules only.
        higher.set(tf, new IndicatorSet(this.cfg.indicators, { rsi: false, atr: false, bollinger: false }));
        levels.set(tf, new LevelTracker(this.cfg.levels, tf));
      }
      s = {
        aggregator: new CandleAggregator('1m', [...this.higherTfs]),
        // The base timeframe feeds the volume rule, RSI divergence and the break exit.
        base: new IndicatorSet(this.cfg.indicators, { atr: false, bollinger: false, adx: false }),
        higher,
        levels,
        divergence: this.cfg.entry.confirmations.rsiDivergence ? new RsiDivergenceDetector() : null,
        prev: null,
      };
      this.states.set(symbol, s);
    }
    return s;
  }

  /**
   * Feeds one closed 1m candle. `position` is the symbol's open position, if any. Returns the
   * intents for the executor (usually none).
   */
  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined, ctx: MarketContext = {}): readonly Intent[] {
    const s = this.state(symbol);
    for (const closed of s.aggregator.push(candle)) {
      s.higher.get(closed.tf)?.update(closed.candle);
      s.levels.get(closed.tf)?.update(closed.candle);
    }
    const v = s.base.update(candle);
    s.divergence?.update(candle, v.rsi);
    const prev = s.prev;
    s.prev = candle;
    const closeTime = candle.openTime + MINUTE_MS;
    if (position) return position.state === 'open' ? this.manage(symbol, candle, closeTime, position, s) : NO_INTENTS;
    const entry = this.evaluateEntry(symbol, candle, prev, closeTime, s, ctx);
    return entry ? [entry] : NO_INTENTS;
  }

  /** Exit and stop management of an open long position, on a closed candle. */
  private manage(symbol: SymbolId, c: Candle, closeTime: number, p: PositionView, s: SymbolState): readonly Intent[] {
    const x = this.cfg.exit;
    if (closeTime >= p.expiresAt) {
      return [{ kind: 'exit', id: `${p.id}-time`, symbol, positionId: p.id, time: closeTime, reason: 'time', detail: `time stop of ${x.timeStopMinutes} min reached` }];
    }
    const avgVol = s.base.values.volumeAvg;
    // A break is a close beyond the band that counts as "at the level", on heavy volume.
    const breakPrice = p.levelPrice * (1 - this.cfg.entry.proximityPct / 100);
    if (c.close < breakPrice && avgVol !== null && c.volume > x.breakVolumeMultiplier * avgVol) {
      return [
        {
          kind: 'exit',
          id: `${p.id}-break`,
          symbol,
          positionId: p.id,
          time: closeTime,
          reason: 'break',
          detail: `closed ${c.close} below the level ${p.levelPrice} on ${(c.volume / avgVol).toFixed(1)}x volume`,
        },
      ];
    }
    if (!p.breakevenMoved && c.high >= p.entryPrice * (1 + x.breakevenAfterPct / 100)) {
      const stop = p.entryPrice * (1 + x.breakevenBufferPct / 100);
      if (stop > p.stop) return [{ kind: 'move_stop', id: `${p.id}-be`, symbol, positionId: p.id, time: closeTime, stop, reason: 'breakeven' }];
    }
    return NO_INTENTS;
  }

  /** Applies the entry rules in order of cost, cheapest first; returns an intent or null. */
  private evaluateEntry(symbol: SymbolId, c: Candle, prev: Candle | null, closeTime: number, s: SymbolState, ctx: MarketContext): EnterIntent | null {
    const f = this.funnel;
    const e = this.cfg.entry;
    f.evaluated++;
    const v = s.base.values;
    const regime = s.higher.get(this.regimeTf)?.values;
    if (v.volumeAvg === null || v.rsi === null || !regime || regime.adx === null || prev === null) {
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
    if (!(c.volume > e.volumeMultiplier * v.volumeAvg)) {
      f.volume++;
      return null;
    }
    if (regime.adx >= e.maxAdx) {
      f.regime++;
      return null;
    }
    const level = this.supportNear(s, c.close);
    if (!level) {
      f.noLevel++;
      return null;
    }
    const reasons = [`level ${level.price.toPrecision(8)} (${level.touches} touches)`, `volume ${(c.volume / v.volumeAvg).toFixed(2)}x`, `ADX ${regime.adx.toFixed(1)}`];
    let confirmed = 0;
    const cf = e.confirmations;
    if (cf.candlestickPattern) {
      const pattern = bullishReversalPattern(prev, c);
      if (pattern) {
        confirmed++;
        reasons.push(pattern);
      }
    }
    if (s.divergence?.bullish()) {
      confirmed++;
      reasons.push('RSI divergence');
    }
    if (cf.multiTimeframe) {
      const a = s.higher.get(this.alignTf)?.values;
      if (a && a.adx !== null && (a.adx < e.maxAdx || (a.pdi ?? 0) >= (a.mdi ?? 0))) {
        confirmed++;
        reasons.push(`${this.alignTf} not trending down`);
      }
    }
    if (cf.levelStrength && level.touches >= cf.minLevelTouches) {
      confirmed++;
      reasons.push('strong level');
    }
    if (confirmed < cf.minConfirmations) {
      f.confirmations++;
      return null;
    }
    const plan = this.exitPlan(s, c.close, level.price);
    if (!plan) {
      f.rewardRisk++;
      return null;
    }
    f.signals++;
    return {
      kind: 'enter',
      id: `${symbol}L${closeTime.toString(36)}`,
      symbol,
      direction: 'long',
      time: closeTime,
      price: c.close,
      stop: plan.stop,
      targets: plan.targets,
      level: { price: level.price, touches: level.touches, sources: [...level.sources] },
      oppositeLevel: plan.opposite,
      reasons,
      expiresAt: closeTime + this.cfg.exit.timeStopMinutes * MINUTE_MS,
    };
  }

  /**
   * The strongest support within the proximity band below the close, across the level timeframes.
   * A long is a bounce: the level must be at or below the price (a level just above is resistance).
   */
  private supportNear(s: SymbolState, price: number): Level | null {
    let best: Level | null = null;
    const floor = price * (1 - this.cfg.entry.proximityPct / 100);
    for (const tracker of s.levels.values()) {
      const l = tracker.nearestSupport(price);
      if (l && l.price >= floor && (!best || l.strength > best.strength)) best = l;
    }
    return best;
  }

  /** Nearest resistance across the level timeframes strictly above `above`. */
  private resistanceAbove(s: SymbolState, above: number): number | null {
    let best: number | null = null;
    for (const tracker of s.levels.values()) {
      for (const l of tracker.levels()) if (l.price > above && (best === null || l.price < best)) best = l.price;
    }
    return best;
  }

  /**
   * Stop and targets of a long taken at `entry` off the support `level`:
   * - stop `stopBeyondLevelPct` below the level;
   * - primary target at `minRewardRisk` times the risk, but at least `primaryTargetMinPct`; a
   *   trade whose primary would have to exceed `primaryTargetMaxPct` is not taken (null);
   * - the opposite level is the nearest resistance above entry + risk (a target nearer than the
   *   risk is not worth a third of the position): secondary just before it, aggressive at it;
   *   without one, secondary and aggressive at 1.5x and 2x the primary distance.
   * Targets are sorted nearest first and take the scale-out fractions in that order.
   */
  private exitPlan(s: SymbolState, entry: number, level: number): { stop: number; targets: TargetPlan[]; opposite: number | null } | null {
    const x = this.cfg.exit;
    const stop = level * (1 - x.stopBeyondLevelPct / 100);
    if (!(stop < entry)) return null;
    const riskPct = ((entry - stop) / entry) * 100;
    const primaryPct = Math.max(x.primaryTargetMinPct, x.minRewardRisk * riskPct);
    if (primaryPct > x.primaryTargetMaxPct) return null;
    const primary = entry * (1 + primaryPct / 100);
    const opposite = this.resistanceAbove(s, entry * (1 + riskPct / 100));
    const secondary = opposite !== null ? opposite * (1 - x.secondaryBeforeOppositePct / 100) : entry * (1 + (1.5 * primaryPct) / 100);
    const aggressive = opposite !== null ? opposite : entry * (1 + (2 * primaryPct) / 100);
    const raw: { label: TargetPlan['label']; price: number }[] = [
      { label: 'primary', price: primary },
      { label: 'secondary', price: secondary },
      { label: 'aggressive', price: aggressive },
    ];
    raw.sort((a, b) => a.price - b.price);
    const targets = raw.map((t, i) => ({ label: t.label, price: t.price, fraction: x.scaleOut[i] as number }));
    return { stop, targets, opposite };
  }
}
