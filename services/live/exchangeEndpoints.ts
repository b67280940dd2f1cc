/**
 * The exchange endpoints an operator uses to check the venue before trusting it with signals,
 * served by the local status server and (on AWS) the signal Function URL, over any VenueClient:
 *
 *   GET  /exchange/ping                  the venue answers; how many markets it lists
 *   GET  /exchange/balance               non-zero balances (free, locked)
 *   GET  /exchange/markets?limit=N       the first N markets (default 50, at most 1000) and the count
 *   GET  /exchange/ticker/{symbol}       24h ticker and book top (BTCUSDT, BTC_USDT or BTC-USDT)
 *   POST /exchange/test-order?symbol=&side=buy|sell&notional_usd=&dry_run=true|false
 *
 * A test order's dry run (the default) prices the notional against the live book (a buy at the
 * ask, a sell at the bid), applies the signal clamps (signals.minNotional, the profile's maximum,
 * signals.maxNotional) and the market's rules (lot step, minimum order value), and returns the
 * market order it would send. `dry_run=false` is refused unless live trading is on, the notional is
 * at most signals.testOrderMaxNotional, the symbol is not one this process trades (a test order
 * there would be a position the executor does not know), and a sender is wired.
 *
 * Every answer is `{ ok: boolean, error?: string, ... }`; nothing throws: a venue failure is 502
 * with its error's kind, a bad parameter 400 naming it, an unknown symbol 404.
 */
import { z } from 'zod';
import type { SignalsConfig } from '../config/schema.js';
import { Dec } from '../core/money.js';
import { symbolId, type SymbolId } from '../core/types.js';
import type { SignalProfile } from '../signals/policy.js';
import type { VenueClient, VenueMarket, VenueOrder, VenueOrderRequest } from '../venue/types.js';

export interface EndpointAnswer {
  readonly status: number;
  readonly body: { readonly ok: boolean; readonly error?: string; readonly [k: string]: unknown };
}

export interface ExchangeEndpointsOptions {
  readonly venue: Pick<VenueClient, 'name' | 'loadMarkets' | 'market' | 'fetchBalances' | 'fetchTickers24h' | 'fetchBookTop'>;
  readonly signals: Pick<SignalsConfig, 'minNotional' | 'maxNotional' | 'testOrderMaxNotional'>;
  readonly profile: SignalProfile;
  /** Real orders are possible (live mode with its switch). */
  readonly liveTrading: boolean;
  /** Symbols this process trades: a real test order on them is refused. */
  readonly traded: (symbol: SymbolId) => boolean;
  /**
   * Sends a real test order (through the guarded venue), or says why not (the Lambda refuses when
   * the symbol's lease is held: the hot path trades it); absent: real test orders are refused.
   */
  readonly placeOrder?: (req: VenueOrderRequest) => Promise<VenueOrder | { readonly refused: string }>;
  /** Wall clock (latency, client ids, the markets cache). */
  readonly now: () => number;
  /** The market list is reloaded at most this often (default 60 s). */
  readonly marketsTtlMs?: number;
}

const MAX_MARKETS = 1000;

const testOrderQuery = z.strictObject({
  symbol: z.string().min(2).max(40),
  side: z.enum(['buy', 'sell']),
  notional_usd: z.coerce.number().positive().finite(),
  dry_run: z.enum(['true', 'false']).default('true'),
});

function fail(status: number, error: string, extra: Record<string, unknown> = {}): EndpointAnswer {
  return { status, body: { ok: false, error, ...extra } };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** `BTCUSDT`, `btc_usdt`, `BTC-USDT`, `BTC/USDT` -> BTCUSDT; undefined when it cannot be a symbol. */
export function symbolOf(raw: string): SymbolId | undefined {
  try {
    return symbolId(decodeURIComponent(raw).replace(/[/_-]/g, ''));
  } catch {
    return undefined;
  }
}

export class ExchangeEndpoints {
  private markets: { at: number; list: ReadonlyMap<SymbolId, VenueMarket> } | undefined;
  private seq = 0;

  constructor(private readonly opts: ExchangeEndpointsOptions) {}

  /** Routes one request; `path` without the query string. */
  async handle(method: string, path: string, query: URLSearchParams): Promise<EndpointAnswer> {
    try {
      if (method === 'GET' && path === '/exchange/ping') return await this.ping();
      if (method === 'GET' && path === '/exchange/balance') return await this.balance();
      if (method === 'GET' && path === '/exchange/markets') return await this.listMarkets(query);
      if (method === 'GET' && path.startsWith('/exchange/ticker/')) return await this.ticker(path.slice('/exchange/ticker/'.length));
      if (method === 'POST' && path === '/exchange/test-order') return await this.testOrder(query);
      const known = path === '/exchange/test-order' || ['/exchange/ping', '/exchange/balance', '/exchange/markets'].includes(path) || path.startsWith('/exchange/ticker/');
      return known ? fail(405, `${method} is not served on ${path}`) : fail(404, `no such endpoint: ${path}`);
    } catch (e) {
      return fail(502, `the venue failed: ${describe(e)}`);
    }
  }

  private async loaded(force = false): Promise<ReadonlyMap<SymbolId, VenueMarket>> {
    const now = this.opts.now();
    const ttl = this.opts.marketsTtlMs ?? 60_000;
    if (force || !this.markets || now - this.markets.at >= ttl) this.markets = { at: now, list: await this.opts.venue.loadMarkets() };
    return this.markets.list;
  }

  private async ping(): Promise<EndpointAnswer> {
    const t0 = this.opts.now();
    const list = await this.loaded(true);
    return { status: 200, body: { ok: true, venue: this.opts.venue.name, markets: list.size, latencyMs: this.opts.now() - t0 } };
  }

  private async balance(): Promise<EndpointAnswer> {
    const balances = await this.opts.venue.fetchBalances();
    const nonZero = balances.filter((b) => !b.free.isZero() || !b.locked.isZero()).map((b) => ({ asset: b.asset, free: b.free.toString(), locked: b.locked.toString() }));
    return { status: 200, body: { ok: true, venue: this.opts.venue.name, balances: nonZero } };
  }

  private async listMarkets(query: URLSearchParams): Promise<EndpointAnswer> {
    const raw = query.get('limit');
    const limit = raw === null ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MARKETS) return fail(400, `limit: expected an integer from 1 to ${MAX_MARKETS}, got "${raw}"`);
    const list = await this.loaded();
    const markets = [...list.values()].slice(0, limit).map((m) => ({
      symbol: m.symbol,
      base: m.base,
      quote: m.quote,
      tickSize: m.tickSize.toString(),
      stepSize: m.stepSize.toString(),
      minNotional: m.minNotional.toString(),
      tradable: m.tradable,
      ...(m.notTradableReason ? { notTradableReason: m.notTradableReason } : {}),
    }));
    return { status: 200, body: { ok: true, total: list.size, count: markets.length, markets } };
  }

  private async market(raw: string): Promise<VenueMarket | EndpointAnswer> {
    const symbol = symbolOf(raw);
    if (!symbol) return fail(400, `symbol: "${raw.slice(0, 40)}" is not a symbol such as BTCUSDT`);
    const m = (await this.loaded()).get(symbol);
    return m ?? fail(404, `unknown symbol ${symbol}: the venue does not list it`);
  }

  private async ticker(raw: string): Promise<EndpointAnswer> {
    const m = await this.market(raw);
    if ('status' in m) return m;
    const [tickers, book] = await Promise.all([this.opts.venue.fetchTickers24h([m.symbol]), this.opts.venue.fetchBookTop(m.symbol)]);
    const t = tickers.find((x) => x.symbol === m.symbol);
    return {
      status: 200,
      body: {
        ok: true,
        symbol: m.symbol,
        bid: book.bid,
        ask: book.ask,
        ...(t ? { last: t.last, open: t.open, high: t.high, low: t.low, volume: t.volume, quoteVolume: t.quoteVolume, time: t.time } : {}),
      },
    };
  }

  private async testOrder(query: URLSearchParams): Promise<EndpointAnswer> {
    const q = testOrderQuery.safeParse(Object.fromEntries(query.entries()));
    if (!q.success) return fail(400, q.error.issues.map((i) => `${i.path.map(String).join('.') || '(query)'}: ${i.message}`).join('; '));
    const { side, notional_usd: asked } = q.data;
    const dryRun = q.data.dry_run === 'true';
    const m = await this.market(q.data.symbol);
    if ('status' in m) return m;
    if (!m.tradable) return fail(422, `${m.symbol} cannot be traded through the API: ${m.notTradableReason ?? 'not tradable'}`);
    const s = this.opts.signals;
    const clamps: string[] = [];
    let notional = asked;
    const cap = Math.min(this.opts.profile.maxNotional, s.maxNotional ?? Infinity);
    if (notional > cap) {
      clamps.push(`notional ${asked} capped at ${cap} (the profile's maximum${s.maxNotional !== undefined ? ' and signals.maxNotional' : ''})`);
      notional = cap;
    }
    if (notional < s.minNotional) return fail(422, `notional ${asked} is below signals.minNotional ${s.minNotional}`);
    const book = await this.opts.venue.fetchBookTop(m.symbol);
    const price = side === 'buy' ? book.ask : book.bid;
    if (!(price > 0)) return fail(502, `no ${side === 'buy' ? 'ask' : 'bid'} in the book of ${m.symbol}`);
    const priceDec = Dec.from(price);
    const quantity = Dec.from(notional).div(priceDec).floorTo(m.stepSize);
    const value = quantity.mul(priceDec);
    if (quantity.isZero() || value.lt(m.minNotional) || quantity.lt(m.minQuantity)) {
      return fail(422, `${quantity.toString()} ${m.base} (about ${value.toFixed(2)} ${m.quote}) is below the market's minimum (${m.minNotional.toString()} ${m.quote}, ${m.minQuantity.toString()} ${m.base})`);
    }
    const clientOrderId = `TEST${this.opts.now().toString(36)}${(++this.seq).toString(36)}`.slice(0, 32);
    const order: VenueOrderRequest = { clientOrderId, symbol: m.symbol, side, type: 'market', quantity };
    const wouldSend = { clientOrderId, symbol: m.symbol, side, type: 'market', quantity: quantity.toString(), priceEstimate: price, notional: value.toString(), book: { bid: book.bid, ask: book.ask } };
    if (dryRun) return { status: 200, body: { ok: true, dryRun: true, wouldSend, clamps } };

    const refusals: string[] = [];
    if (!this.opts.liveTrading) refusals.push('live trading is off (paper mode, or live without its switch)');
    if (asked > s.testOrderMaxNotional) refusals.push(`notional ${asked} is above signals.testOrderMaxNotional ${s.testOrderMaxNotional}`);
    if (this.opts.traded(m.symbol)) refusals.push(`${m.symbol} is traded by this process: a test order would be a holding its executor does not know (test another symbol, or use a signal)`);
    if (!this.opts.placeOrder) refusals.push('no order sender is wired here');
    if (refusals.length > 0) return fail(403, `real test order refused: ${refusals.join('; ')}`, { dryRun: false, wouldSend });
    const placed = await (this.opts.placeOrder as NonNullable<ExchangeEndpointsOptions['placeOrder']>)(order);
    if ('refused' in placed) return fail(403, `real test order refused: ${placed.refused}`, { dryRun: false, wouldSend });
    return {
      status: 200,
      body: { ok: true, dryRun: false, order: { clientOrderId: placed.clientOrderId, exchangeOrderId: placed.exchangeOrderId, status: placed.status, filledQuantity: placed.filledQuantity.toString(), filledQuote: placed.filledQuote.toString() }, clamps },
    };
  }
}
