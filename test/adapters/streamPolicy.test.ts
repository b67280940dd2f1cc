/**
 * The stream manager's pure policies, with a fake clock (plain numbers): shard packing, silence
 * detection, kline closing / gap / order logic, bounded de-duplication and validation of ccxt's
 * results. Expected values are worked out by hand from MEXC's rules (30 subscriptions per
 * connection, 1-minute windows on the minute) and from the input, never from the code's output.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../services/core/errors.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { resolveStreamOptions } from '../../services/adapters/mexc/streamOptions.js';
import { resultFromPush, toBalance, toBookTop, toCandle, toTrade, toVenueFill, toVenueOrder } from '../../services/adapters/mexc/streamParsers.js';
import { BoundedDedup, KlineTracker, StaleTracker, channelFor, planShards, streamKey, type KlineOutput } from '../../services/adapters/mexc/streamPolicies.js';
import type { StreamSubscription } from '../../services/venue/types.js';

const M = 60_000;
const BTC = symbolId('BTCUSDT');

function symbols(n: number): StreamSubscription[] {
  // 2-20 letters/digits: S0USDT, S1USDT, ...
  return Array.from({ length: n }, (_, i) => ({ kind: 'trades' as const, symbol: symbolId(`S${i}USDT`) }));
}

function candle(openTime: number, close: number, extra: Partial<Candle> = {}): Candle {
  return { openTime, open: 10, high: Math.max(10, close) + 1, low: Math.min(10, close) - 1, close, volume: 5, ...extra };
}

/** Compact view of outputs: "C@<minute>" closed, "U@<minute>" update, "gap a-b", "dup", "bf f/m". */
function view(outs: readonly KlineOutput[]): string[] {
  return outs.map((o) => {
    switch (o.kind) {
      case 'candle':
        return `${o.closed ? 'C' : 'U'}@${o.candle.openTime / M}:${o.candle.close}`;
      case 'duplicate':
        return 'dup';
      case 'gap':
        return `gap ${o.from / M}-${o.to / M}`;
      case 'backfilled':
        return `bf ${o.filled}/${o.missing}`;
    }
  });
}

function tracker(): KlineTracker {
  return new KlineTracker(M, { closeGraceMs: 2_000, maxHeld: 3 });
}

describe('planShards', () => {
  it('packs 31 public subscriptions into 2 connections (30 + 1) and 30 into 1', () => {
    const p31 = planShards(symbols(31), 30);
    expect(p31.public.map((g) => g.length)).toEqual([30, 1]);
    expect(p31.private).toEqual([]);
    // Order is kept: the 31st subscription is the one on the second connection.
    expect(p31.public[1]![0]).toEqual({ kind: 'trades', symbol: 'S30USDT' });
    expect(planShards(symbols(30), 30).public.map((g) => g.length)).toEqual([30]);
  });

  it('puts private streams on a connection of their own and drops duplicate subscriptions', () => {
    const subs: StreamSubscription[] = [
      ...symbols(35),
      { kind: 'orders' },
      { kind: 'fills' },
      { kind: 'balances' },
      { kind: 'trades', symbol: symbolId('S0USDT') },
      { kind: 'fills' },
      { kind: 'kline', symbol: BTC, interval: '1m' },
      { kind: 'kline', symbol: BTC, interval: '5m' },
    ];
    const p = planShards(subs, 30);
    // 35 trades + 2 klines (1m and 5m are different streams) = 37 public: 30 + 7.
    expect(p.public.map((g) => g.length)).toEqual([30, 7]);
    expect(p.private.map((s) => s.kind)).toEqual(['orders', 'fills', 'balances']);
  });

  it('rejects a connection size below 1', () => {
    expect(() => planShards(symbols(2), 0)).toThrow(ConfigError);
    expect(() => planShards(symbols(2), 1.5)).toThrow(ConfigError);
  });

  it('names streams and channels as MEXC does (PROTOCOL.md §2, §3)', () => {
    expect(streamKey({ kind: 'kline', symbol: BTC, interval: '1h' })).toBe('kline:BTCUSDT:1h');
    expect(channelFor({ kind: 'kline', symbol: BTC, interval: '1h' })).toBe('spot@public.kline.v3.api.pb@BTCUSDT@Min60');
    expect(channelFor({ kind: 'trades', symbol: BTC })).toBe('spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT');
    expect(channelFor({ kind: 'book', symbol: BTC })).toBe('spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT');
    expect(channelFor({ kind: 'fills' })).toBe('spot@private.deals.v3.api.pb');
  });
});

describe('StaleTracker', () => {
  it('becomes stale once silent for longer than the bound, once, and fresh on the next delivery', () => {
    const t = new StaleTracker(300, 1_000);
    expect(t.check(1_300)).toBe(false); // exactly 300 ms silent: not yet longer than the bound
    expect(t.check(1_301)).toBe(true);
    expect(t.stale).toBe(true);
    expect(t.check(5_000)).toBe(false); // already reported
    expect(t.touch(5_001)).toBe(true); // recovery is reported once
    expect(t.stale).toBe(false);
    expect(t.touch(5_002)).toBe(false);
    expect(t.check(5_302)).toBe(false);
    expect(t.check(5_303)).toBe(true);
  });

  it('measures from a new connection after reset, and never goes stale without a bound', () => {
    const t = new StaleTracker(300, 0);
    t.reset(1_000);
    expect(t.check(1_250)).toBe(false);
    expect(t.check(1_301)).toBe(true);
    const never = new StaleTracker(undefined, 0);
    expect(never.check(Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('KlineTracker', () => {
  it('emits updates open, and closes a window when the next one starts', () => {
    const k = tracker();
    expect(view(k.onStream(candle(0, 11)))).toEqual(['U@0:11']);
    expect(view(k.onStream(candle(0, 12)))).toEqual(['U@0:12']);
    // The last update of minute 0 is the closed candle.
    expect(view(k.onStream(candle(M, 13)))).toEqual(['C@0:12', 'U@1:13']);
    expect(k.lastClosedOpenTime).toBe(0);
  });

  it('drops identical repeats, older windows and updates of closed windows as duplicates', () => {
    const k = tracker();
    k.onStream(candle(5 * M, 11));
    expect(view(k.onStream(candle(5 * M, 11)))).toEqual(['dup']);
    expect(view(k.onStream(candle(4 * M, 11)))).toEqual(['dup']);
    k.onStream(candle(6 * M, 12)); // closes minute 5
    expect(view(k.onStream(candle(5 * M, 99)))).toEqual(['dup']);
    // Within a window volume only grows: a snapshot with less volume is an older one.
    k.onStream(candle(6 * M, 13, { volume: 8 }));
    expect(view(k.onStream(candle(6 * M, 12.5, { volume: 7 })))).toEqual(['dup']);
    expect(view(k.onStream(candle(6 * M, 12.5, { volume: 9 })))).toEqual(['U@6:12.5']);
  });

  it('closes by the clock after the window end plus grace, later pushes of it being duplicates', () => {
    const k = tracker();
    k.onStream(candle(0, 11));
    expect(k.onTick(M + 1_999, false)).toEqual([]);
    expect(view(k.onTick(M + 2_000, false))).toEqual(['C@0:11']);
    expect(k.onTick(M + 3_000, false)).toEqual([]);
    expect(view(k.onStream(candle(0, 12)))).toEqual(['dup']);
    // The next window follows without a gap.
    expect(view(k.onStream(candle(M, 12)))).toEqual(['U@1:12']);
  });

  it('never closes by the clock while the stream is stale (REST polls close windows then)', () => {
    const k = tracker();
    k.onStream(candle(0, 11));
    expect(k.onTick(M + 2_000, true)).toEqual([]);
    expect(k.onTick(10 * M, true)).toEqual([]);
    expect(view(k.onTick(10 * M, false))).toEqual(['C@0:11']);
  });

  it('forgets a possibly incomplete window on disconnect: the same window resumes, a later one is a gap', () => {
    const k = tracker();
    k.onStream(candle(0, 10));
    k.onStream(candle(M, 11)); // closes 0
    k.invalidateCurrent(); // connection lost during minute 1
    expect(k.onTick(2 * M + 5_000, false)).toEqual([]); // the partial minute 1 is not closed
    // Back within minute 1: the server's kline is cumulative, so it is simply the update.
    expect(view(k.onStream(candle(M, 11.5)))).toEqual(['U@1:11.5']);
    k.invalidateCurrent();
    // Back in minute 3: minutes 1 and 2 come from REST.
    expect(view(k.onStream(candle(3 * M, 13)))).toEqual(['gap 1-3']);
  });

  it('reports a gap, holds the stream meanwhile, then emits backfill, held and current in order', () => {
    const k = tracker();
    k.onStream(candle(0, 10));
    // Reconnected 3 minutes later: minutes 1 and 2 are missing.
    const outs = k.onStream(candle(3 * M, 13));
    expect(view(outs)).toEqual(['C@0:10', 'gap 1-3']);
    const gap = outs[1] as Extract<KlineOutput, { kind: 'gap' }>;
    expect(k.onStream(candle(3 * M, 14))).toEqual([]); // held as the current window
    expect(k.onStream(candle(4 * M, 15))).toEqual([]); // minute 3 closes while the backfill runs: held
    // REST answers with minutes 0..4 in any order; only 1 and 2 are the gap.
    const rest = [candle(2 * M, 12), candle(0, 10), candle(M, 11), candle(3 * M, 14), candle(4 * M, 15)];
    expect(view(k.completeBackfill(gap.seq, rest))).toEqual(['C@1:11', 'C@2:12', 'bf 2/0', 'C@3:14', 'U@4:15']);
    expect(k.pendingGap).toBeUndefined();
    expect(view(k.onStream(candle(5 * M, 16)))).toEqual(['C@4:15', 'U@5:16']);
  });

  it('detects a gap after a silence in which the clock closed the last window', () => {
    const k = tracker();
    k.onStream(candle(0, 10));
    k.onTick(M + 2_000, false);
    expect(view(k.onStream(candle(5 * M, 15)))).toEqual(['gap 1-5']);
  });

  it('counts what REST could not provide as missing, and releases the held klines on failure', () => {
    const k = tracker();
    k.onStream(candle(0, 10));
    const g = k.onStream(candle(4 * M, 14))[1] as Extract<KlineOutput, { kind: 'gap' }>;
    expect(view(k.completeBackfill(g.seq, [candle(2 * M, 12)]))).toEqual(['C@2:12', 'bf 1/2', 'U@4:14']);
    const k2 = tracker();
    k2.onStream(candle(0, 10));
    const g2 = k2.onStream(candle(3 * M, 13))[1] as Extract<KlineOutput, { kind: 'gap' }>;
    expect(view(k2.failBackfill(g2.seq))).toEqual(['bf 0/2', 'U@3:13']);
  });

  it('widens the gap when another one opens during the backfill; the old request is ignored', () => {
    const k = tracker();
    k.onStream(candle(0, 10));
    const g1 = k.onStream(candle(2 * M, 12))[1] as Extract<KlineOutput, { kind: 'gap' }>;
    expect(view(k.onStream(candle(5 * M, 15)))).toEqual(['gap 1-5']);
    expect(k.completeBackfill(g1.seq, [candle(M, 11)])).toEqual([]);
    const g2 = k.pendingGap!;
    const rest = [1, 2, 3, 4].map((m) => candle(m * M, 10 + m));
    expect(view(k.completeBackfill(g2.seq, rest))).toEqual(['C@1:11', 'C@2:12', 'C@3:13', 'C@4:14', 'bf 4/0', 'U@5:15']);
  });

  it('widens the gap instead of holding more than maxHeld closed klines', () => {
    const k = tracker(); // maxHeld 3
    k.onStream(candle(0, 10));
    k.onStream(candle(2 * M, 12)); // gap 1-2
    for (const m of [3, 4, 5]) k.onStream(candle(m * M, 10 + m)); // holds 2, 3, 4
    expect(view(k.onStream(candle(6 * M, 16)))).toEqual(['gap 1-6']);
  });

  it('while stale, takes REST klines: ended windows closed, the running one as an update', () => {
    const k = tracker();
    k.onStream(candle(0, 10));
    const now = 3 * M + 5_000;
    const outs = k.onRest([candle(0, 10.5), candle(M, 11), candle(2 * M, 12), candle(3 * M, 13)], now);
    // Minute 0's REST version is final and supersedes the stream's last snapshot of it.
    expect(view(outs)).toEqual(['C@0:10.5', 'C@1:11', 'C@2:12', 'U@3:13']);
    expect(k.onRest([candle(2 * M, 12)], now)).toEqual([]);
    expect(k.sinceCursor()).toBe(3 * M);
  });
});

describe('BoundedDedup', () => {
  it('accepts each key once and never accepts anything at or before the forgotten horizon', () => {
    const d = new BoundedDedup(3);
    expect(d.accept('a', 1)).toBe(true);
    expect(d.accept('b', 2)).toBe(true);
    expect(d.accept('c', 3)).toBe(true);
    expect(d.accept('a', 1)).toBe(false);
    expect(d.accept('d', 4)).toBe(true); // forgets a (time 1)
    expect(d.size).toBe(3);
    expect(d.accept('a', 1)).toBe(false); // cannot be checked any more: refused, not re-emitted
    expect(d.accept('e', 1)).toBe(false);
    expect(d.accept('e', 5)).toBe(true);
    expect(() => new BoundedDedup(0)).toThrow(ConfigError);
  });
});

describe('validation of ccxt results', () => {
  it('accepts a sane OHLCV row and rejects broken ones', () => {
    expect(toCandle([2 * M, 10, 12, 9, 11, 3], M)).toEqual({ openTime: 2 * M, open: 10, high: 12, low: 9, close: 11, volume: 3 });
    expect(toCandle([2 * M, 10, 12, 9, 11, 0], M)).toBeDefined(); // a window without trades
    expect(toCandle([2 * M, 10, 9, 12, 11, 3], M)).toBeUndefined(); // high < low
    expect(toCandle([2 * M, 13, 12, 9, 11, 3], M)).toBeUndefined(); // open above high
    expect(toCandle([2 * M, 0, 12, 0, 11, 3], M)).toBeUndefined();
    expect(toCandle([2 * M, Number.NaN, 12, 9, 11, 3], M)).toBeUndefined();
    expect(toCandle([2 * M, 10, 12, 9, 11, -1], M)).toBeUndefined();
    expect(toCandle([2 * M + 1, 10, 12, 9, 11, 3], M)).toBeUndefined(); // off the minute grid
    expect(toCandle([undefined, 10, 12, 9, 11, 3], M)).toBeUndefined();
    expect(toCandle('x', M)).toBeUndefined();
  });

  it('reads the trade side from MEXC tradeType (1 buy, 2 sell) and rejects a trade without one', () => {
    const base = { price: 100, amount: 0.5, timestamp: 1_700_000_000_000 };
    expect(toTrade({ ...base, info: { tradeType: 1 } })?.trade).toEqual({ time: 1_700_000_000_000, price: 100, quantity: 0.5, buyerMaker: false });
    expect(toTrade({ ...base, info: { tradeType: 2 } })?.trade.buyerMaker).toBe(true);
    // ccxt would call this a sell; it is not a trade we can use.
    expect(toTrade({ ...base, info: {} })).toBeUndefined();
    expect(toTrade({ ...base, amount: 0, info: { tradeType: 1 } })).toBeUndefined();
    expect(toTrade({ ...base, price: Infinity, info: { tradeType: 1 } })).toBeUndefined();
    // Two identical trades in the same millisecond share a key (no trade id on the aggregated channel).
    expect(toTrade({ ...base, info: { tradeType: 1 } })?.key).toBe(toTrade({ ...base, info: { tradeType: 1 } })?.key);
  });

  it('rejects a crossed or negative book top and falls back to the receive time', () => {
    expect(toBookTop({ bid: 99, ask: 100, bidVolume: 1, askVolume: 2 }, 42)).toEqual({ time: 42, bid: 99, bidSize: 1, ask: 100, askSize: 2 });
    expect(toBookTop({ bid: 101, ask: 100, bidVolume: 1, askVolume: 2, timestamp: 5 }, 42)).toBeUndefined();
    expect(toBookTop({ bid: 99, ask: 100, bidVolume: -1, askVolume: 2 }, 42)).toBeUndefined();
    expect(toBookTop({ bid: undefined, ask: 100, bidVolume: 1, askVolume: 2 }, 42)).toBeUndefined();
  });

  it('builds orders with exact decimals from the push and MEXC status codes', () => {
    const info = {
      id: 'C02__1', clientId: 'cid-1', price: '0.1', quantity: '0.3', orderType: 1, tradeType: 1,
      cumulativeQuantity: '0.2', cumulativeAmount: '0.02', status: 3, createTime: '1700000000000',
    };
    const o = toVenueOrder({ info, lastTradeTimestamp: 1_700_000_000_500 }, BTC)!;
    expect(o.status).toBe('partially_filled');
    expect(o.side).toBe('buy');
    expect(o.type).toBe('limit');
    // 0.3 - 0.2 is exactly 0.1 (a float would give 0.09999999999999998).
    expect(o.quantity.sub(o.filledQuantity).eq(Dec.from('0.1'))).toBe(true);
    expect(o.filledQuote.toString()).toBe('0.02');
    expect(o.time).toBe(1_700_000_000_000);
    expect(o.updateTime).toBe(1_700_000_000_500);
    // 5 = partially filled then cancelled.
    expect(toVenueOrder({ info: { ...info, status: 5 } }, BTC)?.status).toBe('cancelled');
    // A market buy by quote amount: no base quantity in the push; what filled is the quantity.
    const mkt = toVenueOrder({ info: { id: 'C02__2', orderType: 5, tradeType: 1, status: 2, createTime: '1', cumulativeQuantity: '3', cumulativeAmount: '30' } }, BTC)!;
    expect(mkt.quantity.toString()).toBe('3');
    expect(mkt.price).toBeUndefined();
    expect(toVenueOrder({ info: { ...info, orderType: 4 } }, BTC)).toBeUndefined(); // FOK: not ours
    expect(toVenueOrder({ info: { ...info, status: undefined } }, BTC)).toBeUndefined();
    expect(toVenueOrder({ info: { ...info, createTime: undefined } }, BTC)).toBeUndefined();
    expect(toVenueOrder({ info: { ...info, cumulativeQuantity: '0.5' } }, BTC)).toBeUndefined(); // filled > ordered
  });

  it('builds fills with exact decimals, maker flag and fee defaults', () => {
    const info = { tradeId: 't1', orderId: 'o1', clientOrderId: 'c1', price: '100.1', quantity: '0.7', tradeType: 2, isMaker: true, time: 1_700_000_000_000 };
    const f = toVenueFill({ info }, BTC)!;
    expect(f).toMatchObject({ tradeId: 't1', exchangeOrderId: 'o1', clientOrderId: 'c1', side: 'sell', liquidity: 'maker', feeAsset: 'USDT', time: 1_700_000_000_000 });
    expect(f.price.mul(f.quantity).eq(Dec.from('70.07'))).toBe(true);
    expect(f.fee.isZero()).toBe(true); // protobuf drops a zero fee
    const taker = toVenueFill({ info: { ...info, isMaker: undefined, feeAmount: '0.035035', feeCurrency: 'USDT' } }, BTC)!;
    expect(taker.liquidity).toBe('taker');
    expect(taker.fee.toString()).toBe('0.035035');
    expect(toVenueFill({ info: { ...info, tradeId: undefined } }, BTC)).toBeUndefined();
    expect(toVenueFill({ info: { ...info, quantity: 'abc' } }, BTC)).toBeUndefined();
  });

  it('reads balances from account pushes, absent amounts being zero', () => {
    const b = toBalance({ vcoinName: 'USDT', balanceAmount: '990.5', frozenAmount: '9.5' })!;
    expect(b.asset).toBe('USDT');
    expect(b.free.add(b.locked).eq(Dec.from('1000'))).toBe(true);
    expect(toBalance({ vcoinName: 'BTC', balanceAmount: '1' })?.locked.isZero()).toBe(true);
    expect(toBalance({ balanceAmount: '1' })).toBeUndefined();
    expect(toBalance({ vcoinName: 'BTC', balanceAmount: '-1' })).toBeUndefined();
  });
});

describe('resolveStreamOptions', () => {
  it('keeps the defaults and rejects bad values with the field name', () => {
    const o = resolveStreamOptions({ staleAfterMs: { kline: 500 } as never });
    expect(o.maxSubscriptionsPerConnection).toBe(30);
    expect(o.rotateAfterMs).toBe(23 * 3_600_000);
    expect(o.staleAfterMs.kline).toBe(500);
    expect(o.staleAfterMs.book).toBe(30_000);
    expect(o.staleAfterMs.fills).toBeUndefined();
    expect(() => resolveStreamOptions({ pollIntervalMs: 0 })).toThrow(/pollIntervalMs/);
    expect(() => resolveStreamOptions({ maxSubscriptionsPerConnection: 2.5 })).toThrow(ConfigError);
  });
});

describe('resultFromPush (public pushes that skip ccxt’s handlers)', () => {
  // Field names and numbers from PROTOCOL.md §2; the values are what a MEXC push carries.
  const long = (n: number) => ({ toNumber: () => n });

  it('a kline push becomes the OHLCV row ccxt would give, from toJSON strings or from Long objects', () => {
    const body = { interval: 'Min1', openingPrice: '56378.62', closingPrice: '56377.8', highestPrice: '56458.25', lowestPrice: '56373.1', volume: '45.942988', amount: '1', windowEnd: '1618783680' };
    const expected = [1618783620000, 56378.62, 56458.25, 56373.1, 56377.8, 45.942988];
    expect(resultFromPush('kline', { publicSpotKline: { ...body, windowStart: '1618783620' } })).toEqual([expected]);
    expect(resultFromPush('kline', { publicSpotKline: { ...body, windowStart: long(1618783620) } })).toEqual([expected]);
    const candle = toCandle((resultFromPush('kline', { publicSpotKline: { ...body, windowStart: 1618783620 } }) as unknown[])[0], 60_000);
    expect(candle).toEqual({ openTime: 1618783620000, open: 56378.62, high: 56458.25, low: 56373.1, close: 56377.8, volume: 45.942988 });
  });

  it('a kline push without prices fails validation instead of becoming a candle of NaN', () => {
    const row = (resultFromPush('kline', { publicSpotKline: { windowStart: '1618783620' } }) as unknown[])[0];
    expect(toCandle(row, 60_000)).toBeUndefined();
  });

  it('aggregated deals become trades with MEXC’s side (1 buy, 2 sell)', () => {
    const push = { publicAggreDeals: { deals: [{ price: '0.2345', quantity: '100', tradeType: 1, time: long(1700000000123) }, { price: '0.2344', quantity: '50', tradeType: 2, time: '1700000000456' }] } };
    const trades = (resultFromPush('trades', push) as unknown[]).map((t) => toTrade(t)?.trade);
    expect(trades).toEqual([
      { time: 1700000000123, price: 0.2345, quantity: 100, buyerMaker: false },
      { time: 1700000000456, price: 0.2344, quantity: 50, buyerMaker: true },
    ]);
  });

  it('a book ticker becomes a book top timed by the push’s sendTime', () => {
    const push = { sendTime: long(1700000000999), publicAggreBookTicker: { bidPrice: '0.2344', bidQuantity: '1200', askPrice: '0.2345', askQuantity: '800' } };
    expect(toBookTop(resultFromPush('book', push), 5)).toEqual({ time: 1700000000999, bid: 0.2344, bidSize: 1200, ask: 0.2345, askSize: 800 });
  });
});
