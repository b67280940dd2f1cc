/**
 * The ML feature pipeline: one streaming implementation, fed closed 1m candles one at a time,
 * used both by the hot path (candle by candle) and by training (`computeFeatures` simply runs the
 * same pipeline over an array). Identical vectors in both paths are therefore a property of the
 * construction, and the tests check it anyway.
 *
 * Every feature is scale-free (a ratio, a log return, a distance in ATR units, an oscillator
 * rescaled to about [-1, 1]) so that BTC at 60,000 USDT and PEPE at 0.00001 USDT share one model.
 * No feature reads a candle after the one just fed: the pipeline only ever sees the past.
 *
 * Indicators come from `trading-signals` (RSI, MACD, Bollinger, Ichimoku, ATR, ADX, EMA); rolling
 * windows (returns, volume statistics, ranges) are kept here in ring buffers and recomputed
 * directly over the window on each candle, so no running sum can drift.
 */
import { ADX, ATR, BollingerBands, EMA, IchimokuCloud, MACD, RSI } from 'trading-signals';
import { CandleAggregator } from '../candles/candleAggregator.js';
import { parseConfig, type LevelsConfig } from '../config/schema.js';
import { DAY_MS, MINUTE_MS, type Timeframe } from '../core/timeframes.js';
import type { Candle } from '../core/types.js';
import { LevelTracker, type Level } from '../levels/index.js';

const RET_HORIZONS = [1, 2, 3, 5, 10, 15, 30, 60, 120, 240] as const;
const VOL_WINDOWS = [10, 30, 60, 240] as const;
const RANGE_WINDOWS = [15, 60, 240] as const;
const EMA_PERIODS = [9, 21, 50, 100, 200] as const;
const LEVEL_TFS: readonly Timeframe[] = ['5m', '15m'];
/** Ring buffer length: the longest horizon plus the current candle. */
const HIST = 256;
/** Distances to levels are capped at this many ATRs (and a missing level counts as this far). */
const MAX_LEVEL_ATR = 10;

/** Names of the features, in vector order. */
export const FEATURE_NAMES: readonly string[] = Object.freeze(buildNames());

/** Number of features per vector. */
export const FEATURE_COUNT = FEATURE_NAMES.length;

/**
 * Candles the pipeline needs before its vectors are complete and trustworthy: the longest lookback
 * is the 15m support/resistance window (50 candles of 15m = 750 1m candles) and the 15m ADX; a
 * margin covers a series that starts inside a 15m bucket.
 */
export const DEFAULT_WARMUP_CANDLES = 800;

/** Options of the feature pipeline. */
export interface FeatureOptions {
  /** Level detection settings (the strategy's `levels` config); defaults of the config schema when absent. */
  readonly levels?: LevelsConfig;
  /** Candles before the first vector is emitted (default DEFAULT_WARMUP_CANDLES). */
  readonly warmupCandles?: number;
}

function buildNames(): string[] {
  const n: string[] = [];
  for (const h of RET_HORIZONS) n.push(`ret_${h}`, `ret_atr_${h}`);
  n.push('rsi_6', 'rsi_14', 'rsi_28', 'rsi_14_5m', 'rsi_14_15m');
  n.push('macd_line', 'macd_signal', 'macd_hist', 'macd_hist_delta');
  n.push('bb20_pctb', 'bb20_width', 'bb50_pctb', 'bb50_width');
  n.push('ichi_tenkan_dist', 'ichi_kijun_dist', 'ichi_tenkan_kijun', 'ichi_cloud_top_dist', 'ichi_cloud_bottom_dist', 'ichi_cloud_thickness', 'ichi_cloud_pos');
  n.push('atr14_pct', 'atr50_pct', 'atr_ratio');
  n.push('adx_14', 'pdi_14', 'mdi_14', 'di_diff_14', 'adx_14_5m', 'di_diff_14_5m', 'adx_14_15m', 'di_diff_14_15m');
  for (const w of VOL_WINDOWS) n.push(`realized_vol_${w}`);
  n.push('vol_ratio_10_60', 'vol_ratio_30_240');
  n.push('volume_z_20', 'volume_z_60', 'rel_volume_20', 'rel_volume_60', 'obv_slope_10', 'obv_slope_30', 'zero_volume', 'volume_trend_5_30');
  for (const k of [0, 1, 2]) n.push(`body_${k}`, `upper_wick_${k}`, `lower_wick_${k}`, `range_atr_${k}`, `body_atr_${k}`);
  for (const w of RANGE_WINDOWS) n.push(`range_pos_${w}`, `dist_high_${w}`, `dist_low_${w}`);
  for (const p of EMA_PERIODS) n.push(`ema_dist_${p}`);
  n.push('ema21_slope_5', 'ema50_slope_10');
  for (const tf of LEVEL_TFS) {
    n.push(`sup_dist_${tf}`, `res_dist_${tf}`, `sup_strength_${tf}`, `res_strength_${tf}`, `sup_touches_${tf}`, `res_touches_${tf}`, `levels_near_${tf}`);
  }
  n.push('up_streak', 'minutes_since_prev', 'hour_sin', 'hour_cos', 'dow_sin', 'dow_cos');
  return n;
}

/** Per-timeframe state of the higher-timeframe part. */
interface HigherTf {
  readonly tf: Timeframe;
  readonly levels: LevelTracker;
  readonly rsi: RSI;
  readonly adx: ADX;
  rsiValue: number;
  adxValue: number;
  diDiff: number;
}

/**
 * The streaming feature pipeline of one symbol. `update` takes the next closed 1m candle (strictly
 * later than the previous) and returns the feature vector as of that candle's close, or null
 * during the warm-up. The returned array is a fresh copy the caller may keep.
 */
export class FeaturePipeline {
  readonly warmupCandles: number;
  private count = 0;
  private prevOpenTime = -Infinity;
  // Ring buffers of the last HIST candles; index of sequence number s is s % HIST.
  private readonly o = new Float64Array(HIST);
  private readonly h = new Float64Array(HIST);
  private readonly l = new Float64Array(HIST);
  private readonly c = new Float64Array(HIST);
  private readonly v = new Float64Array(HIST);
  private readonly lr = new Float64Array(HIST); // log return of each candle (0 for the first)
  private readonly logv = new Float64Array(HIST); // log1p(volume / previous reference), see update
  private readonly obv = new Float64Array(HIST);
  private readonly atrHist = new Float64Array(HIST);
  private readonly ema21Hist = new Float64Array(HIST);
  private readonly ema50Hist = new Float64Array(HIST);
  private readonly rsi6 = new RSI(6);
  private readonly rsi14 = new RSI(14);
  private readonly rsi28 = new RSI(28);
  private readonly macd = new MACD(new EMA(12), new EMA(26), new EMA(9));
  private prevMacdHist = 0;
  private readonly bb20 = new BollingerBands(20, 2);
  private readonly bb50 = new BollingerBands(50, 2);
  private readonly ichimoku = new IchimokuCloud({ conversionInterval: 9, baseInterval: 26, spanBInterval: 52 });
  /** Span A and B as computed 26 candles ago: the cloud plotted at the current candle. */
  private readonly spanA = new Float64Array(HIST);
  private readonly spanB = new Float64Array(HIST);
  private ichiCount = 0;
  private readonly atr14 = new ATR(14);
  private readonly atr50 = new ATR(50);
  private readonly adx14 = new ADX(14);
  private readonly emas = EMA_PERIODS.map((p) => new EMA(p));
  private readonly aggregator = new CandleAggregator('1m', [...LEVEL_TFS]);
  private readonly higher: HigherTf[];
  private upStreak = 0;

  constructor(opts: FeatureOptions = {}) {
    const levels = opts.levels ?? parseConfig({}).levels;
    this.warmupCandles = opts.warmupCandles ?? DEFAULT_WARMUP_CANDLES;
    this.higher = LEVEL_TFS.map((tf) => ({ tf, levels: new LevelTracker(levels, tf), rsi: new RSI(14), adx: new ADX(14), rsiValue: NaN, adxValue: NaN, diDiff: NaN }));
  }

  /** Candles fed so far. */
  get candles(): number {
    return this.count;
  }

  /** Feeds the next closed 1m candle; returns its feature vector, or null during the warm-up. */
  update(candle: Candle): Float64Array | null {
    if (!(candle.openTime > this.prevOpenTime)) {
      throw new RangeError(`FeaturePipeline.update: candle ${candle.openTime} is not after the previous ${this.prevOpenTime}; expected closed candles in time order`);
    }
    const gapMinutes = this.count === 0 ? 1 : (candle.openTime - this.prevOpenTime) / MINUTE_MS;
    this.prevOpenTime = candle.openTime;
    const s = this.count;
    const i = s % HIST;
    const prevI = (s + HIST - 1) % HIST;
    const prevClose = s === 0 ? candle.open : this.c[prevI]!;
    this.o[i] = candle.open;
    this.h[i] = candle.high;
    this.l[i] = candle.low;
    this.c[i] = candle.close;
    this.v[i] = candle.volume;
    this.lr[i] = s === 0 ? 0 : Math.log(candle.close / prevClose);
    this.logv[i] = Math.log1p(candle.volume);
    const prevObv = s === 0 ? 0 : this.obv[prevI]!;
    this.obv[i] = prevObv + (candle.close > prevClose ? candle.volume : candle.close < prevClose ? -candle.volume : 0);
    this.upStreak = candle.close > prevClose ? Math.max(1, this.upStreak + 1) : candle.close < prevClose ? Math.min(-1, this.upStreak - 1) : 0;

    // Indicators.
    const r6 = this.rsi6.update(candle.close, false);
    const r14 = this.rsi14.update(candle.close, false);
    const r28 = this.rsi28.update(candle.close, false);
    const macd = this.macd.update(candle.close, false);
    const bb20 = this.bb20.update(candle.close, false);
    const bb50 = this.bb50.update(candle.close, false);
    const ichi = this.ichimoku.update(candle, false);
    if (ichi) {
      const k = this.ichiCount % HIST;
      this.spanA[k] = ichi.spanA;
      this.spanB[k] = ichi.spanB;
      this.ichiCount++;
    }
    const atr14 = this.atr14.update(candle, false);
    const atr50 = this.atr50.update(candle, false);
    const adx = this.adx14.update(candle, false);
    const emaVals = this.emas.map((e) => e.update(candle.close, false));
    for (const closed of this.aggregator.push(candle)) {
      const hs = this.higher.find((x) => x.tf === closed.tf);
      if (!hs) continue;
      hs.levels.update(closed.candle);
      const r = hs.rsi.update(closed.candle.close, false);
      const a = hs.adx.update(closed.candle, false);
      if (r !== null) hs.rsiValue = r;
      if (a !== null) {
        hs.adxValue = a;
        hs.diDiff = (hs.adx.pdi ?? 0) - (hs.adx.mdi ?? 0);
      }
    }
    const close = candle.close;
    const safeAtr = Math.max(atr14 ?? 0, close * 1e-5);
    this.atrHist[i] = safeAtr;
    this.ema21Hist[i] = emaVals[1]!;
    this.ema50Hist[i] = emaVals[2]!;
    this.count = s + 1;

    const prevHist = this.prevMacdHist;
    if (macd) this.prevMacdHist = macd.histogram;
    if (this.count <= this.warmupCandles) return null;
    if (r6 === null || r14 === null || r28 === null || !macd || !bb20 || !bb50 || this.ichiCount <= 26 || atr14 === null || atr50 === null || adx === null) return null;
    const h5 = this.higher[0]!;
    const h15 = this.higher[1]!;
    if (Number.isNaN(h5.rsiValue) || Number.isNaN(h15.rsiValue) || Number.isNaN(h5.adxValue) || Number.isNaN(h15.adxValue)) return null;

    const out = new Float64Array(FEATURE_COUNT);
    let k = 0;
    const at = (back: number): number => (s - back + HIST) % HIST;
    // Returns over several horizons: raw log return (x100) and in units of the ATR.
    for (const hz of RET_HORIZONS) {
      const ret = Math.log(close / this.c[at(hz)]!);
      out[k++] = ret * 100;
      out[k++] = clip((close - this.c[at(hz)]!) / safeAtr, -20, 20);
    }
    // Oscillators, rescaled to about [-1, 1].
    out[k++] = (r6 - 50) / 50;
    out[k++] = (r14 - 50) / 50;
    out[k++] = (r28 - 50) / 50;
    out[k++] = (h5.rsiValue - 50) / 50;
    out[k++] = (h15.rsiValue - 50) / 50;
    out[k++] = macd.macd / safeAtr;
    out[k++] = macd.signal / safeAtr;
    out[k++] = macd.histogram / safeAtr;
    out[k++] = (macd.histogram - prevHist) / safeAtr;
    out[k++] = pctB(close, bb20.lower, bb20.upper);
    out[k++] = (bb20.upper - bb20.lower) / bb20.middle;
    out[k++] = pctB(close, bb50.lower, bb50.upper);
    out[k++] = (bb50.upper - bb50.lower) / bb50.middle;
    // Ichimoku: the lines now, the cloud as plotted now (spans computed 26 candles ago).
    const cloudIdx = (this.ichiCount - 1 - 26 + HIST) % HIST;
    const sa = this.spanA[cloudIdx]!;
    const sb = this.spanB[cloudIdx]!;
    const top = Math.max(sa, sb);
    const bottom = Math.min(sa, sb);
    out[k++] = clip((close - ichi!.conversion) / safeAtr, -20, 20);
    out[k++] = clip((close - ichi!.base) / safeAtr, -20, 20);
    out[k++] = clip((ichi!.conversion - ichi!.base) / safeAtr, -20, 20);
    out[k++] = clip((close - top) / safeAtr, -20, 20);
    out[k++] = clip((close - bottom) / safeAtr, -20, 20);
    out[k++] = clip((top - bottom) / safeAtr, 0, 20);
    out[k++] = close > top ? 1 : close < bottom ? -1 : 0;
    // Volatility.
    out[k++] = (atr14 / close) * 100;
    out[k++] = (atr50 / close) * 100;
    out[k++] = atr14 / Math.max(atr50, close * 1e-5);
    out[k++] = adx / 100;
    // trading-signals gives +DI and -DI as fractions (0..1) and the ADX in points (0..100).
    out[k++] = this.adx14.pdi ?? 0;
    out[k++] = this.adx14.mdi ?? 0;
    out[k++] = (this.adx14.pdi ?? 0) - (this.adx14.mdi ?? 0);
    out[k++] = h5.adxValue / 100;
    out[k++] = h5.diDiff;
    out[k++] = h15.adxValue / 100;
    out[k++] = h15.diDiff;
    const rv: number[] = [];
    for (const w of VOL_WINDOWS) {
      const sd = this.std(this.lr, s, w) * 100;
      rv.push(sd);
      out[k++] = sd;
    }
    out[k++] = rv[0]! / Math.max(rv[2]!, 1e-6);
    out[k++] = rv[1]! / Math.max(rv[3]!, 1e-6);
    // Volume: z-scores of log volume against the window BEFORE this candle, relative volume, OBV slope.
    out[k++] = this.zPrev(this.logv, s, 20);
    out[k++] = this.zPrev(this.logv, s, 60);
    out[k++] = Math.log((candle.volume + 1e-12) / (this.meanPrev(this.v, s, 20) + 1e-12));
    out[k++] = Math.log((candle.volume + 1e-12) / (this.meanPrev(this.v, s, 60) + 1e-12));
    out[k++] = this.obvSlope(s, 10);
    out[k++] = this.obvSlope(s, 30);
    out[k++] = candle.volume === 0 ? 1 : 0;
    out[k++] = Math.log((this.mean(this.v, s, 5) + 1e-12) / (this.mean(this.v, s, 30) + 1e-12));
    // Candle shapes of this candle and the two before.
    for (const back of [0, 1, 2]) {
      const j = at(back);
      const op = this.o[j]!;
      const hi = this.h[j]!;
      const lo = this.l[j]!;
      const cl = this.c[j]!;
      const range = hi - lo;
      out[k++] = range > 0 ? (cl - op) / range : 0;
      out[k++] = range > 0 ? (hi - Math.max(op, cl)) / range : 0;
      out[k++] = range > 0 ? (Math.min(op, cl) - lo) / range : 0;
      out[k++] = clip(range / safeAtr, 0, 20);
      out[k++] = clip((cl - op) / safeAtr, -20, 20);
    }
    // Position within recent ranges.
    for (const w of RANGE_WINDOWS) {
      let hi = -Infinity;
      let lo = Infinity;
      for (let b = 0; b < w; b++) {
        const j = at(b);
        if (this.h[j]! > hi) hi = this.h[j]!;
        if (this.l[j]! < lo) lo = this.l[j]!;
      }
      out[k++] = hi > lo ? (close - lo) / (hi - lo) : 0.5;
      out[k++] = clip((hi - close) / safeAtr, 0, 50);
      out[k++] = clip((close - lo) / safeAtr, 0, 50);
    }
    for (let e = 0; e < EMA_PERIODS.length; e++) out[k++] = clip((close - emaVals[e]!) / safeAtr, -30, 30);
    out[k++] = clip((this.ema21Hist[i] - this.ema21Hist[at(5)]!) / safeAtr, -20, 20);
    out[k++] = clip((this.ema50Hist[i] - this.ema50Hist[at(10)]!) / safeAtr, -20, 20);
    // Support and resistance of the strategy's level timeframes, in ATR units.
    for (const hs of this.higher) {
      const sup = hs.levels.nearestSupport(close);
      const res = hs.levels.nearestResistance(close);
      out[k++] = sup ? Math.min((close - sup.price) / safeAtr, MAX_LEVEL_ATR) : MAX_LEVEL_ATR;
      out[k++] = res ? Math.min((res.price - close) / safeAtr, MAX_LEVEL_ATR) : MAX_LEVEL_ATR;
      out[k++] = sup ? Math.log1p(sup.strength) : 0;
      out[k++] = res ? Math.log1p(res.strength) : 0;
      out[k++] = sup ? Math.log1p(sup.touches) : 0;
      out[k++] = res ? Math.log1p(res.touches) : 0;
      out[k++] = levelsWithin(hs.levels.levels(), close, 2 * safeAtr);
    }
    out[k++] = clip(this.upStreak, -10, 10) / 10;
    out[k++] = Math.log(Math.max(1, gapMinutes));
    const closeTime = candle.openTime + MINUTE_MS;
    const dayFrac = (((closeTime % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS;
    out[k++] = Math.sin(2 * Math.PI * dayFrac);
    out[k++] = Math.cos(2 * Math.PI * dayFrac);
    // 1970-01-01 was a Thursday: day 0 -> weekday 4 (0 = Sunday).
    const dow = (Math.floor(closeTime / DAY_MS) + 4) % 7;
    out[k++] = Math.sin((2 * Math.PI * dow) / 7);
    out[k++] = Math.cos((2 * Math.PI * dow) / 7);
    if (k !== FEATURE_COUNT) throw new Error(`feature pipeline wrote ${k} values, expected ${FEATURE_COUNT}`);
    return out;
  }

  private mean(buf: Float64Array, s: number, w: number): number {
    let sum = 0;
    for (let b = 0; b < w; b++) sum += buf[(s - b + HIST) % HIST]!;
    return sum / w;
  }

  /** Mean of the `w` values before sequence number `s` (excluding s itself). */
  private meanPrev(buf: Float64Array, s: number, w: number): number {
    let sum = 0;
    for (let b = 1; b <= w; b++) sum += buf[(s - b + HIST) % HIST]!;
    return sum / w;
  }

  private std(buf: Float64Array, s: number, w: number): number {
    const m = this.mean(buf, s, w);
    let ss = 0;
    for (let b = 0; b < w; b++) {
      const d = buf[(s - b + HIST) % HIST]! - m;
      ss += d * d;
    }
    return Math.sqrt(ss / w);
  }

  /** z-score of the value at `s` against the `w` values before it. */
  private zPrev(buf: Float64Array, s: number, w: number): number {
    const m = this.meanPrev(buf, s, w);
    let ss = 0;
    for (let b = 1; b <= w; b++) {
      const d = buf[(s - b + HIST) % HIST]! - m;
      ss += d * d;
    }
    const sd = Math.sqrt(ss / w);
    return sd > 1e-9 ? clip((buf[s % HIST]! - m) / sd, -10, 10) : 0;
  }

  /** OBV change over `w` candles divided by the volume traded in them: in [-1, 1]. */
  private obvSlope(s: number, w: number): number {
    let vol = 0;
    for (let b = 0; b < w; b++) vol += this.v[(s - b + HIST) % HIST]!;
    const d = this.obv[s % HIST]! - this.obv[(s - w + HIST) % HIST]!;
    return vol > 0 ? d / vol : 0;
  }
}

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Bollinger %b: 0 at the lower band, 1 at the upper; 0.5 when the bands collapse. */
function pctB(close: number, lower: number, upper: number): number {
  return upper > lower ? clip((close - lower) / (upper - lower), -3, 4) : 0.5;
}

function levelsWithin(levels: readonly Level[], price: number, dist: number): number {
  let n = 0;
  for (const l of levels) if (Math.abs(l.price - price) <= dist) n++;
  return n;
}

/** Feature vectors of a series: the same pipeline as the hot path, run over an array. */
export interface FeatureMatrix {
  /** Row-major, rows = candles, FEATURE_COUNT columns; rows of warm-up candles are NaN. */
  readonly values: Float64Array;
  /** 1 when the row holds a vector, 0 during the warm-up. */
  readonly ready: Uint8Array;
  /** Close time of each candle (epoch ms): the decision time of its row. */
  readonly times: Float64Array;
  readonly rows: number;
  readonly featureCount: number;
}

/** Runs a fresh FeaturePipeline over `candles` (training path). */
export function computeFeatures(candles: readonly Candle[], opts: FeatureOptions = {}): FeatureMatrix {
  const p = new FeaturePipeline(opts);
  const rows = candles.length;
  const values = new Float64Array(rows * FEATURE_COUNT).fill(NaN);
  const ready = new Uint8Array(rows);
  const times = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = candles[r]!;
    times[r] = c.openTime + MINUTE_MS;
    const vec = p.update(c);
    if (vec) {
      values.set(vec, r * FEATURE_COUNT);
      ready[r] = 1;
    }
  }
  return { values, ready, times, rows, featureCount: FEATURE_COUNT };
}
