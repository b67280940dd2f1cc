/**
 * The one executor: turns approved intents into orders and fills into positions.
 *
 * The backtester, paper trading and live trading all run this class; only the ExchangePort behind
 * it differs. Responsibilities:
 * - entries: ask the risk engine, round to the market's lot step, submit with a client order id
 *   derived from the intent (a retried intent can never create a second order);
 * - after the entry fills, rest three scale-out limit orders at the targets;
 * - the stop is held here, not on the venue (MEXC spot has no stop orders): every price update is
 *   checked against it, and a crossing sends a market exit after cancelling the targets;
 * - exit and move-stop intents from the strategy (time stop, break of the level, breakeven);
 * - booking every fill in the portfolio, and reporting each closed trade once.
 */
import { Dec } from '../core/money.js';
import type { Direction, SymbolId } from '../core/types.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import type { EnterIntent, ExitReason, Intent, TargetPlan } from '../strategy/intents.js';
import type { ExchangePort, Fill, MarketInfo, OrderAck, OrderRequest, OrderUpdate } from './types.js';
import type { ClosedTrade } from '../analytics/types.js';
import type { EntryProposal, RiskAccount, RiskDecision, RiskReason } from '../risk/types.js';

/** What the executor needs from the risk engine. */
export interface RiskGate {
  evaluate(proposal: EntryProposal, account: RiskAccount): RiskDecision;
}

/** What the strategy sees of an open position. */
export interface PositionView {
  readonly id: string;
  readonly symbol: SymbolId;
  readonly direction: Direction;
  readonly state: 'entering' | 'open' | 'closing';
  readonly entryPrice: number;
  readonly stop: number;
  readonly levelPrice: number;
  readonly openedAt: number;
  readonly expiresAt: number;
  readonly breakevenMoved: boolean;
}

export type ExecutorEvent =
  | { type: 'entry_rejected'; time: number; intent: EnterIntent; reason: RiskReason | 'EXCHANGE_REJECTED' | 'BELOW_EXCHANGE_MIN' | 'ALREADY_IN_POSITION'; detail: string }
  | { type: 'entry_submitted'; time: number; intent: EnterIntent; quantity: Dec; adjustments: readonly string[] }
  | { type: 'position_opened'; time: number; positionId: string; symbol: SymbolId; price: Dec; quantity: Dec }
  | { type: 'entry_expired'; time: number; positionId: string; symbol: SymbolId }
  | { type: 'stop_moved'; time: number; positionId: string; symbol: SymbolId; stop: number }
  | { type: 'exit_started'; time: number; positionId: string; symbol: SymbolId; reason: ExitReason; detail: string }
  | { type: 'position_closed'; time: number; trade: ClosedTrade; reason: ExitReason }
  /** A fill was booked on a position (for the journal: the position's record changed). */
  | { type: 'fill_booked'; time: number; positionId: string; symbol: SymbolId; clientOrderId: string };

export type Role = 'entry' | 'target' | 'exit';

interface TrackedOrder {
  readonly clientOrderId: string;
  readonly positionId: string;
  readonly role: Role;
  readonly quantity: Dec;
  /** Limit price (targets), for the journal. */
  readonly price?: Dec;
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
  /** Every order placed (or about to be placed) for the position before the restart. */
  readonly orders: readonly { clientOrderId: string; role: Role; quantity: Dec; price?: Dec }[];
}

interface Position {
  readonly id: string;
  readonly intent: EnterIntent;
  readonly symbol: SymbolId;
  readonly market: MarketInfo;
  state: 'entering' | 'open' | 'closing' | 'closed';
  entryOrderId: string;
  entrySubmittedAt: number;
  filledQty: Dec;
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
  openedAt: number;
  breakevenMoved: boolean;
  targetOrderIds: string[];
  exitAttempts: number;
  exitReason: ExitReason | null;
}

export interface ExecutorOptions {
  /** A limit entry not filled after this long is cancelled (ms). */
  readonly limitEntryTimeoutMs: number;
  readonly entryOrderType: 'market' | 'limit';
}

/** Keeps positions and their orders; see the file comment. */
export class Executor {
  private readonly positions = new Map<string, Position>();
  private readonly bySymbol = new Map<SymbolId, Position>();
  private readonly orders = new Map<string, TrackedOrder>();
  private readonly listeners: ((e: ExecutorEvent) => void)[] = [];

  constructor(
    private readonly exchange: ExchangePort,
    private readonly portfolio: Portfolio,
    private readonly risk: RiskGate,
    private readonly opts: ExecutorOptions,
  ) {
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
    };
  }

  /** Number of positions not yet closed. */
  get openCount(): number {
    return this.bySymbol.size;
  }

  /** The account as the risk engine needs it. */
  account(): RiskAccount {
    const openPositions: { symbol: SymbolId; notional: Dec }[] = [];
    for (const p of this.bySymbol.values()) {
      const notional = p.state === 'entering' && p.filledQty.isZero() ? this.requestedNotional(p) : this.portfolio.notional(p.symbol);
      openPositions.push({ symbol: p.symbol, notional });
    }
    return { equity: this.portfolio.equity(), freeQuote: this.portfolio.freeCash, openPositions };
  }

  private requestedNotional(p: Position): Dec {
    const o = this.orders.get(p.entryOrderId);
    return o ? o.quantity.mul(Dec.from(p.intent.price)) : Dec.ZERO;
  }

  /** Handles the strategy's intents in order. */
  async handle(intents: readonly Intent[], now: number): Promise<void> {
    for (const intent of intents) {
      if (intent.kind === 'enter') await this.enter(intent, now);
      else if (intent.kind === 'move_stop') this.moveStop(intent.positionId, intent.stop, now);
      else await this.exit(intent.positionId, intent.reason, intent.detail, now);
    }
  }

  private async enter(intent: EnterIntent, now: number): Promise<void> {
    if (this.bySymbol.has(intent.symbol)) {
      this.emit({ type: 'entry_rejected', time: now, intent, reason: 'ALREADY_IN_POSITION', detail: 'a position on this symbol is open' });
      return;
    }
    if (intent.direction !== 'long') {
      this.emit({ type: 'entry_rejected', time: now, intent, reason: 'EXCHANGE_REJECTED', detail: 'spot accounts cannot open shorts' });
      return;
    }
    const market = this.exchange.market(intent.symbol);
    const entryPrice = Dec.from(intent.price).roundTo(market.tickSize);
    const stopPrice = Dec.from(intent.stop).roundTo(market.tickSize);
    const decision = this.risk.evaluate({ symbol: intent.symbol, direction: intent.direction, entryPrice, stopPrice, time: now }, this.account());
    if (decision.kind === 'rejected') {
      this.emit({ type: 'entry_rejected', time: now, intent, reason: decision.reason, detail: decision.detail });
      return;
    }
    const quantity = decision.quantity.floorTo(market.stepSize);
    const notional = quantity.mul(entryPrice);
    if (quantity.isZero() || notional.lt(market.minNotional)) {
      this.emit({
        type: 'entry_rejected',
        time: now,
        intent,
        reason: 'BELOW_EXCHANGE_MIN',
        detail: `notional ${notional.toFixed(2)} below the market minimum ${market.minNotional.toString()}`,
      });
      return;
    }
    const clientOrderId = `${intent.id}E`;
    const pos = this.register(intent, market, { entryOrderId: clientOrderId, entrySubmittedAt: now, stop: stopPrice, openedAt: now, breakevenMoved: false, exitAttempts: 0, exitReason: null });
    // Reserve a little more than the notional: a market order can fill above the decision price.
    this.portfolio.reserve(clientOrderId, notional.mul(Dec.from('1.02')));
    const req: OrderRequest =
      this.opts.entryOrderType === 'market'
        ? { clientOrderId, symbol: intent.symbol, side: 'buy', type: 'market', quantity }
        : { clientOrderId, symbol: intent.symbol, side: 'buy', type: 'limit', quantity, price: entryPrice };
    this.track(clientOrderId, pos.id, 'entry', quantity);
    this.emit({ type: 'entry_submitted', time: now, intent, quantity, adjustments: decision.adjustments });
    const ack = await this.exchange.submit(req);
    this.afterAck(ack, now);
  }

  /** A new position, entering with nothing filled, registered by id and symbol. */
  private register(
    intent: EnterIntent,
    market: MarketInfo,
    o: { entryOrderId: string; entrySubmittedAt: number; stop: Dec; openedAt: number; breakevenMoved: boolean; exitAttempts: number; exitReason: ExitReason | null },
  ): Position {
    const pos: Position = {
      id: intent.id,
      intent,
      symbol: intent.symbol,
      market,
      state: 'entering',
      entryOrderId: o.entryOrderId,
      entrySubmittedAt: o.entrySubmittedAt,
      filledQty: Dec.ZERO,
      entryCost: Dec.ZERO,
      entryAvg: intent.price,
      entryFees: Dec.ZERO,
      exitQty: Dec.ZERO,
      exitProceeds: Dec.ZERO,
      exitFees: Dec.ZERO,
      exitFills: 0,
      stopDec: o.stop,
      stop: o.stop.toNumber(),
      openedAt: o.openedAt,
      breakevenMoved: o.breakevenMoved,
      targetOrderIds: [],
      exitAttempts: o.exitAttempts,
      exitReason: o.exitReason,
    };
    this.positions.set(pos.id, pos);
    this.bySymbol.set(pos.symbol, pos);
    return pos;
  }

  private track(clientOrderId: string, positionId: string, role: Role, quantity: Dec, price?: Dec): void {
    this.orders.set(clientOrderId, { clientOrderId, positionId, role, quantity, ...(price ? { price } : {}), filled: Dec.ZERO, open: true });
  }

  private afterAck(ack: OrderAck, now: number): void {
    if (ack.status === 'rejected') this.onOrderUpdate({ clientOrderId: ack.clientOrderId, symbol: '' as SymbolId, status: 'rejected', filledQuantity: Dec.ZERO, time: now, reason: ack.reason ?? 'rejected' });
  }

  private moveStop(positionId: string, stop: number, now: number): void {
    const p = this.positions.get(positionId);
    if (!p || p.state !== 'open') return;
    const stopDec = Dec.from(stop).roundTo(p.market.tickSize);
    // A stop only ever moves in the trade's favour.
    if (!stopDec.gt(p.stopDec)) return;
    p.stopDec = stopDec;
    p.stop = stopDec.toNumber();
    p.breakevenMoved = true;
    this.emit({ type: 'stop_moved', time: now, positionId, symbol: p.symbol, stop: p.stop });
  }

  /**
   * Checks resting entries for timeout and stops against a new price. Returns a promise only when
   * it had to act, so a backtest's hot loop awaits nothing on quiet ticks.
   */
  onPrice(symbol: SymbolId, price: number, now: number): Promise<void> | null {
    const p = this.bySymbol.get(symbol);
    if (!p) return null;
    if (p.state === 'entering' && p.filledQty.isZero() && this.opts.entryOrderType === 'limit' && now - p.entrySubmittedAt >= this.opts.limitEntryTimeoutMs) {
      return this.cancelEntry(p, now);
    }
    if (p.state === 'open' && price <= p.stop) {
      return this.startExit(p, p.breakevenMoved ? 'breakeven' : 'stop', `price ${price} crossed the stop ${p.stop}`, now, p.stopDec);
    }
    return null;
  }

  private async cancelEntry(p: Position, now: number): Promise<void> {
    const o = this.orders.get(p.entryOrderId);
    if (!o?.open) return;
    await this.exchange.cancel(p.symbol, o.clientOrderId);
    if (p.filledQty.isZero()) this.emit({ type: 'entry_expired', time: now, positionId: p.id, symbol: p.symbol });
  }

  /** Closes what is left of a position at market: cancels the targets, then sells the remainder. */
  async exit(positionId: string, reason: ExitReason, detail: string, now: number): Promise<void> {
    const p = this.positions.get(positionId);
    if (!p) return;
    if (p.state === 'entering') {
      await this.cancelEntry(p, now);
      if (p.state === 'entering') return;
    }
    if (p.state !== 'open') return;
    await this.startExit(p, reason, detail, now, undefined);
  }

  private async startExit(p: Position, reason: ExitReason, detail: string, now: number, stopPrice: Dec | undefined): Promise<void> {
    p.state = 'closing';
    p.exitReason = reason;
    this.emit({ type: 'exit_started', time: now, positionId: p.id, symbol: p.symbol, reason, detail });
    for (const id of p.targetOrderIds) {
      const o = this.orders.get(id);
      if (o?.open) await this.exchange.cancel(p.symbol, id);
    }
    if (p.state !== 'closing') return; // a target filled completely meanwhile
    const remaining = p.filledQty.sub(p.exitQty);
    if (!remaining.isPositive()) return this.close(p, now);
    // What is left may be worth less than the venue's minimum order value (after partial target
    // fills, or a collapse in price): no exchange accepts that sell, and retrying forever would keep
    // the position open for good. The dust is written off in the trade's PnL and stays in the
    // account's holdings, where the equity still values it.
    const mark = this.portfolio.lastPrice(p.symbol) ?? p.entryAvg;
    if (remaining.mul(Dec.from(mark)).lt(p.market.minNotional)) return this.close(p, now);
    p.exitAttempts++;
    const clientOrderId = `${p.id}X${p.exitAttempts}`;
    this.track(clientOrderId, p.id, 'exit', remaining);
    const ack = await this.exchange.submit({
      clientOrderId,
      symbol: p.symbol,
      side: 'sell',
      type: 'market',
      quantity: remaining,
      ...(stopPrice ? { stopPrice } : {}),
    });
    this.afterAck(ack, now);
  }

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
      if (o.role === 'target' && p.state === 'open') p.exitReason = 'target';
    }
    this.emit({ type: 'fill_booked', time: f.time, positionId: p.id, symbol: p.symbol, clientOrderId: f.clientOrderId });
    if (o.role !== 'entry' && !p.filledQty.sub(p.exitQty).isPositive() && p.state !== 'entering') this.close(p, f.time);
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
      if (p.state !== 'entering') return;
      if (p.filledQty.isZero()) {
        this.drop(p);
        if (u.status === 'rejected')
          this.emit({ type: 'entry_rejected', time: u.time, intent: p.intent, reason: 'EXCHANGE_REJECTED', detail: u.reason ?? 'rejected by the exchange' });
        return;
      }
      this.opened(p, u.time);
    } else if (o.role === 'exit' && u.status !== 'filled' && p.state === 'closing') {
      // The exit order did not complete (rejected or cancelled): reopen so the next price update retries.
      p.state = 'open';
    }
  }

  private drop(p: Position): void {
    p.state = 'closed';
    this.positions.delete(p.id);
    this.bySymbol.delete(p.symbol);
  }

  /** Entry complete: rest the scale-out targets for what was filled. */
  private opened(p: Position, now: number): void {
    p.state = 'open';
    p.openedAt = now;
    const avg = p.entryCost.div(p.filledQty);
    this.emit({ type: 'position_opened', time: now, positionId: p.id, symbol: p.symbol, price: avg, quantity: p.filledQty });
    const plans = this.targetQuantities(p, p.intent.targets);
    let i = 0;
    for (const { plan, quantity } of plans) {
      i++;
      const clientOrderId = `${p.id}T${i}`;
      const price = Dec.from(plan.price).roundTo(p.market.tickSize);
      this.track(clientOrderId, p.id, 'target', quantity, price);
      p.targetOrderIds.push(clientOrderId);
      // Fire and forget is safe here: the order is tracked before it is sent, fills are matched by id.
      void this.exchange
        .submit({ clientOrderId, symbol: p.symbol, side: 'sell', type: 'limit', quantity, price })
        .then((ack) => this.afterAck(ack, now));
    }
  }

  /**
   * Splits the filled quantity across the targets by their fractions, rounded down to the lot step;
   * the last target takes the remainder. A slice below the market's minimum notional is folded into
   * the next one (the remainder into the previous one), so every resting order is valid.
   */
  private targetQuantities(p: Position, targets: readonly TargetPlan[]): { plan: TargetPlan; quantity: Dec }[] {
    const out: { plan: TargetPlan; quantity: Dec }[] = [];
    let left = p.filledQty;
    let carry = Dec.ZERO;
    targets.forEach((plan, idx) => {
      const last = idx === targets.length - 1;
      let q = last ? left : p.filledQty.mul(Dec.from(plan.fraction)).floorTo(p.market.stepSize).add(carry);
      if (q.gt(left)) q = left;
      const price = Dec.from(plan.price);
      if (!last && q.mul(price).lt(p.market.minNotional)) {
        carry = q;
        return;
      }
      carry = Dec.ZERO;
      if (q.isPositive()) out.push({ plan, quantity: q });
      left = left.sub(q);
    });
    // Fix: the remainder (last target) was never checked. When it is below the minimum notional the
    // venue rejects it and that part of the position has no target at all; it joins the previous
    // (nearer) target instead, which sells it earlier and lower, the conservative side.
    const tail = out[out.length - 1];
    const prev = out[out.length - 2];
    if (tail && prev && tail.quantity.mul(Dec.from(tail.plan.price)).lt(p.market.minNotional)) {
      out.splice(out.length - 2, 2, { plan: prev.plan, quantity: prev.quantity.add(tail.quantity) });
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
    };
    for (const id of p.targetOrderIds) {
      const o = this.orders.get(id);
      if (o?.open) void this.exchange.cancel(p.symbol, id);
    }
    this.drop(p);
    for (const [id, o] of this.orders) if (o.positionId === p.id && !o.open) this.orders.delete(id);
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
   * through the usual paths: opened (targets re-requested under the same client ids, which the
   * exchange layer recognises), partly exited, or closed with the real PnL.
   * @throws Error when the symbol already has a position.
   */
  restore(r: RestoredPosition): void {
    const intent = r.intent;
    if (this.bySymbol.has(intent.symbol)) throw new Error(`restore: ${intent.symbol} already has a position`);
    const market = this.exchange.market(intent.symbol);
    const entry = r.orders.find((o) => o.role === 'entry');
    const pos = this.register(intent, market, {
      entryOrderId: entry?.clientOrderId ?? `${intent.id}E`,
      entrySubmittedAt: r.entrySubmittedAt,
      stop: r.stop,
      openedAt: r.openedAt,
      breakevenMoved: r.breakevenMoved,
      exitAttempts: r.orders.filter((o) => o.role === 'exit').length,
      exitReason: r.exitReason,
    });
    for (const o of r.orders) this.track(o.clientOrderId, pos.id, o.role, o.quantity, o.price);
    if (entry && entry.price) this.portfolio.reserve(entry.clientOrderId, entry.quantity.mul(entry.price));
  }

  /** Ids of positions not yet closed (for end-of-run liquidation and emergency exits). */
  openPositionIds(): string[] {
    return [...this.positions.keys()];
  }
}
