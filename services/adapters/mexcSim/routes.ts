/**
 * The simulator's REST routes (MEXC spot V3, PROTOCOL.md §1): public market data, then the signed
 * account, order and listen-key endpoints. A route returns the JSON body or throws RestError /
 * SimRejectError, which the server turns into MEXC's `{"code","msg"}` answer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dec } from '../../core/money.js';
import { SimRejectError, type MatchingEngine } from '../../sim/types.js';
import type { VenueOrder, VenueOrderRequest } from '../../venue/types.js';
import type { SimAuth } from './auth.js';
import { INTERVALS } from './channels.js';
import { klines, ticker24h, type SymbolState } from './marketData.js';
import {
  TYPE_FROM_MEXC,
  cancelJson,
  exchangeInfoSymbol,
  feeFraction,
  klineRow,
  newOrderJson,
  num,
  orderJson,
  publicTradeJson,
  tradeJson,
} from './mexcJson.js';
import { RestError, decimalParam, intParam, orderRef, param, parseParams } from './request.js';

/** One order create that reached the matching engine. */
export interface OrderLogEntry {
  readonly time: number;
  readonly account: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly type: VenueOrderRequest['type'];
  readonly outcome: 'placed' | 'rejected';
  /** MEXC error code when rejected. */
  readonly code?: number;
}

/** What the routes work on. */
export interface RoutesContext {
  readonly engine: MatchingEngine;
  readonly auth: SimAuth;
  readonly symbols: ReadonlyMap<string, SymbolState>;
  /** Wall clock (server time, auth). */
  readonly now: () => number;
  /** Market-data clock (order times). */
  readonly marketNow: () => number;
  readonly log: (line: string) => void;
  /** Closes the WebSocket connections opened with a deleted listen key. */
  readonly closeListenKey: (listenKey: string, reason: string) => void;
}

/** Bound of the order log and of the remembered market-order quote amounts. */
export const MAX_ORDER_LOG = 100_000;

const SIGNED_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/v3/capital/config/getall',
  'GET /api/v3/selfSymbols',
  'GET /api/v3/account',
  'POST /api/v3/order',
  'POST /api/v3/order/test',
  'GET /api/v3/order',
  'DELETE /api/v3/order',
  'GET /api/v3/openOrders',
  'DELETE /api/v3/openOrders',
  'GET /api/v3/allOrders',
  'GET /api/v3/myTrades',
  'GET /api/v3/tradeFee',
  'POST /api/v3/userDataStream',
  'PUT /api/v3/userDataStream',
  'DELETE /api/v3/userDataStream',
  'GET /api/v3/userDataStream',
]);

/** The REST endpoints, with the order log and order counters they keep. */
export class SimRoutes {
  private readonly log_: OrderLogEntry[] = [];
  /** Requested quote amounts of market orders by quote (for `origQuoteOrderQty`). */
  private readonly quoteRequests = new Map<string, string>();
  private autoIdSeq = 0;
  placed = 0;
  rejected = 0;

  constructor(private readonly ctx: RoutesContext) {}

  /** Every create request that reached the matching engine, oldest first (bounded). */
  orderLog(): readonly OrderLogEntry[] {
    return [...this.log_];
  }

  /** The quote amount a market order asked for, if it was placed by quote. */
  quoteRequestOf(exchangeOrderId: string): string | undefined {
    return this.quoteRequests.get(exchangeOrderId);
  }

  /** Routes one request; returns the JSON body or throws RestError/SimRejectError. */
  route(method: string, path: string, rawQuery: string, rawBody: string, headers: IncomingHttpHeaders): unknown {
    const { engine, now } = this.ctx;
    const params = parseParams(rawQuery, rawBody);
    const get = (k: string): string | undefined => {
      const v = params.get(k);
      return v === undefined || v === '' ? undefined : v;
    };
    const all = (): SymbolState[] => [...this.ctx.symbols.values()];
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return {};
      case 'GET /api/v3/time':
        return { serverTime: now() };
      case 'GET /api/v3/exchangeInfo':
        return this.exchangeInfo(get('symbol'), get('symbols'));
      case 'GET /api/v3/defaultSymbols':
        return { code: 200, data: this.apiSymbols(), msg: null };
      case 'GET /api/v1/contract/detail':
        return { success: true, code: 0, data: [] };
      case 'GET /api/v3/depth':
        return this.depth(this.symbolParam(get('symbol')));
      case 'GET /api/v3/klines':
        return this.klines(this.symbolParam(get('symbol')), get('interval'), get('startTime'), get('endTime'), get('limit'));
      case 'GET /api/v3/ticker/24hr': {
        const s = get('symbol');
        const one = (st: SymbolState): unknown => ticker24h(st, engine.bookTop(st.spec.symbol));
        return s ? one(this.symbolParam(s)) : all().map(one);
      }
      case 'GET /api/v3/ticker/bookTicker': {
        const s = get('symbol');
        return s ? this.bookTicker(this.symbolParam(s)) : all().map((st) => this.bookTicker(st));
      }
      case 'GET /api/v3/ticker/price': {
        const s = get('symbol');
        const one = (st: SymbolState): unknown => ({ symbol: st.spec.symbol, price: st.lastPrice === undefined ? null : num(st.lastPrice) });
        return s ? one(this.symbolParam(s)) : all().map(one);
      }
      case 'GET /api/v3/aggTrades':
      case 'GET /api/v3/trades': {
        const st = this.symbolParam(get('symbol'));
        const limit = Math.min(1000, Math.max(1, intParam(get('limit'), 'limit') ?? 500));
        return st.trades.slice(Math.max(0, st.trades.length - limit)).map((t) => publicTradeJson(t, path.endsWith('aggTrades')));
      }
      default:
        break;
    }
    if (!SIGNED_ROUTES.has(key)) throw new RestError(404, 404, `Not Found: ${method} ${path}`);
    const account = this.ctx.auth.authenticate(headers, rawQuery, rawBody, params);
    switch (key) {
      case 'GET /api/v3/capital/config/getall':
        return [];
      case 'GET /api/v3/selfSymbols':
        return { code: 200, data: this.apiSymbols(), msg: null };
      case 'GET /api/v3/account':
        return {
          makerCommission: null,
          takerCommission: null,
          buyerCommission: null,
          sellerCommission: null,
          canTrade: true,
          canWithdraw: true,
          canDeposit: true,
          updateTime: null,
          accountType: 'SPOT',
          balances: engine
            .balances(account)
            .filter((b) => !b.free.isZero() || !b.locked.isZero())
            .map((b) => ({ asset: b.asset, free: b.free.toString(), locked: b.locked.toString() })),
          permissions: ['SPOT'],
        };
      case 'POST /api/v3/order/test': {
        const st = this.symbolParam(get('symbol'));
        this.orderRequest(get, st);
        return {};
      }
      case 'POST /api/v3/order':
        return this.createOrder(account, get);
      case 'GET /api/v3/order': {
        const st = this.symbolParam(get('symbol'));
        const o = engine.order(account, st.spec.symbol, orderRef(get));
        if (!o) throw new RestError(400, -2013, 'Order does not exist.');
        return this.orderJson(o);
      }
      case 'DELETE /api/v3/order': {
        const st = this.symbolParam(get('symbol'));
        const ref = orderRef(get);
        const o = engine.cancel(account, st.spec.symbol, ref, this.ctx.marketNow());
        return cancelJson(o, 'clientOrderId' in ref ? ref.clientOrderId : o.clientOrderId, this.quoteRequests.get(o.exchangeOrderId));
      }
      case 'GET /api/v3/openOrders': {
        const s = get('symbol');
        return engine.openOrders(account, s ? this.symbolParam(s).spec.symbol : undefined).map((o) => this.orderJson(o));
      }
      case 'DELETE /api/v3/openOrders': {
        const s = get('symbol');
        if (!s) throw param('symbol');
        const out: unknown[] = [];
        // MEXC takes up to 5 symbols, comma separated.
        for (const one of s.split(',').slice(0, 5)) {
          const st = this.symbolParam(one);
          for (const o of engine.openOrders(account, st.spec.symbol)) {
            const c = engine.cancel(account, st.spec.symbol, { exchangeOrderId: o.exchangeOrderId }, this.ctx.marketNow());
            out.push(cancelJson(c, o.clientOrderId, this.quoteRequests.get(c.exchangeOrderId)));
          }
        }
        return out;
      }
      case 'GET /api/v3/allOrders': {
        const st = this.symbolParam(get('symbol'));
        const start = intParam(get('startTime'), 'startTime');
        const end = intParam(get('endTime'), 'endTime');
        const limit = Math.min(1000, intParam(get('limit'), 'limit') ?? 500);
        const list = engine.allOrders(account, st.spec.symbol).filter((o) => (start === undefined || o.time >= start) && (end === undefined || o.time <= end));
        return list.slice(Math.max(0, list.length - limit)).map((o) => this.orderJson(o));
      }
      case 'GET /api/v3/myTrades': {
        const st = this.symbolParam(get('symbol'));
        const start = intParam(get('startTime'), 'startTime');
        const end = intParam(get('endTime'), 'endTime');
        const limit = Math.min(100, Math.max(1, intParam(get('limit'), 'limit') ?? 100));
        const orderId = get('orderId');
        const list = engine
          .myTrades(account, st.spec.symbol, start)
          .filter((f) => (end === undefined || f.time <= end) && (orderId === undefined || f.exchangeOrderId === orderId));
        const page = start === undefined ? list.slice(Math.max(0, list.length - limit)) : list.slice(0, limit);
        return page.map((f) => tradeJson(f));
      }
      case 'GET /api/v3/tradeFee': {
        const st = this.symbolParam(get('symbol'));
        return { data: { makerCommission: feeFraction(st.spec.makerFeePct), takerCommission: feeFraction(st.spec.takerFeePct) }, code: 0, msg: 'success', timestamp: now() };
      }
      case 'POST /api/v3/userDataStream':
        return { listenKey: this.ctx.auth.createListenKey(account) };
      case 'PUT /api/v3/userDataStream':
      case 'DELETE /api/v3/userDataStream': {
        const lk = get('listenKey');
        if (!lk) throw param('listenKey');
        this.ctx.auth.updateListenKey(account, lk, method === 'PUT' ? 'extend' : 'delete');
        if (method === 'DELETE') this.ctx.closeListenKey(lk, 'listen key closed');
        return { listenKey: lk };
      }
      case 'GET /api/v3/userDataStream':
        return { listenKey: this.ctx.auth.listenKeysOf(account) };
      default:
        throw new RestError(404, 404, `Not Found: ${method} ${path}`);
    }
  }

  private symbolParam(s: string | undefined): SymbolState {
    if (!s) throw param('symbol');
    const st = this.ctx.symbols.get(s.toUpperCase());
    if (!st) throw new RestError(400, -1121, 'Invalid symbol.');
    return st;
  }

  private apiSymbols(): string[] {
    return [...this.ctx.symbols.values()].filter((s) => s.spec.apiTradable).map((s) => s.spec.symbol);
  }

  private exchangeInfo(symbol: string | undefined, symbols: string | undefined): unknown {
    let list = [...this.ctx.symbols.values()];
    if (symbol || symbols) {
      const wanted = new Set((symbol ?? symbols ?? '').split(',').map((s) => s.trim().toUpperCase()));
      list = list.filter((s) => wanted.has(s.spec.symbol));
      if (list.length === 0) throw new RestError(400, -1121, 'Invalid symbol.');
    }
    return { timezone: 'CST', serverTime: this.ctx.now(), rateLimits: [], exchangeFilters: [], symbols: list.map(({ spec }) => exchangeInfoSymbol(spec)) };
  }

  private depth(st: SymbolState): unknown {
    const b = this.ctx.engine.bookTop(st.spec.symbol);
    return {
      lastUpdateId: st.bookVersion,
      bids: b && b.bid > 0 ? [[num(b.bid), num(b.bidSize)]] : [],
      asks: b && b.ask > 0 ? [[num(b.ask), num(b.askSize)]] : [],
      timestamp: b?.time ?? st.lastTime,
    };
  }

  private bookTicker(st: SymbolState): unknown {
    const b = this.ctx.engine.bookTop(st.spec.symbol);
    return { symbol: st.spec.symbol, bidPrice: b ? num(b.bid) : null, bidQty: b ? num(b.bidSize) : null, askPrice: b ? num(b.ask) : null, askQty: b ? num(b.askSize) : null };
  }

  private klines(st: SymbolState, interval: string | undefined, startS: string | undefined, endS: string | undefined, limitS: string | undefined): unknown {
    if (!interval) throw param('interval');
    const iv = INTERVALS.find((i) => i.rest === interval);
    if (!iv) throw new RestError(400, -1121, `Invalid interval.`);
    const start = intParam(startS, 'startTime');
    const end = intParam(endS, 'endTime') ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(1000, Math.max(1, intParam(limitS, 'limit') ?? 500));
    return klines(st, iv, start, end, limit).map((k) => klineRow(k, iv.ms));
  }

  /**
   * Builds the engine request from the order parameters. Throws RestError for a malformed one:
   * 700004 for a missing or malformed parameter (`1e-3`, `+1`, `0x10`), 10096 for a decimal past 18
   * places (Dec would round it, and the engine would then see a value on the lot step).
   */
  private orderRequest(get: (k: string) => string | undefined, st: SymbolState): VenueOrderRequest {
    const sideS = get('side')?.toUpperCase();
    if (sideS !== 'BUY' && sideS !== 'SELL') throw param('side');
    const typeS = get('type')?.toUpperCase();
    const type = typeS ? TYPE_FROM_MEXC[typeS] : undefined;
    if (!type) throw param('type');
    const clientOrderId = get('newClientOrderId') ?? `sim-auto-${++this.autoIdSeq}`;
    if (clientOrderId.length > 64) throw param('newClientOrderId');
    // At most 18 decimals here (Dec's precision: a longer literal would be rounded into a valid
    // one); the lot step and tick are the engine's checks (10096), so the refusal is in its log.
    const quantity: Dec | undefined = decimalParam(get('quantity'), 'quantity');
    const quoteAmount: Dec | undefined = decimalParam(get('quoteOrderQty'), 'quoteOrderQty');
    const price: Dec | undefined = decimalParam(get('price'), 'price');
    return {
      clientOrderId,
      symbol: st.spec.symbol,
      side: sideS === 'BUY' ? 'buy' : 'sell',
      type,
      ...(quantity ? { quantity } : {}),
      ...(quoteAmount ? { quoteAmount } : {}),
      ...(price ? { price } : {}),
    };
  }

  private createOrder(account: string, get: (k: string) => string | undefined): unknown {
    const st = this.symbolParam(get('symbol'));
    const req = this.orderRequest(get, st);
    const time = this.ctx.marketNow();
    let o: VenueOrder;
    try {
      o = this.ctx.engine.place(account, req, time);
    } catch (e) {
      if (e instanceof SimRejectError) {
        this.record({ time, account, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, type: req.type, outcome: 'rejected', code: e.code });
        this.rejected++;
        this.ctx.log(`order ${req.clientOrderId} rejected: ${e.code} ${e.message}`);
      }
      throw e;
    }
    this.record({ time, account, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, type: req.type, outcome: 'placed' });
    this.placed++;
    if (req.type === 'market' && req.quoteAmount && !req.quantity) {
      this.quoteRequests.set(o.exchangeOrderId, req.quoteAmount.toString());
      // Oldest first (Map order); an evicted entry only loses origQuoteOrderQty of an old order.
      if (this.quoteRequests.size > MAX_ORDER_LOG) this.quoteRequests.delete(this.quoteRequests.keys().next().value!);
    }
    this.ctx.log(`order ${req.clientOrderId} placed: ${o.exchangeOrderId} ${req.side} ${req.type} ${req.symbol} -> ${o.status}`);
    return newOrderJson(o, req.price);
  }

  private record(e: OrderLogEntry): void {
    this.log_.push(e);
    if (this.log_.length > MAX_ORDER_LOG) this.log_.splice(0, this.log_.length - MAX_ORDER_LOG);
  }

  private orderJson(o: VenueOrder): Record<string, unknown> {
    return orderJson(o, this.quoteRequests.get(o.exchangeOrderId));
  }
}
