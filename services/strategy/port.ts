/**
 * The strategy port: what every strategy gives the kernel. A strategy is pure: it sees closed 1m
 * candles, the position it holds on the symbol (if any) and the market context, and returns
 * intents (enter, move the stop, exit), never orders. The risk engine and the executor do the
 * rest, the same way in backtest, paper and live.
 *
 * A plug-in strategy is one module whose default export is a StrategyModule (README.md in this
 * folder has a worked example); services/strategy/load.ts checks a module against this port and
 * cli/strategy.ts imports one by name or path for every command.
 */
import type { Config } from '../config/schema.js';
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import type { PositionView } from '../model/positions.js';
import type { Intent } from '../model/intents.js';

/** Market context beyond candles; each field is optional because not every feed has it. */
export interface MarketContext {
  readonly book?: BookTop;
  readonly quoteVolume24h?: number;
}

/** Where candidate entries stopped: how many 1m closes each rule filtered out (the S/R strategy's). */
export type EntryFunnel = {
  evaluated: number;
  warmup: number;
  quoteVolume: number;
  spread: number;
  volume: number;
  regime: number;
  /** Refused by the regime classifier's filter (entry.regimes). */
  regimeFilter: number;
  noLevel: number;
  confirmations: number;
  rewardRisk: number;
  signals: number;
};

export interface Strategy {
  /** A short name for logs and reports. */
  readonly name: string;
  /**
   * One closed 1m candle of a symbol (warm-up candles included: the kernel discards what they
   * return). `position` is the symbol's position, if any.
   */
  onCandle(symbol: SymbolId, candle: Candle, position: PositionView | undefined, ctx: MarketContext): readonly Intent[];
  /**
   * Where candidate entries stopped, when the strategy counts it: counter name -> count (the
   * report's entry funnel). Read at the end of a run.
   */
  readonly funnel?: Readonly<Record<string, number>>;
  /** The price levels the strategy acts on for the symbol now, for charts (optional; not called while trading). */
  levels?(symbol: SymbolId): readonly number[];
}

/** Makes a fresh strategy (strategies keep per-symbol state: one instance per run). */
export type StrategyFactory = (config: Config) => Strategy;

/**
 * What a strategy module exports as its default: a name, an optional validator of its own
 * parameters (read from `config.strategyParams`; a zod schema fits), and a constructor.
 */
export interface StrategyModule<P = unknown> {
  /** A short name for logs and reports, e.g. 'sma-cross'. */
  readonly name: string;
  /** Short description for `--help` and reports. */
  readonly description?: string;
  /**
   * Validates `config.strategyParams` and returns the parameters `create` gets (apply defaults
   * here). Throw (a zod error does) to refuse them. Without it, strategyParams must be empty.
   */
  readonly params?: { parse(raw: unknown): P };
  /** A fresh strategy for one run (backtest, optimisation trial, paper or live session). */
  create(config: Config, params: P): Strategy;
}
