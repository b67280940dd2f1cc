/**
 * Paper trading over the in-process simulator, the way `npm run paper` and the runtime wire it,
 * with the wall-clock effects switched off so a run is a function of its candles (README, "One
 * kernel: backtest = paper"): the replay is stepped one event at a time and the session is left
 * idle after each; SafeExchange's sleeps resolve at once and its order rate limit is lifted; the
 * stuck-order check (a wall-clock timer in the runtime) is not run.
 */
import type { Config } from '../../services/config/schema.js';
import { Dec } from '../../services/core/money.js';
import type { Candle, SymbolId } from '../../services/core/types.js';
import { SafeExchange } from '../../services/execution/safeExchange.js';
import { TradingSession } from '../../services/live/tradingSession.js';
import { PaperVenue } from '../../services/paper/paperVenue.js';
import { ReplayMarketData } from '../../services/paper/publicData.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import { SimMatchingEngine, engineOptionsFromConfig } from '../../services/sim/matchingEngine.js';
import { backtestMarket } from '../../services/backtest/engine.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import type { EnterIntent } from '../../services/model/intents.js';
import type { Strategy } from '../../services/strategy/port.js';
import type { TradingKernel } from '../../services/kernel/kernel.js';

export interface PaperRun {
  readonly trades: ClosedTrade[];
  readonly session: TradingSession;
  readonly venue: PaperVenue;
  readonly engine: SimMatchingEngine;
  readonly portfolio: Portfolio;
  readonly lines: string[];
  /** Books against the venue after every closed trade: mismatches (empty when equal to the last decimal). */
  readonly mismatches: string[];
}

export async function paperRun(
  series: readonly { symbol: SymbolId; candles: readonly Candle[] }[],
  config: Config,
  opts: { entryGate?: (intent: EnterIntent, now: number) => string | undefined; strategy?: Strategy; atClose?: (kernel: TradingKernel, closeTime: number) => void } = {},
): Promise<PaperRun> {
  const publicData = new ReplayMarketData(series);
  const engine = new SimMatchingEngine(engineOptionsFromConfig(config.backtest));
  const first = Math.min(...series.map((s) => s.candles[0]!.openTime));
  const now = (): number => publicData.time ?? first;
  const quote = config.backtest.quoteAsset;
  // The backtest's markets (tick and lot from the candles, the config's fees and minimum).
  const overrides = Object.fromEntries(
    series.map((s) => {
      const m = backtestMarket(s.symbol, s.candles, config);
      return [s.symbol, { tickSize: m.tickSize, stepSize: m.stepSize, minQuantity: m.minQuantity, minNotional: m.minNotional, makerFeePct: m.makerFeePct, takerFeePct: m.takerFeePct }];
    }),
  );
  const venue = new PaperVenue({ publicData, engine, deposits: { [quote]: Dec.from(config.backtest.initialBalance) }, now, marketOverrides: overrides });
  await venue.loadMarkets();
  const safe = new SafeExchange(venue, { now, sleep: () => Promise.resolve(), random: () => 0 }, { rateLimit: { ratePerSecond: 1e9, burst: 1_000_000 } });
  const portfolio = new Portfolio(quote, Dec.from(config.backtest.initialBalance));
  const lines: string[] = [];
  const session = new TradingSession({ config, exchange: safe, portfolio, now, log: (l) => lines.push(l), ...(opts.entryGate ? { entryGate: opts.entryGate } : {}), ...(opts.strategy ? { strategy: opts.strategy } : {}) });
  const trades: ClosedTrade[] = [];
  const mismatches: string[] = [];
  session.executor.on((e) => {
    if (e.type !== 'position_closed') return;
    trades.push(e.trade);
    const total = (asset: string): Dec => {
      const b = engine.balances(venue.account).find((x) => x.asset === asset);
      return b ? b.free.add(b.locked) : Dec.ZERO;
    };
    if (!total(quote).eq(portfolio.cash)) mismatches.push(`${quote} venue ${total(quote).toString()} vs books ${portfolio.cash.toString()}`);
    for (const s of series) {
      const base = venue.market(s.symbol).base;
      if (!total(base).eq(portfolio.holding(s.symbol))) mismatches.push(`${base} venue ${total(base).toString()} vs books ${portfolio.holding(s.symbol).toString()}`);
    }
  });
  const subs = series.flatMap((s) => [
    { kind: 'kline' as const, symbol: s.symbol, interval: '1m' as const },
    { kind: 'trades' as const, symbol: s.symbol },
    { kind: 'book' as const, symbol: s.symbol },
  ]);
  const handle = await venue.stream([...subs, { kind: 'orders' }, { kind: 'fills' }, { kind: 'balances' }], (e) => session.push(e));
  // The backtest's atClose runs once a minute's candles are all decided: here, before the first
  // event after the minute's last 1m close.
  let pendingClose: { at: number; closeTime: number } | undefined;
  for (;;) {
    const nextAt = publicData.replay.peekTime();
    if (pendingClose !== undefined && (nextAt === undefined || nextAt > pendingClose.at)) {
      opts.atClose?.(session.kernel, pendingClose.closeTime);
      pendingClose = undefined;
      await session.idle();
    }
    const e = publicData.step();
    if (!e) break;
    if (opts.atClose && e.type === 'kline' && e.closed && e.interval === '1m') pendingClose = { at: e.time, closeTime: e.candle.openTime + 60_000 };
    await session.idle();
  }
  await session.idle();
  await handle.close();
  return { trades, session, venue, engine, portfolio, lines, mismatches };
}
