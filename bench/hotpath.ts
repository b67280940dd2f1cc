/**
 * Hot-path benchmark (`npm run bench` runs it; alone: `node --expose-gc --import tsx bench/hotpath.ts
 * [--out <file>]`). Writes bench/results/hotpath.json.
 *
 * In one process, the runtime's decision path without the network: the trading session (candle
 * aggregation to 4 timeframes, indicators and levels per timeframe, the strategy, the risk engine,
 * the executor) on 15 symbols, with the journal (write-ahead of every order into an in-memory state
 * store) and SafeExchange in front of a venue stub that fills market orders at once at the candle's
 * close. Both product modes use 3 timeframes; this runs 4 (1m, 3m, 5m, 15m) as an upper bound.
 * Each symbol is warmed up with 1,000 real closed 1m candles, then fed real candles one by one as
 * kline events (the bundled DOGEUSDT and PEPEUSDT samples, each symbol from another offset).
 *
 * 1. Memory: heap used and RSS after a full GC, once everything is warmed up and has run. Target:
 *    under 250 MB.
 * 2. Decision time: from handing a closed 1m kline to the session to the venue's createOrder being
 *    called for the entry it decides (the order request), for every entry, reported for all entries
 *    and without the first 20 (the first entries run code paths for the first time: JIT warm-up);
 *    and, for scale, the time to handle every closed candle (most decide nothing). Target: p99
 *    under 1 ms.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { loadSeries } from '../cli/loadSeries.js';
import { parseConfig, type Config } from '../services/config/schema.js';
import { Dec } from '../services/core/money.js';
import { symbolId, type Candle, type SymbolId } from '../services/core/types.js';
import { MINUTE_MS } from '../services/core/timeframes.js';
import { SafeExchange } from '../services/execution/safeExchange.js';
import { TradingSession } from '../services/live/tradingSession.js';
import { Portfolio } from '../services/portfolio/portfolio.js';
import { PositionJournal } from '../services/recovery/journal.js';
import { JournaledExchange } from '../services/recovery/journaledExchange.js';
import { simMarketFromCandles } from '../services/sim/replay.js';
import { createMemoryStore } from '../services/state/memoryStore.js';
import type { VenueClient, VenueMarket, VenueOrder, VenueOrderRequest } from '../services/venue/types.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, candles: { type: 'string' } } });
const SYMBOLS = 15;
const WARMUP = 1000;
const LIVE = Number(values.candles ?? 20_000);
/** Entries whose code paths run for the first time (JIT warm-up) are reported apart. */
const COLD_ENTRIES = 20;

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

/** Fills market orders at once at the last close; limits rest. Records when each request arrives. */
class StubVenue {
  readonly name = 'bench-stub';
  safe: SafeExchange | undefined;
  readonly requests: { clientOrderId: string; at: number }[] = [];
  private readonly last = new Map<SymbolId, number>();
  private readonly markets = new Map<SymbolId, VenueMarket>();
  private seq = 0;
  private time = 0;

  addMarket(symbol: SymbolId, candles: readonly Candle[]): void {
    const spec = simMarketFromCandles(symbol, candles);
    this.markets.set(symbol, { ...spec, tradable: true });
  }
  market(symbol: SymbolId): VenueMarket {
    const m = this.markets.get(symbol);
    if (!m) throw new Error(`no market ${symbol}`);
    return m;
  }
  setPrice(symbol: SymbolId, price: number, time: number): void {
    this.last.set(symbol, price);
    this.time = time;
  }
  createOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    this.requests.push({ clientOrderId: req.clientOrderId, at: performance.now() });
    const price = Dec.from(this.last.get(req.symbol) ?? 1);
    const qty = req.quantity ?? Dec.ZERO;
    const id = String(++this.seq);
    const market = req.type === 'market';
    if (market) {
      const m = this.market(req.symbol);
      const fee = req.side === 'buy' ? Dec.ZERO : price.mul(qty).mul(Dec.from('0.0005'));
      this.safe?.onVenueEvent({
        type: 'fill',
        fill: { tradeId: `t${id}`, clientOrderId: req.clientOrderId, exchangeOrderId: id, symbol: req.symbol, side: req.side, price, quantity: qty, fee, feeAsset: m.quote, liquidity: 'taker', time: this.time },
        receivedAt: this.time,
      });
    }
    return Promise.resolve({
      clientOrderId: req.clientOrderId,
      exchangeOrderId: id,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      ...(req.price ? { price: req.price } : {}),
      quantity: qty,
      filledQuantity: market ? qty : Dec.ZERO,
      filledQuote: market ? price.mul(qty) : Dec.ZERO,
      status: market ? 'filled' : 'new',
      time: this.time,
      updateTime: this.time,
    });
  }
  cancelOrder(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder> {
    return Promise.resolve({ clientOrderId, exchangeOrderId: '0', symbol, side: 'sell', type: 'limit', quantity: Dec.ZERO, filledQuantity: Dec.ZERO, filledQuote: Dec.ZERO, status: 'cancelled', time: this.time, updateTime: this.time });
  }
  fetchOrderByClientId(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  fetchOrderById(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  fetchMyTrades(): Promise<never[]> {
    return Promise.resolve([]);
  }
}

async function measure(journaled: boolean) {
  const loaded = loadSeries(['data/sample'], ['DOGEUSDT', 'PEPEUSDT']);
  const sources = loaded.series.map((s) => s.candles);
  const base = parseConfig({ mode: 'hf', risk: { profile: 'aggressive' } });
  const config: Config = { ...base, modeSettings: { ...base.modeSettings, timeframes: ['1m', '3m', '5m', '15m'], maxPairs: SYMBOLS } };

  const venue = new StubVenue();
  const symbols: { symbol: SymbolId; candles: Candle[] }[] = [];
  for (let i = 0; i < SYMBOLS; i++) {
    const src = sources[i % sources.length] as Candle[];
    const offset = Math.floor((i / SYMBOLS) * (src.length - WARMUP - LIVE - 1));
    const symbol = symbolId(`BENCH${String(i + 1).padStart(2, '0')}USDT`);
    const candles = src.slice(offset, offset + WARMUP + LIVE);
    venue.addMarket(symbol, candles);
    symbols.push({ symbol, candles });
  }
  let now = 0;
  const { store } = createMemoryStore({ clock: () => now });
  // A minute of market passes here in microseconds, so the client-side order rate limit (5 orders/s,
  // burst 20) is raised: it paces real orders over real seconds, and is not what is measured.
  const safe = new SafeExchange(venue as unknown as VenueClient, { now: () => performance.now(), sleep: () => Promise.resolve(), random: () => 0.5 }, {
    rateLimit: { ratePerSecond: 1e9, burst: 1e9 },
  });
  venue.safe = safe;
  const journal = new PositionJournal({ store, now: () => now, mode: 'live' });
  const exchange = new JournaledExchange(safe, journal);
  const portfolio = new Portfolio('USDT', Dec.from(100_000));
  const session = new TradingSession({ config, exchange: journaled ? exchange : safe, portfolio, now: () => now });
  session.executor.on((e) => {
    if (e.type === 'entry_submitted') journal.noteIntent(e.intent);
  });

  for (const { symbol, candles } of symbols) session.warmUp(symbol, candles.slice(0, WARMUP));
  globalThis.gc?.();
  const afterWarmup = process.memoryUsage();

  const decision: number[] = [];
  const perCandle: number[] = [];
  for (let k = WARMUP; k < WARMUP + LIVE; k++) {
    for (const { symbol, candles } of symbols) {
      const c = candles[k] as Candle;
      now = c.openTime + MINUTE_MS;
      venue.setPrice(symbol, c.close, now);
      const before = venue.requests.length;
      const t0 = performance.now();
      session.push({ type: 'kline', symbol, interval: '1m', candle: c, closed: true, receivedAt: now });
      await session.idle();
      perCandle.push(performance.now() - t0);
      // The first request this candle caused, if it was an entry.
      const req = venue.requests[before];
      if (req && req.clientOrderId.endsWith('E')) decision.push(req.at - t0);
    }
  }
  await journal.flush();
  globalThis.gc?.();
  const end = process.memoryUsage();
  const warm = decision.slice(COLD_ENTRIES).sort((a, b) => a - b);
  decision.sort((a, b) => a - b);
  perCandle.sort((a, b) => a - b);
  return { config, afterWarmup, end, warm, decision, perCandle, counters: { ...session.counters, ordersRequested: venue.requests.length } };
}

async function main(): Promise<void> {
  const bare = await measure(false);
  const { config, afterWarmup, end, warm, decision, perCandle, counters } = await measure(true);
  const bareWarm = bare.warm;
  const mb = (b: number): number => round(b / 2 ** 20, 1);
  const report = {
    benchmark: 'hot path: memory with 15 symbols on 4 timeframes, and closed candle to order request',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    setup: {
      symbols: SYMBOLS,
      timeframes: config.modeSettings.timeframes,
      warmupCandlesPerSymbol: WARMUP,
      liveCandlesPerSymbol: LIVE,
      data: 'bundled real samples (DOGEUSDT, PEPEUSDT 1m, May-June 2026), one offset per symbol',
      path: 'TradingSession (strategy, risk, executor) -> journal (write-ahead into the in-memory state store) -> SafeExchange -> venue stub',
      note: 'the client-side order rate limit is raised: a minute of market passes in microseconds here',
      gcExposed: typeof globalThis.gc === 'function',
    },
    memory: { targetMb: 250, afterWarmup: { heapUsedMb: mb(afterWarmup.heapUsed), rssMb: mb(afterWarmup.rss) }, afterRun: { heapUsedMb: mb(end.heapUsed), rssMb: mb(end.rss) } },
    decisionToOrderRequestMs: {
      targetP99: 1,
      afterFirstEntries: { skipped: COLD_ENTRIES, entries: warm.length, p50: round(pct(warm, 50)), p90: round(pct(warm, 90)), p99: round(pct(warm, 99)), max: round(warm[warm.length - 1] ?? NaN) },
      allEntries: { entries: decision.length, p50: round(pct(decision, 50)), p90: round(pct(decision, 90)), p99: round(pct(decision, 99)), max: round(decision[decision.length - 1] ?? NaN) },
    },
    closedCandleHandlingMs: { candles: perCandle.length, p50: round(pct(perCandle, 50)), p99: round(pct(perCandle, 99)), max: round(perCandle[perCandle.length - 1] ?? NaN) },
    decisionToOrderRequestWithoutJournalMs: {
      note: 'the same path with the executor talking to SafeExchange directly (no write-ahead): what the journal costs',
      afterFirstEntries: { skipped: COLD_ENTRIES, entries: bareWarm.length, p50: round(pct(bareWarm, 50)), p90: round(pct(bareWarm, 90)), p99: round(pct(bareWarm, 99)), max: round(bareWarm[bareWarm.length - 1] ?? NaN) },
    },
    counters,
  };
  const outFile = resolve(values.out ?? 'bench/results/hotpath.json');
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify(report, null, 2));
  console.error(`written to ${outFile}`);
}

await main();
