/**
 * The market regime classifier: one of four regimes after every closed candle of its timeframe,
 * for any strategy to filter entries by (the S/R strategy's `entry.regimes`).
 *
 * With ATR and ADX of the candles (periods `indicators.atrPeriod` and `indicators.adxPeriod`) and
 * the mean of the ATR over the `lookback` candles BEFORE the latest (so a spike is measured
 * against the history it breaks from), checked in this order:
 * - volatile: ATR >= volatileRatio x mean ATR (volatility expanding: ranges far wider than usual);
 * - quiet:    ATR <= quietRatio x mean ATR (volatility contracting: ranges far narrower);
 * - trending: ADX >= trendAdx (a directional move of usual volatility);
 * - ranging:  otherwise.
 * Volatility comes first because a volatility burst also lifts ADX, and an entry filter usually
 * wants to know about the burst. Before every input is ready the regime is null.
 */
import { ATR } from 'trading-signals';
import type { IndicatorsConfig, Regime, RegimeConfig } from '../config/schema.js';
import type { Candle } from '../core/types.js';
import { RollingMean } from '../indicators/rollingMean.js';
import { Adx } from '../indicators/wilder.js';

export type { Regime } from '../config/schema.js';

/** The classifier of one symbol on one timeframe; feed it closed candles of that timeframe. */
export class RegimeClassifier {
  private readonly atr: ATR;
  private readonly adx: Adx;
  private readonly atrMean: RollingMean;
  /** The latest regime (null during the warm-up). */
  current: Regime | null = null;
  /** The inputs of the latest classification, for logs and tests. */
  lastAtr: number | null = null;
  lastAtrMean: number | null = null;
  lastAdx: number | null = null;

  constructor(
    private readonly cfg: RegimeConfig,
    indicators: Pick<IndicatorsConfig, 'atrPeriod' | 'adxPeriod'>,
  ) {
    this.atr = new ATR(indicators.atrPeriod);
    this.adx = new Adx(indicators.adxPeriod);
    this.atrMean = new RollingMean(cfg.lookback);
  }

  /** Feeds one closed candle; returns the regime after it. */
  update(c: Candle): Regime | null {
    const mean = this.atrMean.result();
    const atr = this.atr.update(c, false);
    const adx = this.adx.update(c);
    if (atr !== null) this.atrMean.update(atr);
    this.lastAtr = atr;
    this.lastAtrMean = mean;
    this.lastAdx = adx;
    this.current = atr === null || adx === null || mean === null ? null : classify(atr, mean, adx, this.cfg);
    return this.current;
  }
}

/** The regime of one reading (see the file comment). Pure. */
export function classify(atr: number, atrMean: number, adx: number, cfg: Pick<RegimeConfig, 'volatileRatio' | 'quietRatio' | 'trendAdx'>): Regime {
  if (atr >= cfg.volatileRatio * atrMean) return 'volatile';
  if (atr <= cfg.quietRatio * atrMean) return 'quiet';
  return adx >= cfg.trendAdx ? 'trending' : 'ranging';
}
