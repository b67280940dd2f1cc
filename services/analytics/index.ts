/** Backtest performance metrics: pure functions over closed trades and an equity series. */
export type {
  BacktestSummary,
  BuyAndHoldInput,
  ClosedTrade,
  TradePlan,
  EquityPoint,
  SummaryInput,
  SymbolSummary,
} from './types.js';
export { computeSummary, validateEquity } from './summary.js';
export { maxDrawdownPct, drawdownSeries, type DrawdownPoint } from './drawdown.js';
export { DAY_MS, DAYS_PER_YEAR, dailyCloses, dailyReturns, sharpeRatio, sortinoRatio } from './returns.js';
export { exposedMs, exposurePct } from './exposure.js';
export { tradeStats, type TradeStats } from './tradeStats.js';
export { MONEY_DECIMALS, RATIO_DECIMALS, moneyNumber, roundTo, ratio } from './round.js';
