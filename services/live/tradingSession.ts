/**
 * A live trading session: the hot path's event loop without its I/O. It feeds venue events to the
 * trading kernel (services/kernel), the same pipeline the backtest runs, with an asynchronous
 * submitter between the executor and the exchange layer (SafeExchange behind the journal), so no
 * order ever waits for another and no decision waits for an order.
 *
 * Ordering and bounds: private events (orders, fills, balances) go to the exchange layer at once,
 * in arrival order, because a fill must never wait behind market data. Market data goes through a
 * bounded queue drained by one consumer, so a decision never overlaps another (the consumer only
 * ever awaits the optional `beforeDecide`). When the queue is full, the oldest book and trade
 * updates are dropped first (a newer price supersedes them) and counted; closed candles are never
 * dropped.
 */
import type { Config } from '../config/schema.js';
import type { Candle, SymbolId } from '../core/types.js';
import type { Executor } from '../execution/executor.js';
import { AsyncSubmitter } from '../execution/submitter.js';
import type { ExchangePort } from '../execution/types.js';
import { TradingKernel, type KernelCounters } from '../kernel/kernel.js';
import type { EnterIntent } from '../model/intents.js';
import type { Strategy } from '../strategy/port.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import type { RiskEngine } from '../risk/index.js';
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
  /** Default: the S/R strategy with the config. */
  readonly strategy?: Strategy;
  /** One line per decision and trade. */
  readonly log?: (line: string) => void;
  /** Market-data events waiting for the consumer (default 10,000). */
  readonly maxQueuedEvents?: number;
  /**
   * Asked before each entry the strategy proposes: a reason refuses it (the kill switch's PAUSED,
   * a lease lost). Exits and stop moves always pass, so open positions are still managed.
   */
  readonly entryGate?: (intent: EnterIntent, now: number) => string | undefined;
  /** A model's confidence in an entry, for risk.sizing.mode 'confidence' (see KernelOptions). */
  readonly entryConfidence?: (intent: EnterIntent, now: number) => number | undefined;
  /**
   * Awaited on every live closed 1m candle before the strategy decides on it (the ML filter
   * predicts here, so the entry gate can read the prediction made at the decision time). What it
   * throws is logged and counted; the decision goes on.
   */
  readonly beforeDecide?: (symbol: SymbolId, candle: Candle) => Promise<void>;
}

/** Counters for status lines and tests. */
export interface SessionCounters extends KernelCounters {
  trades: number;
  books: number;
  droppedMarketEvents: number;
  /** Errors thrown while handling an event: counted and logged, never allowed to stop the loop. */
  handlerErrors: number;
}

type MarketEvent = Extract<VenueEvent, { type: 'kline' | 'trade' | 'book' }>;

export class TradingSession {
  readonly kernel: TradingKernel;
  readonly submitter: AsyncSubmitter;
  private readonly own = { trades: 0, books: 0, droppedMarketEvents: 0, handlerErrors: 0 };
  private readonly queue: MarketEvent[] = [];
  private queueHead = 0;
  private draining: Promise<void> | null = null;
  private readonly maxQueued: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: TradingSessionOptions) {
    this.maxQueued = opts.maxQueuedEvents ?? 10_000;
    this.log = opts.log ?? (() => undefined);
    this.submitter = new AsyncSubmitter(opts.exchange, opts.now, { onError: (l) => this.onError(l) });
    this.kernel = new TradingKernel({
      config: opts.config,
      exchange: opts.exchange,
      sink: this.submitter,
      portfolio: opts.portfolio,
      log: this.log,
      ...(opts.strategy ? { strategy: opts.strategy } : {}),
      ...(opts.entryGate ? { entryGate: opts.entryGate } : {}),
      ...(opts.entryConfidence ? { entryConfidence: opts.entryConfidence } : {}),
    });
  }

  get executor(): Executor {
    return this.kernel.executor;
  }

  get risk(): RiskEngine {
    return this.kernel.risk;
  }

  get strategy(): Strategy {
    return this.kernel.strategy;
  }

  /** The kernel's counters and the session's own, as one live view. */
  get counters(): Readonly<SessionCounters> {
    return { ...this.kernel.counters, ...this.own };
  }

  /** Feeds history (closed 1m candles, oldest first); nothing is traded. */
  warmUp(symbol: SymbolId, candles: readonly Candle[]): void {
    this.kernel.warmUp(symbol, candles);
  }

  /** The venue's 24h quote volume of a symbol (the strategy's liquidity rule reads it). */
  setQuoteVolume24h(symbol: SymbolId, quoteVolume: number): void {
    this.kernel.setQuoteVolume24h(symbol, quoteVolume);
  }

  /** Accepts one venue event; see the file comment for ordering and bounds. */
  push(e: VenueEvent): void {
    switch (e.type) {
      case 'order':
      case 'fill':
      case 'balance':
        try {
          this.opts.exchange.onVenueEvent(e);
        } catch (err) {
          this.onError(`ERROR ${err instanceof Error ? err.message : String(err)}`);
        }
        return;
      case 'stream_status':
        this.log(`${iso(this.opts.now())} FEED   ${e.stream} ${e.status}${e.detail ? `: ${e.detail}` : ''}`);
        return;
      default:
        if (e.type === 'kline' && !e.closed) return; // only closed candles drive decisions
        this.enqueue(e);
    }
  }

  private enqueue(e: MarketEvent): void {
    if (this.queue.length - this.queueHead >= this.maxQueued) {
      const i = this.queue.findIndex((q, k) => k >= this.queueHead && q.type !== 'kline');
      if (i >= 0) this.queue.splice(i, 1);
      this.own.droppedMarketEvents++;
      if (i < 0 && e.type !== 'kline') return;
    }
    this.queue.push(e);
    if (!this.draining) this.pump();
  }

  /** Resolves when every queued market event has been handled and every order command carried out. */
  async idle(): Promise<void> {
    for (;;) {
      while (this.draining) await this.draining;
      await this.submitter.idle();
      if (!this.draining && this.queueHead >= this.queue.length) return;
    }
  }

  /**
   * Handles queued events synchronously until one needs `beforeDecide` (an await): that one is
   * handled asynchronously, and the pump resumes after it.
   */
  private pump(): void {
    while (this.queueHead < this.queue.length) {
      const e = this.queue[this.queueHead++] as MarketEvent;
      if (e.type === 'kline' && e.interval === '1m' && this.opts.beforeDecide) {
        this.draining = this.decideLater(e);
        return;
      }
      this.handleSafely(e);
    }
    this.queue.length = 0;
    this.queueHead = 0;
  }

  private async decideLater(e: Extract<MarketEvent, { type: 'kline' }>): Promise<void> {
    try {
      await this.beforeDecide(e.symbol, e.candle);
      this.handleSafely(e);
    } finally {
      this.draining = null;
    }
    this.pump();
  }

  private handleSafely(e: MarketEvent): void {
    try {
      this.handle(e);
    } catch (err) {
      this.onError(`ERROR handling ${e.type} ${e.symbol}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async beforeDecide(symbol: SymbolId, candle: Candle): Promise<void> {
    try {
      await this.opts.beforeDecide?.(symbol, candle);
    } catch (e) {
      this.onError(`ERROR before deciding on ${symbol}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private onError(line: string): void {
    this.own.handlerErrors++;
    this.log(`${iso(this.opts.now())} ${line}`);
  }

  private handle(e: MarketEvent): void {
    const now = this.opts.now();
    if (e.type === 'trade') {
      this.own.trades++;
      this.kernel.onTrade(e.symbol, e.trade.price, now);
      return;
    }
    if (e.type === 'book') {
      this.own.books++;
      const b = e.book;
      this.kernel.onBook(e.symbol, b.bid, b.bidSize, b.ask, b.askSize, now);
      return;
    }
    if (e.interval !== '1m') return;
    this.kernel.onCandle(e.symbol, e.candle, now);
  }

  /** Market events waiting to be handled. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}
