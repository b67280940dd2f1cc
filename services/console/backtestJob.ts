/**
 * The console's /backtest job: the kernel backtest (services/research/backtestReport.ts, the same run and
 * report as `npm run backtest`) of the traded symbols over the candle archive's last days, with the
 * deployment's strategy mode and risk profile. Under `npm start` it runs in a child process over
 * the local archive (fargate/console.ts); on AWS the webhook queues a `backtest_request` and the
 * backtest Lambda (lambdas/backtest) runs it over the bucket's `candles/`. Both answer with the
 * texts below, so they read the same.
 */
import type { BacktestSummary } from '../analytics/types.js';
import { MAX_BACKTEST_DAYS } from '../events/types.js';
import type { ArchiveSelection } from './optimizeJob.js';

/** What /backtest runs; every figure is said in the answer. */
export const CONSOLE_BACKTEST = {
  /** The archive's most recent days used when the operator names none. */
  days: 30,
  /** The most an operator may ask for (`/backtest 90`). */
  maxDays: MAX_BACKTEST_DAYS,
  /**
   * Fewer archived days than this and nothing runs: the levels and indicators of the slowest
   * timeframe need about a day of warm-up, so a shorter run says little about the strategy.
   */
  minDays: 3,
} as const;

/** What one job was asked to do (the console's side; the event carries the same). */
export interface BacktestJobRequest {
  readonly jobId: string;
  /** When it was asked (epoch ms). */
  readonly time: number;
  /** Who asked (e.g. "telegram 12345 @name"); never a secret. */
  readonly requestedBy: string;
  /** Days of the archive; CONSOLE_BACKTEST.days when absent. */
  readonly days?: number;
}

const escHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const signed = (x: number, d = 2): string => `${x >= 0 ? '+' : ''}${x.toFixed(d)}`;
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${signed(x)}%`);
const num = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

/** The data of a selection in words: "PEPEUSDT, the archive's last 3 days (2026-05-20 to 2026-05-22)". */
export function backtestDataText(pick: ArchiveSelection): string {
  return `${pick.symbols.join(', ')} over the candle archive's last ${pick.days} day(s)${pick.first ? ` (${pick.first} to ${pick.last ?? pick.first})` : ''}`;
}

/** The answer when the archive holds too few days: nothing ran, and why. */
export function backtestTooShortText(jobId: string, pick: ArchiveSelection, symbols: readonly string[], minDays: number = CONSOLE_BACKTEST.minDays, html = true): string {
  const e = html ? escHtml : (x: string): string => x;
  const which = pick.symbols.length ? pick.symbols.join(', ') : symbols.length ? symbols.join(', ') : 'any symbol';
  return e(`Job ${jobId}: no backtest ran. The candle archive has ${pick.days} day(s) of ${which}; /backtest needs at least ${minDays} (the archive grows by a day per day of trading).`);
}

/** The summary fields the answer reads (summary.json of a run). */
export type BacktestAnswerSummary = Pick<
  BacktestSummary,
  'symbols' | 'start' | 'end' | 'candles' | 'trades' | 'winRate' | 'netPnl' | 'netReturnPct' | 'fees' | 'maxDrawdownPct' | 'profitFactor' | 'buyAndHoldReturnPct' | 'initialBalance' | 'finalBalance'
> & {
  readonly mode: string;
  readonly profile: string;
  readonly costs?: { readonly quoteAsset?: string; readonly takerFeePct?: number; readonly makerFeePct?: number; readonly slippageBps?: number };
};

/**
 * The answer when a run is done (Telegram HTML; plain text in an alert): the figures are the
 * backtest's, net of fees and slippage as the config charges them, and where the report is. Kept
 * short: the alert dispatcher cuts a message at 700 characters (services/ops/alertFormat.ts).
 */
export function backtestDoneText(jobId: string, s: BacktestAnswerSummary, ran: string, where: string, html = true): string {
  const e = html ? escHtml : (x: string): string => x;
  const quote = s.costs?.quoteAsset ?? 'USDT';
  const fees = s.costs ? ` (taker ${s.costs.takerFeePct ?? 'n/a'}%, maker ${s.costs.makerFeePct ?? 'n/a'}%)` : '';
  const slippage = s.costs?.slippageBps !== undefined ? `slippage ${s.costs.slippageBps} bps in the fill prices` : "the config's slippage in the fill prices";
  const at = (iso: string): string => iso.slice(0, 16).replace('T', ' ');
  return [
    `Job ${e(jobId)} done: backtest of ${e(ran)}, mode ${e(s.mode)}, profile ${e(s.profile)}; ${s.candles.toLocaleString('en-US')} candles, ${e(at(s.start))} to ${e(at(s.end))} UTC.`,
    `${s.trades} trades, win rate ${s.winRate === null ? 'n/a' : `${s.winRate.toFixed(1)}%`}, profit factor ${num(s.profitFactor)}.`,
    `Net ${signed(s.netPnl)} ${e(quote)} (${pct(s.netReturnPct)}; ${s.initialBalance.toFixed(2)} to ${s.finalBalance.toFixed(2)}) after fees and slippage: fees ${s.fees.toFixed(2)} ${e(quote)}${e(fees)}, ${e(slippage)}; max drawdown ${num(s.maxDrawdownPct)}%; buy and hold ${pct(s.buyAndHoldReturnPct)}.`,
    `Report: ${e(where)}`,
  ].join('\n');
}

/** The answer when a run failed: what went wrong (its last line, when there are several). */
export function backtestFailedText(jobId: string, why: string, html = true): string {
  const e = html ? escHtml : (x: string): string => x;
  const line = why.trim().split('\n').pop()?.trim() || 'no output';
  return e(`Job ${jobId} failed: ${line}`);
}

/** The immediate answer when a job is queued or started. */
export function backtestQueuedText(jobId: string, days: number, where: string): string {
  return escHtml(`Backtest queued as job ${jobId}: the traded symbols over the candle archive's last ${days} day(s), ${where}. The answer comes here when it is done (results net of fees and slippage).`);
}
