/**
 * The matching engine as the executor's exchange, in process and synchronous: the backtest's
 * venue. One engine account; orders go in as the engine's VenueOrderRequests, the account's fills
 * and order updates come out as the executor's Fill and OrderUpdate, as the paper venue and
 * SafeExchange deliver them in paper trading (fill first, then the final status; a refusal as a
 * rejected ack with the engine's code in the reason).
 */
import type { SymbolId } from '../core/types.js';
import type { SyncExchangePort } from '../execution/submitter.js';
import type { MarketInfo, OrderAck, OrderRequest } from '../model/orders.js';
import type { ExchangeEvents, Holding } from '../execution/types.js';
import { Dec } from '../core/money.js';
import type { SimMatchingEngine } from './matchingEngine.js';
import { SimRejectError, type EngineEvent } from './types.js';
import { classifyMexcError } from '../execution/exchangeErrors.js';

/** The error kind MEXC's answer with the same code would have (the engine speaks MEXC codes). */
function kindOf(e: SimRejectError) {
  return classifyMexcError(e.httpStatus, { code: e.code, msg: e.message }).kind;
}

export class EngineExchange implements SyncExchangePort {
  private events: ExchangeEvents | undefined;
  private readonly markets = new Map<SymbolId, MarketInfo>();
  /** Every order id the engine accepted, in order (for audits and tests). */
  readonly log: { time: number; clientOrderId: string; type: string; side: string }[] = [];

  constructor(
    private readonly engine: SimMatchingEngine,
    private readonly account: string,
    markets: Iterable<MarketInfo>,
    private readonly now: () => number,
  ) {
    for (const m of markets) this.markets.set(m.symbol, m);
    engine.onEvent((e) => this.onEngineEvent(e));
  }

  market(symbol: SymbolId): MarketInfo {
    const m = this.markets.get(symbol);
    if (!m) throw new SimRejectError(10007, `bad symbol: ${symbol} is not listed`);
    return m;
  }

  subscribe(events: ExchangeEvents): void {
    this.events = events;
  }

  submitNow(req: OrderRequest): OrderAck {
    try {
      const vo = this.engine.place(
        this.account,
        {
          clientOrderId: req.clientOrderId,
          symbol: req.symbol,
          side: req.side,
          type: req.type === 'market' ? 'market' : req.postOnly === true ? 'post_only' : 'limit',
          quantity: req.quantity,
          ...(req.type === 'limit' && req.price ? { price: req.price } : {}),
        },
        this.now(),
      );
      this.log.push({ time: this.now(), clientOrderId: req.clientOrderId, type: req.type, side: req.side });
      return { clientOrderId: req.clientOrderId, exchangeOrderId: vo.exchangeOrderId, status: vo.status };
    } catch (e) {
      if (!(e instanceof SimRejectError)) throw e;
      return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason: `${e.name} ${e.code}: ${e.message}`, errorKind: kindOf(e) };
    }
  }

  cancelNow(symbol: SymbolId, clientOrderId: string): OrderAck {
    try {
      const vo = this.engine.cancel(this.account, symbol, { clientOrderId }, this.now());
      return { clientOrderId, exchangeOrderId: vo.exchangeOrderId, status: vo.status };
    } catch (e) {
      if (!(e instanceof SimRejectError)) throw e;
      const known = this.engine.order(this.account, symbol, { clientOrderId });
      return known
        ? { clientOrderId, exchangeOrderId: known.exchangeOrderId, status: known.status }
        : { clientOrderId, exchangeOrderId: '', status: 'rejected', reason: `${e.name} ${e.code}: ${e.message}`, errorKind: kindOf(e) };
    }
  }

  holdingNow(symbol: SymbolId, since: number): Holding {
    const m = this.market(symbol);
    const b = this.engine.balances(this.account).find((x) => x.asset === m.base);
    const fills = this.engine.myTrades(this.account, symbol, since, 1000).map((f) => ({ tradeId: f.tradeId, clientOrderId: f.clientOrderId, symbol: f.symbol, side: f.side, price: f.price, quantity: f.quantity, fee: f.fee, feeAsset: f.feeAsset, liquidity: f.liquidity, time: f.time }));
    return { free: b ? b.free : Dec.ZERO, fills };
  }

  holding(symbol: SymbolId, since: number): Promise<Holding> {
    return Promise.resolve(this.holdingNow(symbol, since));
  }

  submit(req: OrderRequest): Promise<OrderAck> {
    return Promise.resolve(this.submitNow(req));
  }

  cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck> {
    return Promise.resolve(this.cancelNow(symbol, clientOrderId));
  }

  private onEngineEvent(e: EngineEvent): void {
    if (e.account !== this.account || !this.events) return;
    if (e.type === 'fill') {
      const f = e.fill;
      this.events.onFill({ tradeId: f.tradeId, clientOrderId: f.clientOrderId, symbol: f.symbol, side: f.side, price: f.price, quantity: f.quantity, fee: f.fee, feeAsset: f.feeAsset, liquidity: f.liquidity, time: f.time });
    } else if (e.type === 'order') {
      const o = e.order;
      this.events.onOrderUpdate({ clientOrderId: o.clientOrderId, symbol: o.symbol, status: o.status, filledQuantity: o.filledQuantity, time: o.updateTime });
    }
  }
}

