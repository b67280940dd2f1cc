/**
 * The trading kernel: the one per-symbol pipeline that backtest, paper and live trading all run.
 *
 *   closed 1m candle -> market context -> strategy (candles, indicators, levels) -> entry gate
 *     -> risk engine -> executor -> commands -> submitter -> venue
 *   trade / book -> marks, stop and timeout checks (executor)
 *
 * The kernel does no I/O and reads no clock: every call carries the time. What differs between the
 * modes is only what feeds it (services/backtest: a candle file walked through the matching
 * engine's fast path on a simulated clock; services/live: the venue's events) and the submitter and
 * exchange port behind the executor (the engine in process, synchronously; SafeExchange and the
 * journal, asynchronously). The kernel never waits on the venue.
 *
 * Decision log tags (one meaning each): SIGNAL the strategy proposed an entry; SKIP it was refused
 * (entry gate, risk engine or exchange, with the reason code); ORDER the entry was sent; OPEN its
 * first fill; FILL a later entry fill or a target fill; ENTRY a partly filled entry ended; EXPIRED
 * an entry ended with nothing filled; STOPMV the stop moved; EXIT an exit started; CLOSE the trade
 * closed; FILTER a symbol stopped (or resumed) passing the market filters; EXTERN an externally
 * sourced intent (services/signals) reached the kernel.
 *
 * External intents (`submitExternal`): an entry or exit decided outside the strategy (a webhook
 * signal, a queue message) goes through the same entry gate and the same executor, whose risk
 * engine sizes and limits it exactly as it does the strategy's entries; the position is then the
 * executor's like any other (journal, stop held by the executor, targets, time stop, kill switch).
 * The kernel does not judge where the intent came from; services/signals does. It does keep the
 * time stop of the positions external entries opened itself, whatever the strategy does with
 * them (the S/R strategy applies the same time stop to every position; another strategy may not).
 */
import type { Config } from '../config/schema.js';
import { Dec } from '../core/money.js';
import { parseClientOrderId } from '../model/clientOrderId.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import { Executor, type BindableSink, type EntryRejectReason, type ExecutorEvent } from '../execution/executor.js';
import type { ExchangePort } from '../execution/types.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import { RiskEngine } from '../risk/index.js';
import type { EnterIntent, ExitIntent, Intent } from '../model/intents.js';
import type { Strategy } from '../strategy/port.js';
import { SrStrategy } from '../strategy/srStrategy.js';
import { MarketContextBuilder } from './marketContext.js';

export interface KernelOptions {
  readonly config: Config;
  /** The venue behind the executor (its market info and events). */
  readonly exchange: ExchangePort;
  /** The submitter that carries out the executor's commands. */
  readonly sink: BindableSink;
  readonly portfolio: Portfolio;
  /** Default: the S/R strategy with the config. */
  readonly strategy?: Strategy;
  /** One line per decision and trade (see the file comment for the tags). */
  readonly log?: (line: string) => void;
  /**
   * Asked before each entry the strategy proposes: a reason refuses it (the kill switch's PAUSED, a
   * lease lost, the ML filter). Exits and stop moves always pass, so open positions are managed.
   */
  readonly entryGate?: (intent: EnterIntent, now: number) => string | undefined;
  /**
   * A model's confidence in an entry that passed the gate, in [0, 1] (undefined: none): it becomes
   * the intent's `confidence`, which risk.sizing.mode 'confidence' sizes by.
   */
  readonly entryConfidence?: (intent: EnterIntent, now: number) => number | undefined;
}

/**
 * What became of an external intent, decided synchronously: an entry was sent to the submitter (or
 * refused by the entry gate, the risk engine or the executor, with its reason code), an exit
 * started (or will once the entry's first fill arrives), or there was nothing to exit.
 */
export type ExternalOutcome =
  | { readonly kind: 'submitted'; readonly intentId: string; readonly quantity: Dec; readonly notional: Dec; readonly adjustments: readonly string[] }
  | { readonly kind: 'exit_started'; readonly positionId: string }
  /** The position had nothing filled yet: its entry is cancelled, and a fill that still comes is sold. */
  | { readonly kind: 'exit_pending'; readonly positionId: string }
  | { readonly kind: 'refused'; readonly reason: ExternalRefusal; readonly detail: string };

/** Why the kernel refused an external intent: the entry gate, the executor's and risk engine's codes, or no position to exit. */
export type ExternalRefusal = 'ENTRY_GATE' | EntryRejectReason | 'NO_POSITION' | 'EXIT_UNDER_WAY';

export interface KernelCounters {
  candlesClosed: number;
  duplicateCandles: number;
  signals: number;
  entriesSubmitted: number;
  entriesRejected: number;
  /** Entries the entry gate refused (e.g. while PAUSED). */
  entriesGated: number;
  positionsOpened: number;
  positionsClosed: number;
  /** External intents (services/signals) handed to submitExternal. */
  externalIntents: number;
}

/** Which market filter keeps a symbol out. */
export type MarketFilterKind = 'quote_volume' | 'spread';

/** Why a symbol is not being entered by the market filters, since when. */
export interface SymbolFilter {
  readonly kind: MarketFilterKind;
  /** For people (logs, /status). */
  readonly reason: string;
  readonly since: number;
}

/** A new FILTER line for a symbol that flaps in and out is printed at most this often. */
const FILTER_RENOTICE_MS = 60 * MINUTE_MS;

export class TradingKernel {
  readonly executor: Executor;
  readonly risk: RiskEngine;
  readonly strategy: Strategy;
  readonly context: MarketContextBuilder;
  readonly counters: KernelCounters = {
    candlesClosed: 0,
    duplicateCandles: 0,
    signals: 0,
    entriesSubmitted: 0,
    entriesRejected: 0,
    entriesGated: 0,
    positionsOpened: 0,
    positionsClosed: 0,
    externalIntents: 0,
  };
  /** Entries refused, by reason code (the entry gate as `entry_gate`). */
  readonly rejections: Record<string, number> = {};
  /** Symbols the market filters keep out now (liquidity, spread), with the reason. */
  readonly filtered = new Map<SymbolId, SymbolFilter>();
  private readonly lastNotice = new Map<SymbolId, number>();
  private readonly lastClosed = new Map<SymbolId, number>();
  private lastDay = -1;
  private readonly log: ((line: string) => void) | undefined;
  /** The external entry being decided now, whose executor event becomes submitExternal's answer. */
  private capture: { readonly id: string; outcome: ExternalOutcome | undefined } | undefined;
  /** Ids of the positions external entries opened (bounded by the open positions: removed when they end). */
  private readonly external = new Set<string>();

  constructor(private readonly opts: KernelOptions) {
    const cfg = opts.config;
    this.log = opts.log;
    this.context = new MarketContextBuilder(cfg.indicators.atrPeriod);
    this.risk = new RiskEngine(cfg);
    this.strategy = opts.strategy ?? new SrStrategy(cfg);
    this.executor = new Executor(opts.exchange, opts.portfolio, this.risk, { entryOrderType: cfg.entry.orderType, limitEntryTimeoutMs: cfg.entry.limitTimeoutCandles * MINUTE_MS }, opts.sink);
    this.executor.on((e) => this.onExecutorEvent(e));
  }

  /**
   * Feeds history (closed 1m candles, oldest first) so levels, indicators and the rolling volume
   * are ready before the first live candle. Nothing is traded: warm-up intents are discarded.
   */
  warmUp(symbol: SymbolId, candles: readonly Candle[]): void {
    for (const c of candles) {
      const last = this.lastClosed.get(symbol);
      if (last !== undefined && c.openTime <= last) continue;
      this.context.onCandle(symbol, c);
      this.strategy.onCandle(symbol, c, undefined, {});
      this.lastClosed.set(symbol, c.openTime);
      this.opts.portfolio.mark(symbol, c.close);
    }
  }

  /** The venue's own 24h quote volume of a symbol (MEXC's ticker); see MarketContextBuilder. */
  setQuoteVolume24h(symbol: SymbolId, quoteVolume: number): void {
    this.context.setVenueQuoteVolume(symbol, quoteVolume);
  }

  /** A public trade: marks the holding, checks the stop and a limit entry's timeout. */
  onTrade(symbol: SymbolId, price: number, now: number): void {
    this.opts.portfolio.mark(symbol, price);
    this.executor.onPrice(symbol, price, now);
  }

  /**
   * Whether a price on `symbol` can change anything here: false while the executor holds nothing
   * on it (no position, no entry working), when onTrade and onBook only mark the price and keep
   * the book (see `quietPath`).
   */
  isQuiet(symbol: SymbolId): boolean {
    return !this.executor.watches(symbol);
  }

  /**
   * A candle's whole path on a quiet symbol (`isQuiet`): what onTrade and onBook at its points
   * leave behind, in one call (the backtest's fast path): the close as the mark, and `quote` as
   * the book at the path's last point (`c.openTime + lastOffset`), sized a quarter of the volume.
   */
  quietPath(symbol: SymbolId, c: Candle, quote: { readonly bid: number; readonly ask: number }, lastOffset: number): void {
    this.opts.portfolio.mark(symbol, c.close);
    const size = c.volume / 4;
    this.context.onBook(symbol, quote.bid, size, quote.ask, size, c.openTime + lastOffset);
  }

  /** A book top: kept for the strategy's context; a long exits by selling at the bid, the price its stop watches. */
  onBook(symbol: SymbolId, bid: number, bidSize: number, ask: number, askSize: number, now: number): void {
    this.context.onBook(symbol, bid, bidSize, ask, askSize, now);
    this.executor.onPrice(symbol, bid, now);
  }

  /**
   * One closed 1m candle: the rolling context, the risk engine's clock, the strategy, the entry
   * gate, the executor. Returns false (and decides nothing) for a candle at or before the last one.
   */
  onCandle(symbol: SymbolId, c: Candle, now: number): boolean {
    const last = this.lastClosed.get(symbol);
    if (last !== undefined && c.openTime <= last) {
      this.counters.duplicateCandles++;
      return false;
    }
    this.lastClosed.set(symbol, c.openTime);
    this.counters.candlesClosed++;
    this.context.onCandle(symbol, c);
    const closeTime = c.openTime + MINUTE_MS;
    const portfolio = this.opts.portfolio;
    portfolio.mark(symbol, c.close);
    // The risk engine needs the time for day and week roll-over; valuing the portfolio exactly is
    // costly, so it is told once per UTC day (evaluate() also rolls the day by itself).
    const day = Math.floor(closeTime / DAY_MS);
    if (day !== this.lastDay) {
      this.lastDay = day;
      this.risk.onTime(closeTime, portfolio.equity());
    }
    this.risk.onPrice(symbol, closeTime, c.close);
    const book = this.context.book(symbol);
    const quoteVolume24h = this.context.quoteVolume24h(symbol);
    this.checkFilters(symbol, book?.bid, book?.ask, quoteVolume24h, now);
    const ctx: { book?: BookTop; quoteVolume24h?: number } = {};
    if (book) ctx.book = book;
    if (quoteVolume24h !== undefined) ctx.quoteVolume24h = quoteVolume24h;
    const proposed = this.strategy.onCandle(symbol, c, this.executor.hasPosition(symbol) ? this.executor.position(symbol) : undefined, ctx);
    if (proposed.length > 0) this.decide(proposed, now);
    if (this.external.size > 0) this.externalTimeStop(symbol, closeTime, now);
    return true;
  }

  private decide(proposed: readonly Intent[], now: number): void {
    const gate = this.opts.entryGate;
    const log = this.log;
    let intents = proposed;
    for (const it of proposed) {
      if (it.kind !== 'enter') continue;
      this.counters.signals++;
      log?.(`${iso(now)} SIGNAL ${it.symbol} @ ${it.price} stop ${it.stop.toPrecision(8)}: ${it.reasons.join(', ')}`);
    }
    if (gate) intents = proposed.filter((it) => it.kind !== 'enter' || this.gateRefusal(it, now) === undefined);
    const confidence = this.opts.entryConfidence;
    if (confidence) {
      intents = intents.map((it) => {
        if (it.kind !== 'enter') return it;
        const c = confidence(it, now);
        return c === undefined ? it : { ...it, confidence: c };
      });
    }
    if (intents.length > 0) this.executor.decide(intents, now);
  }

  /** Asks the entry gate; a refusal is counted and logged, and its reason returned. */
  private gateRefusal(it: EnterIntent, now: number): string | undefined {
    const refused = this.opts.entryGate?.(it, now);
    if (refused === undefined) return undefined;
    this.counters.entriesGated++;
    this.rejections.entry_gate = (this.rejections.entry_gate ?? 0) + 1;
    this.log?.(`${iso(now)} SKIP   ${it.symbol} entry_gate: ${refused}`);
    return refused;
  }

  /**
   * What submitExternal would answer for an entry now, without sending anything (a dry run): the
   * entry gate's and the executor's refusal, or the quantity it would send. Nothing is counted.
   */
  previewExternal(intent: EnterIntent, now: number): ExternalOutcome {
    const gated = this.opts.entryGate?.(intent, now);
    if (gated !== undefined) return { kind: 'refused', reason: 'ENTRY_GATE', detail: gated };
    const r = this.executor.preview(intent, now);
    return r.kind === 'rejected' ? { kind: 'refused', reason: r.reason, detail: r.detail } : { kind: 'submitted', intentId: intent.id, quantity: r.quantity, notional: r.notional, adjustments: r.adjustments };
  }

  /**
   * An externally sourced entry or exit (see the file comment), decided now. An entry passes the
   * entry gate, then the executor (risk engine, lot rounding, the market minimum) exactly as the
   * strategy's entries do; an exit must name the symbol's current position. Never throws for a
   * refusal: the answer says why.
   */
  submitExternal(intent: EnterIntent | ExitIntent, now: number): ExternalOutcome {
    this.counters.externalIntents++;
    const log = this.log;
    if (intent.kind === 'exit') {
      const p = this.executor.position(intent.symbol);
      if (!p || p.id !== intent.positionId) return { kind: 'refused', reason: 'NO_POSITION', detail: `no open position ${intent.positionId} on ${intent.symbol}` };
      if (p.state === 'closing') return { kind: 'refused', reason: 'EXIT_UNDER_WAY', detail: `the position on ${intent.symbol} is already being closed` };
      log?.(`${iso(now)} EXTERN ${intent.symbol} exit ${p.id}: ${intent.detail}`);
      this.executor.decide([intent], now);
      return p.state === 'entering' ? { kind: 'exit_pending', positionId: p.id } : { kind: 'exit_started', positionId: p.id };
    }
    log?.(`${iso(now)} EXTERN ${intent.symbol} enter @ ${intent.price} stop ${intent.stop.toPrecision(8)}: ${intent.reasons.join(', ')}`);
    const gated = this.gateRefusal(intent, now);
    if (gated !== undefined) return { kind: 'refused', reason: 'ENTRY_GATE', detail: gated };
    const capture: { readonly id: string; outcome: ExternalOutcome | undefined } = { id: intent.id, outcome: undefined };
    this.capture = capture;
    try {
      this.executor.decide([intent], now);
    } finally {
      this.capture = undefined;
    }
    if (capture.outcome?.kind === 'submitted') this.external.add(intent.id);
    // The executor answers every entry synchronously with entry_submitted or entry_rejected.
    return capture.outcome ?? { kind: 'refused', reason: 'EXCHANGE_REJECTED', detail: 'the executor gave no answer' };
  }

  /** The time stop of a position an external entry opened, when the strategy did not exit it already. */
  private externalTimeStop(symbol: SymbolId, closeTime: number, now: number): void {
    const p = this.executor.position(symbol);
    if (!p || p.state !== 'open' || !this.external.has(p.id) || closeTime < p.expiresAt) return;
    this.executor.decide([{ kind: 'exit', id: `${p.id}-time`, symbol, positionId: p.id, time: closeTime, reason: 'time', detail: `time stop of ${this.opts.config.exit.timeStopMinutes} min reached` }], now);
  }

  /** Says once (and again on a change, at most hourly) when a symbol fails or passes the market filters. */
  private checkFilters(symbol: SymbolId, bid: number | undefined, ask: number | undefined, quoteVolume: number | undefined, now: number): void {
    const e = this.opts.config.entry;
    let reason: string | undefined;
    let kind: MarketFilterKind = 'quote_volume';
    if (quoteVolume !== undefined && quoteVolume <= e.minQuoteVolume24h) {
      reason = `24h quote volume ${Math.round(quoteVolume).toLocaleString('en-US')} is at or below the minimum ${e.minQuoteVolume24h.toLocaleString('en-US')} (entry.minQuoteVolume24h)`;
    } else if (bid !== undefined && ask !== undefined) {
      const mid = (bid + ask) / 2;
      const spread = mid > 0 ? ((ask - bid) / mid) * 100 : Infinity;
      kind = 'spread';
      if (spread >= e.maxSpreadPct) reason = `spread ${spread.toFixed(3)}% is at or above the maximum ${e.maxSpreadPct}% (entry.maxSpreadPct)`;
    }
    const cur = this.filtered.get(symbol);
    if (reason === undefined) {
      if (cur) {
        this.filtered.delete(symbol);
        this.notice(symbol, now, `${iso(now)} FILTER ${symbol} passes the market filters again: entries possible`);
      }
      return;
    }
    if (cur && cur.kind === kind) {
      this.filtered.set(symbol, { kind, reason, since: cur.since }); // same filter, still failing: the figure is kept current
      return;
    }
    this.filtered.set(symbol, { kind, reason, since: cur?.since ?? now });
    this.notice(symbol, now, `${iso(now)} FILTER ${symbol} not entered: ${reason}`);
  }

  private notice(symbol: SymbolId, now: number, line: string): void {
    const last = this.lastNotice.get(symbol);
    if (last !== undefined && now - last < FILTER_RENOTICE_MS) return;
    this.lastNotice.set(symbol, now);
    this.log?.(line);
  }

  private onExecutorEvent(e: ExecutorEvent): void {
    const log = this.log;
    switch (e.type) {
      case 'entry_submitted':
        this.counters.entriesSubmitted++;
        if (this.capture?.id === e.intent.id) {
          const price = Dec.from(e.intent.price);
          this.capture.outcome = { kind: 'submitted', intentId: e.intent.id, quantity: e.quantity, notional: e.quantity.mul(price), adjustments: e.adjustments };
        }
        if (log) {
          const m = this.opts.exchange.market(e.intent.symbol);
          log(
            `${iso(e.time)} ORDER  ${e.intent.symbol} buy ${e.quantity.toString()} ${m.base} (about ${e.quantity.mul(Dec.from(e.intent.price)).toFixed(2)} ${m.quote})` +
              `${e.adjustments.length ? ` [${e.adjustments.join(', ')}]` : ''}`,
          );
        }
        break;
      case 'entry_rejected':
        this.counters.entriesRejected++;
        if (this.capture?.id === e.intent.id) this.capture.outcome = { kind: 'refused', reason: e.reason, detail: e.detail };
        else this.external.delete(e.intent.id);
        this.rejections[e.reason] = (this.rejections[e.reason] ?? 0) + 1;
        log?.(`${iso(e.time)} SKIP   ${e.intent.symbol} ${e.reason}: ${e.detail}`);
        break;
      case 'position_opened':
        this.counters.positionsOpened++;
        if (log) {
          const m = this.opts.exchange.market(e.symbol);
          log(`${iso(e.time)} OPEN   ${e.symbol} ${e.quantity.toString()} ${m.base} @ ${e.price.toString()} (${e.quantity.mul(e.price).toFixed(2)} ${m.quote})`);
        }
        break;
      case 'fill_booked':
        // The first entry fill is the OPEN line that follows; exit fills are summed up by CLOSE.
        if (log && e.role !== 'exit' && !(e.role === 'entry' && this.executor.position(e.symbol)?.state === 'entering')) {
          const m = this.opts.exchange.market(e.symbol);
          const what = e.role === 'entry' ? 'entry bought' : `target T${parseClientOrderId(e.clientOrderId)?.attempt ?? '?'} sold`;
          log(`${iso(e.time)} FILL   ${e.symbol} ${what} ${e.quantity.toString()} ${m.base} @ ${e.price.toString()} (${e.quantity.mul(e.price).toFixed(2)} ${m.quote})`);
        }
        break;
      case 'entry_completed':
        if (log && !e.quantity.eq(e.requested)) log(`${iso(e.time)} ENTRY  ${e.symbol} ended with ${e.quantity.toString()} of ${e.requested.toString()} filled @ ${e.price.toString()}`);
        break;
      case 'entry_expired':
        this.external.delete(e.positionId);
        log?.(`${iso(e.time)} EXPIRED ${e.symbol} ${e.detail}`);
        break;
      case 'stop_moved':
        log?.(`${iso(e.time)} STOPMV ${e.symbol} stop moved to ${e.stop}`);
        break;
      case 'exit_started':
        log?.(`${iso(e.time)} EXIT   ${e.symbol} ${e.reason}: ${e.detail}`);
        break;
      case 'exit_reconciled':
        log?.(`${iso(e.time)} RECON  ${e.symbol} ${e.detail}`);
        break;
      case 'exit_backoff':
        log?.(`${iso(e.time)} BACKOFF ${e.symbol} ${e.detail}; no new exit before ${new Date(e.retryAt).toISOString()}`);
        break;
      case 'position_closed':
        this.counters.positionsClosed++;
        this.external.delete(e.trade.id);
        this.risk.onTradeClosed({
          symbol: e.trade.symbol as SymbolId,
          time: e.time,
          pnl: e.trade.netPnl,
          exitReason: e.reason,
          equityAfter: this.opts.portfolio.equity(),
          rMultiple: e.trade.plan?.rMultiple ?? null,
        });
        log?.(`${iso(e.time)} CLOSE  ${e.trade.symbol} ${e.trade.exitReason} net ${e.trade.netPnl.toFixed(2)} (${e.trade.returnPct.toFixed(2)}%)`);
        break;
    }
  }
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}
