/**
 * The venue contract: one suite of behaviours every VenueClient must show, run against the ccxt
 * MEXC adapter talking to the simulator over loopback and against the in-process paper venue
 * (see the *.contract.test.ts files beside this one). Local success means something only because
 * both sides pass the same tests.
 *
 * Market used by every harness (worked out here, independently of the engines):
 * BTCUSDT, tick 0.01, lot step 0.000001, minimum quantity 0.000001, minimum notional 1 USDT,
 * maker fee 0%, taker fee 0.05%; the account starts with 10,000 USDT and 1 BTC.
 * Book pushed by `setBook`: bid 50,000.00 / ask 50,001.00.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import type { MarketDataEvent } from '../../services/sim/types.js';
import type { Balance, VenueClient, VenueEvent, VenueFill } from '../../services/venue/types.js';
import {
  ExchangeError,
  InsufficientBalanceError,
  InvalidOrderError,
  OrderNotFoundError,
  SymbolNotTradableError,
} from '../../services/execution/exchangeErrors.js';

export const CONTRACT_SYMBOL = symbolId('BTCUSDT');
export const CONTRACT_MARKET = {
  tickSize: Dec.from('0.01'),
  stepSize: Dec.from('0.000001'),
  minNotional: Dec.from('1'),
  makerFeePct: 0,
  takerFeePct: 0.05,
} as const;
export const CONTRACT_DEPOSITS = { USDT: Dec.from('10000'), BTC: Dec.from('1') } as const;

export interface VenueHarness {
  readonly venue: VenueClient;
  /** Feeds public market data to the venue's matching side (and its public streams). */
  push(e: MarketDataEvent): Promise<void>;
  /** Current market-data time used for pushed events. */
  now(): number;
  close(): Promise<void>;
}

/** Waits (bounded) until `pred` holds, polling; throws with `what` when it never does. */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function bal(list: Balance[], asset: string): Balance {
  return list.find((b) => b.asset === asset) ?? { asset, free: Dec.ZERO, locked: Dec.ZERO };
}

let seq = 0;
/** A fresh client order id per order (ids must never repeat within an account). */
function cid(tag: string): string {
  seq++;
  return `ct${tag}${seq}`;
}

/** Registers the contract suite for one implementation. */
export function venueContract(name: string, makeHarness: () => Promise<VenueHarness>): void {
  describe(`venue contract: ${name}`, () => {
    let h: VenueHarness;
    let venue: VenueClient;
    const S: SymbolId = CONTRACT_SYMBOL;

    async function setBook(bid = '50000', ask = '50001'): Promise<void> {
      const t = h.now();
      await h.push({ type: 'book', symbol: S, book: { time: t, bid: Number(bid), bidSize: 5, ask: Number(ask), askSize: 5 } });
    }
    async function trade(price: string, quantity: number): Promise<void> {
      await h.push({ type: 'trade', symbol: S, trade: { time: h.now(), price: Number(price), quantity, buyerMaker: false } });
    }

    beforeEach(async () => {
      h = await makeHarness();
      venue = h.venue;
      await venue.loadMarkets();
      await setBook();
    });
    afterEach(async () => {
      await h.close();
    });

    it('lists the market with its exact precision, minimum and fees; an unknown symbol is refused', () => {
      const m = venue.market(S);
      expect(m.tickSize.eq(CONTRACT_MARKET.tickSize)).toBe(true);
      expect(m.stepSize.eq(CONTRACT_MARKET.stepSize)).toBe(true);
      expect(m.minNotional.eq(CONTRACT_MARKET.minNotional)).toBe(true);
      expect(m.base).toBe('BTC');
      expect(m.quote).toBe('USDT');
      expect(m.tradable).toBe(true);
      expect(m.takerFeePct).toBeCloseTo(0.05, 10);
      expect(m.makerFeePct).toBe(0);
      expect(() => venue.market(symbolId('NOPEUSDT'))).toThrow(SymbolNotTradableError);
    });

    it('shows the deposited balances', async () => {
      const b = await venue.fetchBalances();
      expect(bal(b, 'USDT').free.eq(CONTRACT_DEPOSITS.USDT)).toBe(true);
      expect(bal(b, 'BTC').free.eq(CONTRACT_DEPOSITS.BTC)).toBe(true);
    });

    it('rests a limit buy below the market, finds it by client id, locks its quote, and cancels it once', async () => {
      const id = cid('L');
      const placed = await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'limit', quantity: Dec.from('0.01'), price: Dec.from('49000') });
      expect(placed.clientOrderId).toBe(id);
      expect(placed.status).toBe('new');
      const open = await venue.fetchOpenOrders(S);
      expect(open.map((o) => o.clientOrderId)).toContain(id);
      const found = await venue.fetchOrderByClientId(S, id);
      expect(found?.status).toBe('new');
      expect(found?.price?.eq(Dec.from('49000'))).toBe(true);
      expect(found?.quantity.eq(Dec.from('0.01'))).toBe(true);
      // 0.01 x 49,000 = 490 USDT no longer free (a venue may hold a little more for the fee).
      const during = bal(await venue.fetchBalances(), 'USDT');
      expect(during.locked.gte(Dec.from('490'))).toBe(true);
      expect(during.free.add(during.locked).eq(CONTRACT_DEPOSITS.USDT)).toBe(true);
      const cancelled = await venue.cancelOrder(S, id);
      expect(cancelled.status).toBe('cancelled');
      expect((await venue.fetchOpenOrders(S)).map((o) => o.clientOrderId)).not.toContain(id);
      const after = bal(await venue.fetchBalances(), 'USDT');
      expect(after.free.eq(CONTRACT_DEPOSITS.USDT)).toBe(true);
      expect(after.locked.isZero()).toBe(true);
      await expect(venue.cancelOrder(S, id)).rejects.toBeInstanceOf(OrderNotFoundError);
    });

    it('answers undefined for an order it does not know', async () => {
      expect(await venue.fetchOrderByClientId(S, cid('none'))).toBeUndefined();
    });

    it('fills a market buy as taker: fee = 0.05% of the fill value, balances move by exactly cost + fee', async () => {
      const id = cid('M');
      const qty = Dec.from('0.01');
      await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'market', quantity: qty });
      const fills = (await venue.fetchMyTrades(S)).filter((f) => f.clientOrderId === id);
      expect(fills.length).toBeGreaterThan(0);
      const filled = Dec.sum(fills.map((f) => f.quantity));
      expect(filled.eq(qty)).toBe(true);
      let cost = Dec.ZERO;
      let fees = Dec.ZERO;
      for (const f of fills) {
        expect(f.liquidity).toBe('taker');
        expect(f.side).toBe('buy');
        expect(f.feeAsset).toBe('USDT');
        // A buy pays at least the ask.
        expect(f.price.gte(Dec.from('50001'))).toBe(true);
        expect(f.fee.eq(f.price.mul(f.quantity).mul(Dec.from('0.0005')))).toBe(true);
        cost = cost.add(f.price.mul(f.quantity));
        fees = fees.add(f.fee);
      }
      const b = await venue.fetchBalances();
      expect(bal(b, 'USDT').free.eq(CONTRACT_DEPOSITS.USDT.sub(cost).sub(fees))).toBe(true);
      expect(bal(b, 'BTC').free.eq(CONTRACT_DEPOSITS.BTC.add(qty))).toBe(true);
      const order = await venue.fetchOrderByClientId(S, id);
      expect(order?.status).toBe('filled');
      expect(order?.filledQuantity.eq(qty)).toBe(true);
    });

    it('fills a market buy given as a quote amount without spending more than that amount', async () => {
      const id = cid('Q');
      await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'market', quoteAmount: Dec.from('100') });
      const fills = (await venue.fetchMyTrades(S)).filter((f) => f.clientOrderId === id);
      const spent = Dec.sum(fills.map((f) => f.price.mul(f.quantity)));
      expect(spent.isPositive()).toBe(true);
      expect(spent.lte(Dec.from('100'))).toBe(true);
      // Within one lot step of the amount: 100 - spent < price x step (0.000001 x ~50,000 = 0.05).
      expect(Dec.from('100').sub(spent).lt(Dec.from('0.06'))).toBe(true);
    });

    it('fills a resting limit sell as maker (0% fee) only when a trade prints through it', async () => {
      const id = cid('S');
      const qty = Dec.from('0.001');
      await venue.createOrder({ clientOrderId: id, symbol: S, side: 'sell', type: 'limit', quantity: qty, price: Dec.from('50500') });
      await trade('50500', 10); // at the limit, not through it: no fill
      expect((await venue.fetchOrderByClientId(S, id))?.status).toBe('new');
      await trade('50500.01', 10); // through it; 10% of 10 BTC covers 0.001
      const order = await venue.fetchOrderByClientId(S, id);
      expect(order?.status).toBe('filled');
      const fills = (await venue.fetchMyTrades(S)).filter((f) => f.clientOrderId === id);
      expect(fills.length).toBeGreaterThan(0);
      for (const f of fills) {
        expect(f.liquidity).toBe('maker');
        expect(f.price.eq(Dec.from('50500'))).toBe(true);
        expect(f.fee.isZero()).toBe(true);
      }
      const b = await venue.fetchBalances();
      // Sold 0.001 BTC at 50,500 with no fee: +50.5 USDT.
      expect(bal(b, 'USDT').free.eq(Dec.from('10050.5'))).toBe(true);
      expect(bal(b, 'BTC').free.add(bal(b, 'BTC').locked).eq(Dec.from('0.999'))).toBe(true);
    });

    it('rejects a post-only order that would take liquidity, with a non-retryable error', async () => {
      const id = cid('P');
      const err = await venue
        .createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'post_only', quantity: Dec.from('0.001'), price: Dec.from('50002') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExchangeError);
      expect((err as ExchangeError).retryable).toBe(false);
      expect((await venue.fetchOpenOrders(S)).map((o) => o.clientOrderId)).not.toContain(id);
    });

    it('rests a post-only order that does not cross', async () => {
      const id = cid('PR');
      const o = await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'post_only', quantity: Dec.from('0.001'), price: Dec.from('49999') });
      expect(o.status).toBe('new');
      expect((await venue.fetchOpenOrders(S)).map((x) => x.clientOrderId)).toContain(id);
    });

    it('ends an immediate-or-cancel order that cannot fill as cancelled with nothing filled', async () => {
      const id = cid('I');
      await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'ioc', quantity: Dec.from('0.001'), price: Dec.from('49000') });
      const o = await venue.fetchOrderByClientId(S, id);
      expect(o?.status).toBe('cancelled');
      expect(o?.filledQuantity.isZero()).toBe(true);
      expect((await venue.fetchOpenOrders(S)).map((x) => x.clientOrderId)).not.toContain(id);
    });

    it('refuses an order the balance cannot pay for, and one below the minimum notional', async () => {
      await expect(
        venue.createOrder({ clientOrderId: cid('B'), symbol: S, side: 'buy', type: 'limit', quantity: Dec.from('1'), price: Dec.from('49000') }),
      ).rejects.toBeInstanceOf(InsufficientBalanceError);
      // 0.000001 x 49,000 = 0.049 USDT < 1 USDT.
      await expect(
        venue.createOrder({ clientOrderId: cid('N'), symbol: S, side: 'buy', type: 'limit', quantity: Dec.from('0.000001'), price: Dec.from('49000') }),
      ).rejects.toBeInstanceOf(InvalidOrderError);
      expect(await venue.fetchOpenOrders(S)).toEqual([]);
    });

    it('never holds two orders under one client order id', async () => {
      const id = cid('D');
      await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'limit', quantity: Dec.from('0.001'), price: Dec.from('48000') });
      const second = await venue
        .createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'limit', quantity: Dec.from('0.002'), price: Dec.from('47000') })
        .catch((e: unknown) => e);
      expect(second).toBeInstanceOf(ExchangeError);
      const open = (await venue.fetchOpenOrders(S)).filter((o) => o.clientOrderId === id);
      expect(open).toHaveLength(1);
      expect(open[0]?.quantity.eq(Dec.from('0.001'))).toBe(true);
    });

    it('serves the best bid and ask, and 24h tickers', async () => {
      const top = await venue.fetchBookTop(S);
      expect(top.bid).toBe(50000);
      expect(top.ask).toBe(50001);
      const tickers = await venue.fetchTickers24h([S]);
      const t = tickers.find((x) => x.symbol === S);
      expect(t).toBeDefined();
      expect(Number.isFinite(t?.quoteVolume)).toBe(true);
    });

    it('streams its own fills and order updates once each', async () => {
      const events: VenueEvent[] = [];
      const handle = await venue.stream([{ kind: 'orders' }, { kind: 'fills' }, { kind: 'balances' }], (e) => events.push(e));
      try {
        const id = cid('W');
        await venue.createOrder({ clientOrderId: id, symbol: S, side: 'buy', type: 'market', quantity: Dec.from('0.002') });
        const fillsOf = () => events.filter((e): e is Extract<VenueEvent, { type: 'fill' }> => e.type === 'fill' && e.fill.clientOrderId === id);
        await waitFor(() => fillsOf().reduce((s, e) => s.add(e.fill.quantity), Dec.ZERO).eq(Dec.from('0.002')), 'the fills on the stream');
        await waitFor(
          () => events.some((e) => e.type === 'order' && e.order.clientOrderId === id && e.order.status === 'filled'),
          'the filled order update',
        );
        const restFills: VenueFill[] = (await venue.fetchMyTrades(S)).filter((f) => f.clientOrderId === id);
        // The stream and REST agree on the trade ids, and no trade id arrives twice on the stream.
        const streamIds = fillsOf().map((e) => e.fill.tradeId);
        expect(new Set(streamIds).size).toBe(streamIds.length);
        expect([...streamIds].sort()).toEqual(restFills.map((f) => f.tradeId).sort());
      } finally {
        await handle.close();
      }
    });
  });
}
