/**
 * The strategy port: what every strategy gives the kernel. A strategy is pure: it sees closed 1m
 * candles, the position it holds on the symbol (if any) and the market context, and returns
 * intents (enter, move the stop, exit), never orders. The risk engine and the executor do the
 * rest, the same way in backtest, paper and live.
 */
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import type { PositionView } from '../model/positions.js';
import type { Intent } from '../model/intents.js';

/** Market context beyond candles; each field is optional because not every feed has it. */
export interface MarketContext {
  readonly book?: BookTop;
  readonly quoteVolume24h?: number;
}

/** Where candidate entries stopped: how many 1m closes each rule filtered out (the S/R strategy's). */
export interface EntryFunnel {
  evaluated: number;
  warmup: number;
  quoteVolume: number;
  spread: number;
  volume: number;
  regime: number;
  noLevel: number;
  confirmations: number;
  rewardRisk: number;
  signals: number;
}

export interface Strategy {
  /** A short name for logs and reports. */
  readonly name: string;
  /**
   * One closed 1m candle of a symbol (warm-up candles included: the kernel discards what they
   * return). `position` is the symbol's position, if any.
   */
  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined, ctx: MarketContext): readonly Intent[];
  /** Where entries stopped, when the strategy counts it. */
  readonly funnel?: EntryFunnel;
}
