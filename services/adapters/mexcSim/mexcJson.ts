/**
 * The JSON shapes MEXC's spot V3 API answers with (REST bodies and the decoded fields of the
 * private WebSocket pushes), built from the engine's records. Field names, types and enum codes
 * follow PROTOCOL.md §1 and §3; numbers travel as plain decimal strings.
 */
import { Dec } from '../../core/money.js';
import type { Candle } from '../../core/types.js';
import type { EngineEvent, SimMarketSpec } from '../../sim/types.js';

type BalanceEvent = Extract<EngineEvent, { type: 'balance' }>;
import type { VenueFill, VenueOrder, VenueOrderType } from '../../venue/types.js';

export const TYPE_FROM_MEXC: Readonly<Record<string, VenueOrderType | undefined>> = { LIMIT: 'limit', MARKET: 'market', LIMIT_MAKER: 'post_only', IMMEDIATE_OR_CANCEL: 'ioc' };
export const TYPE_TO_MEXC: Readonly<Record<VenueOrderType, string>> = { limit: 'LIMIT', market: 'MARKET', post_only: 'LIMIT_MAKER', ioc: 'IMMEDIATE_OR_CANCEL' };

/** A market-data number as a plain decimal string (never exponent notation such as "1e-7"). */
export function num(n: number): string {
  return Number.isFinite(n) ? Dec.from(n).toString() : '0';
}

/** Quote volume of a candle, estimated as volume x typical price (candle files carry no quote volume). */
export function quoteVolume(c: Candle): string {
  const typical = Dec.from(c.high).add(Dec.from(c.low)).add(Dec.from(c.close)).div(Dec.from(3));
  return Dec.from(c.volume).mul(typical).toFixed(8).replace(/\.?0+$/, '');
}

/** A fee percent (0.05) as the fraction MEXC sends (0.0005). */
export function feeFraction(pct: number): string {
  return Dec.from(pct).div(Dec.from(100)).toString();
}

/** Decimals of a step (0.001 → 3); ccxt turns `baseAssetPrecision`/`quoteAssetPrecision` back into 10^-n. */
export function decimalsOf(step: Dec): number {
  const s = step.toString();
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

function isOpen(o: VenueOrder): boolean {
  return o.status === 'new' || o.status === 'partially_filled';
}

/** REST status: an order that ended without filling fully is CANCELED or PARTIALLY_CANCELED. */
function restStatus(o: VenueOrder): string {
  switch (o.status) {
    case 'new':
      return 'NEW';
    case 'partially_filled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    default:
      return o.filledQuantity.isPositive() ? 'PARTIALLY_CANCELED' : 'CANCELED';
  }
}

/** Private-stream status: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled. */
function wsStatus(o: VenueOrder): number {
  switch (o.status) {
    case 'new':
      return 1;
    case 'filled':
      return 2;
    case 'partially_filled':
      return 3;
    default:
      return o.filledQuantity.isPositive() ? 5 : 4;
  }
}

/** One symbol of `GET /api/v3/exchangeInfo`. */
export function exchangeInfoSymbol(spec: SimMarketSpec): Record<string, unknown> {
  const baseDecimals = decimalsOf(spec.stepSize);
  const quoteDecimals = decimalsOf(spec.tickSize);
  const maxQuote = (spec.maxNotional ?? Dec.from(2_000_000)).toString();
  return {
    symbol: spec.symbol,
    status: spec.status === 'online' ? '1' : spec.status === 'paused' ? '2' : '3',
    baseAsset: spec.base,
    baseAssetPrecision: baseDecimals,
    quoteAsset: spec.quote,
    quotePrecision: quoteDecimals,
    quoteAssetPrecision: quoteDecimals,
    baseCommissionPrecision: baseDecimals,
    quoteCommissionPrecision: quoteDecimals,
    orderTypes: ['LIMIT', 'MARKET', 'LIMIT_MAKER'],
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    quoteAmountPrecision: spec.minNotional.toString(),
    baseSizePrecision: spec.minQuantity.toString(),
    permissions: ['SPOT'],
    filters: [],
    maxQuoteAmount: maxQuote,
    makerCommission: feeFraction(spec.makerFeePct),
    takerCommission: feeFraction(spec.takerFeePct),
    quoteAmountPrecisionMarket: spec.minNotional.toString(),
    maxQuoteAmountMarket: maxQuote,
    fullName: spec.base,
    // 1 = both sides tradable, 4 = closed.
    tradeSideType: spec.status === 'offline' ? 4 : 1,
    st: false,
  };
}

/** One row of `GET /api/v3/klines`: open time, OHLCV, close time, quote volume. */
export function klineRow(k: Candle, ms: number): unknown[] {
  return [k.openTime, num(k.open), num(k.high), num(k.low), num(k.close), num(k.volume), k.openTime + ms, quoteVolume(k)];
}

/** Order JSON of query-order, open-orders and all-orders. `origQuoteOrderQty`: the quote amount a market order asked for. */
export function orderJson(o: VenueOrder, origQuoteOrderQty: string | undefined): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.exchangeOrderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: o.price?.toString() ?? '0',
    origQty: o.quantity.toString(),
    executedQty: o.filledQuantity.toString(),
    cummulativeQuoteQty: o.filledQuote.toString(),
    status: restStatus(o),
    timeInForce: null,
    type: TYPE_TO_MEXC[o.type],
    side: o.side === 'buy' ? 'BUY' : 'SELL',
    stopPrice: null,
    icebergQty: null,
    time: o.time,
    updateTime: o.updateTime,
    isWorking: true,
    origQuoteOrderQty: origQuoteOrderQty ?? '0',
  };
}

/** A cancel reply: the order JSON without its times, with the client id the cancel named. */
export function cancelJson(o: VenueOrder, origClientOrderId: string, origQuoteOrderQty: string | undefined): Record<string, unknown> {
  const { time: _t, updateTime: _u, isWorking: _w, origQuoteOrderQty: _q, ...rest } = orderJson(o, origQuoteOrderQty);
  return { ...rest, origClientOrderId };
}

/** The new-order reply (MEXC's has no status field). */
export function newOrderJson(o: VenueOrder, requestedPrice: Dec | undefined): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: o.exchangeOrderId,
    orderListId: -1,
    price: (o.price ?? requestedPrice)?.toString() ?? '0',
    origQty: o.quantity.toString(),
    type: TYPE_TO_MEXC[o.type],
    side: o.side === 'buy' ? 'BUY' : 'SELL',
    transactTime: o.time,
  };
}

/** The private orders push (`privateOrders`). `quoteRequest`: the quote amount a market order asked for. */
export function wsOrder(o: VenueOrder, quoteRequest: string | undefined): Record<string, unknown> {
  const amount = quoteRequest ?? (o.price ? o.price.mul(o.quantity).toString() : o.filledQuote.toString());
  const remainQty = o.quantity.sub(o.filledQuantity);
  return {
    id: o.exchangeOrderId,
    clientId: o.clientOrderId,
    price: o.price?.toString() ?? '0',
    quantity: o.quantity.toString(),
    amount,
    avgPrice: o.filledQuantity.isPositive() ? o.filledQuote.div(o.filledQuantity).toString() : '0',
    orderType: { limit: 1, post_only: 2, ioc: 3, market: 5 }[o.type],
    tradeType: o.side === 'buy' ? 1 : 2,
    isMaker: o.type === 'post_only' || (o.type === 'limit' && o.status === 'new'),
    remainAmount: Dec.max(Dec.ZERO, Dec.from(amount).sub(o.filledQuote)).toString(),
    remainQuantity: (isOpen(o) ? remainQty : Dec.ZERO).toString(),
    cumulativeQuantity: o.filledQuantity.toString(),
    cumulativeAmount: o.filledQuote.toString(),
    status: wsStatus(o),
    createTime: o.time,
  };
}

/** The private deals push (`privateDeals`). */
export function wsDeal(f: VenueFill): Record<string, unknown> {
  return {
    price: f.price.toString(),
    quantity: f.quantity.toString(),
    amount: f.price.mul(f.quantity).toString(),
    tradeType: f.side === 'buy' ? 1 : 2,
    isMaker: f.liquidity === 'maker',
    isSelfTrade: false,
    tradeId: f.tradeId,
    clientOrderId: f.clientOrderId,
    orderId: f.exchangeOrderId,
    feeAmount: f.fee.toString(),
    feeCurrency: f.feeAsset,
    time: f.time,
  };
}

/** The private account push (`privateAccount`). */
export function wsAccount(e: BalanceEvent, time: number): Record<string, unknown> {
  const b = e.balance;
  return {
    vcoinName: b.asset,
    coinId: b.asset,
    balanceAmount: b.free.toString(),
    balanceAmountChange: e.freeChange.toString(),
    frozenAmount: b.locked.toString(),
    frozenAmountChange: e.lockedChange.toString(),
    type: e.reason,
    time,
  };
}

/** myTrades row. No `isBuyerMaker`: ccxt would recompute the side from it and call every fill taker. */
export function tradeJson(f: VenueFill): Record<string, unknown> {
  return {
    symbol: f.symbol,
    id: f.tradeId,
    orderId: f.exchangeOrderId,
    orderListId: -1,
    price: f.price.toString(),
    qty: f.quantity.toString(),
    quoteQty: f.price.mul(f.quantity).toString(),
    commission: f.fee.toString(),
    commissionAsset: f.feeAsset,
    time: f.time,
    isBuyer: f.side === 'buy',
    isMaker: f.liquidity === 'maker',
    isBestMatch: true,
    isSelfTrade: false,
    clientOrderId: f.clientOrderId,
  };
}

/** One public trade as the simulator keeps it. */
export interface PublicTrade {
  readonly id: number;
  readonly price: number;
  readonly qty: number;
  readonly time: number;
  readonly buyerMaker: boolean;
}

/** A row of `GET /api/v3/trades` (`agg` false) or `GET /api/v3/aggTrades`. */
export function publicTradeJson(t: PublicTrade, agg: boolean): Record<string, unknown> {
  if (agg) return { a: null, f: null, l: null, p: num(t.price), q: num(t.qty), T: t.time, m: t.buyerMaker, M: true };
  return {
    id: null,
    price: num(t.price),
    qty: num(t.qty),
    quoteQty: Dec.from(t.price).mul(Dec.from(t.qty)).toString(),
    time: t.time,
    isBuyerMaker: t.buyerMaker,
    isBestMatch: true,
    tradeType: t.buyerMaker ? 'ASK' : 'BID',
  };
}
