/**
 * The second price source on ccxt, public market data only (no keys are ever given to it): any
 * exchange ccxt knows by id (`kraken`), or a MEXC-compatible server by URL (the project's simulator
 * replaying a related series, locally and in tests), through the project's MEXC REST client.
 *
 * The venue's market for a symbol is `BASE/QUOTE`; for a USDT or USDC symbol a venue without that
 * pair is asked for `BASE/USD` instead (the stablecoin's basis is a few hundredths of a percent,
 * far inside the check's 1 % bound). A symbol the venue lists under neither is `not_listed`.
 * Every failure is a PriceReferenceError with its kind; ccxt's own timeout bounds each request.
 */
import ccxt, { type Exchange } from 'ccxt';
import type { SymbolId } from '../../core/types.js';
import { PriceReferenceError, type PriceReference, type ReferenceQuote } from '../../live/priceCheck.js';
import { createMexcRestClient } from '../mexc/restClient.js';

export interface CcxtPriceReferenceOptions {
  /** A ccxt exchange id (`kraken`), or the URL of a MEXC-compatible REST server. */
  readonly source: string;
  /** Per-request deadline (ccxt `timeout`). */
  readonly timeoutMs: number;
}

/** Symbols end in one of these quote assets (as services/adapters/candleFiles.ts reads them). */
const SYMBOL_RE = /^([A-Z0-9]+?)(USDT|USDC|BTC|ETH)$/;

/** Whether `source` names a ccxt exchange or is a URL; the reason when neither. */
export function priceReferenceSourceProblem(source: string): string | undefined {
  if (/^https?:\/\/\S+$/.test(source)) return undefined;
  if ((ccxt.exchanges as readonly string[]).includes(source)) return undefined;
  return `"${source}" is neither a ccxt exchange id (such as kraken) nor an http(s) URL of a MEXC-compatible server`;
}

export class CcxtPriceReference implements PriceReference {
  readonly name: string;
  private readonly exchange: Exchange;
  private markets: Promise<Set<string>> | undefined;
  private readonly chosen = new Map<SymbolId, string>();

  constructor(opts: CcxtPriceReferenceOptions) {
    const problem = priceReferenceSourceProblem(opts.source);
    if (problem) throw new PriceReferenceError('unreachable', `price reference: ${problem}`);
    if (opts.source.startsWith('http')) {
      this.exchange = createMexcRestClient({ restUrl: opts.source, timeoutMs: opts.timeoutMs, enableRateLimit: false });
      this.name = `sim ${opts.source}`;
    } else {
      const Cls = (ccxt as unknown as Record<string, new (config: Record<string, unknown>) => Exchange>)[opts.source]!;
      // Public endpoints only: no apiKey, no secret. ccxt's throttle keeps us inside the venue's limits.
      this.exchange = new Cls({ enableRateLimit: true, timeout: opts.timeoutMs });
      this.name = opts.source;
    }
  }

  async quote(symbol: SymbolId): Promise<ReferenceQuote> {
    const market = await this.marketFor(symbol);
    let t;
    try {
      t = await this.exchange.fetchTicker(market);
    } catch (e) {
      throw new PriceReferenceError('unreachable', `${this.name} ${market}: ${e instanceof Error ? e.name : String(e)}`, { cause: e });
    }
    const mid = t.bid !== undefined && t.ask !== undefined ? (t.bid + t.ask) / 2 : undefined;
    const price = t.last ?? t.close ?? mid;
    if (price === undefined || !Number.isFinite(price) || price <= 0) throw new PriceReferenceError('bad_price', `${this.name} ${market}: no usable price (last ${String(t.last)})`);
    return { price, market, ...(typeof t.timestamp === 'number' && Number.isFinite(t.timestamp) ? { time: t.timestamp } : {}) };
  }

  async close(): Promise<void> {
    await this.exchange.close().catch(() => undefined);
  }

  /** The venue's market for `symbol`; loads the venue's markets once (again after a failed load). */
  private async marketFor(symbol: SymbolId): Promise<string> {
    const known = this.chosen.get(symbol);
    if (known) return known;
    this.markets ??= this.exchange.loadMarkets().then((m) => new Set(Object.keys(m)));
    let listed: Set<string>;
    try {
      listed = await this.markets;
    } catch (e) {
      this.markets = undefined;
      throw new PriceReferenceError('unreachable', `${this.name}: markets not loaded (${e instanceof Error ? e.name : String(e)})`, { cause: e });
    }
    const m = SYMBOL_RE.exec(symbol);
    const candidates = m ? [`${m[1]}/${m[2]}`, ...(m[2] === 'USDT' || m[2] === 'USDC' ? [`${m[1]}/USD`] : [])] : [];
    const hit = candidates.find((c) => listed.has(c));
    if (!hit) throw new PriceReferenceError('not_listed', `${this.name} lists no ${candidates.join(' or ') || symbol}`);
    this.chosen.set(symbol, hit);
    return hit;
  }
}
