/**
 * Validation of every ccxt result (and of decoded protobuf pushes) into a core type: `toCandle`,
 * `toTrade`, `toBookTop`, `toVenueOrder`, `toVenueFill`, `toBalance`. Each returns undefined for
 * anything malformed, which the stream manager counts and drops; nothing here throws.
 */
import { Dec } from '../../core/money.js';
import { splitSymbol, type BookTop, type Candle, type Side, type SymbolId, type Trade } from '../../core/types.js';
import type { OrderStatus } from '../../model/orders.js';
import type { Balance, VenueFill, VenueOrder, VenueOrderType } from '../../venue/types.js';
import type { RawAccountUpdate } from './proClient.js';
import type { StreamKind } from './streamOptions.js';

/** A plain object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
/** A decimal string or number from a ccxt `info` field, as Dec; undefined when absent or invalid. */
function decOf(v: unknown): Dec | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return Dec.from(v);
  } catch {
    return undefined;
  }
}
/** An integer (ms) from a number or an int64 string. */
function intOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A number from a decoded protobuf field: decimals are strings, int64 values are strings (after
 * ccxt's toJSON), protobufjs Long objects (straight from the decoder) or plain numbers.
 */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() !== '' ? Number(v) : Number.NaN;
  if (typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number.NaN;
}

/**
 * A decoded public push (PROTOCOL.md §2) → the shape ccxt's watch call would have returned, so one
 * validation path (toCandle, toTrade, toBookTop) serves both: a kline → `[[openMs, o, h, l, c, v]]`;
 * aggregated deals → trades `{ timestamp, price, amount, info: { tradeType } }`; a book ticker →
 * `{ bid, ask, bidVolume, askVolume, timestamp }` (sendTime). Missing fields become NaN and fail
 * validation (counted as malformed).
 */
export function resultFromPush(kind: StreamKind, push: Record<string, unknown>): unknown {
  if (kind === 'kline') {
    const k = isRecord(push['publicSpotKline']) ? push['publicSpotKline'] : {};
    return [[num(k['windowStart']) * 1000, num(k['openingPrice']), num(k['highestPrice']), num(k['lowestPrice']), num(k['closingPrice']), num(k['volume'])]];
  }
  if (kind === 'trades') {
    const body = isRecord(push['publicAggreDeals']) ? push['publicAggreDeals'] : {};
    const deals = Array.isArray(body['deals']) ? (body['deals'] as unknown[]) : [];
    return deals.map((d) => {
      const r = isRecord(d) ? d : {};
      return { timestamp: num(r['time']), price: num(r['price']), amount: num(r['quantity']), info: { tradeType: r['tradeType'] } };
    });
  }
  const b = isRecord(push['publicAggreBookTicker']) ? push['publicAggreBookTicker'] : {};
  return { bid: num(b['bidPrice']), ask: num(b['askPrice']), bidVolume: num(b['bidQuantity']), askVolume: num(b['askQuantity']), timestamp: num(push['sendTime']) };
}

/** A ccxt OHLCV row → Candle: finite, positive prices, low ≤ open/close ≤ high, volume ≥ 0, open time on the interval grid. */
export function toCandle(row: unknown, intervalMsValue: number): Candle | undefined {
  if (!Array.isArray(row) || row.length < 6) return undefined;
  const [t, o, h, l, c, v] = row as unknown[];
  if (!finite(t) || !finite(o) || !finite(h) || !finite(l) || !finite(c) || !finite(v)) return undefined;
  if (!Number.isSafeInteger(t) || t <= 0) return undefined;
  if (!(o > 0 && h > 0 && l > 0 && c > 0) || v < 0) return undefined;
  if (h < l || h < o || h < c || l > o || l > c) return undefined;
  // Day windows may follow the venue's time zone; shorter ones are aligned to UTC (and to UTC+8).
  if (intervalMsValue < 86_400_000 && t % intervalMsValue !== 0) return undefined;
  return { openTime: t, open: o, high: h, low: l, close: c, volume: v };
}

/** A public trade from ccxt → Trade plus its de-duplication key; side from MEXC's tradeType (1 buy, 2 sell). */
export function toTrade(t: unknown): { trade: Trade; key: string } | undefined {
  if (!isRecord(t)) return undefined;
  const price = t['price'];
  const amount = t['amount'];
  const time = t['timestamp'];
  if (!finite(price) || !(price > 0) || !finite(amount) || !(amount > 0)) return undefined;
  if (!finite(time) || !Number.isSafeInteger(time) || time <= 0) return undefined;
  const info = isRecord(t['info']) ? t['info'] : {};
  // ccxt reads a missing tradeType as a sell; MEXC sends 1 or 2, anything else is not a trade we can use.
  const tt = info['tradeType'] ?? info['S'];
  const side: Side | undefined = tt === 1 || tt === '1' ? 'buy' : tt === 2 || tt === '2' ? 'sell' : undefined;
  if (side === undefined) return undefined;
  const id = t['id'];
  const key = typeof id === 'string' && id !== '' ? id : `${time}|${price}|${amount}|${side}`;
  return { trade: { time, price, quantity: amount, buyerMaker: side === 'sell' }, key };
}

/** A ccxt ticker from the book-ticker channel → BookTop: positive bid and ask, bid ≤ ask, sizes ≥ 0. */
export function toBookTop(t: unknown, now: number): BookTop | undefined {
  if (!isRecord(t)) return undefined;
  const bid = t['bid'];
  const ask = t['ask'];
  const bidSize = t['bidVolume'];
  const askSize = t['askVolume'];
  if (!finite(bid) || !finite(ask) || !(bid > 0) || !(ask > 0) || bid > ask) return undefined;
  if (!finite(bidSize) || !finite(askSize) || bidSize < 0 || askSize < 0) return undefined;
  const ts = t['timestamp'];
  const time = finite(ts) && ts > 0 ? ts : now;
  return { time, bid, bidSize, ask, askSize };
}

const WS_ORDER_STATUS: Readonly<Record<string, OrderStatus>> = { '1': 'new', '2': 'filled', '3': 'partially_filled', '4': 'cancelled', '5': 'cancelled' };
const WS_ORDER_TYPE: Readonly<Record<string, VenueOrderType>> = { '1': 'limit', '2': 'post_only', '3': 'ioc', '5': 'market' };

function sideOf(v: unknown): Side | undefined {
  return v === 1 || v === '1' ? 'buy' : v === 2 || v === '2' ? 'sell' : undefined;
}

/**
 * A ccxt order from the private orders stream → VenueOrder, with exact decimals from the push
 * (PrivateOrdersV3Api, PROTOCOL.md §3). Unknown status or type (FOK, stop orders) → undefined.
 */
export function toVenueOrder(o: unknown, symbol: SymbolId): VenueOrder | undefined {
  if (!isRecord(o) || !isRecord(o['info'])) return undefined;
  const info = o['info'];
  const id = info['id'];
  if (typeof id !== 'string' || id === '') return undefined;
  const side = sideOf(info['tradeType']);
  const status = WS_ORDER_STATUS[String(info['status'])];
  const type = WS_ORDER_TYPE[String(info['orderType'])];
  const time = intOf(info['createTime']);
  if (side === undefined || status === undefined || type === undefined || time === undefined) return undefined;
  // protobuf drops zero values, so an absent cumulative field means 0.
  const filledQuantity = info['cumulativeQuantity'] === undefined ? Dec.ZERO : decOf(info['cumulativeQuantity']);
  const filledQuote = info['cumulativeAmount'] === undefined ? Dec.ZERO : decOf(info['cumulativeAmount']);
  let quantity = info['quantity'] === undefined ? Dec.ZERO : decOf(info['quantity']);
  const price = info['price'] === undefined ? undefined : decOf(info['price']);
  if (filledQuantity === undefined || filledQuote === undefined || quantity === undefined) return undefined;
  if (filledQuantity.isNegative() || filledQuote.isNegative() || quantity.isNegative()) return undefined;
  if (type === 'market') {
    // A market order by quote amount has no base quantity; once it ended, the filled one is it.
    if (quantity.isZero()) quantity = filledQuantity;
  } else if (price === undefined || !price.isPositive() || !quantity.isPositive()) {
    return undefined;
  }
  if (filledQuantity.gt(quantity)) return undefined;
  const last = o['lastTradeTimestamp'];
  const updateTime = finite(last) && last > 0 ? last : time;
  const clientId = info['clientId'];
  return {
    clientOrderId: typeof clientId === 'string' ? clientId : '',
    exchangeOrderId: id,
    symbol,
    side,
    type,
    ...(type !== 'market' && price !== undefined ? { price } : {}),
    quantity,
    filledQuantity,
    filledQuote,
    status,
    time,
    updateTime,
  };
}

/** A ccxt trade from the private deals stream → VenueFill, exact decimals from the push (PrivateDealsV3Api). */
export function toVenueFill(t: unknown, symbol: SymbolId): VenueFill | undefined {
  if (!isRecord(t) || !isRecord(t['info'])) return undefined;
  const info = t['info'];
  const tradeId = info['tradeId'];
  const orderId = info['orderId'];
  if (typeof tradeId !== 'string' || tradeId === '' || typeof orderId !== 'string' || orderId === '') return undefined;
  const side = sideOf(info['tradeType']);
  const price = decOf(info['price']);
  const quantity = decOf(info['quantity']);
  const fee = info['feeAmount'] === undefined ? Dec.ZERO : decOf(info['feeAmount']);
  const time = intOf(info['time']) ?? (finite(t['timestamp']) ? t['timestamp'] : undefined);
  if (side === undefined || price === undefined || quantity === undefined || fee === undefined || time === undefined) return undefined;
  if (!price.isPositive() || !quantity.isPositive() || fee.isNegative() || time <= 0) return undefined;
  const feeCurrency = info['feeCurrency'];
  let feeAsset: string;
  if (typeof feeCurrency === 'string' && feeCurrency !== '') feeAsset = feeCurrency;
  else {
    try {
      feeAsset = splitSymbol(symbol).quote;
    } catch {
      return undefined;
    }
  }
  const clientId = info['clientOrderId'];
  return {
    tradeId,
    exchangeOrderId: orderId,
    clientOrderId: typeof clientId === 'string' ? clientId : '',
    symbol,
    side,
    price,
    quantity,
    fee,
    feeAsset,
    // ccxt looks for maker status under `m`, so it reads every protobuf fill as taker (PROTOCOL.md §3).
    liquidity: info['isMaker'] === true || info['isMaker'] === 'true' ? 'maker' : 'taker',
    time,
  };
}

/** One account push → Balance (free = balanceAmount, locked = frozenAmount; absent = 0). */
export function toBalance(raw: RawAccountUpdate): Balance | undefined {
  const asset = raw.vcoinName;
  if (typeof asset !== 'string' || asset === '') return undefined;
  const free = raw.balanceAmount === undefined ? Dec.ZERO : decOf(raw.balanceAmount);
  const locked = raw.frozenAmount === undefined ? Dec.ZERO : decOf(raw.frozenAmount);
  if (free === undefined || locked === undefined || free.isNegative() || locked.isNegative()) return undefined;
  return { asset, free, locked };
}
