/**
 * The backtest's fast path (services/backtest/engine.ts): when nothing can trade on the minute's
 * symbols, a candle's four path points are one call each to the matching engine (`quietCandle`)
 * and the kernel (`quietPath`) instead of four prints and four books. It must change nothing:
 * - the engine: after quiet candles walked either way, the book, the recent-volume window (seen
 *   through the slippage a market order then pays) and the fills are the same to the last digit;
 *   `quietCandle` refuses a symbol with an order working;
 * - whole backtests on the real fixtures (BTCUSDT April 2021 and PEPEUSDT May 2026, 3,000 candles
 *   each, alone and together on one balance, both modes, market and limit entries): every trade,
 *   the equity curve, the order log and the counters are identical with the fast path on and off.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadSeries } from '../../cli/loadSeries.js';
import { runBacktestSync, type BacktestResult, type SymbolSeries } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';
import { dec } from '../../services/core/money.js';
import type { Candle } from '../../services/core/types.js';
import { SimMatchingEngine } from '../../services/sim/matchingEngine.js';
import { PATH_OFFSETS, SyntheticQuotes } from '../../services/sim/candlePath.js';
import { BTC, BTC_SPEC, MIN, RIG_OPTIONS, T0 } from '../helpers/engineRig.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/candles', import.meta.url));

function engine(): SimMatchingEngine {
  const e = new SimMatchingEngine(RIG_OPTIONS);
  e.addMarket(BTC_SPEC);
  e.openAccount('a', { USDT: dec(100_000) }, T0);
  return e;
}

/** The slow walk: a print of a quarter of the volume and the book at each path point. */
function walk(e: SimMatchingEngine, q: SyntheticQuotes, c: Candle): void {
  const prices = [c.open, c.low, c.high, c.close];
  for (let j = 0; j < 4; j++) {
    const time = c.openTime + (PATH_OFFSETS[j] as number);
    const price = prices[j] as number;
    e.trade(BTC, price, c.volume / 4, time);
    q.quote(price);
    e.book(BTC, q.bid, c.volume / 4, q.ask, c.volume / 4, time);
  }
}

const bar = (i: number, o: number, h: number, l: number, c: number, v: number): Candle => ({ openTime: T0 + i * MIN, open: o, high: h, low: l, close: c, volume: v });

describe('the matching engine: a quiet candle in one call', () => {
  it('leaves the book, the recent volume and the next fills exactly as the four path points do', () => {
    const slow = engine();
    const fast = engine();
    const qs = new SyntheticQuotes(BTC_SPEC.tickSize, 0);
    const qf = new SyntheticQuotes(BTC_SPEC.tickSize, 0);
    // Volumes that vary, one zero-volume candle, and a gap of two minutes (the 60 s window empties).
    const bars = [bar(0, 50, 50.5, 49.8, 50.2, 400), bar(1, 50.2, 50.3, 50.1, 50.15, 0), bar(2, 50.15, 50.9, 50.0, 50.8, 1234.5), bar(5, 50.8, 51.2, 50.7, 51.1, 77.25), bar(6, 51.1, 51.15, 50.95, 51.0, 310)];
    for (const c of bars) {
      walk(slow, qs, c);
      expect(fast.isQuiet(BTC)).toBe(true);
      qf.quote(c.close);
      fast.quietCandle(BTC, c, PATH_OFFSETS, qf);
      expect(fast.bookTop(BTC)).toEqual(slow.bookTop(BTC));
    }
    // A market buy now: its price carries the impact of the volume seen in the 60 s before it.
    const at = T0 + 7 * MIN;
    const req = { clientOrderId: 'B1', symbol: BTC, side: 'buy' as const, type: 'market' as const, quantity: dec(3) };
    slow.place('a', req, at);
    fast.place('a', req, at);
    const next = bar(7, 51.0, 51.3, 50.9, 51.2, 500);
    walk(slow, qs, next);
    walk(fast, qf, next);
    const plain = (e: SimMatchingEngine) => e.myTrades('a', BTC).map((f) => ({ price: f.price.toString(), quantity: f.quantity.toString(), fee: f.fee.toString(), time: f.time }));
    expect(plain(fast)).toEqual(plain(slow));
    expect(plain(fast)).toHaveLength(1);
  });

  it('is not quiet, and refuses the one-call path, while an order rests or is in flight', () => {
    const e = engine();
    const q = new SyntheticQuotes(BTC_SPEC.tickSize, 0);
    walk(e, q, bar(0, 50, 50.5, 49.8, 50.2, 400));
    e.place('a', { clientOrderId: 'L1', symbol: BTC, side: 'buy', type: 'limit', quantity: dec(1), price: dec(40) }, T0 + MIN);
    expect(e.isQuiet(BTC)).toBe(false);
    const before = e.bookTop(BTC);
    expect(() => e.quietCandle(BTC, bar(1, 50, 50, 50, 50, 1), PATH_OFFSETS, q)).toThrow(/has orders working/);
    expect(e.bookTop(BTC)).toBe(before);
    e.cancel('a', BTC, { clientOrderId: 'L1' }, T0 + MIN);
    expect(e.isQuiet(BTC)).toBe(true);
    e.place('a', { clientOrderId: 'M1', symbol: BTC, side: 'buy', type: 'market', quantity: dec(1) }, T0 + MIN);
    expect(e.isQuiet(BTC)).toBe(false);
  });
});

describe('whole backtests with the fast path on and off', () => {
  let btc: SymbolSeries;
  let pepe: SymbolSeries;
  beforeAll(() => {
    [btc, pepe] = loadSeries([FIXTURES]).series as [SymbolSeries, SymbolSeries];
  });

  const same = (a: BacktestResult, b: BacktestResult): void => {
    expect(a.trades).toEqual(b.trades);
    expect(a.equity).toEqual(b.equity);
    expect(a.orderLog).toEqual(b.orderLog);
    expect(a.finalBalance.toString()).toBe(b.finalBalance.toString());
    expect(a.fees.toString()).toBe(b.fees.toString());
    expect(a.rejections).toEqual(b.rejections);
    expect(a.funnel).toEqual(b.funnel);
    expect(a.filtered).toEqual(b.filtered);
  };

  const cases: [string, () => SymbolSeries[], Record<string, unknown>][] = [
    ['BTCUSDT, standard', () => [btc], { mode: 'standard' }],
    ['BTCUSDT, hf', () => [btc], { mode: 'hf' }],
    ['BTCUSDT, hf, limit entries', () => [btc], { mode: 'hf', entry: { orderType: 'limit' } }],
    ['both on one balance, hf', () => [btc, pepe], { mode: 'hf' }],
  ];
  for (const [name, series, input] of cases) {
    it(name, () => {
      const config = parseConfig(input);
      const fast = runBacktestSync({ series: series(), config });
      const slow = runBacktestSync({ series: series(), config, fastPath: false });
      same(fast, slow);
      // Not a vacuous comparison: the runs trade, and the fast path had quiet minutes to take.
      expect(fast.trades.length).toBeGreaterThan(0);
    });
  }
});
