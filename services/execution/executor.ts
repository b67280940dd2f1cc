/**
 * The one executor: turns approved intents into orders and fills into positions. Backtest, paper
 * and live trading all run this class; only the exchange port and the submitter behind it differ.
 *
 * It never waits on the venue. Every method is synchronous: it updates its books and emits
 * commands (commands.ts) that a submitter carries out, per symbol, in order; the results come
 * back as acks (`onSubmitAck`, `onCancelAck`) and venue events (`onFill`, `onOrderUpdate`).
 *
 * Responsibilities:
 * - entries: ask the risk engine, round to the market's lot step, submit with a client order id
 *   derived from the intent through `clientOrderId()` (a retried intent can never create a second
 *   order);
 * - every filled quantity is protected from its first fill: the position is open (the stop, the
 *   time stop and the strategy's exits watch it) as soon as anything filled, and the scale-out
 *   targets are topped up on every entry fill; a limit entry past its timeout has its remainder
 *   cancelled whether or not part of it filled;
 * - the stop is held here, not on the venue (MEXC spot has no stop orders): every price update is
 *   checked against it, and a crossing cancels the targets (and a working entry) and sells the
 *   rest at market;
 * - exit and move-stop intents from the strategy (time stop, break of the level, breakeven,
 *   trailing); an exit can be asked as a maker (a post-only limit first, market after a bounded wait);
 * - each trade's plan and path (stops, targets, initial risk, price excursions, fees, slippage
 *   against the decision price), kept from the prices it is shown, for the trade record;
 * - booking every fill in the portfolio, and reporting each closed trade once.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { PositionView } from '../model/positions.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import type { EnterIntent, ExitIntent, ExitReason, Intent } from '../model/intents.js';
import type { Fill, MarketInfo, OrderAck, OrderRequest, OrderUpdate } from '../model/orders.js';
import type { ExchangePort } from './types.js';
import type { ClosedTrade, TradePlan } from '../analytics/types.js';
import type { EntryProposal, RiskAccount, RiskDecision, RiskReason } from '../risk/types.js';
import type { CancelCommand, CommandResults, CommandSink, HoldingCommand, SubmitCommand } from './commands.js';
import type { Holding } from './types.js';
import { backoffDelayMs } from './backoff.js';
import { clientOrderId, parseClientOrderId } from '../model/clientOrderId.js';
import { AsyncSubmitter } from './submitter.js';

/** What the executor needs from the risk engine. */
export interface RiskGate {
  evaluate(proposal: EntryProposal, account: RiskAccount): RiskDecision;
}


export type EntryRejectReason = RiskReason | 'EXCHANGE_REJECTED' | 'BELOW_EXCHANGE_MIN' | 'ALREADY_IN_POSITION';

export type ExecutorEvent =
  | { type: 'entry_rejected'; time: number; intent: EnterIntent; reason: EntryRejectReason; detail: string }
  | { type: 'entry_submitted'; time: number; intent: EnterIntent; quantity: Dec; adjustments: readonly string[] }
  /** The first fill of the entry: the position is open (and protected) from here. */
  | { type: 'position_opened'; time: number; positionId: string; symbol: SymbolId; price: Dec; quantity: Dec }
  /** The entry order ended with something filled: the whole entry, at its average price. */
  | { type: 'entry_completed'; time: number; positionId: string; symbol: SymbolId; price: Dec; quantity: Dec; requested: Dec }
  | { type: 'entry_expired'; time: number; positionId: string; symbol: SymbolId; detail: string }
  | { type: 'stop_moved'; time: number; positionId: string; symbol: SymbolId; stop: number }
  | { type: 'exit_started'; time: number; positionId: string; symbol: SymbolId; reason: ExitReason; detail: string }
  | { type: 'position_closed'; time: number; trade: ClosedTrade; reason: ExitReason }
  /**
   * An exit was refused for insufficient balance and the venue was asked what is held: `outside`
   * (base) left the account without the runtime (booked from the exchange's fills when they were
   * found, `pnlKnown`), and what is still held is sold (`selling`) or was nothing sellable (the
   * position closes as 'reconciled'). Once per position: for a critical alert.
   */
  | { type: 'exit_reconciled'; time: number; positionId: string; symbol: SymbolId; held: Dec; outside: Dec; selling: Dec; pnlKnown: boolean; detail: string }
  /** An exit was refused (or the venue could not be asked about it): no new exit before `retryAt`. */
  | { type: 'exit_backoff'; time: number; positionId: string; symbol: SymbolId; retryAt: number; detail: string }
  /** A fill was booked on a position (for the journal: the position's record changed; for the log). */
  | { type: 'fill_booked'; time: number; positionId: string; symbol: SymbolId; clientOrderId: string; role: Role; price: Dec; quantity: Dec };

export type Role = 'entry' | 'target' | 'exit';

interface TrackedOrder {
  readonly clientOrderId: string;
  readonly positionId: string;
  readonly role: Role;
  quantity: Dec;
  /** Limit price (targets, maker exits), for the journal. */
  readonly price?: Dec;
  /** A market exit's decision price, for its slippage (undefined: not measured). */
  readonly ref?: number;
  /** Index of the target plan a target order serves (-1: unknown, a restored order of another shape). */
  readonly plan: number;
  filled: Dec;
  open: boolean;
}

/**
 * A position as the journal persists it (services/recovery/): the intent, the stop, the counters
 * and the orders, taken at one moment. Enough to rebuild the position after a restart, where the
 * fills themselves are read again from the venue.
 */
export interface PositionSnapshot {
  readonly id: string;
  readonly symbol: SymbolId;
  readonly intent: EnterIntent;
  readonly state: 'entering' | 'open' | 'closing';
  readonly filledQty: Dec;
  readonly entryCost: Dec;
  readonly entryFees: Dec;
  readonly exitQty: Dec;
  readonly exitProceeds: Dec;
  readonly exitFees: Dec;
  readonly stop: Dec;
  readonly breakevenMoved: boolean;
  readonly openedAt: number;
  readonly entrySubmittedAt: number;
  readonly exitAttempts: number;
  readonly exitReason: ExitReason | null;
  readonly orders: readonly { clientOrderId: string; role: Role; quantity: Dec; price?: Dec; filled: Dec; open: boolean }[];
}

/** What a restart gives `Executor.restore`: the persisted decisions, without fills (they are replayed). */
export interface RestoredPosition {
  readonly intent: EnterIntent;
  readonly stop: Dec;
  readonly breakevenMoved: boolean;
  readonly openedAt: number;
  readonly entrySubmittedAt: number;
  readonly exitReason: ExitReason | null;
  /**
   * Every order placed (or about to be placed) for the position before the restart. `ended`: settled
   * for good in the journal (refused, or ended unfilled): tracked as closed, never looked up again;
   * it still counts for the attempt numbers, so no client id is used twice.
   */
  readonly orders: readonly { clientOrderId: string; role: Role; quantity: Dec; price?: Dec; ended?: boolean }[];
}

interface Position {
  readonly id: string;
  readonly intent: EnterIntent;
  readonly symbol: SymbolId;
  readonly market: MarketInfo;
  state: 'entering' | 'open' | 'closing' | 'closed';
  entryOrderId: string;
  entrySubmittedAt: number;
  /** The entry order has not ended yet. */
  entryWorking: boolean;
  /** Why the entry's remainder was asked to be cancelled (undefined: not asked). */
  entryCancel: 'timeout' | 'exit' | undefined;
  filledQty: Dec;
  /** filledQty - exitQty as a float, kept on every fill for the strategy's per-candle view. */
  heldApprox: number;
  entryCost: Dec;
  /** Average entry price as a float, kept for the strategy's per-candle view. */
  entryAvg: number;
  entryFees: Dec;
  exitQty: Dec;
  exitProceeds: Dec;
  exitFees: Dec;
  exitFills: number;
  /** The stop as booked (tick-rounded), and its float mirror for the comparison on every tick. */
  stopDec: Dec;
  stop: number;
  /** The stop at entry, and what last moved the stop (the exit reason when it is crossed). */
  readonly initialStop: Dec;
  stopKind: 'stop' | 'breakeven' | 'trail';
  /** The decision price of the entry order: the limit price, or the signal price for a market entry. */
  readonly entryRef: number;
  /** Highest and lowest price seen while open (maximum favourable and adverse excursion). */
  highPrice: number;
  lowPrice: number;
  /** Slippage of market exits against their decision price (quote). */
  exitSlippage: Dec;
  /** The working maker exit (a post-only limit sell) and when it falls back to market. */
  makerExitId: string | undefined;
  makerExitDeadline: number;
  /** Time of the first entry fill (the trade's entry time). */
  openedAt: number;
  breakevenMoved: boolean;
  targetOrderIds: string[];
  /** The last target number used in a client id (T<n>). */
  targetSeq: number;
  exitAttempts: number;
  exitReason: ExitReason | null;
  /** An exit asked for while nothing had filled: carried out when the first fill arrives. */
  pendingExit: { reason: ExitReason; detail: string; maker: MakerExit | undefined } | undefined;
  /** Rebuilt after a restart: its targets are re-requested under their ids when the entry ends. */
  restored: boolean;
  /** Exits refused in a row, and the time before which no new exit is sent (bounded backoff). */
  exitRefusals: number;
  exitRetryAt: number;
  /** The venue was asked about an exit refused for insufficient balance (once per position). */
  reconciled: boolean;
  /** What the venue said is held, rounded down to the lot: the exit sells no more than that. */
  sellCap: Dec | undefined;
  /** Part of the exit happened outside and its fills were not found (see ClosedTrade.pnlUnknown). */
  pnlUnknown: boolean;
  /** The target plans as exact decimals, converted once: price as planned, price on the tick, fraction. */
  readonly plans: readonly { readonly price: Dec; readonly limit: Dec; readonly fraction: Dec }[];
}

/** A maker exit as an intent asks for it. */
type MakerExit = NonNullable<ExitIntent['maker']>;

/** The attempt number in an exit's client id (`fallback` when the id is not the executor's). */
function exitAttemptOf(id: string, fallback: number): number {
  const n = parseClientOrderId(id);
  return n && n.role === 'exit' ? n.attempt : fallback;
}

/** Backoff between exits refused in a row: 1 s doubling to at most 30 s (the venue calls' default cap), so a stop is retried soon after an outage ends. */
const EXIT_BACKOFF = { baseMs: 1000, maxMs: 30_000, jitter: 0 } as const;
/** How far before the entry the exchange's fills are read (clock differences between us and the venue). */
const FILL_SLACK_MS = 60_000;

/** Headroom reserved over an entry's notional: a market order can fill above the decision price. */
const ENTRY_RESERVE = Dec.from('1.02');

export interface ExecutorOptions {
  /** A limit entry not filled after this long is cancelled (ms); a partly filled one keeps what filled. */
  readonly limitEntryTimeoutMs: number;
  /** market; limit at the intent's limitPrice (default its price); maker: the same as a post-only LIMIT_MAKER. */
  readonly entryOrderType: 'market' | 'limit' | 'maker';
}

/** A command sink that the executor binds itself to as the receiver of results. */
export interface BindableSink extends CommandSink {
  bind(results: CommandResults): void;
}

/** Keeps positions and their orders; see the file comment. */
export class Executor implements CommandResults {
  private readonly positions = new Map<string, Position>();
  private readonly bySymbol = new Map<SymbolId, Position>();
  private readonly orders = new Map<string, TrackedOrder>();
  private readonly listeners: ((e: ExecutorEvent) => void)[] = [];
  /** Where commands go (an AsyncSubmitter over the exchange port unless one is given). */
  readonly sink: BindableSink;

  constructor(
    private readonly exchange: ExchangePort,
    private readonly portfolio: Portfolio,
    private readonly risk: RiskGate,
    private readonly opts: ExecutorOptions,
    sink?: BindableSink,
    clock?: () => number,
  ) {
    this.sink = sink ?? new AsyncSubmitter(exchange, clock ?? (() => 0));
    this.sink.bind(this);
    exchange.subscribe({ onFill: (f) => this.onFill(f), onOrderUpdate: (u) => this.onOrderUpdate(u) });
  }

  on(listener: (e: ExecutorEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(e: ExecutorEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Open (or opening, or closing) position on a symbol, as the strategy sees it. */
  position(symbol: SymbolId): PositionView | undefined {
    const p = this.bySymbol.get(symbol);
    if (!p || p.state === 'closed') return undefined;
    return {
      id: p.id,
      symbol: p.symbol,
      direction: p.intent.direction,
      state: p.state,
      entryPrice: p.entryAvg,
      stop: p.stop,
      levelPrice: p.intent.level.price,
      openedAt: p.openedAt,
      expiresAt: p.intent.expiresAt,
      breakevenMoved: p.breakevenMoved,
      quantity: p.heldApprox,
      entryWorking: p.entryWorking,
    };
  }

  /** True when the symbol has a position (of any state): cheaper than `position()` for a yes/no. */
  /** Whether a price on `symbol` matters to the executor (onPrice does nothing otherwise). */
  watches(symbol: SymbolId): boolean {
    return this.bySymbol.size !== 0 && this.bySymbol.has(symbol);
  }

  hasPosition(symbol: SymbolId): boolean {
    return this.bySymbol.size !== 0 && this.bySymbol.has(symbol);
  }

  /** Number of positions not yet closed. */
  get openCount(): number {
    return this.bySymbol.size;
  }

  /** The account as the risk engine needs it. A working entry counts with its whole order. */
  account(): RiskAccount {
    const openPositions: { symbol: SymbolId; notional: Dec }[] = [];
    for (const p of this.bySymbol.values()) {
      const held = this.portfolio.notional(p.symbol);
      const notional = p.entryWorking ? Dec.max(held, this.requestedNotional(p)) : held;
      openPositions.push({ symbol: p.symbol, notional });
    }
    return { equity: this.portfolio.equity(), freeQuote: this.portfolio.freeCash, openPositions };
  }

  private requestedNotional(p: Position): Dec {
    const o = this.orders.get(p.entryOrderId);
    return o ? o.quantity.mul(Dec.from(p.entryRef)) : Dec.ZERO;
  }

  /**
   * Handles the strategy's intents in order. The returned promise resolves once the commands they
   * caused have been carried out (for callers that want to wait; the hot path does not).
   */
  handle(intents: readonly Intent[], now: number): Promise<void> {
    this.decide(intents, now);
    return this.sink.idle();
  }

  /** Handles the strategy's intents in order, without waiting for anything. */
  decide(intents: readonly Intent[], now: number): void {
    for (const intent of intents) {
      if (intent.kind === 'enter') this.enter(intent, now);
      else if (intent.kind === 'move_stop') this.moveStop(intent.positionId, intent.stop, intent.reason, now);
      else this.exitNow(intent.positionId, intent.reason, intent.detail, now, intent.maker);
    }
  }

  /**
   * What `decide` would do with an entry now, without doing it: the refusal it would emit, or the
   * quantity and notional it would send (a dry run of an external signal). Changes nothing but the
   * risk engine's clock (evaluate rolls its day, as onTime would).
   */
  preview(intent: EnterIntent, now: number): { kind: 'rejected'; reason: EntryRejectReason; detail: string } | { kind: 'sized'; quantity: Dec; notional: Dec; adjustments: readonly string[] } {
    const r = this.size(intent, now);
    return r.kind === 'rejected' ? r : { kind: 'sized', quantity: r.quantity, notional: r.notional, adjustments: r.adjustments };
  }

  /** The checks and sizing of an entry, shared by `enter` and `preview`. */
  private size(
    intent: EnterIntent,
    now: number,
  ):
    | { kind: 'rejected'; reason: EntryRejectReason; detail: string }
    | { kind: 'sized'; market: MarketInfo; entryPrice: Dec; stopPrice: Dec; quantity: Dec; notional: Dec; adjustments: readonly string[] } {
    if (this.bySymbol.has(intent.symbol)) return { kind: 'rejected', reason: 'ALREADY_IN_POSITION', detail: 'a position on this symbol is open' };
    if (intent.direction !== 'long') return { kind: 'rejected', reason: 'EXCHANGE_REJECTED', detail: 'spot accounts cannot open shorts' };
    const market = this.exchange.market(intent.symbol);
    const type = this.opts.entryOrderType;
    // A limit or maker entry is sized at the price it rests at; a market entry at the decision price.
    const entryPrice = Dec.from(type !== 'market' && intent.limitPrice !== undefined ? intent.limitPrice : intent.price).roundTo(market.tickSize);
    const stopPrice = Dec.from(intent.stop).roundTo(market.tickSize);
    const proposal: EntryProposal = {
      symbol: intent.symbol,
      direction: intent.direction,
      entryPrice,
      stopPrice,
      time: now,
      ...(intent.confidence !== undefined ? { confidence: intent.confidence } : {}),
      ...(intent.maxNotional !== undefined ? { maxNotional: Dec.from(intent.maxNotional) } : {}),
    };
    const decision = this.risk.evaluate(proposal, this.account());
    if (decision.kind === 'rejected') return { kind: 'rejected', reason: decision.reason, detail: decision.detail };
    const quantity = decision.quantity.floorTo(market.stepSize);
    const notional = quantity.mul(entryPrice);
    if (quantity.isZero() || notional.lt(market.minNotional)) {
      return { kind: 'rejected', reason: 'BELOW_EXCHANGE_MIN', detail: `notional ${notional.toFixed(2)} below the market minimum ${market.minNotional.toString()}` };
    }
    return { kind: 'sized', market, entryPrice, stopPrice, quantity, notional, adjustments: decision.adjustments };
  }

  private enter(intent: EnterIntent, now: number): void {
    const sized = this.size(intent, now);
    if (sized.kind === 'rejected') {
      this.emit({ type: 'entry_rejected', time: now, intent, reason: sized.reason, detail: sized.detail });
      return;
    }
    const { market, entryPrice, stopPrice, quantity, notional } = sized;
    const type = this.opts.entryOrderType;
    const id = clientOrderId(intent.id, 'entry', 1);
    const pos = this.register(intent, market, { entryOrderId: id, entrySubmittedAt: now, stop: stopPrice, openedAt: now, breakevenMoved: false, exitAttempts: 0, exitReason: null }, entryPrice.toNumber());
    // Reserve a little more than the notional: a market order can fill above the decision price.
    this.portfolio.reserve(id, notional.mul(ENTRY_RESERVE));
    const req: OrderRequest =
      type === 'market'
        ? { clientOrderId: id, symbol: intent.symbol, side: 'buy', type: 'market', quantity }
        : type === 'limit'
          ? { clientOrderId: id, symbol: intent.symbol, side: 'buy', type: 'limit', quantity, price: entryPrice }
          : { clientOrderId: id, symbol: intent.symbol, side: 'buy', type: 'limit', quantity, price: entryPrice, postOnly: true };
    this.track(id, pos.id, 'entry', quantity);
    this.emit({ type: 'entry_submitted', time: now, intent, quantity, adjustments: sized.adjustments });
    this.sink.push({ kind: 'submit', symbol: intent.symbol, clientOrderId: id, time: now, build: () => (this.orders.get(id)?.open ? req : null) });
  }

  /** A new position, entering with nothing filled, registered by id and symbol. */
  private register(
    intent: EnterIntent,
    market: MarketInfo,
    o: { entryOrderId: string; entrySubmittedAt: number; stop: Dec; openedAt: number; breakevenMoved: boolean; exitAttempts: number; exitReason: ExitReason | null },
    entryRef: number,
  ): Position {
    const pos: Position = {
      id: intent.id,
      intent,
      symbol: intent.symbol,
      market,
      state: 'entering',
      entryOrderId: o.entryOrderId,
      entrySubmittedAt: o.entrySubmittedAt,
      entryWorking: true,
      entryCancel: undefined,
      filledQty: Dec.ZERO,
      heldApprox: 0,
      entryCost: Dec.ZERO,
      entryAvg: intent.price,
      entryFees: Dec.ZERO,
      exitQty: Dec.ZERO,
      exitProceeds: Dec.ZERO,
      exitFees: Dec.ZERO,
      exitFills: 0,
      stopDec: o.stop,
      stop: o.stop.toNumber(),
      initialStop: o.stop,
      stopKind: o.breakevenMoved ? 'breakeven' : 'stop',
      entryRef,
      highPrice: Number.NaN,
      lowPrice: Number.NaN,
      exitSlippage: Dec.ZERO,
      makerExitId: undefined,
      makerExitDeadline: 0,
      openedAt: o.openedAt,
      breakevenMoved: o.breakevenMoved,
      targetOrderIds: [],
      targetSeq: 0,
      exitAttempts: o.exitAttempts,
      exitReason: o.exitReason,
      pendingExit: undefined,
      restored: false,
      exitRefusals: 0,
      exitRetryAt: 0,
      reconciled: false,
      sellCap: undefined,
      pnlUnknown: false,
      plans: intent.targets.map((t) => {
        const price = Dec.from(t.price);
        return { price, limit: price.roundTo(market.tickSize), fraction: Dec.from(t.fraction) };
      }),
    };
    this.positions.set(pos.id, pos);
    this.bySymbol.set(pos.symbol, pos);
    return pos;
  }

  private track(id: string, positionId: string, role: Role, quantity: Dec, price?: Dec, plan = -1, ref?: number): TrackedOrder {
    const o: TrackedOrder = { clientOrderId: id, positionId, role, quantity, ...(price ? { price } : {}), ...(ref !== undefined ? { ref } : {}), plan, filled: Dec.ZERO, open: true };
    this.orders.set(id, o);
    return o;
  }

  // ---- results from the submitter ----

  onSubmitAck(cmd: SubmitCommand, ack: OrderAck | null, now: number): void {
    if (ack === null) {
      // Not sent (no longer wanted): an exit built nothing, or an order of a closed position.
      const o = this.orders.get(cmd.clientOrderId);
      if (o && o.filled.isZero()) this.orders.delete(cmd.clientOrderId);
      return;
    }
    if (ack.status === 'rejected') this.onOrderUpdate({ clientOrderId: ack.clientOrderId, symbol: cmd.symbol, status: 'rejected', filledQuantity: Dec.ZERO, time: now, reason: ack.reason ?? 'rejected', ...(ack.errorKind ? { errorKind: ack.errorKind } : {}) });
  }

  onCancelAck(cmd: CancelCommand, ack: OrderAck, _now: number): void {
    if (ack.status !== 'rejected') return;
    // The cancel did not go through. A timed-out entry is asked again on the next price; for the
    // rest, the order's own final status (filled) is what settles it.
    const o = this.orders.get(cmd.clientOrderId);
    const p = o ? this.positions.get(o.positionId) : undefined;
    if (o?.open && o.role === 'entry' && p && p.entryCancel === 'timeout') p.entryCancel = undefined;
  }

  private moveStop(positionId: string, stop: number, reason: 'breakeven' | 'trail', now: number): void {
    const p = this.positions.get(positionId);
    if (!p || p.state !== 'open') return;
    const stopDec = Dec.from(stop).roundTo(p.market.tickSize);
    // A stop only ever moves in the trade's favour.
    if (!stopDec.gt(p.stopDec)) return;
    p.stopDec = stopDec;
    p.stop = stopDec.toNumber();
    p.stopKind = reason;
    if (reason === 'breakeven') p.breakevenMoved = true;
    this.emit({ type: 'stop_moved', time: now, positionId, symbol: p.symbol, stop: p.stop });
  }

  /**
   * Checks a working limit entry for its timeout and an open position's stop against a new price.
   * Cheap when the symbol has no position (one map lookup).
   */
  onPrice(symbol: SymbolId, price: number, now: number): void {
    const p = this.bySymbol.size === 0 ? undefined : this.bySymbol.get(symbol);
    if (p === undefined) return;
    if (p.entryWorking && p.entryCancel === undefined && this.opts.entryOrderType !== 'market' && now - p.entrySubmittedAt >= this.opts.limitEntryTimeoutMs) {
      this.cancelEntry(p, 'timeout', now);
    }
    if (p.state === 'entering') return;
    // Excursions while open (NaN before the first price: the comparisons below then fail and set it).
    if (!(price <= p.highPrice)) p.highPrice = price;
    if (!(price >= p.lowPrice)) p.lowPrice = price;
    if (p.state === 'open') {
      if (price <= p.stop && now >= p.exitRetryAt) this.startExit(p, p.stopKind, `price ${price} crossed the stop ${p.stop}`, now, undefined, p.stop);
    } else if (p.makerExitId !== undefined && (now >= p.makerExitDeadline || price <= p.stop)) {
      this.makerFallback(p, now);
    }
  }

  private cancelEntry(p: Position, why: 'timeout' | 'exit', now: number): void {
    if (!p.entryWorking || p.entryCancel !== undefined) {
      if (why === 'exit') p.entryCancel = 'exit';
      return;
    }
    p.entryCancel = why;
    this.sink.push({ kind: 'cancel', symbol: p.symbol, clientOrderId: p.entryOrderId, time: now });
  }

  /**
   * Closes what is left of a position at market: cancels the targets (and a working entry's
   * remainder), then sells the rest. A position with nothing filled has its entry cancelled; a
   * fill that still arrives is sold at once. Resolves once the commands were carried out.
   */
  exit(positionId: string, reason: ExitReason, detail: string, now: number): Promise<void> {
    this.exitNow(positionId, reason, detail, now);
    return this.sink.idle();
  }

  private exitNow(positionId: string, reason: ExitReason, detail: string, now: number, maker?: MakerExit): void {
    const p = this.positions.get(positionId);
    if (!p) return;
    if (p.state === 'entering') {
      p.pendingExit = { reason, detail, maker };
      this.cancelEntry(p, 'exit', now);
      return;
    }
    if (p.state !== 'open') return;
    // Exits refused in a row wait out their backoff: one decision, at most one attempt.
    if (now < p.exitRetryAt) return;
    this.startExit(p, reason, detail, now, maker);
  }

  /**
   * Starts closing: cancels the working entry, the targets and any exit order still open (one
   * restored after a restart), then sells the rest: at market, or first as a maker (`maker`).
   * `ref` is the market exit's decision price (default: the last price seen).
   */
  private startExit(p: Position, reason: ExitReason, detail: string, now: number, maker?: MakerExit, ref?: number): void {
    p.state = 'closing';
    p.exitReason = reason;
    this.emit({ type: 'exit_started', time: now, positionId: p.id, symbol: p.symbol, reason, detail });
    if (p.entryWorking) this.cancelEntry(p, 'exit', now);
    for (const id of p.targetOrderIds) {
      const o = this.orders.get(id);
      if (o?.open) this.sink.push({ kind: 'cancel', symbol: p.symbol, clientOrderId: id, time: now });
    }
    if (p.exitAttempts > 0) {
      for (const o of this.orders.values()) {
        if (o.positionId === p.id && o.role === 'exit' && o.open && o.price !== undefined) this.sink.push({ kind: 'cancel', symbol: p.symbol, clientOrderId: o.clientOrderId, time: now });
      }
    }
    const attempt = p.exitAttempts + 1;
    p.exitAttempts = attempt;
    const id = clientOrderId(p.id, 'exit', attempt);
    if (maker) {
      p.makerExitId = id;
      p.makerExitDeadline = now + maker.waitMs;
      this.sink.push({ kind: 'submit', symbol: p.symbol, clientOrderId: id, time: now, build: () => this.makerExitRequest(p, id, maker.price, now) });
      return;
    }
    const decision = ref ?? this.portfolio.lastPrice(p.symbol) ?? p.entryAvg;
    // Built when the submitter gets to it, after the cancels above: it sells what is left then.
    this.sink.push({ kind: 'submit', symbol: p.symbol, clientOrderId: id, time: now, build: () => this.exitRequest(p, id, now, decision) });
  }

  /** A maker exit's post-only sell of what is left, at `price` rounded up to the tick (never more aggressive). */
  private makerExitRequest(p: Position, id: string, price: number, now: number): OrderRequest | null {
    if (p.state !== 'closing' || p.makerExitId !== id) return null;
    const remaining = p.filledQty.sub(p.exitQty);
    const limit = Dec.from(price).ceilTo(p.market.tickSize);
    if (!remaining.isPositive() || remaining.mul(limit).lt(p.market.minNotional)) {
      // Nothing (or only dust) to sell as a maker: the market path decides (and closes).
      p.makerExitId = undefined;
      return this.exitRequest(p, id, now, this.portfolio.lastPrice(p.symbol) ?? p.entryAvg);
    }
    this.track(id, p.id, 'exit', remaining, limit);
    return { clientOrderId: id, symbol: p.symbol, side: 'sell', type: 'limit', quantity: remaining, price: limit, postOnly: true };
  }

  /** The maker exit's wait is over (or it was refused, or the stop crossed): cancel it and sell the rest at market. */
  private makerFallback(p: Position, now: number): void {
    const id = p.makerExitId;
    if (id === undefined || p.state !== 'closing') return;
    p.makerExitId = undefined;
    if (this.orders.get(id)?.open) this.sink.push({ kind: 'cancel', symbol: p.symbol, clientOrderId: id, time: now });
    const attempt = p.exitAttempts + 1;
    p.exitAttempts = attempt;
    const next = clientOrderId(p.id, 'exit', attempt);
    const decision = this.portfolio.lastPrice(p.symbol) ?? p.entryAvg;
    this.sink.push({ kind: 'submit', symbol: p.symbol, clientOrderId: next, time: now, build: () => this.exitRequest(p, next, now, decision) });
  }

  private exitRequest(p: Position, id: string, now: number, ref: number): OrderRequest | null {
    if (p.state !== 'closing') return null; // a target filled the rest meanwhile, or the exit reopened
    const left = p.filledQty.sub(p.exitQty);
    // After an exit refused for insufficient balance: no more than the venue said it holds.
    const remaining = p.sellCap !== undefined && p.sellCap.lt(left) ? p.sellCap : left;
    if (!remaining.isPositive()) {
      if (!p.entryWorking) this.close(p, now);
      return null;
    }
    // What is left may be worth less than the venue's minimum order value (after partial target
    // fills, or a collapse in price): no exchange accepts that sell, and retrying forever would keep
    // the position open for good. The dust is written off in the trade's PnL and stays in the
    // account's holdings, where the equity still values it.
    const mark = this.portfolio.lastPrice(p.symbol) ?? p.entryAvg;
    if (remaining.mul(Dec.from(mark)).lt(p.market.minNotional)) {
      if (!p.entryWorking) this.close(p, now);
      return null;
    }
    this.track(id, p.id, 'exit', remaining, undefined, -1, ref);
    return { clientOrderId: id, symbol: p.symbol, side: 'sell', type: 'market', quantity: remaining };
  }

  // ---- venue events ----

  private onFill(f: Fill): void {
    const o = this.orders.get(f.clientOrderId);
    if (!o) return; // not ours (another actor's order); reconciliation deals with it
    const p = this.positions.get(o.positionId);
    if (!p) return;
    o.filled = o.filled.add(f.quantity);
    this.portfolio.applyFill(f, p.market.base);
    const feeQuote = f.feeAsset === p.market.quote ? f.fee : f.fee.mul(f.price);
    if (o.role === 'entry') {
      p.filledQty = p.filledQty.add(f.quantity);
      p.entryCost = p.entryCost.add(f.price.mul(f.quantity));
      p.entryAvg = p.entryCost.div(p.filledQty).toNumber();
      p.entryFees = p.entryFees.add(feeQuote);
    } else {
      p.exitQty = p.exitQty.add(f.quantity);
      p.exitProceeds = p.exitProceeds.add(f.price.mul(f.quantity));
      p.exitFees = p.exitFees.add(feeQuote);
      p.exitFills++;
      p.exitRefusals = 0;
      p.exitRetryAt = 0;
      if (p.sellCap !== undefined) p.sellCap = Dec.max(Dec.ZERO, p.sellCap.sub(f.quantity));
      if (o.ref !== undefined) p.exitSlippage = p.exitSlippage.add(Dec.from(o.ref).sub(f.price).mul(f.quantity));
      if (o.role === 'target' && p.state === 'open') p.exitReason = 'target';
    }
    p.heldApprox = p.filledQty.sub(p.exitQty).toNumber();
    this.emit({ type: 'fill_booked', time: f.time, positionId: p.id, symbol: p.symbol, clientOrderId: f.clientOrderId, role: o.role, price: f.price, quantity: f.quantity });
    if (o.role === 'entry') {
      if (p.state === 'entering') {
        // The first fill: protected from here on (stop, time stop, exits, targets).
        p.state = 'open';
        p.openedAt = f.time;
        const first = f.price.toNumber();
        p.highPrice = first;
        p.lowPrice = first;
        this.emit({ type: 'position_opened', time: f.time, positionId: p.id, symbol: p.symbol, price: f.price, quantity: f.quantity });
        const pending = p.pendingExit;
        if (pending) {
          p.pendingExit = undefined;
          this.startExit(p, pending.reason, pending.detail, f.time, pending.maker);
          return;
        }
      }
      if (p.state === 'open') this.topUpTargets(p, f.time);
      return;
    }
    const rest = p.filledQty.sub(p.exitQty);
    // Sold what the venue held (sellCap): less than a lot is left, which no venue takes as an order.
    if (!p.entryWorking && (!rest.isPositive() || (p.sellCap !== undefined && rest.lt(p.market.stepSize)))) this.close(p, f.time);
  }

  private onOrderUpdate(u: OrderUpdate): void {
    const o = this.orders.get(u.clientOrderId);
    if (!o) return;
    if (u.status === 'new' || u.status === 'partially_filled') return;
    // A final status is handled once (it can arrive both as an event and in a submit's reply).
    if (!o.open) return;
    o.open = false;
    const p = this.positions.get(o.positionId);
    if (!p) {
      // The position already closed (its last fill came before this update): forget the order.
      this.orders.delete(o.clientOrderId);
      return;
    }
    if (o.role === 'entry') {
      this.portfolio.release(o.clientOrderId);
      p.entryWorking = false;
      if (p.state === 'entering') {
        this.drop(p);
        if (u.status === 'rejected')
          this.emit({ type: 'entry_rejected', time: u.time, intent: p.intent, reason: 'EXCHANGE_REJECTED', detail: u.reason ?? 'rejected by the exchange' });
        else this.emit({ type: 'entry_expired', time: u.time, positionId: p.id, symbol: p.symbol, detail: p.entryCancel === 'exit' ? 'entry cancelled before it filled' : 'entry not filled in time' });
        return;
      }
      this.emit({ type: 'entry_completed', time: u.time, positionId: p.id, symbol: p.symbol, price: p.entryCost.div(p.filledQty), quantity: p.filledQty, requested: o.quantity });
      if (p.state === 'open') {
        this.topUpTargets(p, u.time);
        if (p.restored) this.rerequestTargets(p, u.time);
      }
      if (!p.filledQty.sub(p.exitQty).isPositive() && (p.state !== 'closing' || !this.hasOpenExit(p))) this.close(p, u.time);
      return;
    }
    if (o.role === 'exit' && u.status !== 'filled' && p.state === 'closing') {
      if (o.price !== undefined) {
        // A maker exit ended unfilled or in part: refused by the venue or cancelled by it, the rest
        // goes at market now; cancelled by us, the market exit that replaced it is already on its way.
        if (p.makerExitId === o.clientOrderId) this.makerFallback(p, u.time);
        return;
      }
      if (u.status === 'rejected' && u.errorKind === 'insufficient_balance' && !p.entryWorking && !p.reconciled) {
        // The account holds less than the position: sold outside the runtime, or flattened by an
        // emergency stop whose fills were never booked. Resending the same sell would be refused
        // for ever; the venue is asked what is held, and the position stays 'closing' meanwhile.
        p.reconciled = true;
        this.sink.push({ kind: 'holding', symbol: p.symbol, clientOrderId: o.clientOrderId, positionId: p.id, since: p.openedAt - FILL_SLACK_MS, time: u.time });
        return;
      }
      // The exit order did not complete (rejected or cancelled): reopen so a later decision retries,
      // after a backoff when it was refused.
      p.state = 'open';
      if (u.status === 'rejected') this.backOff(p, u.time, `exit ${o.clientOrderId} refused: ${u.reason ?? 'rejected'}`);
    }
  }

  /** One more exit refused in a row: no new exit before the backoff has passed. */
  private backOff(p: Position, now: number, detail: string): void {
    p.exitRefusals++;
    p.exitRetryAt = now + backoffDelayMs(p.exitRefusals, EXIT_BACKOFF);
    this.emit({ type: 'exit_backoff', time: now, positionId: p.id, symbol: p.symbol, retryAt: p.exitRetryAt, detail });
  }

  /**
   * The venue's answer after an exit was refused for insufficient balance (see onOrderUpdate). What
   * left the account outside the runtime is booked as exited, from the exchange's own sells of the
   * symbol since the entry (orders that are not this position's) when they cover it, else at the
   * entry price and marked pnlUnknown. What is still held is sold, rounded down to the lot; when
   * that is nothing the venue would take, the position closes as 'reconciled'. Never a blind resend.
   */
  onHolding(cmd: HoldingCommand, h: Holding | undefined, now: number): void {
    const p = this.positions.get(cmd.positionId);
    if (!p || p.state !== 'closing') return;
    if (!h) {
      // The venue could not be asked: reopen with a backoff, and ask again on the next refusal.
      p.reconciled = false;
      p.state = 'open';
      this.backOff(p, now, `exit ${cmd.clientOrderId} refused for insufficient balance, and the balance could not be read`);
      return;
    }
    const step = p.market.stepSize;
    const remaining = p.filledQty.sub(p.exitQty);
    const free = Dec.max(Dec.ZERO, h.free);
    const kept = Dec.min(free, remaining);
    const outside = remaining.sub(kept);
    const mark = this.portfolio.lastPrice(p.symbol) ?? p.entryAvg;
    const sellable = kept.floorTo(step);
    const canSell = sellable.isPositive() && sellable.mul(Dec.from(mark)).gte(p.market.minNotional);
    let pnlKnown = true;
    if (outside.isPositive()) {
      // The account's sells of the symbol since the entry that are not this position's orders.
      let need = outside;
      let qty = Dec.ZERO;
      let proceeds = Dec.ZERO;
      let fees = Dec.ZERO;
      for (const f of h.fills ?? []) {
        if (!need.isPositive()) break;
        if (f.side !== 'sell' || f.time < cmd.since || this.orders.get(f.clientOrderId)?.positionId === p.id) continue;
        const take = Dec.min(need, f.quantity);
        const share = take.div(f.quantity);
        qty = qty.add(take);
        proceeds = proceeds.add(f.price.mul(take));
        fees = fees.add((f.feeAsset === p.market.quote ? f.fee : f.fee.mul(f.price)).mul(share));
        need = need.sub(take);
      }
      pnlKnown = h.fills !== undefined && !need.sub(step).isPositive();
      if (need.isPositive()) {
        // Not found (or not all): booked at the entry price, so the trade shows no made-up loss or gain.
        proceeds = proceeds.add(p.entryCost.div(p.filledQty).mul(need));
        qty = qty.add(need);
      }
      if (!pnlKnown) p.pnlUnknown = true;
      p.exitQty = p.exitQty.add(qty);
      p.exitProceeds = p.exitProceeds.add(proceeds);
      p.exitFees = p.exitFees.add(fees);
      p.exitFills++;
      p.heldApprox = p.filledQty.sub(p.exitQty).toNumber();
      this.portfolio.setHolding(p.symbol, free);
    }
    const detail =
      `exit ${cmd.clientOrderId} refused for insufficient balance; the venue holds ${free.toString()} ${p.market.base} of the position's ${remaining.toString()}: ` +
      (outside.isPositive() ? `${outside.toString()} left the account outside the runtime (${pnlKnown ? "PnL from the exchange's fills" : 'no fills found for it: PnL UNKNOWN, booked at the entry price'}); ` : '') +
      (canSell ? `selling the ${sellable.toString()} held` : 'nothing sellable left: closed as reconciled');
    this.emit({ type: 'exit_reconciled', time: now, positionId: p.id, symbol: p.symbol, held: free, outside, selling: canSell ? sellable : Dec.ZERO, pnlKnown, detail });
    if (!canSell) {
      p.exitReason = 'reconciled';
      this.close(p, now);
      return;
    }
    // One new exit for what is held (the decision stands; this is its one retry after the venue's answer).
    p.sellCap = sellable;
    const attempt = p.exitAttempts + 1;
    p.exitAttempts = attempt;
    const id = clientOrderId(p.id, 'exit', attempt);
    this.sink.push({ kind: 'submit', symbol: p.symbol, clientOrderId: id, time: now, build: () => this.exitRequest(p, id, now, mark) });
  }

  private hasOpenExit(p: Position): boolean {
    for (const o of this.orders.values()) if (o.positionId === p.id && o.role === 'exit' && o.open) return true;
    return false;
  }

  private drop(p: Position): void {
    p.state = 'closed';
    this.positions.delete(p.id);
    this.bySymbol.delete(p.symbol);
    for (const [id, o] of this.orders) if (o.positionId === p.id && !o.open) this.orders.delete(id);
  }

  /**
   * Rests targets for what has filled and is not yet covered: the filled quantity is split across
   * the target plans (targetQuantities), and each plan gets an order for what its resting and filled
   * orders do not cover yet. A slice worth less than the market's minimum waits for more fills; one
   * still too small when the entry ends is left to the exit (no venue accepts it as an order).
   */
  private topUpTargets(p: Position, now: number): void {
    const wanted = this.targetQuantities(p, p.filledQty);
    const covered = p.plans.map(() => Dec.ZERO);
    for (const id of p.targetOrderIds) {
      const o = this.orders.get(id);
      if (!o || o.plan < 0) continue;
      covered[o.plan] = (covered[o.plan] as Dec).add(o.open ? o.quantity : o.filled);
    }
    for (const { index, quantity } of wanted) {
      const missing = quantity.sub(covered[index] as Dec);
      if (!missing.isPositive()) continue;
      const price = (p.plans[index] as Position['plans'][number]).limit;
      if (missing.mul(price).lt(p.market.minNotional)) continue;
      p.targetSeq++;
      const id = clientOrderId(p.id, 'target', p.targetSeq);
      this.track(id, p.id, 'target', missing, price, index);
      p.targetOrderIds.push(id);
      const req: OrderRequest = { clientOrderId: id, symbol: p.symbol, side: 'sell', type: 'limit', quantity: missing, price };
      this.sink.push({ kind: 'submit', symbol: p.symbol, clientOrderId: id, time: now, build: () => (p.state === 'open' && this.orders.get(id)?.open ? req : null) });
    }
  }

  /** After a restart: the journaled targets are requested again under their own ids (the exchange layer knows them). */
  private rerequestTargets(p: Position, now: number): void {
    p.restored = false;
    for (const id of p.targetOrderIds) {
      const o = this.orders.get(id);
      if (!o?.open || !o.price) continue;
      const req: OrderRequest = { clientOrderId: id, symbol: p.symbol, side: 'sell', type: 'limit', quantity: o.quantity, price: o.price };
      this.sink.push({ kind: 'submit', symbol: p.symbol, clientOrderId: id, time: now, build: () => (p.state === 'open' && this.orders.get(id)?.open ? req : null) });
    }
  }

  /**
   * Splits `filled` across the targets by their fractions, rounded down to the lot step; the last
   * target takes the remainder. A slice below the market's minimum notional is folded into the next
   * one (the remainder into the previous one), so every resting order is valid.
   */
  private targetQuantities(p: Position, filled: Dec): { index: number; quantity: Dec }[] {
    const out: { index: number; quantity: Dec; price: Dec }[] = [];
    const plans = p.plans;
    let left = filled;
    let carry = Dec.ZERO;
    for (let idx = 0; idx < plans.length; idx++) {
      const plan = plans[idx] as Position['plans'][number];
      const last = idx === plans.length - 1;
      let q = last ? left : filled.mul(plan.fraction).floorTo(p.market.stepSize).add(carry);
      if (q.gt(left)) q = left;
      if (!last && q.mul(plan.price).lt(p.market.minNotional)) {
        carry = q;
        continue;
      }
      carry = Dec.ZERO;
      if (q.isPositive()) out.push({ index: idx, quantity: q, price: plan.price });
      left = left.sub(q);
    }
    // The remainder (last target) below the minimum notional would be rejected, leaving that part
    // with no target: it joins the previous (nearer) target instead, the conservative side.
    const tail = out[out.length - 1];
    const prev = out[out.length - 2];
    if (tail && prev && tail.quantity.mul(tail.price).lt(p.market.minNotional)) {
      out.splice(out.length - 2, 2, { index: prev.index, quantity: prev.quantity.add(tail.quantity), price: prev.price });
    }
    return out;
  }

  private close(p: Position, now: number): void {
    if (p.state === 'closed') return;
    const entryPrice = p.entryCost.div(p.filledQty);
    const exitPrice = p.exitQty.isZero() ? Dec.ZERO : p.exitProceeds.div(p.exitQty);
    const grossPnl = p.exitProceeds.sub(p.entryCost);
    const fees = p.entryFees.add(p.exitFees);
    const netPnl = grossPnl.sub(fees);
    const initialRisk = entryPrice.sub(p.initialStop).mul(p.filledQty);
    const plan: TradePlan = {
      stop: p.initialStop,
      finalStop: p.stopDec,
      targets: p.plans.map((t) => t.limit),
      initialRisk,
      rMultiple: initialRisk.isPositive() ? netPnl.div(initialRisk).toNumber() : null,
      highPrice: p.highPrice,
      lowPrice: p.lowPrice,
      entryFees: p.entryFees,
      exitFees: p.exitFees,
      entryReference: p.entryRef,
      entrySlippage: p.entryCost.sub(Dec.from(p.entryRef).mul(p.filledQty)),
      exitSlippage: p.exitSlippage,
    };
    const trade: ClosedTrade = {
      id: p.id,
      symbol: p.symbol,
      direction: p.intent.direction,
      entryTime: p.openedAt,
      exitTime: now,
      entryPrice,
      exitPrice,
      quantity: p.filledQty,
      fees,
      grossPnl,
      netPnl,
      exitReason: p.exitReason ?? 'target',
      exits: p.exitFills,
      returnPct: netPnl.div(p.entryCost).toNumber() * 100,
      plan,
      ...(p.pnlUnknown ? { pnlUnknown: true as const } : {}),
    };
    for (const id of p.targetOrderIds) {
      const o = this.orders.get(id);
      if (o?.open) this.sink.push({ kind: 'cancel', symbol: p.symbol, clientOrderId: id, time: now });
    }
    this.drop(p);
    this.emit({ type: 'position_closed', time: now, trade, reason: p.exitReason ?? 'target' });
  }

  /** Orders the executor still tracks (bounded: a closed position's orders are forgotten). */
  get trackedOrders(): number {
    return this.orders.size;
  }

  /** The position's persistable state (see PositionSnapshot); undefined when it is not open. */
  snapshot(positionId: string): PositionSnapshot | undefined {
    const p = this.positions.get(positionId);
    if (!p || p.state === 'closed') return undefined;
    const orders: PositionSnapshot['orders'][number][] = [];
    for (const o of this.orders.values()) {
      if (o.positionId !== p.id) continue;
      orders.push({ clientOrderId: o.clientOrderId, role: o.role, quantity: o.quantity, ...(o.price ? { price: o.price } : {}), filled: o.filled, open: o.open });
    }
    return {
      id: p.id,
      symbol: p.symbol,
      intent: p.intent,
      state: p.state,
      filledQty: p.filledQty,
      entryCost: p.entryCost,
      entryFees: p.entryFees,
      exitQty: p.exitQty,
      exitProceeds: p.exitProceeds,
      exitFees: p.exitFees,
      stop: p.stopDec,
      breakevenMoved: p.breakevenMoved,
      openedAt: p.openedAt,
      entrySubmittedAt: p.entrySubmittedAt,
      exitAttempts: p.exitAttempts,
      exitReason: p.exitReason,
      orders,
    };
  }

  /**
   * Rebuilds a position after a restart, before any fill: it starts as 'entering' with nothing
   * filled, its orders tracked again (open), its stop, breakeven flag and exit attempts as they
   * were. The caller then replays the venue's fills and order statuses (entry first), which move it
   * through the usual paths: opened (its journaled targets count as placed, and are re-requested
   * under their ids when the entry ends, which the exchange layer recognises), partly exited, or
   * closed with the real PnL.
   * @throws Error when the symbol already has a position.
   */
  restore(r: RestoredPosition): void {
    const intent = r.intent;
    if (this.bySymbol.has(intent.symbol)) throw new Error(`restore: ${intent.symbol} already has a position`);
    const market = this.exchange.market(intent.symbol);
    const entry = r.orders.find((o) => o.role === 'entry');
    const pos = this.register(intent, market, {
      entryOrderId: entry?.clientOrderId ?? clientOrderId(intent.id, 'entry', 1),
      entrySubmittedAt: r.entrySubmittedAt,
      stop: r.stop,
      openedAt: r.openedAt,
      breakevenMoved: r.breakevenMoved,
      // The highest attempt journaled, not the count: a gap must not make the next exit reuse an id.
      exitAttempts: r.orders.reduce((n, o) => (o.role === 'exit' ? Math.max(n + 1, exitAttemptOf(o.clientOrderId, n + 1)) : n), 0),
      exitReason: r.exitReason,
    }, entry?.price?.toNumber() ?? intent.limitPrice ?? intent.price);
    pos.restored = true;
    for (const o of r.orders) {
      const plan = o.role === 'target' && o.price ? pos.plans.findIndex((pp) => pp.limit.eq(o.price as Dec)) : -1;
      const t = this.track(o.clientOrderId, pos.id, o.role, o.quantity, o.price, plan);
      if (o.ended === true) t.open = false;
      if (o.role === 'target') {
        pos.targetOrderIds.push(o.clientOrderId);
        const n = parseClientOrderId(o.clientOrderId);
        if (n && n.role === 'target') pos.targetSeq = Math.max(pos.targetSeq, n.attempt);
      }
    }
    if (!entry) pos.entryWorking = false;
    if (entry && entry.price) this.portfolio.reserve(entry.clientOrderId, entry.quantity.mul(entry.price));
  }

  /** Ids of positions not yet closed (for end-of-run liquidation and emergency exits). */
  openPositionIds(): string[] {
    return [...this.positions.keys()];
  }

  /** Resolves once every command emitted so far has been carried out. */
  settled(): Promise<void> {
    return this.sink.idle();
  }
}
