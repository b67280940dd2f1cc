/**
 * One kernel: on the same candles, the backtest (services/backtest: the kernel on a simulated clock
 * against the matching engine in process, synchronously) and paper trading (services/live: the
 * kernel fed by the candle replay through the paper venue and SafeExchange, asynchronously) make the
 * same trades: entry and exit times, prices, quantities, fees, PnL and exit reasons, to the last
 * decimal, with no tolerance. The only difference allowed is the backtest's end-of-data exit (paper
 * trading has no end of data): the position it closes is the one paper trading still holds.
 */
import { describe, it, expect } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { runBacktest } from '../../services/backtest/engine.js';
import { parseConfig, type ConfigInput } from '../../services/config/schema.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { paperRun } from '../helpers/paperRun.js';
import { BUILTIN_STRATEGIES } from '../../services/strategy/builtin.js';
import { strategyFactory } from '../../services/strategy/load.js';
import type { StrategyFactory } from '../../services/strategy/port.js';

const BTC = symbolId('BTCUSDT');
const PEPE = symbolId('PEPEUSDT');
const btc = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const pepe = loadCandleFile('test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz', { repair: true }).candles;

const exact = (t: ClosedTrade): string =>
  [t.id, t.symbol, t.entryTime, t.exitTime, t.entryPrice.toString(), t.exitPrice.toString(), t.quantity.toString(), t.fees.toString(), t.grossPnl.toString(), t.netPnl.toString(), t.exitReason, t.exits].join(' ');

/** The engine's order sequence number (its ids are C02__<n>). */
const seq = (id: string): number => Number(id.slice(id.lastIndexOf('_') + 1));

async function compare(series: { symbol: ReturnType<typeof symbolId>; candles: readonly Candle[] }[], input: ConfigInput, factory?: StrategyFactory) {
  const config = parseConfig(input);
  const bt = await runBacktest({ series, config, ...(factory ? { strategy: factory(config) } : {}) });
  const paper = await paperRun(series, config, factory ? { strategy: factory(config) } : {});
  const closedByData = bt.trades.filter((t) => t.exitReason === 'end_of_data');
  expect(paper.trades.map(exact)).toEqual(bt.trades.filter((t) => t.exitReason !== 'end_of_data').map(exact));
  // What the backtest closed at the end of the data is what paper trading still holds (an entry
  // sent at the very last close is still in flight in paper trading; the backtest cancels it).
  const stillOpen = series.flatMap((s) => {
    const p = paper.session.executor.position(s.symbol);
    return p && p.quantity > 0 ? [p.id] : [];
  });
  expect(stillOpen.sort()).toEqual(closedByData.map((t) => t.id).sort());
  // And the two engines were asked for the same orders, in the same order.
  const paperOrders = series.flatMap((s) => paper.engine.allOrders(paper.venue.account, s.symbol)).sort((a, b) => seq(a.exchangeOrderId) - seq(b.exchangeOrderId));
  const endIds = new Set(closedByData.map((t) => t.id));
  const btOrders = bt.orderLog.filter((o) => !(o.time >= bt.end && [...endIds].some((id) => o.clientOrderId.startsWith(id))));
  expect(paperOrders.map((o) => o.clientOrderId)).toEqual(btOrders.map((o) => o.clientOrderId));
  expect(paper.mismatches).toEqual([]);
  expect(paper.session.counters.handlerErrors).toBe(0);
  return { bt, paper };
}

describe('backtest = paper trading over the in-process simulator, exactly', () => {
  it('BTCUSDT fixture (3,000 real 1m candles), default config: the same 22 trades to the last decimal', async () => {
    const { bt } = await compare([{ symbol: BTC, candles: btc }], {});
    expect(bt.trades.length).toBeGreaterThanOrEqual(20);
    expect(bt.trades).toHaveLength(22);
  });

  it('HF mode with limit entries (partial fills, timeouts): the same trades', async () => {
    const { bt } = await compare([{ symbol: BTC, candles: btc }], { mode: 'hf', entry: { orderType: 'limit' } });
    expect(bt.trades.length).toBeGreaterThanOrEqual(20);
  });

  it('two symbols on one balance at the same minutes (PEPE moved onto BTC’s time): the same trades', async () => {
    const shift = btc[0]!.openTime - pepe[0]!.openTime;
    const moved = pepe.map((c) => ({ ...c, openTime: c.openTime + shift }));
    const { bt } = await compare(
      [
        { symbol: BTC, candles: btc },
        { symbol: PEPE, candles: moved },
      ],
      { entry: { minQuoteVolume24h: 0 } },
    );
    expect(new Set(bt.trades.map((t) => t.symbol))).toEqual(new Set([BTC, PEPE]));
  });

  it('the execution options that are off by default: maker entries at the level, maker time exits, ATR stops, targets and trail, Kelly sizing', async () => {
    const run = await compare([{ symbol: BTC, candles: btc }], {
      mode: 'hf',
      entry: { orderType: 'maker', limitPrice: 'level', limitTimeoutCandles: 5 },
      exit: { timeExit: 'maker', makerExitWaitSeconds: 45, stopAtr: 1, targetAtr: 3, trailAtr: 2, atrTimeframe: '3m', breakBandPct: 0.3 },
      risk: { sizing: { mode: 'kelly', kellyWindow: 10, kellyMinTrades: 5 } },
    });
    const { bt, paper } = run;
    expect(bt.trades.length).toBeGreaterThanOrEqual(10);
    expect(new Set(bt.trades.map((t) => t.exitReason)).has('time')).toBe(true);
    // Both sides went through as post-only (LIMIT_MAKER) orders.
    const postOnly = paper.engine.allOrders(paper.venue.account, BTC).filter((o) => o.type === 'post_only');
    expect(new Set(postOnly.map((o) => o.side))).toEqual(new Set(['buy', 'sell']));
  });

  it('the breakout strategy (15m, entries resting at the broken high, ATR trail, volatility-target sizing): the same trades', async () => {
    const factory = strategyFactory(BUILTIN_STRATEGIES.breakout!, 'breakout');
    const { bt } = await compare(
      [{ symbol: BTC, candles: btc }],
      { breakout: { timeframe: '15m', channel: 10, exitChannel: 5, trailAtr: 2 }, entry: { orderType: 'limit', limitPrice: 'level' }, risk: { sizing: { mode: 'vol_target', volWindowMinutes: 240 } } },
      factory,
    );
    expect(bt.trades.length).toBeGreaterThanOrEqual(3);
  });
});
