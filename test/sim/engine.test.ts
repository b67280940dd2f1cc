/**
 * The matching engine's rules (see the file comment of services/sim/matchingEngine.ts).
 *
 * Market used throughout unless a test says otherwise: BTCUSDT, tick 0.01, lot step 0.0001,
 * minimum quantity 0.0001, minimum order value 5 USDT, maker 0%, taker 0.05%. The book is
 * bid 50,000 (2 BTC) / ask 50,001 (2 BTC). Every expected price, fee and balance is worked out by
 * hand in the comment beside it (decimal arithmetic, checked with a calculator).
 */
import { describe, expect, it } from 'vitest';
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import { DEFAULT_ENGINE_OPTIONS, SimMatchingEngine } from '../../services/sim/matchingEngine.js';
import { SimRejectError, type EngineEvent, type SimMarketSpec } from '../../services/sim/types.js';
import type { VenueOrderRequest } from '../../services/venue/types.js';

const BTC = symbolId('BTCUSDT');
const T0 = Date.UTC(2024, 0, 1, 12);

const SPEC: SimMarketSpec = {
  symbol: BTC,
  base: 'BTC',
  quote: 'USDT',
  tickSize: dec('0.01'),
  stepSize: dec('0.0001'),
  minQuantity: dec('0.0001'),
  minNotional: dec(5),
  makerFeePct: 0,
  takerFeePct: 0.05,
  status: 'online',
  apiTradable: true,
};

type Req = Omit<VenueOrderRequest, 'symbol' | 'quantity' | 'price' | 'quoteAmount'> & {
  symbol?: SymbolId;
  quantity?: string;
  price?: string;
  quoteAmount?: string;
};

/** An engine with one market, account A (10,000 USDT, 1 BTC), the book above, and an event log. */
function rig(opts: { spec?: Partial<SimMarketSpec>; usdt?: string; btc?: string; book?: boolean; maxHistory?: number } = {}) {
  const engine = new SimMatchingEngine(DEFAULT_ENGINE_OPTIONS, opts.maxHistory !== undefined ? { maxHistoryPerAccount: opts.maxHistory } : {});
  engine.addMarket({ ...SPEC, ...opts.spec });
  engine.openAccount('A', { USDT: dec(opts.usdt ?? '10000'), BTC: dec(opts.btc ?? '1') }, T0 - 120_000);
  const events: EngineEvent[] = [];
  engine.onEvent((e) => events.push(e));
  if (opts.book !== false) engine.onMarketData({ type: 'book', symbol: BTC, book: { time: T0 - 1000, bid: 50000, bidSize: 2, ask: 50001, askSize: 2 } });
  const place = (r: Req, account = 'A', now = T0) =>
    engine.place(
      account,
      {
        clientOrderId: r.clientOrderId,
        symbol: r.symbol ?? BTC,
        side: r.side,
        type: r.type,
        ...(r.quantity !== undefined ? { quantity: dec(r.quantity) } : {}),
        ...(r.price !== undefined ? { price: dec(r.price) } : {}),
        ...(r.quoteAmount !== undefined ? { quoteAmount: dec(r.quoteAmount) } : {}),
      },
      now,
    );
  const trade = (price: number, quantity: number, time = T0 + 1000) => engine.onMarketData({ type: 'trade', symbol: BTC, trade: { time, price, quantity, buyerMaker: false } });
  const bal = (asset: string, account = 'A') => {
    const b = engine.balances(account).find((x) => x.asset === asset);
    return { free: (b?.free ?? Dec.ZERO).toString(), locked: (b?.locked ?? Dec.ZERO).toString() };
  };
  const code = (fn: () => unknown): number | undefined => {
    try {
      fn();
    } catch (e) {
      if (e instanceof SimRejectError) return e.code;
      throw e;
    }
    return undefined;
  };
  return { engine, events, place, trade, bal, code };
}

/** One event as a short line, for checking the order of events. */
function line(e: EngineEvent): string {
  if (e.type === 'balance') return `balance ${e.balance.asset} ${e.reason} free ${e.freeChange.toString()} locked ${e.lockedChange.toString()}`;
  if (e.type === 'fill') return `fill ${e.fill.clientOrderId} ${e.fill.quantity.toString()}@${e.fill.price.toString()} fee ${e.fill.fee.toString()} ${e.fill.liquidity}`;
  return `order ${e.order.clientOrderId} ${e.order.status} ${e.order.filledQuantity.toString()}`;
}

describe('SimMatchingEngine validation (codes in the MatchingEngine doc comment, checked in that order)', () => {
  it('10007: unknown symbol, and a listed symbol not enabled for the API', () => {
    const r = rig();
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.1', price: '49000', symbol: symbolId('ETHUSDT') }))).toBe(10007);
    r.engine.addMarket({ ...SPEC, apiTradable: false });
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }))).toBe(10007);
  });

  it('30016: paused or offline; 10007 wins over it', () => {
    const r = rig({ spec: { status: 'paused' } });
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }))).toBe(30016);
    r.engine.addMarket({ ...SPEC, status: 'offline' });
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }))).toBe(30016);
    r.engine.addMarket({ ...SPEC, status: 'offline', apiTradable: false });
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }))).toBe(10007);
  });

  it('30011: a client order id already used by an open or an ended order, checked before the parameters', () => {
    const r = rig();
    r.place({ clientOrderId: 'dup', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' });
    expect(r.code(() => r.place({ clientOrderId: 'dup', side: 'buy', type: 'limit', quantity: '0.1', price: '48000' }))).toBe(30011);
    // Same id with bad parameters: the duplicate is reported first.
    expect(r.code(() => r.place({ clientOrderId: 'dup', side: 'buy', type: 'limit', quantity: '0.1' }))).toBe(30011);
    r.engine.cancel('A', BTC, { clientOrderId: 'dup' }, T0);
    expect(r.code(() => r.place({ clientOrderId: 'dup', side: 'buy', type: 'limit', quantity: '0.1', price: '48000' }))).toBe(30011);
    // Another account may use the same id.
    r.engine.openAccount('B', { USDT: dec(10000) }, T0);
    expect(r.place({ clientOrderId: 'dup', side: 'buy', type: 'limit', quantity: '0.1', price: '48000' }, 'B').status).toBe('new');
  });

  it('700004: missing or non-positive quantity/price, quoteAmount on a non-market order, market with neither or both', () => {
    const r = rig();
    const cases: Req[] = [
      { clientOrderId: 'p1', side: 'buy', type: 'limit', price: '49000' },
      { clientOrderId: 'p2', side: 'buy', type: 'limit', quantity: '0.1' },
      { clientOrderId: 'p3', side: 'buy', type: 'limit', quantity: '0', price: '49000' },
      { clientOrderId: 'p4', side: 'buy', type: 'limit', quantity: '0.1', price: '-1' },
      { clientOrderId: 'p5', side: 'buy', type: 'limit', quantity: '0.1', price: '49000', quoteAmount: '100' },
      { clientOrderId: 'p6', side: 'buy', type: 'market' },
      { clientOrderId: 'p7', side: 'buy', type: 'market', quantity: '0.1', quoteAmount: '100' },
      { clientOrderId: 'p8', side: 'sell', type: 'market', quantity: '-0.1' },
      { clientOrderId: 'p9', side: 'buy', type: 'ioc', quantity: '0.1' },
    ];
    expect(cases.map((c) => r.code(() => r.place(c)))).toEqual(cases.map(() => 700004));
  });

  it('10096: quantity off the lot step or price off the tick, before the minimums', () => {
    const r = rig();
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.10005', price: '49000' }))).toBe(10096);
    expect(r.code(() => r.place({ clientOrderId: 'b', side: 'buy', type: 'limit', quantity: '0.1', price: '49000.005' }))).toBe(10096);
    // 0.00005 is both below the minimum and off the step: precision is checked first.
    expect(r.code(() => r.place({ clientOrderId: 'c', side: 'buy', type: 'limit', quantity: '0.00005', price: '49000' }))).toBe(10096);
  });

  it('30002: below the minimum quantity or the minimum order value; 30003 above the maximum value', () => {
    const r = rig({ spec: { minQuantity: dec('0.001'), maxNotional: dec(10000) } });
    // 0.0005 < minQuantity 0.001 (its value 24.5 USDT would pass the notional check).
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.0005', price: '49000' }))).toBe(30002);
    r.engine.addMarket({ ...SPEC, maxNotional: dec(10000) });
    // 0.0001 x 49,000 = 4.9 < 5 USDT.
    expect(r.code(() => r.place({ clientOrderId: 'b', side: 'buy', type: 'limit', quantity: '0.0001', price: '49000' }))).toBe(30002);
    // 0.3 x 49,000 = 14,700 > 10,000 (also more than the balance: the maximum is checked first).
    expect(r.code(() => r.place({ clientOrderId: 'c', side: 'buy', type: 'limit', quantity: '0.3', price: '49000' }))).toBe(30003);
    // A market order's value is at its fill price: 0.0001 x 50,001 x (1 + 52 bps, no recent volume) ~ 5.03 >= 5 passes.
    expect(r.place({ clientOrderId: 'd', side: 'buy', type: 'market', quantity: '0.0001' }).status).toBe('filled');
  });

  it('10101: not enough free quote for a buy (price x qty + taker fee) or free base for a sell', () => {
    const r = rig();
    // 0.2 x 49,000 = 9,800 + 0.05% = 9,804.9 <= 10,000: accepted, leaves 195.1 free.
    r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.2', price: '49000' });
    expect(r.bal('USDT')).toEqual({ free: '195.1', locked: '9804.9' });
    // 0.004 x 49,000 = 196 + 0.098 = 196.098 > 195.1.
    expect(r.code(() => r.place({ clientOrderId: 'b', side: 'buy', type: 'limit', quantity: '0.004', price: '49000' }))).toBe(10101);
    expect(r.code(() => r.place({ clientOrderId: 'c', side: 'sell', type: 'limit', quantity: '1.0001', price: '51000' }))).toBe(10101);
    // An unknown account has nothing.
    expect(r.code(() => r.place({ clientOrderId: 'd', side: 'sell', type: 'limit', quantity: '0.1', price: '51000' }, 'nobody'))).toBe(10101);
    expect(r.engine.balances('nobody')).toEqual([]);
  });

  it('30029: at most 500 open orders per account (MEXC), one more is refused; ended orders do not count', () => {
    const r = rig();
    // 0.0002 x 40,000 = 8 USDT (+0.004 fee) each: 500 orders hold 4,002 of the 10,000 USDT.
    for (let i = 0; i < 500; i++) r.place({ clientOrderId: `o${i}`, side: 'buy', type: 'limit', quantity: '0.0002', price: '40000' });
    expect(r.code(() => r.place({ clientOrderId: 'x', side: 'buy', type: 'limit', quantity: '0.0002', price: '40000' }))).toBe(30029);
    expect(r.bal('USDT')).toEqual({ free: '5998', locked: '4002' });
    r.engine.cancel('A', BTC, { clientOrderId: 'o0' }, T0);
    expect(r.place({ clientOrderId: 'x', side: 'buy', type: 'limit', quantity: '0.0002', price: '40000' }).status).toBe('new');
  });

  it('30041: a post-only order that would cross the book; one that does not cross rests', () => {
    const r = rig();
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'post_only', quantity: '0.1', price: '50001' }))).toBe(30041);
    expect(r.code(() => r.place({ clientOrderId: 'b', side: 'sell', type: 'post_only', quantity: '0.1', price: '50000' }))).toBe(30041);
    const o = r.place({ clientOrderId: 'c', side: 'buy', type: 'post_only', quantity: '0.1', price: '50000.99' });
    expect(o.status).toBe('new');
    // Even a trade-through fills it only as maker, at its price.
    r.trade(50000, 10);
    const f = r.engine.myTrades('A', BTC);
    expect(f.map((x) => [x.liquidity, x.price.toString(), x.quantity.toString()])).toEqual([['maker', '50000.99', '0.1']]);
  });

  it('30010 "no valid trade price" for a market order before any book or trade', () => {
    const r = rig({ book: false });
    let err: unknown;
    try {
      r.place({ clientOrderId: 'a', side: 'buy', type: 'market', quantity: '0.01' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimRejectError);
    expect((err as SimRejectError).code).toBe(30010);
    expect((err as SimRejectError).message).toMatch(/no market data/);
  });

  it('a refused order leaves no trace: no event, balances and open orders unchanged', () => {
    const r = rig();
    expect(r.code(() => r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '1', price: '49000' }))).toBe(10101);
    expect(r.events).toEqual([]);
    expect(r.bal('USDT')).toEqual({ free: '10000', locked: '0' });
    expect(r.engine.openOrders('A')).toEqual([]);
    // The refused id was never taken.
    expect(r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }).status).toBe('new');
  });
});

describe('SimMatchingEngine market orders', () => {
  it('buys at the ask plus slippage from the last minute of public volume, rounded up; fee and balances exact', () => {
    const r = rig();
    r.trade(50000, 100, T0 - 61_000); // older than 60 s at T0: not recent
    r.trade(50000, 10, T0 - 30_000); // recent volume = 10 BTC
    const o = r.place({ clientOrderId: 'm1', side: 'buy', type: 'market', quantity: '0.1' });
    // 0.1 of 10 BTC = 1% -> 2 + 0.5 x 1 = 2.5 bps; 50,001 x 1.00025 = 50,013.50025 -> up to 50,013.51.
    // Cost 0.1 x 50,013.51 = 5,001.351; fee 0.05% = 2.5006755; USDT 10,000 - 5,003.8516755 = 4,996.1483245.
    expect(o.status).toBe('filled');
    expect(o.filledQuote.toString()).toBe('5001.351');
    const [f] = r.engine.myTrades('A', BTC);
    expect([f?.price.toString(), f?.quantity.toString(), f?.fee.toString(), f?.feeAsset, f?.liquidity, f?.time]).toEqual(['50013.51', '0.1', '2.5006755', 'USDT', 'taker', T0]);
    expect(r.bal('USDT')).toEqual({ free: '4996.1483245', locked: '0' });
    expect(r.bal('BTC')).toEqual({ free: '1.1', locked: '0' });
  });

  it('sells at the bid minus slippage, rounded down to the tick', () => {
    const r = rig();
    r.trade(50000, 10, T0 - 30_000);
    r.place({ clientOrderId: 's1', side: 'sell', type: 'market', quantity: '0.1' });
    // 2.5 bps as above: 50,000 x 0.99975 = 49,987.5 (on the tick). Proceeds 4,998.75, fee 2.499375,
    // USDT 10,000 + 4,996.250625; BTC 0.9.
    expect(r.engine.myTrades('A', BTC).map((x) => [x.price.toString(), x.fee.toString()])).toEqual([['49987.5', '2.499375']]);
    expect(r.bal('USDT')).toEqual({ free: '14996.250625', locked: '0' });
    expect(r.bal('BTC')).toEqual({ free: '0.9', locked: '0' });
  });

  it('counts the order as 100% of the volume when no public trade is recent, and caps slippage at 100 bps', () => {
    const r = rig({ usdt: '100000' });
    r.place({ clientOrderId: 'a', side: 'buy', type: 'market', quantity: '0.01' });
    // 2 + 0.5 x 100 = 52 bps: 50,001 x 1.0052 = 50,261.0052 -> up to 50,261.01.
    r.trade(50000, 0.1, T0);
    r.place({ clientOrderId: 'b', side: 'buy', type: 'market', quantity: '1' });
    // 1 of 0.1 BTC = 1000% -> 502 bps, capped at 100: 50,001 x 1.01 = 50,501.01.
    expect(r.engine.myTrades('A', BTC).map((x) => x.price.toString())).toEqual(['50261.01', '50501.01']);
  });

  it('a market buy by quote amount spends at most that amount: quantity = floor(amount / fill price, step)', () => {
    const r = rig();
    r.trade(50000, 10, T0 - 30_000);
    const o = r.place({ clientOrderId: 'q', side: 'buy', type: 'market', quoteAmount: '1000' });
    // Size estimate at the ask: 1,000 / 50,001 = 0.0199996 BTC = 0.199996% of 10 -> 2.099998 bps;
    // 50,001 x 1.0002099998 = 50,011.50002 -> up to 50,011.51. 1,000 / 50,011.51 = 0.019995.. -> 0.0199.
    // Cost 0.0199 x 50,011.51 = 995.229049; fee 0.4976145245.
    expect(o.quantity.toString()).toBe('0.0199');
    expect(o.filledQuote.toString()).toBe('995.229049');
    expect(r.bal('USDT')).toEqual({ free: '9004.2733364755', locked: '0' });
  });

  it('locks the cost at the 100 bps cap plus the taker fee on placing, then releases the rest (event order)', () => {
    const r = rig();
    r.trade(50000, 10, T0 - 30_000);
    r.place({ clientOrderId: 'm1', side: 'buy', type: 'market', quantity: '0.1' });
    // Lock: 50,001 x 1.01 = 50,501.01 x 0.1 = 5,050.101 + 0.05% (2.5250505) = 5,052.6260505.
    // Paid 5,001.351 + 2.5006755 (above); released 5,052.6260505 - 5,003.8516755 = 48.774375.
    expect(r.events.map(line)).toEqual([
      'balance USDT ENTRUST_PLACE free -5052.6260505 locked 5052.6260505',
      'order m1 new 0',
      'balance USDT ENTRUST free 0 locked -5001.351',
      'balance USDT TRADE_FEE free 0 locked -2.5006755',
      'balance BTC ENTRUST free 0.1 locked 0',
      'balance USDT ENTRUST_CANCEL free 48.774375 locked -48.774375',
      'fill m1 0.1@50013.51 fee 2.5006755 taker',
      'order m1 filled 0.1',
    ]);
    const fill = r.events.find((e) => e.type === 'fill');
    expect(fill?.type === 'fill' && fill.fill.exchangeOrderId).toBe('C02__1');
  });
});

describe('SimMatchingEngine limit, ioc and resting orders', () => {
  it('a marketable limit takes at the book price as taker (not at its limit), up to the size shown, and rests the rest', () => {
    const r = rig({ usdt: '200000' });
    const o = r.place({ clientOrderId: 'L', side: 'buy', type: 'limit', quantity: '3', price: '50010' });
    // Takes the 2 BTC shown at 50,001: cost 100,002, fee 50.001; 1 BTC rests at 50,010.
    expect([o.status, o.filledQuantity.toString(), o.filledQuote.toString()]).toEqual(['partially_filled', '2', '100002']);
    expect(r.engine.myTrades('A', BTC).map((x) => [x.price.toString(), x.quantity.toString(), x.liquidity, x.fee.toString()])).toEqual([['50001', '2', 'taker', '50.001']]);
    // Lock was 3 x 50,010 = 150,030 + 75.015 = 150,105.015; paid 100,052.001; 50,053.014 still held
    // for the resting BTC (50,010 + its possible taker fee 25.005 = 50,035.005, and more).
    expect(r.bal('USDT')).toEqual({ free: '49894.985', locked: '50053.014' });
    // A second marketable order finds the shown size used up until the next book event.
    const o2 = r.place({ clientOrderId: 'L2', side: 'buy', type: 'limit', quantity: '0.5', price: '50010' });
    expect(o2.filledQuantity.toString()).toBe('0');
  });

  it('a resting limit fills only on a trade strictly through it, at most participationPct of each trade, shared across orders best price first', () => {
    const r = rig({ spec: { makerFeePct: 0.02 }, btc: '1' });
    r.engine.openAccount('B', { BTC: dec(1) }, T0);
    r.place({ clientOrderId: 'A1', side: 'sell', type: 'limit', quantity: '0.3', price: '50100' });
    r.place({ clientOrderId: 'B1', side: 'sell', type: 'limit', quantity: '0.2', price: '50050' }, 'B');
    r.trade(50100, 50); // at A1's limit, through B1's: 10% of 50 = 5 BTC fills all of B1 only
    expect(r.engine.order('B', BTC, { clientOrderId: 'B1' })?.status).toBe('filled');
    expect(r.engine.order('A', BTC, { clientOrderId: 'A1' })?.filledQuantity.toString()).toBe('0');
    r.trade(50100.01, 1, T0 + 2000); // through: 10% of 1 = 0.1 BTC
    r.trade(50100.01, 0.0009, T0 + 3000); // 10% = 0.00009 < one lot step: nothing
    const a1 = r.engine.order('A', BTC, { clientOrderId: 'A1' });
    expect([a1?.status, a1?.filledQuantity.toString()]).toEqual(['partially_filled', '0.1']);
    r.trade(50200, 10, T0 + 4000); // 10% = 1 BTC: the remaining 0.2
    const fills = r.engine.myTrades('A', BTC);
    // Maker at the limit; fee 0.02%: 0.1 x 50,100 = 5,010 -> 1.002; 0.2 x 50,100 = 10,020 -> 2.004.
    expect(fills.map((f) => [f.price.toString(), f.quantity.toString(), f.fee.toString(), f.liquidity, f.time])).toEqual([
      ['50100', '0.1', '1.002', 'maker', T0 + 2000],
      ['50100', '0.2', '2.004', 'maker', T0 + 4000],
    ]);
    // USDT: 15,030 - 3.006 = 15,026.994 added to 10,000; BTC 0.7.
    expect(r.bal('USDT')).toEqual({ free: '25026.994', locked: '0' });
    expect(r.bal('BTC')).toEqual({ free: '0.7', locked: '0' });
  });

  it('one trade is shared: better-priced orders first, the budget split across accounts', () => {
    const r = rig({ usdt: '100000' });
    r.engine.openAccount('B', { USDT: dec(100000) }, T0);
    r.place({ clientOrderId: 'a', side: 'buy', type: 'limit', quantity: '0.2', price: '49990' });
    r.place({ clientOrderId: 'b', side: 'buy', type: 'limit', quantity: '0.2', price: '49995' }, 'B');
    r.trade(49980, 3); // budget 0.3: B (49,995, the better buy) gets 0.2, A gets 0.1
    expect(r.engine.order('B', BTC, { clientOrderId: 'b' })?.filledQuantity.toString()).toBe('0.2');
    expect(r.engine.order('A', BTC, { clientOrderId: 'a' })?.filledQuantity.toString()).toBe('0.1');
  });

  it('ioc takes what the book shows and cancels the rest (new, partially filled, cancelled), releasing the lock exactly', () => {
    const r = rig({ usdt: '200000' });
    const o = r.place({ clientOrderId: 'I', side: 'buy', type: 'ioc', quantity: '3', price: '50005' });
    expect([o.status, o.filledQuantity.toString()]).toEqual(['cancelled', '2']);
    // Lock 3 x 50,005 = 150,015 + 75.0075 = 150,090.0075; paid 2 x 50,001 = 100,002 + 50.001;
    // released 150,090.0075 - 100,052.001 = 50,038.0065. USDT left 200,000 - 100,052.001 = 99,947.999.
    expect(r.events.map(line)).toEqual([
      'balance USDT ENTRUST_PLACE free -150090.0075 locked 150090.0075',
      'order I new 0',
      'balance USDT ENTRUST free 0 locked -100002',
      'balance USDT TRADE_FEE free 0 locked -50.001',
      'balance BTC ENTRUST free 2 locked 0',
      'fill I 2@50001 fee 50.001 taker',
      'order I partially_filled 2',
      'balance USDT ENTRUST_CANCEL free 50038.0065 locked -50038.0065',
      'order I cancelled 2',
    ]);
    expect(r.bal('USDT')).toEqual({ free: '99947.999', locked: '0' });
    expect(r.engine.openOrders('A')).toEqual([]);
  });

  it('cancel releases exactly what was locked; a second cancel, or one on another symbol, is -2011', () => {
    const r = rig({ usdt: '100000' });
    r.place({ clientOrderId: 'c', side: 'buy', type: 'limit', quantity: '0.5', price: '49000' });
    // 0.5 x 49,000 = 24,500 + 12.25.
    expect(r.bal('USDT')).toEqual({ free: '75487.75', locked: '24512.25' });
    expect(r.code(() => r.engine.cancel('A', symbolId('ETHUSDT'), { clientOrderId: 'c' }, T0))).toBe(-2011);
    const c = r.engine.cancel('A', BTC, { exchangeOrderId: 'C02__1' }, T0 + 5);
    expect([c.status, c.updateTime]).toEqual(['cancelled', T0 + 5]);
    expect(r.bal('USDT')).toEqual({ free: '100000', locked: '0' });
    expect(r.code(() => r.engine.cancel('A', BTC, { clientOrderId: 'c' }, T0))).toBe(-2011);
    expect(r.code(() => r.engine.cancel('A', BTC, { clientOrderId: 'never' }, T0))).toBe(-2011);
    expect(r.events.map(line).slice(-2)).toEqual(['balance USDT ENTRUST_CANCEL free 24512.25 locked -24512.25', 'order c cancelled 0']);
    // A sell locks base and gives it back.
    r.place({ clientOrderId: 's', side: 'sell', type: 'limit', quantity: '0.4', price: '52000' });
    expect(r.bal('BTC')).toEqual({ free: '0.6', locked: '0.4' });
    r.engine.cancel('A', BTC, { clientOrderId: 's' }, T0);
    expect(r.bal('BTC')).toEqual({ free: '1', locked: '0' });
  });

  it('the books stay exact over a mixed sequence: per asset, free + locked moves by exactly the fills and fees', () => {
    const r = rig({ usdt: '100000', btc: '2', spec: { makerFeePct: 0.01 } });
    r.trade(50000, 7.3, T0 - 10_000);
    r.place({ clientOrderId: '1', side: 'buy', type: 'market', quantity: '0.1234' });
    r.place({ clientOrderId: '2', side: 'sell', type: 'market', quoteAmount: '777.77' });
    r.place({ clientOrderId: '3', side: 'buy', type: 'limit', quantity: '1.3333', price: '49999.99' });
    r.place({ clientOrderId: '4', side: 'sell', type: 'limit', quantity: '0.7777', price: '50123.45' });
    r.place({ clientOrderId: '5', side: 'buy', type: 'ioc', quantity: '0.5', price: '50003' });
    r.trade(49990.01, 3.3, T0 + 2000);
    r.trade(50200.5, 1.7, T0 + 3000);
    r.trade(49000, 0.03, T0 + 4000);
    r.engine.cancel('A', BTC, { clientOrderId: '3' }, T0 + 5000);
    let usdt = dec(100000);
    let btc = dec(2);
    const fills = r.engine.myTrades('A', BTC);
    expect(fills.length).toBeGreaterThanOrEqual(6);
    for (const f of fills) {
      const cost = f.price.mul(f.quantity);
      usdt = f.side === 'buy' ? usdt.sub(cost).sub(f.fee) : usdt.add(cost).sub(f.fee);
      btc = f.side === 'buy' ? btc.add(f.quantity) : btc.sub(f.quantity);
    }
    const total = (asset: string) => {
      const b = r.bal(asset);
      return dec(b.free).add(dec(b.locked));
    };
    expect(total('USDT').toString()).toBe(usdt.toString());
    expect(total('BTC').toString()).toBe(btc.toString());
    // What is still locked is exactly what the one open order (4, a sell of the unfilled base) holds.
    const open = r.engine.openOrders('A');
    expect(open.map((o) => o.clientOrderId)).toEqual(['4']);
    // Order 4 sold 0.17 (10% of the 1.7 BTC trade at 50,200.5) of its 0.7777: 0.6077 still held.
    expect(r.bal('BTC').locked).toBe('0.6077');
    expect(r.bal('USDT').locked).toBe('0');
    // Every fill event carries a distinct trade id.
    const ids = r.events.flatMap((e) => (e.type === 'fill' ? [e.fill.tradeId] : []));
    expect(new Set(ids).size).toBe(fills.length);
  });
});

describe('SimMatchingEngine books under a long random sequence', () => {
  it('conserves every asset exactly, never goes negative, and locks what the open orders need', () => {
    // A seeded linear congruential generator: the same sequence on every run.
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const r = rig({ usdt: '50000', btc: '1', spec: { makerFeePct: 0.01 } });
    const types = ['limit', 'post_only', 'market', 'ioc'] as const;
    let time = T0;
    let mid = 50000;
    for (let i = 0; i < 600; i++) {
      time += 1000;
      mid = Math.round((mid + (rnd() - 0.5) * 40) * 100) / 100;
      const roll = rnd();
      if (roll < 0.3) {
        r.engine.onMarketData({ type: 'book', symbol: BTC, book: { time, bid: mid - 0.5, bidSize: rnd() * 2, ask: mid + 0.5, askSize: rnd() * 2 } });
      } else if (roll < 0.6) {
        r.trade(Math.round((mid + (rnd() - 0.5) * 60) * 100) / 100, Math.round(rnd() * 30000) / 10000, time);
      } else if (roll < 0.9) {
        const type = types[Math.floor(rnd() * 4)] as (typeof types)[number];
        const side = rnd() < 0.5 ? 'buy' : 'sell';
        const quantity = (Math.floor(rnd() * 3000) / 10000 + 0.0001).toFixed(4);
        const price = (Math.round((mid + (rnd() - 0.5) * 80) * 100) / 100).toFixed(2);
        try {
          r.place({ clientOrderId: `r${i}`, side, type, quantity, ...(type === 'market' ? {} : { price }) }, 'A', time);
        } catch (e) {
          if (!(e instanceof SimRejectError)) throw e;
        }
      } else {
        const open = r.engine.openOrders('A');
        const victim = open[Math.floor(rnd() * open.length)];
        if (victim) r.engine.cancel('A', BTC, { clientOrderId: victim.clientOrderId }, time);
      }
    }
    const fills = r.engine.myTrades('A', BTC);
    expect(fills.length).toBeGreaterThan(20); // the sequence really traded
    let usdt = dec(50000);
    let btc = dec(1);
    for (const f of fills) {
      const cost = f.price.mul(f.quantity);
      usdt = f.side === 'buy' ? usdt.sub(cost).sub(f.fee) : usdt.add(cost).sub(f.fee);
      btc = f.side === 'buy' ? btc.add(f.quantity) : btc.sub(f.quantity);
    }
    const u = r.bal('USDT');
    const b = r.bal('BTC');
    expect(dec(u.free).add(dec(u.locked)).toString()).toBe(usdt.toString());
    expect(dec(b.free).add(dec(b.locked)).toString()).toBe(btc.toString());
    for (const x of [u.free, u.locked, b.free, b.locked]) expect(dec(x).isNegative()).toBe(false);
    // Locked base = the open sells' unfilled quantity; locked quote covers the open buys at their limits.
    const open = r.engine.openOrders('A');
    const rest = (side: 'buy' | 'sell') => open.filter((o) => o.side === side).map((o) => [o.quantity.sub(o.filledQuantity), o.price ?? Dec.ZERO] as const);
    expect(b.locked).toBe(Dec.sum(rest('sell').map(([q]) => q)).toString());
    expect(dec(u.locked).gte(Dec.sum(rest('buy').map(([q, p]) => q.mul(p))))).toBe(true);
    // Each order's fills add up to its filled quantity and quote.
    for (const o of r.engine.allOrders('A', BTC)) {
      const mine = fills.filter((f) => f.clientOrderId === o.clientOrderId);
      expect(Dec.sum(mine.map((f) => f.quantity)).eq(o.filledQuantity)).toBe(true);
      expect(Dec.sum(mine.map((f) => f.price.mul(f.quantity))).eq(o.filledQuote)).toBe(true);
    }
  });
});

describe('SimMatchingEngine history and lookups', () => {
  it('keeps ended orders and fills per account up to the bound, oldest evicted; open orders are never evicted', () => {
    const r = rig({ maxHistory: 3, usdt: '100000' });
    r.place({ clientOrderId: 'keep', side: 'buy', type: 'limit', quantity: '0.1', price: '40000' });
    for (let i = 1; i <= 5; i++) r.place({ clientOrderId: `m${i}`, side: 'buy', type: 'market', quantity: '0.001' }, 'A', T0 + i);
    expect(r.engine.allOrders('A', BTC).map((o) => o.clientOrderId)).toEqual(['keep', 'm3', 'm4', 'm5']);
    expect(r.engine.myTrades('A', BTC).map((f) => f.clientOrderId)).toEqual(['m3', 'm4', 'm5']);
    expect(r.engine.order('A', BTC, { clientOrderId: 'm1' })).toBeUndefined();
    expect(r.engine.order('A', BTC, { exchangeOrderId: 'C02__2' })).toBeUndefined();
    expect(r.engine.order('A', BTC, { exchangeOrderId: 'C02__6' })?.clientOrderId).toBe('m5');
    expect(r.engine.order('A', BTC, { clientOrderId: 'keep' })?.status).toBe('new');
  });

  it('myTrades: since is inclusive; limit takes the first after since, else the most recent', () => {
    const r = rig({ usdt: '100000' });
    for (let i = 1; i <= 4; i++) r.place({ clientOrderId: `m${i}`, side: 'buy', type: 'market', quantity: '0.001' }, 'A', T0 + i * 10);
    expect(r.engine.myTrades('A', BTC, T0 + 20).map((f) => f.clientOrderId)).toEqual(['m2', 'm3', 'm4']);
    expect(r.engine.myTrades('A', BTC, T0 + 20, 2).map((f) => f.clientOrderId)).toEqual(['m2', 'm3']);
    expect(r.engine.myTrades('A', BTC, undefined, 2).map((f) => f.clientOrderId)).toEqual(['m3', 'm4']);
    expect(r.engine.myTrades('nobody', BTC)).toEqual([]);
  });

  it('orders are reported with deterministic MEXC-looking ids, per engine', () => {
    const a = rig();
    const b = rig();
    expect(a.place({ clientOrderId: 'x', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }).exchangeOrderId).toBe('C02__1');
    expect(b.place({ clientOrderId: 'y', side: 'buy', type: 'limit', quantity: '0.1', price: '49000' }).exchangeOrderId).toBe('C02__1');
    expect(a.place({ clientOrderId: 'z', side: 'buy', type: 'limit', quantity: '0.1', price: '48000' }).exchangeOrderId).toBe('C02__2');
  });

  it('openAccount credits deposits with DEPOSIT events; an unsubscribed listener hears nothing more', () => {
    const engine = new SimMatchingEngine(DEFAULT_ENGINE_OPTIONS);
    const seen: string[] = [];
    const off = engine.onEvent((e) => seen.push(e.type === 'balance' ? `${e.balance.asset} ${e.reason} ${e.balance.free.toString()}` : e.type));
    engine.openAccount('X', { USDT: dec('12.5') }, T0);
    engine.openAccount('X', { USDT: dec('0.5'), BTC: Dec.ZERO }, T0);
    off();
    engine.openAccount('X', { USDT: dec(1) }, T0);
    expect(seen).toEqual(['USDT DEPOSIT 12.5', 'USDT DEPOSIT 13']);
    expect(engine.balances('X').map((b) => [b.asset, b.free.toString()])).toEqual([
      ['BTC', '0'],
      ['USDT', '14'],
    ]);
  });
});
