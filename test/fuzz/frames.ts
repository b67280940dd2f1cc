/**
 * The WebSocket frame decoder: ProMexc.handleMessage (services/adapters/mexc/proClient.ts) with the
 * stream manager's validation behind it (services/adapters/mexc/streamParsers.ts: resultFromPush,
 * toCandle, toTrade, toBookTop, toVenueOrder, toVenueFill, toBalance). Inputs: pushes of every
 * channel with random field values (matching and mismatched bodies, known and unknown symbols),
 * the same with bytes flipped, cut or added, random bytes, text frames and JSON objects.
 * Rules: handleMessage never throws; each frame is counted once (frames + 1) and ends up in exactly
 * one place: the push sink (validated: a valid candle, trade or book, or counted as malformed),
 * ccxt's own handlers, or the client's malformed / unexpected counters; validators never throw and
 * what they accept is consistent.
 */
import fc from 'fast-check';
import { mexcProFactory, type ProMexc } from '../../services/adapters/mexc/proClient.js';
import { resultFromPush, toBalance, toBookTop, toCandle, toTrade, toVenueFill, toVenueOrder } from '../../services/adapters/mexc/streamParsers.js';
import { encodePush, type PushFrame } from '../../services/adapters/mexcSim/proto.js';
import { startSimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { FuzzInvariantError, fuzz, nastyString, type FuzzOptions, type FuzzResult, type Tally } from './common.js';

const BTC = symbolId('BTCUSDT');
const CHANNELS = [
  ['public.kline.v3.api.pb', 'publicSpotKline', '@Min1'],
  ['public.aggre.deals.v3.api.pb', 'publicAggreDeals', ''],
  ['public.aggre.bookTicker.v3.api.pb', 'publicAggreBookTicker', ''],
  ['public.aggre.depth.v3.api.pb', 'publicAggreDepths', ''],
  ['private.account.v3.api.pb', 'privateAccount', ''],
  ['private.deals.v3.api.pb', 'privateDeals', ''],
  ['private.orders.v3.api.pb', 'privateOrders', ''],
] as const;
const BODIES = CHANNELS.map((c) => c[1]);

/** Mostly plausible decimals (so pushes get past decoding to the validators), sometimes anything. */
const field = fc.oneof(
  { weight: 4, arbitrary: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }).map(String), fc.constantFrom('1', '2', '3', '0.5', '56000.1', '0', '-1')) },
  { weight: 1, arbitrary: nastyString },
);
const int64 = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(1_700_000_000), fc.constant(1_700_000_000_000));
const data: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  publicSpotKline: fc.record({ interval: fc.constantFrom('Min1', 'Min5', 'x'), windowStart: int64, openingPrice: field, closingPrice: field, highestPrice: field, lowestPrice: field, volume: field, amount: field, windowEnd: int64 }, { requiredKeys: [] }),
  publicAggreDeals: fc.record({ deals: fc.array(fc.record({ price: field, quantity: field, tradeType: fc.integer({ min: -1, max: 3 }), time: int64 }, { requiredKeys: [] }), { maxLength: 4 }), eventType: field }, { requiredKeys: [] }),
  publicAggreBookTicker: fc.record({ bidPrice: field, bidQuantity: field, askPrice: field, askQuantity: field }, { requiredKeys: [] }),
  publicAggreDepths: fc.record({ asks: fc.array(fc.record({ price: field, quantity: field }), { maxLength: 3 }), bids: fc.array(fc.record({ price: field, quantity: field }), { maxLength: 3 }), eventType: field, fromVersion: field, toVersion: field }, { requiredKeys: [] }),
  privateAccount: fc.record({ vcoinName: fc.constantFrom('USDT', 'BTC', ''), coinId: field, balanceAmount: field, balanceAmountChange: field, frozenAmount: field, frozenAmountChange: field, type: field, time: int64 }, { requiredKeys: [] }),
  privateDeals: fc.record({ price: field, quantity: field, amount: field, tradeType: fc.integer({ min: 0, max: 3 }), isMaker: fc.boolean(), isSelfTrade: fc.boolean(), tradeId: field, clientOrderId: field, orderId: field, feeAmount: field, feeCurrency: field, time: int64 }, { requiredKeys: [] }),
  privateOrders: fc.record({ id: field, clientId: field, price: field, quantity: field, amount: field, avgPrice: field, orderType: fc.integer({ min: 0, max: 6 }), tradeType: fc.integer({ min: 0, max: 3 }), isMaker: fc.boolean(), remainAmount: field, remainQuantity: field, cumulativeQuantity: field, cumulativeAmount: field, status: fc.integer({ min: 0, max: 6 }), createTime: int64 }, { requiredKeys: [] }),
};

const push: fc.Arbitrary<PushFrame> = fc
  .record({
    c: fc.integer({ min: 0, max: CHANNELS.length - 1 }),
    mismatch: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
    body: fc.constantFrom(...BODIES),
    symbol: fc.oneof({ weight: 4, arbitrary: fc.constant('BTCUSDT') }, { weight: 1, arbitrary: fc.constantFrom('XYZUSDT', '', 'btcusdt') }),
    sendTime: int64,
    odd: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }),
  })
  .chain(({ c, mismatch, body, symbol, sendTime, odd }) => {
    const [name, ownBody, suffix] = CHANNELS[c]!;
    const b = mismatch ? body : ownBody;
    return data[b]!.map((d) => ({ channel: odd ?? `spot@${name}@${symbol}${suffix}`, symbol, sendTime, body: b, data: d }));
  });

/** One frame: bytes (a push, maybe mutated, or random), text, or an object (a parsed JSON frame). */
type Frame = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'text'; text: string } | { kind: 'object'; value: unknown };

function encodeOr(p: PushFrame, fallback: Uint8Array): Uint8Array {
  try {
    return encodePush(p);
  } catch {
    // A field protobuf cannot hold (a non-numeric int64): the frame is the random bytes instead.
    return fallback;
  }
}

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(push, fc.uint8Array({ maxLength: 64 })).map(([p, r]): Frame => ({ kind: 'bytes', bytes: encodeOr(p, r) })) },
  {
    weight: 3,
    arbitrary: fc.tuple(push, fc.uint8Array({ maxLength: 64 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.integer({ min: -20, max: 20 })).map(([p, r, flips, cut]): Frame => {
      const b = Uint8Array.from(encodeOr(p, r));
      for (const [at, v] of flips) if (b.length) b[at % b.length] = v;
      const out = cut < 0 ? b.slice(0, Math.max(0, b.length + cut)) : Uint8Array.from([...b, ...r.slice(0, cut)]);
      return { kind: 'bytes', bytes: out };
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes): Frame => ({ kind: 'bytes', bytes })) },
  { weight: 1, arbitrary: fc.oneof(nastyString, fc.constantFrom('Invalid listen key', 'PONG', '{"msg":"PONG"}')).map((text): Frame => ({ kind: 'text', text })) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.jsonValue({ maxDepth: 3 }),
        fc.record({ id: fc.integer(), code: fc.integer(), msg: fc.oneof(nastyString, fc.constantFrom('PONG', 'spot@public.kline.v3.api.pb@BTCUSDT@Min1', 'Not Subscribed successfully! [spot@x]. Reason: Blocked!')) }, { requiredKeys: [] }),
        fc.record({ c: fc.oneof(nastyString, fc.constantFrom('spot@public.deals.v3.api@BTCUSDT', 'spot@private.orders.v3.api')), d: fc.jsonValue({ maxDepth: 2 }), s: nastyString, t: fc.integer() }, { requiredKeys: [] }),
      )
      .map((value): Frame => ({ kind: 'object', value })),
  },
);

/** The validators straight on anything: never throw; what they accept is consistent. */
const validatorInput = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.array(fc.oneof(fc.double(), nastyString), { maxLength: 7 }), fc.record({ price: fc.double(), amount: fc.double(), timestamp: fc.double(), info: fc.record({ tradeType: fc.integer({ min: 0, max: 3 }) }) }, { requiredKeys: [] }));

function checkValidators(v: unknown, tally: Tally): void {
  const c = toCandle(v, 60_000);
  if (c && !(c.low > 0 && c.low <= Math.min(c.open, c.close) && c.high >= Math.max(c.open, c.close) && c.volume >= 0 && c.openTime % 60_000 === 0)) throw new FuzzInvariantError(`toCandle accepted ${JSON.stringify(c)}`);
  const t = toTrade(v);
  if (t && !(t.trade.price > 0 && t.trade.quantity > 0 && Number.isSafeInteger(t.trade.time))) throw new FuzzInvariantError(`toTrade accepted ${JSON.stringify(t)}`);
  const b = toBookTop(v, 1);
  if (b && !(b.bid > 0 && b.ask >= b.bid && b.bidSize >= 0 && b.askSize >= 0)) throw new FuzzInvariantError(`toBookTop accepted ${JSON.stringify(b)}`);
  const o = toVenueOrder(v, BTC);
  const f = toVenueFill(v, BTC);
  const bal = isObj(v) ? toBalance(v as never) : undefined;
  if (f && !(f.quantity.isPositive() && f.price.isPositive())) throw new FuzzInvariantError('toVenueFill accepted a fill without a positive price and quantity');
  tally.count(`validators:${[c && 'candle', t && 'trade', b && 'book', o && 'order', f && 'fill', bal && 'balance'].filter(Boolean).join('+') || 'none accepted'}`);
}

function isObj(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function fuzzFrames(opts: FuzzOptions): Promise<FuzzResult> {
  // A simulator only to load real markets into the client (so symbol checks mean something).
  const server = await startSimServer({ markets: [{ symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: Dec.from('0.01'), stepSize: Dec.from('0.000001'), minQuantity: Dec.from('0.000001'), minNotional: Dec.ONE, makerFeePct: 0, takerFeePct: 0.05, status: 'online', apiTradable: true }], accounts: [{ apiKey: 'k', apiSecret: 's', deposits: {} }] });
  let pro: ProMexc | undefined;
  try {
    pro = await mexcProFactory({ restUrl: server.restUrl, wsUrl: server.wsUrl, enableRateLimit: false })();
    const client = { resolve: () => undefined, reject: () => undefined, reset: () => undefined, futures: {}, subscriptions: {}, rejections: {} };
    let sunk = 0;
    let sinkOutcome = '';
    pro.publicPushSink = (channel, p) => {
      sunk++;
      const kind = channel.includes('kline') ? 'kline' : channel.includes('deals') ? 'trades' : 'book';
      const result = resultFromPush(kind, p);
      if (kind === 'kline') {
        const rows = Array.isArray(result) ? (result as unknown[]) : [];
        sinkOutcome = rows.every((r) => toCandle(r, 60_000)) ? 'sink:valid kline' : 'sink:malformed kline';
      } else if (kind === 'trades') {
        const rows = Array.isArray(result) ? (result as unknown[]) : [];
        sinkOutcome = rows.length > 0 && rows.every((r) => toTrade(r)) ? 'sink:valid trades' : 'sink:malformed trades';
      } else sinkOutcome = toBookTop(result, 1) ? 'sink:valid book' : 'sink:malformed book';
      return true;
    };
    const p = pro;
    const anyInput = fc.oneof({ weight: 4, arbitrary: frame.map((f) => ({ f })) }, { weight: 1, arbitrary: validatorInput.map((v) => ({ v })) });
    return await fuzz(
      'WebSocket frames (ProMexc.handleMessage + stream parsers)',
      anyInput,
      (input: { f: Frame } | { v: unknown }, tally: Tally) => {
        if ('v' in input) {
          checkValidators(input.v, tally);
          return;
        }
        const f = input.f;
        const before = { ...p.frameStats };
        const sunkBefore = sunk;
        const message = f.kind === 'bytes' ? f.bytes : f.kind === 'text' ? f.text : f.value;
        try {
          p.handleMessage(client as never, message);
        } catch (e) {
          throw new FuzzInvariantError(`handleMessage threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        }
        const s = p.frameStats;
        if (s.frames !== before.frames + 1) throw new FuzzInvariantError(`frames counted ${s.frames - before.frames} times`);
        const malformed = s.malformed - before.malformed;
        const unexpected = s.unexpected - before.unexpected;
        const toSink = sunk - sunkBefore;
        if (malformed + unexpected + toSink > 1) throw new FuzzInvariantError(`one frame counted in ${malformed + unexpected + toSink} places`);
        tally.count(toSink ? sinkOutcome : malformed ? 'rejected:malformed' : unexpected ? 'rejected:unexpected' : `ccxt handler (${f.kind})`);
      },
      opts,
    );
  } finally {
    await pro?.dispose();
    await server.close();
  }
}
