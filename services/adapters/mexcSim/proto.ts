/**
 * MEXC's spot WebSocket protobuf messages, defined in code with protobufjs reflection so no .proto
 * file has to ship. Field numbers and types follow MEXC's published `websocket-proto` definitions
 * (see /work/shared/mexc/PROTOCOL.md §2 and §3); every push is a `PushDataV3ApiWrapper` whose
 * `body` oneof holds one of the messages below.
 */
import protobuf from 'protobufjs';

const { Root, Type, Field, OneOf } = protobuf;

/** Builds a message type from `[name, tag, type, rule?]` rows. */
function message(name: string, fields: readonly (readonly [string, number, string, ('repeated' | 'optional')?])[]): protobuf.Type {
  const t = new Type(name);
  for (const [fname, tag, type, rule] of fields) t.add(new Field(fname, tag, type, rule));
  return t;
}

const root = new Root();
root.add(message('PublicSpotKlineV3Api', [
  ['interval', 1, 'string'],
  ['windowStart', 2, 'int64'],
  ['openingPrice', 3, 'string'],
  ['closingPrice', 4, 'string'],
  ['highestPrice', 5, 'string'],
  ['lowestPrice', 6, 'string'],
  ['volume', 7, 'string'],
  ['amount', 8, 'string'],
  ['windowEnd', 9, 'int64'],
]));
root.add(message('PublicAggreDealsV3ApiItem', [
  ['price', 1, 'string'],
  ['quantity', 2, 'string'],
  ['tradeType', 3, 'int32'],
  ['time', 4, 'int64'],
]));
root.add(message('PublicAggreDealsV3Api', [
  ['deals', 1, 'PublicAggreDealsV3ApiItem', 'repeated'],
  ['eventType', 2, 'string'],
]));
root.add(message('PublicAggreBookTickerV3Api', [
  ['bidPrice', 1, 'string'],
  ['bidQuantity', 2, 'string'],
  ['askPrice', 3, 'string'],
  ['askQuantity', 4, 'string'],
]));
root.add(message('PublicAggreDepthV3ApiItem', [
  ['price', 1, 'string'],
  ['quantity', 2, 'string'],
]));
root.add(message('PublicAggreDepthsV3Api', [
  ['asks', 1, 'PublicAggreDepthV3ApiItem', 'repeated'],
  ['bids', 2, 'PublicAggreDepthV3ApiItem', 'repeated'],
  ['eventType', 3, 'string'],
  ['fromVersion', 4, 'string'],
  ['toVersion', 5, 'string'],
]));
root.add(message('PrivateOrdersV3Api', [
  ['id', 1, 'string'],
  ['clientId', 2, 'string'],
  ['price', 3, 'string'],
  ['quantity', 4, 'string'],
  ['amount', 5, 'string'],
  ['avgPrice', 6, 'string'],
  ['orderType', 7, 'int32'],
  ['tradeType', 8, 'int32'],
  ['isMaker', 9, 'bool'],
  ['remainAmount', 10, 'string'],
  ['remainQuantity', 11, 'string'],
  ['lastDealQuantity', 12, 'string', 'optional'],
  ['cumulativeQuantity', 13, 'string'],
  ['cumulativeAmount', 14, 'string'],
  ['status', 15, 'int32'],
  ['createTime', 16, 'int64'],
]));
root.add(message('PrivateDealsV3Api', [
  ['price', 1, 'string'],
  ['quantity', 2, 'string'],
  ['amount', 3, 'string'],
  ['tradeType', 4, 'int32'],
  ['isMaker', 5, 'bool'],
  ['isSelfTrade', 6, 'bool'],
  ['tradeId', 7, 'string'],
  ['clientOrderId', 8, 'string'],
  ['orderId', 9, 'string'],
  ['feeAmount', 10, 'string'],
  ['feeCurrency', 11, 'string'],
  ['time', 12, 'int64'],
]));
root.add(message('PrivateAccountV3Api', [
  ['vcoinName', 1, 'string'],
  ['coinId', 2, 'string'],
  ['balanceAmount', 3, 'string'],
  ['balanceAmountChange', 4, 'string'],
  ['frozenAmount', 5, 'string'],
  ['frozenAmountChange', 6, 'string'],
  ['type', 7, 'string'],
  ['time', 8, 'int64'],
]));

/** The body fields of the wrapper: name → [tag, message type]. */
const BODIES = {
  publicAggreDepths: [313, 'PublicAggreDepthsV3Api'],
  privateOrders: [304, 'PrivateOrdersV3Api'],
  privateDeals: [306, 'PrivateDealsV3Api'],
  privateAccount: [307, 'PrivateAccountV3Api'],
  publicSpotKline: [308, 'PublicSpotKlineV3Api'],
  publicAggreDeals: [314, 'PublicAggreDealsV3Api'],
  publicAggreBookTicker: [315, 'PublicAggreBookTickerV3Api'],
} as const;

const wrapper = message('PushDataV3ApiWrapper', [
  ['channel', 1, 'string'],
  ['symbol', 3, 'string', 'optional'],
  ['symbolId', 4, 'string', 'optional'],
  ['createTime', 5, 'int64', 'optional'],
  ['sendTime', 6, 'int64', 'optional'],
]);
const body = new OneOf('body');
wrapper.add(body);
for (const [name, [tag, type]] of Object.entries(BODIES)) {
  const f = new Field(name, tag, type);
  wrapper.add(f);
  body.add(f);
}
root.add(wrapper);
root.resolveAll();

/** The wrapper type, for decoding in tests and clients. */
export const PushDataV3ApiWrapper: protobuf.Type = root.lookupType('PushDataV3ApiWrapper');

export type PushBodyName = keyof typeof BODIES;

/** One push: the envelope fields and exactly one body. Values are plain JS (strings for decimals, numbers for times). */
export interface PushFrame {
  readonly channel: string;
  readonly symbol?: string;
  readonly createTime?: number;
  readonly sendTime?: number;
  readonly body: PushBodyName;
  readonly data: Record<string, unknown>;
}

/** Encodes a push frame into the bytes of a binary WebSocket message. */
export function encodePush(frame: PushFrame): Uint8Array {
  const msg: Record<string, unknown> = { channel: frame.channel, [frame.body]: frame.data };
  if (frame.symbol !== undefined) msg.symbol = frame.symbol;
  if (frame.createTime !== undefined) msg.createTime = frame.createTime;
  if (frame.sendTime !== undefined) msg.sendTime = frame.sendTime;
  return PushDataV3ApiWrapper.encode(PushDataV3ApiWrapper.fromObject(msg)).finish();
}

/**
 * Decodes a binary push into a plain object the way ccxt sees it (int64 as strings, the body under
 * its field name). For tests and diagnostics.
 */
export function decodePush(bytes: Uint8Array): Record<string, unknown> {
  const m = PushDataV3ApiWrapper.decode(bytes);
  return PushDataV3ApiWrapper.toObject(m, { longs: String, oneofs: true });
}
