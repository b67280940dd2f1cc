/**
 * A live trading session: the hot path's event loop without its I/O. It turns venue events into
 * the same calls the backtest makes (strategy on each closed 1m candle, risk engine, the one
 * executor, stop checks on every price), so paper trading, live trading and backtests share the
 * strategy, the risk engine and the executor.
 *
 * Ordering and bounds: private events (orders, fills, balances) go to the exchange layer at once,
 * in arrival order, because a fill must never wait behind market data. Market data goes through a
 * bounded queue drained by one consumer, so a decision never overlaps another. When the queue is
 * full, the oldest book and trade updates are dropped first (a newer price supersedes them) and
 * counted; closed candles are never dropped.
 */
import type { Config } from '../config/schema.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import { Executor, type ExecutorEvent } from '../execution/executor.js';
import type { ExchangePort } from '../execution/types.js';
import type { EnterIntent } from '../strategy/intents.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import { RiskEngine } from '../risk/index.js';
import { SrStrategy } from '../strategy/srStrategy.js';
import type { VenueEvent } from '../venue/types.js';

/** The exchange layer the session drives: the executor's port plus the venue's private events. */
export interface SessionExchange extends ExchangePort {
  onVenueEvent(e: VenueEvent): void;
}

export interface TradingSessionOptions {
  readonly config: Config;
  readonly exchange: SessionExchange;
  readonly portfolio: Portfolio;
  readonly now: () => number;
  /** One line per decision and trade. */
  readonly log?: (line: string) => void;
  /** Market-data events waiting for the consumer (default 10,000). */
  readonly maxQueuedEvents?: number;
  /**
   * Asked before each entry the strategy proposes: a reason refuses it (the kill switch's PAUSED,
   * a lease lost). Exits and stop moves always pass, so open positions are still managed.
   */
  readonly entryGate?: (intent: EnterIntent, now: number) => string | undefined;
  /**
   * Awaited on every live closed 1m candle before the strategy decides on it (the ML filter
   * predicts here, so the entry gate can read the prediction made at the decision time). What it
   * throws is logged and counted; the decision goes on.
   */
  readonly beforeDecide?: (symbol: SymbolId, candle: Candle) => Promise<void>;
}

/** Counters for status lines and tests. */
export interface SessionCounters {
  candlesClosed: number;
  duplicateCandles: number;
  trades: number;
  books: number;
  droppedMarketEvents: number;
  entriesSubmitted: number;
  entriesRejected: number;
  /** Entries the entry gate refused (e.g. while PAUSED). */
  entriesGated: number;
  positionsOpened: number;
  positionsClosed: number;
  /** Errors thrown while handling an event: counted and logged, never allowed to stop the loop. */
  handlerErrors: number;
}

type MarketEvent = Extract<VenueEvent, { type: 'kline' | 'trade' | 'book' }>;

export class TradingSession {
  readonly executor: Executor;
  readonly risk: RiskEngine;
  readonly strategy: SrStrategy;
  readonly counters: SessionCounters = {
    candlesClosed: 0,
    duplicateCandles: 0,
    trades: 0,
    books: 0,
    droppedMarketEvents: 0,
    entriesSubmitted: 0,
    entriesRejected: 0,
    entriesGated: 0,
    positionsOpened: 0,
    positionsClosed: 0,
    handlerErrors: 0,
  };
  private readonly queue: MarketEvent[] = [];
  private draining: Promise<void> | null = null;
  private readonly lastClosed = new Map<SymbolId, number>();
  private readonly books = new Map<SymbolId, BookTop>();
  private readonly quoteVolume = new Map<SymbolId, number>();
  private lastDay = -1;
  private readonly maxQueued: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: TradingSessionOptions) {
    const cfg = opts.config;
    this.maxQueued = opts.maxQueuedEvents ?? 10_000;
    this.log = opts.log ?? (() => undefined);
    this.risk = new RiskEngine(cfg);
    this.strategy = new SrStrategy(cfg);
    this.executor = new Executor(opts.exchange, opts.portfolio, this.risk, {
      entryOrderType: cfg.entry.orderType,
      limitEntryTimeoutMs: cfg.entry.limitTimeoutCandles * MINUTE_MS,
    });
    this.executor.on((e) => this.onExecutorEvent(e));
  }

  /**
   * Feeds history (closed 1m candles, oldest first) so levels and indicators are ready before the
   * first live candle. Nothing is traded: warm-up intents are discarded.
   */
  warmUp(symbol: SymbolId, candles: readonly Candle[]): void {
    for (const c of candles) {
      const last = this.lastClosed.get(symbol);
      if (last !== undefined && c.openTime <= last) continue;
      this.strategy.onCandle(symbol, c, undefined);
      this.lastClosed.set(symbol, c.openTime);
      this.opts.portfolio.mark(symbol, c.close);
    }
  }

  /** The latest 24h quote volume of a symbol (the strategy's liquidity rule reads it). */
  setQuoteVolume24h(symbol: SymbolId, quoteVolume: number): void {
    if (Number.isFinite(quoteVolume) && quoteVolume >= 0) this.quoteVolume.set(symbol, quoteVolume);
  }

  /** Accepts one venue event; see the file comment for ordering and bounds. */
  push(e: VenueEvent): void {
    switch (e.type) {
      case 'order':
      case 'fill':
      case 'balance':
        this.guard(() => this.opts.exchange.onVenueEvent(e));
        return;
      case 'stream_status':
        this.log(`${iso(this.opts.now())} FEED  ${e.stream} ${e.status}${e.detail ? `: ${e.detail}` : ''}`);
        return;
      default:
        if (e.type === 'kline' && !e.closed) return; // only closed candles drive decisions
        this.enqueue(e);
    }
  }

  private enqueue(e: MarketEvent): void {
    if (this.queue.length >= this.maxQueued) {
      const i = this.queue.findIndex((q) => q.type !== 'kline');
      if (i >= 0) this.queue.splice(i, 1);
      this.counters.droppedMarketEvents++;
      if (i < 0 && e.type !== 'kline') return;
    }
    this.queue.push(e);
    this.draining ??= this.drain();
  }

  /** Resolves when every queued market event has been handled. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      for (let e = this.queue.shift(); e; e = this.queue.shift()) {
        try {
          await this.handle(e);
        } catch (err) {
          this.counters.handlerErrors++;
          this.log(`${iso(this.opts.now())} ERROR handling ${e.type} ${e.symbol}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.counters.handlerErrors++;
      this.log(`${iso(this.opts.now())} ERROR ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async handle(e: MarketEvent): Promise<void> {
    const now = this.opts.now();
    if (e.type === 'trade') {
      this.counters.trades++;
      this.opts.portfolio.mark(e.symbol, e.trade.price);
      const p = this.executor.onPrice(e.symbol, e.trade.price, now);
      if (p) await p;
      return;
    }
    if (e.type === 'book') {
      this.counters.books++;
      this.books.set(e.symbol, e.book);
      // A long position exits by selling at the bid: the bid is the price its stop must watch.
      const p = this.executor.onPrice(e.symbol, e.book.bid, now);
      if (p) await p;
      return;
    }
    if (e.interval !== '1m') return;
    await this.onClosedCandle(e.symbol, e.candle, now);
  }

  /** One closed 1m candle: the same steps as the backtest's loop. */
  private async onClosedCandle(symbol: SymbolId, c: Candle, now: number): Promise<void> {
    const last = this.lastClosed.get(symbol);
    if (last !== undefined && c.openTime <= last) {
      this.counters.duplicateCandles++;
      return;
    }
    this.lastClosed.set(symbol, c.openTime);
    this.counters.candlesClosed++;
    if (this.opts.beforeDecide) {
      try {
        await this.opts.beforeDecide(symbol, c);
      } catch (e) {
        this.counters.handlerErrors++;
        this.log(`${iso(now)} ERROR before deciding on ${symbol}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const closeTime = c.openTime + MINUTE_MS;
    const portfolio = this.opts.portfolio;
    portfolio.mark(symbol, c.close);
    const day = Math.floor(closeTime / DAY_MS);
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.risk.onTime(closeTime, portfolio.equity());
    }
    this.risk.onPrice(symbol, closeTime, c.close);
    const book = this.books.get(symbol);
    const quoteVolume24h = this.quoteVolume.get(symbol);
    const proposed = this.strategy.onCandle(symbol, c, this.executor.position(symbol), {
      ...(book ? { book } : {}),
      ...(quoteVolume24h !== undefined ? { quoteVolume24h } : {}),
    });
    if (proposed.length === 0) return;
    const gate = this.opts.entryGate;
    const intents = gate
      ? proposed.filter((it) => {
          if (it.kind !== 'enter') return true;
          const refused = gate(it, now);
          if (refused === undefined) return true;
          this.counters.entriesGated++;
          this.log(`${iso(now)} SKIP  ${it.symbol} ${refused}`);
          return false;
        })
      : proposed;
    if (intents.length === 0) return;
    for (const it of intents) if (it.kind === 'enter') this.log(`${iso(now)} ENTER ${it.symbol} @ ${it.price} stop ${it.stop.toPrecision(8)}: ${it.reasons.join(', ')}`);
    await this.executor.handle(intents, now);
  }

  private onExecutorEvent(e: ExecutorEvent): void {
    const t = iso(e.time);
    switch (e.type) {
      case 'entry_submitted':
        this.counters.entriesSubmitted++;
        this.log(`${t} ORDER ${e.intent.symbol} buy ${e.quantity.toString()}${e.adjustments.length ? ` (${e.adjustments.join(', ')})` : ''}`);
        break;
      case 'entry_rejected':
        this.counters.entriesRejected++;
        this.log(`${t} SKIP  ${e.intent.symbol} ${e.reason}: ${e.detail}`);
        break;
      case 'position_opened':
        this.counters.positionsOpened++;
        this.log(`${t} OPEN  ${e.symbol} ${e.quantity.toString()} @ ${e.price.toString()}`);
        break;
      case 'entry_expired':
        this.log(`${t} EXPIRED ${e.symbol} entry not filled in time`);
        break;
      case 'stop_moved':
        this.log(`${t} STOP  ${e.symbol} moved to ${e.stop}`);
        break;
      case 'exit_started':
        this.log(`${t} EXIT  ${e.symbol} ${e.reason}: ${e.detail}`);
        break;
      case 'position_closed':
        this.counters.positionsClosed++;
        this.risk.onTradeClosed({ symbol: e.trade.symbol as SymbolId, time: e.time, pnl: e.trade.netPnl, exitReason: e.reason, equityAfter: this.opts.portfolio.equity() });
        this.log(`${t} CLOSE ${e.trade.symbol} ${e.trade.exitReason} net ${e.trade.netPnl.toFixed(2)} (${e.trade.returnPct.toFixed(2)}%)`);
        break;
    }
  }

  /** Market events waiting to be handled. */
  get queued(): number {
    return this.queue.length;
  }
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}
