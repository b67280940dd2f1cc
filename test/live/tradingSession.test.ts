/**
 * The live trading session: the kernel fed by venue events, an asynchronous submitter between the
 * executor and the exchange layer.
 * - Over the paper venue on the real BTCUSDT fixture: every closed candle decided on once, the books
 *   equal the venue's to the last decimal after every trade, no client id placed twice, the decision
 *   log's tags (test/live/parity.test.ts proves the trades equal the backtest's).
 * - The entry gate refuses entries and leaves the rest running.
 * - Orders never block decisions: with 10 s of venue latency on one symbol's entry, a stop crossing
 *   on another symbol is exited without waiting for it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { parseConfig } from '../../services/config/schema.js';
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import type { MarketInfo, OrderAck, OrderRequest } from '../../services/model/orders.js';
import type { ExchangeEvents } from '../../services/execution/types.js';
import { TradingSession, type SessionExchange } from '../../services/live/tradingSession.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import type { EnterIntent } from '../../services/model/intents.js';
import { paperRun } from '../helpers/paperRun.js';

const S = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;

describe('trading session on the paper venue over a real replay', () => {
  it('decides on every closed candle once, trades, keeps its books equal to the venue’s, and logs one meaning per tag', async () => {
    const run = await paperRun([{ symbol: S, candles }], parseConfig({}));
    const c = run.session.counters;
    expect(c.candlesClosed).toBe(candles.length);
    expect(c.duplicateCandles).toBe(0);
    expect(c.handlerErrors).toBe(0);
    expect(c.positionsClosed).toBeGreaterThan(5);
    expect(run.mismatches).toEqual([]);
    const ids = run.engine.allOrders(run.venue.account, S).map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    const count = (tag: string) => run.lines.filter((l) => l.slice(20).startsWith(`${tag} `)).length;
    // Every signal is either sent (ORDER) or refused (SKIP); every ORDER that filled is an OPEN.
    expect(count('SIGNAL')).toBe(c.signals);
    expect(count('ORDER')).toBe(c.entriesSubmitted);
    expect(count('SKIP')).toBe(c.entriesRejected + c.entriesGated);
    expect(c.signals).toBe(c.entriesSubmitted + c.entriesRejected + c.entriesGated);
    expect(count('OPEN')).toBe(c.positionsOpened);
    expect(count('CLOSE')).toBe(c.positionsClosed);
    expect(run.lines.find((l) => l.includes(' ORDER  BTCUSDT'))).toMatch(/ORDER {2}BTCUSDT buy [\d.]+ BTC \(about [\d.]+ USDT\)/);
    expect(run.lines.find((l) => l.includes(' OPEN   BTCUSDT'))).toMatch(/OPEN {3}BTCUSDT [\d.]+ BTC @ [\d.]+ \([\d.]+ USDT\)/);
    // A target fill: the base quantity and its USDT value (quantity x price, to the cent).
    const fill = run.lines.find((l) => / FILL {3}BTCUSDT target T\d+ sold /.test(l));
    const f = /FILL {3}BTCUSDT target T\d+ sold ([\d.]+) BTC @ ([\d.]+) \(([\d.]+) USDT\)$/.exec(fill ?? '');
    expect(f, fill).not.toBeNull();
    expect(f![3]).toBe(Dec.from(f![1]!).mul(Dec.from(f![2]!)).toFixed(2));
    // A stop move: its own tag, the new stop.
    expect(run.lines.find((l) => l.includes(' STOPMV BTCUSDT'))).toMatch(/STOPMV BTCUSDT stop moved to [\d.]+$/);
  });
});

describe('entry gate', () => {
  it('refuses every entry it is asked about and lets the rest of the session run', async () => {
    const run = await paperRun([{ symbol: S, candles }], parseConfig({}), { entryGate: () => 'paused for the test' });
    const c = run.session.counters;
    expect(c.candlesClosed).toBe(candles.length);
    // Ungated, the strategy enters 22 times on these candles; gated, every proposal is refused, so
    // more are proposed (no cooldowns or open positions in the way).
    expect(c.entriesGated).toBeGreaterThanOrEqual(22);
    expect(c.entriesSubmitted).toBe(0);
    expect(c.positionsOpened).toBe(0);
    expect(run.lines.filter((l) => l.includes('SKIP   BTCUSDT entry_gate: paused for the test'))).toHaveLength(c.entriesGated);
  });
});

describe('orders never block decisions', () => {
  afterEach(() => vi.useRealTimers());

  it('with 10 s of venue latency on symbol A’s entry, a stop crossing on symbol B is exited without waiting', async () => {
    vi.useFakeTimers();
    const A = symbolId('AAAUSDT');
    const B = symbolId('BBBUSDT');
    const market = (symbol: SymbolId): MarketInfo => ({ symbol, base: symbol.slice(0, 3), quote: 'USDT', tickSize: dec('0.01'), stepSize: dec('0.001'), minNotional: dec(1) });
    const sent: { id: string; at: number }[] = [];
    let receiver: ExchangeEvents | undefined;
    const t0 = Date.UTC(2024, 0, 1);
    let clock = t0;
    // A venue where A's orders take 10 s to answer and B's market orders fill at once (buys at 100, sells at 98).
    const exchange: SessionExchange = {
      market,
      subscribe: (ev) => (receiver = ev),
      onVenueEvent: () => undefined,
      cancel: (_s, id) => Promise.resolve({ clientOrderId: id, exchangeOrderId: '', status: 'cancelled' }),
      submit: (req: OrderRequest): Promise<OrderAck> => {
        sent.push({ id: req.clientOrderId, at: Date.now() });
        const ack: OrderAck = { clientOrderId: req.clientOrderId, exchangeOrderId: `x-${req.clientOrderId}`, status: 'new' };
        if (req.symbol === A) return new Promise((resolve) => setTimeout(() => resolve(ack), 10_000));
        if (req.type === 'limit') return Promise.resolve(ack); // targets rest
        queueMicrotask(() => {
          const price = req.side === 'buy' ? Dec.from(100) : Dec.from(98);
          receiver?.onFill({ tradeId: `f-${req.clientOrderId}`, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, price, quantity: req.quantity, fee: Dec.ZERO, feeAsset: 'USDT', liquidity: 'taker', time: clock });
          receiver?.onOrderUpdate({ clientOrderId: req.clientOrderId, symbol: req.symbol, status: 'filled', filledQuantity: req.quantity, time: clock });
        });
        return Promise.resolve(ack);
      },
    };
    const session = new TradingSession({ config: parseConfig({}), exchange, portfolio: new Portfolio('USDT', dec(10_000)), now: () => clock });
    const entry = (symbol: SymbolId, id: string): EnterIntent => ({
      kind: 'enter',
      id,
      symbol,
      direction: 'long',
      time: clock,
      price: 100,
      stop: 99,
      targets: [
        { label: 'primary', price: 102, fraction: 0.33 },
        { label: 'secondary', price: 103, fraction: 0.33 },
        { label: 'aggressive', price: 104, fraction: 0.34 },
      ],
      level: { price: 99.5, touches: 3, sources: ['test'] },
      oppositeLevel: null,
      reasons: ['test'],
      expiresAt: clock + 240 * 60_000,
    });
    session.executor.decide([entry(B, 'B1')], clock);
    await vi.advanceTimersByTimeAsync(0);
    expect(session.executor.position(B)?.state).toBe('open');
    session.executor.decide([entry(A, 'A1')], clock); // its submit answers in 10 s
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((s) => s.id)).toContain('A1E');
    clock += 1_000;
    session.push({ type: 'trade', symbol: B, trade: { time: clock, price: 98.5, quantity: 1, buyerMaker: true }, receivedAt: clock });
    await vi.advanceTimersByTimeAsync(0);
    // B's exit went out at once, with A's entry still waiting on the venue.
    const exit = sent.find((s) => s.id === 'B1X1');
    expect(exit).toBeDefined();
    expect(exit!.at - sent.find((s) => s.id === 'A1E')!.at).toBeLessThan(10_000);
    expect(session.executor.position(B)).toBeUndefined(); // closed: the stop's sell filled
    expect(session.executor.position(A)?.state).toBe('entering');
    await vi.advanceTimersByTimeAsync(10_000);
    await session.idle();
  });
});
