/**
 * The support/resistance scalping strategy: pure, one instance for many symbols.
 *
 * On every closed 1m candle of a symbol it updates candles of the mode's timeframes, indicators
 * and levels, and returns intents:
 * - with no position: an `enter` intent when every entry rule passes (see `evaluateEntry`);
 * - with an open position: `exit` on the time stop (at market, or as a maker with
 *   `exit.timeExit: maker`) or on a high-volume close through the level (`exit.breakExit`),
 *   `move_stop` to breakeven once the trade has been up `breakevenAfterPct`, and with
 *   `exit.trailAtr` behind the highest high since entry.
 *   A break is a close below the level by more than `exit.breakBandPct` (default: the entry
 *   proximity band, within which price counts as "at the level"), on volume above
 *   `breakVolumeMultiplier` x average.
 * Stops and targets themselves are executed by the executor on every price update.
 *
 * Options that are off by default (each costs nothing per candle while off): levels on chosen
 * timeframes (`levels.timeframes`), entries resting at the level (`entry.limitPrice: level`), the
 * regime filter (`entry.regimes`, services/strategy/regime.ts), stops, targets and a trailing stop
 * in ATRs (`exit.stopAtr`, `exit.targetAtr`, `exit.trailAtr` on `exit.atrTimeframe`).
 *
 * Spot accounts can only be long, so entries are bounces off support; resistance serves as the
 * opposite level that places the secondary and aggressive targets.
 */
import { ATR } from 'trading-signals';
import type { Candle, SymbolId } from '../core/types.js';
import { MINUTE_MS, timeframeMs, type Timeframe } from '../core/timeframes.js';
import { ConfigError } from '../core/errors.js';
import type { Config, Regime } from '../config/schema.js';
import { IndicatorSet } from '../indicators/indicatorSet.js';
import { CandleAggregator } from '../candles/index.js';
import { LevelTracker, type Level } from '../levels/index.js';
import { bullishReversalPattern } from './patterns.js';
import { RsiDivergenceDetector } from './divergence.js';
import type { PositionView } from '../model/positions.js';
import type { EnterIntent, Intent, TargetPlan } from '../model/intents.js';
import type { EntryFunnel, MarketContext, Strategy } from './port.js';
import { RegimeClassifier } from './regime.js';

export type { EntryFunnel, MarketContext } from './port.js';

/** Returned when there is nothing to do: shared and frozen, so most candles allocate no array. */
const NO_INTENTS: readonly Intent[] = Object.freeze([]);

interface SymbolState {
  readonly aggregator: CandleAggregator;
  readonly base: IndicatorSet;
  /** Indicators per higher timeframe. */
  readonly higher: Map<Timeframe, IndicatorSet>;
  /** Levels per level timeframe (every timeframe above the base, or `levels.timeframes`). */
  readonly levels: Map<Timeframe, LevelTracker>;
  /** Only kept when the RSI-divergence confirmation is on; it costs work on every candle. */
  readonly divergence: RsiDivergenceDetector | null;
  /** ATR on exit.atrTimeframe, only when an ATR rule is on; its latest value. */
  readonly atr: ATR | null;
  atrValue: number | null;
  /** Only when the regime filter is on. */
  readonly regime: RegimeClassifier | null;
  /** The position the trailing stop follows, and the highest high since it opened. */
  trailFor: string | null;
  trailHigh: number;
  prev: Candle | null;
}


export class SrStrategy implements Strategy {
  readonly name = 'sr';
  private readonly states = new Map<SymbolId, SymbolState>();
  readonly funnel: EntryFunnel = { evaluated: 0, warmup: 0, quoteVolume: 0, spread: 0, volume: 0, regime: 0, regimeFilter: 0, noLevel: 0, confirmations: 0, rewardRisk: 0, signals: 0 };
  private readonly higherTfs: readonly Timeframe[];
  /** Timeframe whose ADX decides the regime: the first above the base. */
  private readonly regimeTf: Timeframe;
  /** Timeframe used for the multi-timeframe confirmation: the highest. */
  private readonly alignTf: Timeframe;
  private readonly levelTfs: readonly Timeframe[];
  /** What the aggregator closes: the mode's timeframes and those of the options above 1m. */
  private readonly aggregated: readonly Timeframe[];
  /** Timeframe of the ATR rules, or null when none is on. */
  private readonly atrTf: Timeframe | null;
  /** Timeframe of the regime classifier, or null when the filter is off. */
  private readonly regimeClassTf: Timeframe | null;
  private readonly allowedRegimes: ReadonlySet<Regime> | null;
  /** Something reads 1m candles directly (levels, ATR or the regime on 1m). */
  private readonly oneMinuteStudies: boolean;
  /** The break price is the level times this. */
  private readonly breakFactor: number;

  constructor(private readonly cfg: Config) {
    const tfs = cfg.modeSettings.timeframes.filter((t) => t !== '30s' && t !== '1m');
    if (tfs.length === 0) throw new RangeError('the mode needs at least one timeframe above 1m');
    this.higherTfs = tfs;
    this.regimeTf = tfs[0] as Timeframe;
    this.alignTf = tfs[tfs.length - 1] as Timeframe;
    this.levelTfs = cfg.levels.timeframes.length > 0 ? [...new Set(cfg.levels.timeframes)] : tfs;
    if (cfg.levels.methods.pivots) {
      for (const tf of this.levelTfs) {
        if (timeframeMs(tf) > timeframeMs(cfg.levels.pivotTimeframe))
          throw new ConfigError(`levels.timeframes: ${tf} is longer than levels.pivotTimeframe (${cfg.levels.pivotTimeframe}); choose shorter timeframes, a longer pivot period, or turn levels.methods.pivots off`);
      }
    }
    const x = cfg.exit;
    this.atrTf = x.stopAtr !== null || x.targetAtr !== null || x.trailAtr !== null ? (x.atrTimeframe ?? this.regimeTf) : null;
    this.allowedRegimes = cfg.entry.regimes.length > 0 ? new Set(cfg.entry.regimes) : null;
    this.regimeClassTf = this.allowedRegimes ? (cfg.regime.timeframe ?? this.regimeTf) : null;
    const studies = [...this.levelTfs, ...(this.atrTf ? [this.atrTf] : []), ...(this.regimeClassTf ? [this.regimeClassTf] : [])];
    this.oneMinuteStudies = studies.includes('1m');
    this.aggregated = [...new Set([...tfs, ...studies.filter((t) => t !== '1m')])];
    this.breakFactor = 1 - (x.breakBandPct ?? cfg.entry.proximityPct) / 100;
  }

  private state(symbol: SymbolId): SymbolState {
    let s = this.states.get(symbol);
    if (!s) {
      const higher = new Map<Timeframe, IndicatorSet>();
      const levels = new Map<Timeframe, LevelTracker>();
      for (const tf of this.higherTfs) {
        // Higher timeframes feed the regime (ADX) and alignment (ADX, +DI/-DI) rules only.
        higher.set(tf, new IndicatorSet(this.cfg.indicators, { rsi: false, atr: false, bollinger: false }));
      }
      for (const tf of this.levelTfs) levels.set(tf, new LevelTracker(this.cfg.levels, tf));
      s = {
        aggregator: new CandleAggregator('1m', [...this.aggregated]),
        // The base timeframe feeds the volume rule, RSI divergence and the break exit.
        base: new IndicatorSet(this.cfg.indicators, { atr: false, bollinger: false, adx: false }),
        higher,
        levels,
        divergence: this.cfg.entry.confirmations.rsiDivergence ? new RsiDivergenceDetector() : null,
        atr: this.atrTf ? new ATR(this.cfg.indicators.atrPeriod) : null,
        atrValue: null,
        regime: this.regimeClassTf ? new RegimeClassifier(this.cfg.regime, this.cfg.indicators) : null,
        trailFor: null,
        trailHigh: 0,
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
      if (closed.tf === this.atrTf && s.atr) s.atrValue = s.atr.update(closed.candle, false);
      if (closed.tf === this.regimeClassTf) s.regime?.update(closed.candle);
    }
    if (this.oneMinuteStudies) this.oneMinute(s, candle);
    const v = s.base.update(candle);
    s.divergence?.update(candle, v.rsi);
    const prev = s.prev;
    s.prev = candle;
    const closeTime = candle.openTime + MINUTE_MS;
    if (position) return position.state === 'open' ? this.manage(symbol, candle, closeTime, position, s, ctx) : NO_INTENTS;
    const entry = this.evaluateEntry(symbol, candle, prev, closeTime, s, ctx);
    return entry ? [entry] : NO_INTENTS;
  }

  /** The studies an option put on 1m candles themselves (levels, ATR, regime). */
  private oneMinute(s: SymbolState, c: Candle): void {
    s.levels.get('1m')?.update(c);
    if (this.atrTf === '1m' && s.atr) s.atrValue = s.atr.update(c, false);
    if (this.regimeClassTf === '1m') s.regime?.update(c);
  }

  /** The price levels the strategy tracks now on the symbol (every level timeframe), ascending: for charts. */
  levels(symbol: SymbolId): readonly number[] {
    const s = this.states.get(symbol);
    if (!s) return [];
    const out: number[] = [];
    for (const t of s.levels.values()) for (const l of t.levels()) out.push(l.price);
    return out.sort((a, b) => a - b);
  }

  /** Exit and stop management of an open long position, on a closed candle. */
  private manage(symbol: SymbolId, c: Candle, closeTime: number, p: PositionView, s: SymbolState, ctx: MarketContext): readonly Intent[] {
    const x = this.cfg.exit;
    if (closeTime >= p.expiresAt) {
      const detail = `time stop of ${x.timeStopMinutes} min reached`;
      if (x.timeExit === 'maker') {
        // At the touch: a sell resting at the best ask (the close when no book is known; the executor rounds up to the tick).
        const maker = { price: ctx.book?.ask ?? c.close, waitMs: x.makerExitWaitSeconds * 1000 };
        return [{ kind: 'exit', id: `${p.id}-time`, symbol, positionId: p.id, time: closeTime, reason: 'time', detail: `${detail}, as a maker`, maker }];
      }
      return [{ kind: 'exit', id: `${p.id}-time`, symbol, positionId: p.id, time: closeTime, reason: 'time', detail }];
    }
    const avgVol = s.base.values.volumeAvg;
    // A break is a close beyond the band that counts as "at the level" (or exit.breakBandPct), on heavy volume.
    const breakPrice = p.levelPrice * this.breakFactor;
    if (x.breakExit && c.close < breakPrice && avgVol !== null && c.volume > x.breakVolumeMultiplier * avgVol) {
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
    let stop = p.stop;
    let reason: 'breakeven' | 'trail' | null = null;
    if (!p.breakevenMoved && c.high >= p.entryPrice * (1 + x.breakevenAfterPct / 100)) {
      const be = p.entryPrice * (1 + x.breakevenBufferPct / 100);
      if (be > stop) {
        stop = be;
        reason = 'breakeven';
      }
    }
    if (x.trailAtr !== null) {
      // Chandelier trail: the highest high since the position opened minus trailAtr ATRs; it only rises.
      if (s.trailFor !== p.id) {
        s.trailFor = p.id;
        s.trailHigh = c.high;
      } else if (c.high > s.trailHigh) s.trailHigh = c.high;
      if (s.atrValue !== null) {
        const trail = s.trailHigh - x.trailAtr * s.atrValue;
        if (trail > stop) {
          stop = trail;
          reason = 'trail';
        }
      }
    }
    if (reason === 'breakeven') return [{ kind: 'move_stop', id: `${p.id}-be`, symbol, positionId: p.id, time: closeTime, stop, reason }];
    if (reason === 'trail') return [{ kind: 'move_stop', id: `${p.id}-tr${closeTime.toString(36)}`, symbol, positionId: p.id, time: closeTime, stop, reason }];
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
    let regimeNow: Regime | null = null;
    if (this.allowedRegimes) {
      regimeNow = s.regime?.current ?? null;
      if (regimeNow === null) {
        f.warmup++;
        return null;
      }
      if (!this.allowedRegimes.has(regimeNow)) {
        f.regimeFilter++;
        return null;
      }
    }
    const atr = s.atrValue;
    if (this.atrTf !== null && atr === null) {
      f.warmup++;
      return null;
    }
    const level = this.supportNear(s, c.close);
    if (!level) {
      f.noLevel++;
      return null;
    }
    const reasons = [`level ${level.price.toPrecision(8)} (${level.touches} touches)`, `volume ${(c.volume / v.volumeAvg).toFixed(2)}x`, `ADX ${regime.adx.toFixed(1)}`];
    if (regimeNow !== null) reasons.push(`regime ${regimeNow}`);
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
    // A limit resting at the level fills there: the plan is made from that price.
    const atLevel = e.limitPrice === 'level';
    const plan = this.exitPlan(s, atLevel ? level.price : c.close, level.price, atr ?? 0);
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
      ...(atLevel ? { limitPrice: level.price } : {}),
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
   *
   * In ATR units (`atr` on exit.atrTimeframe): with `stopAtr` the stop is that many ATRs below the
   * level; with `targetAtr` the primary is that many ATRs above the entry, or `minRewardRisk`
   * times the risk when that is farther (no upper bound: the ATR bounds it), and the fallback
   * secondary and aggressive sit at 1.5x and 2x the primary distance.
   */
  private exitPlan(s: SymbolState, entry: number, level: number, atr: number): { stop: number; targets: TargetPlan[]; opposite: number | null } | null {
    const x = this.cfg.exit;
    const stop = x.stopAtr !== null ? level - x.stopAtr * atr : level * (1 - x.stopBeyondLevelPct / 100);
    if (!(stop < entry) || !(stop > 0)) return null;
    const riskPct = ((entry - stop) / entry) * 100;
    let primary: number;
    let secondaryFallback: number;
    let aggressiveFallback: number;
    if (x.targetAtr !== null) {
      const distance = Math.max(x.targetAtr * atr, x.minRewardRisk * (entry - stop));
      primary = entry + distance;
      secondaryFallback = entry + 1.5 * distance;
      aggressiveFallback = entry + 2 * distance;
    } else {
      const primaryPct = Math.max(x.primaryTargetMinPct, x.minRewardRisk * riskPct);
      if (primaryPct > x.primaryTargetMaxPct) return null;
      primary = entry * (1 + primaryPct / 100);
      secondaryFallback = entry * (1 + (1.5 * primaryPct) / 100);
      aggressiveFallback = entry * (1 + (2 * primaryPct) / 100);
    }
    const opposite = this.resistanceAbove(s, entry * (1 + riskPct / 100));
    const secondary = opposite !== null ? opposite * (1 - x.secondaryBeforeOppositePct / 100) : secondaryFallback;
    const aggressive = opposite !== null ? opposite : aggressiveFallback;
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
