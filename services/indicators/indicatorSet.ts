/**
 * The indicators the strategy reads, per symbol and timeframe, updated once per closed candle.
 * ATR and Bollinger come from the maintained streaming library `trading-signals`. RSI, ADX and the
 * volume average, which every candle of every backtest updates, are O(1) versions (wilder.ts,
 * rollingMean.ts) that give exactly trading-signals' values (tested value for value).
 */
import { ATR, BollingerBands } from 'trading-signals';
import { RollingMean } from './rollingMean.js';
import { Adx, Rsi } from './wilder.js';
import type { Candle } from '../core/types.js';
import type { IndicatorsConfig } from '../config/schema.js';

/** Values after the latest closed candle; null until the indicator has enough history. */
export interface IndicatorValues {
  rsi: number | null;
  atr: number | null;
  adx: number | null;
  /** Directional indicators of the ADX: +DI above -DI means upward pressure. */
  pdi: number | null;
  mdi: number | null;
  bbLower: number | null;
  bbMiddle: number | null;
  bbUpper: number | null;
  /**
   * Average volume of the `volumePeriod` candles BEFORE the latest one, so that "volume above
   * 1.5x its average" compares the new candle with the history it is measured against.
   */
  volumeAvg: number | null;
  /** Volume of the latest candle. */
  volume: number;
  close: number;
  /** Number of candles seen. */
  count: number;
}

/** Which optional indicators to compute; a consumer that never reads one saves its cost. */
export interface IndicatorSelection {
  readonly rsi?: boolean;
  readonly atr?: boolean;
  readonly bollinger?: boolean;
  /** ADX with +DI/-DI (on unless false). The base timeframe of the S/R strategy never reads it. */
  readonly adx?: boolean;
}

export class IndicatorSet {
  readonly values: IndicatorValues = {
    rsi: null,
    atr: null,
    adx: null,
    pdi: null,
    mdi: null,
    bbLower: null,
    bbMiddle: null,
    bbUpper: null,
    volumeAvg: null,
    volume: 0,
    close: Number.NaN,
    count: 0,
  };
  private readonly rsi: Rsi | null;
  private readonly atr: ATR | null;
  private readonly adx: Adx | null;
  private readonly bb: BollingerBands | null;
  private readonly volSma: RollingMean;

  /** The volume average is always computed; RSI, ATR, ADX and Bollinger unless deselected. */
  constructor(cfg: IndicatorsConfig, select: IndicatorSelection = {}) {
    this.rsi = select.rsi === false ? null : new Rsi(cfg.rsiPeriod);
    this.atr = select.atr === false ? null : new ATR(cfg.atrPeriod);
    this.adx = select.adx === false ? null : new Adx(cfg.adxPeriod);
    this.bb = select.bollinger === false ? null : new BollingerBands(cfg.bollingerPeriod, cfg.bollingerStdDev);
    this.volSma = new RollingMean(cfg.volumePeriod);
  }

  /** Feeds one closed candle and returns the updated values (the same object, mutated). */
  update(c: Candle): IndicatorValues {
    const v = this.values;
    v.volumeAvg = this.volSma.result();
    this.volSma.update(c.volume);
    if (this.rsi) v.rsi = this.rsi.update(c.close);
    if (this.atr) v.atr = this.atr.update(c, false);
    if (this.adx) {
      v.adx = this.adx.update(c);
      if (v.adx !== null) {
        v.pdi = this.adx.pdi ?? null;
        v.mdi = this.adx.mdi ?? null;
      }
    }
    const bands = this.bb ? this.bb.update(c.close, false) : null;
    if (bands) {
      v.bbLower = bands.lower;
      v.bbMiddle = bands.middle;
      v.bbUpper = bands.upper;
    }
    v.volume = c.volume;
    v.close = c.close;
    v.count++;
    return v;
  }
}
