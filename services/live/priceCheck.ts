/**
 * The second price source: MEXC's price against another venue's public price for the same asset,
 * before every entry and on every stop decision (execution.priceCheck in the config).
 *
 * Why: the hot path decides on MEXC's prices alone. A MEXC book that is broken, thin or pushed
 * for a moment (a wick, a bad print, a stale feed) would open positions at prices the market does
 * not have, or fire stops on them. A second venue's price says whether MEXC's is plausible.
 *
 * Rules:
 * - Entries: the reference is asked for a fresh price just before each decision (`refresh`,
 *   awaited by the session's `beforeDecide`, bounded by the adapter's timeout) and the entry gate
 *   compares the decision price with it (`gate`). A deviation above maxDeviationPct refuses the
 *   entry on that symbol, with the figures in the reason.
 * - Exits are never blocked and never wait for the reference: a stop, target, time stop or halt
 *   goes out whatever the reference says (fail open). On a stop decision the comparison is made
 *   afterwards (`checkStop`) and only alerts: a stop fired by a MEXC price the other venue does not
 *   show is worth a person's look, but holding a position open on a guess is worse.
 * - Reference stale (older than maxAgeMs on the market clock) or unavailable (unreachable, not
 *   listed, no price): entries follow `whenUnavailable`, by default `refuse` (fail closed): an
 *   entry is optional, missing one costs an opportunity, while entering on an unverified price
 *   can cost the trade's whole risk budget at once, and unverified prices are what this check is
 *   for. `allow` trades on without it. Either way it is alerted once, and again when it is back.
 *
 * Every change of a symbol's standing (ok, deviating, unavailable) is one event for the runtime to
 * log and alert; the same standing again is not repeated. Pure apart from the port: the market
 * clock is injected.
 */
import { DomainError } from '../core/errors.js';
import type { SymbolId } from '../core/types.js';
import type { ExecutionConfig } from '../config/schema.js';
import type { EnterIntent } from '../model/intents.js';

/** Why a reference price could not be had. */
export type PriceReferenceFailure = 'not_listed' | 'unreachable' | 'bad_price';

/** The reference could not give a price; `kind` says why (switch on it, never on the message). */
export class PriceReferenceError extends DomainError {
  override readonly name: string = 'PriceReferenceError';
  constructor(
    readonly kind: PriceReferenceFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One price of the reference venue. */
export interface ReferenceQuote {
  /** Last traded price (or the mid when the venue gives no last), in the symbol's quote currency. */
  readonly price: number;
  /** The venue's time of that price, epoch ms; undefined when it gives none. */
  readonly time?: number;
  /** The venue's market the price is for (`DOGE/USDT`, or `DOGE/USD` where it lists no USDT pair). */
  readonly market: string;
}

/** The port: a second venue's public prices (services/adapters/priceReference). */
export interface PriceReference {
  /** Venue name for logs and alerts (`kraken`, `sim http://127.0.0.1:P`). */
  readonly name: string;
  /** The latest price; rejects with PriceReferenceError (bounded by the adapter's own timeout). */
  quote(symbol: SymbolId): Promise<ReferenceQuote>;
  close(): Promise<void>;
}

export type PriceCheckOptions = ExecutionConfig['priceCheck'];

/** A symbol's standing against the reference. */
export type PriceStanding = 'ok' | 'deviating' | 'unavailable';

/** Something the runtime logs and alerts. */
export type PriceCheckEvent =
  | { readonly kind: 'standing'; readonly symbol: SymbolId; readonly from: PriceStanding | undefined; readonly to: PriceStanding; readonly detail: string }
  /** A stop fired on a MEXC price the reference does not confirm (alert only; the exit went on). */
  | { readonly kind: 'stop_unconfirmed'; readonly symbol: SymbolId; readonly detail: string };

export interface PriceCheckDeps {
  readonly reference: PriceReference;
  /** The market clock (the runtime's). */
  readonly now: () => number;
  readonly onEvent: (e: PriceCheckEvent) => void;
}

interface Held {
  quote?: ReferenceQuote;
  /** Market time the quote stands for (the venue's, else when it arrived). */
  quoteAt?: number;
  /** The last failure, newer than the quote. */
  failure?: string;
  standing?: PriceStanding;
}

/** Counts for the soak and the status line. */
export interface PriceCheckCounts {
  refreshes: number;
  failures: number;
  refusedDeviation: number;
  refusedUnavailable: number;
  allowedUnavailable: number;
  stopChecks: number;
  stopsUnconfirmed: number;
}

/** Percent distance of `price` from `ref`, two decimals. */
export function deviationPct(price: number, ref: number): number {
  return Math.round((Math.abs(price - ref) / ref) * 10_000) / 100;
}

export class PriceCheck {
  readonly counts: PriceCheckCounts = { refreshes: 0, failures: 0, refusedDeviation: 0, refusedUnavailable: 0, allowedUnavailable: 0, stopChecks: 0, stopsUnconfirmed: 0 };
  private readonly held = new Map<SymbolId, Held>();

  constructor(
    private readonly opts: PriceCheckOptions,
    private readonly deps: PriceCheckDeps,
  ) {}

  get referenceName(): string {
    return this.deps.reference.name;
  }

  /** The standing of each symbol checked so far. */
  standings(): Record<string, PriceStanding | undefined> {
    return Object.fromEntries([...this.held].map(([s, h]) => [s, h.standing]));
  }

  /**
   * Asks the reference for a fresh price of `symbol` and compares it with MEXC's `mexcPrice` (the
   * price the decision is about to be made at). Never throws: a failure is held for the gate.
   */
  async refresh(symbol: SymbolId, mexcPrice: number): Promise<void> {
    const h = this.entry(symbol);
    this.counts.refreshes++;
    try {
      const q = await this.deps.reference.quote(symbol);
      h.quote = q;
      h.quoteAt = q.time ?? this.deps.now();
      h.failure = undefined;
    } catch (e) {
      this.counts.failures++;
      h.failure = e instanceof PriceReferenceError ? `${e.kind}: ${e.message}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    this.judge(symbol, h, mexcPrice, this.deps.now());
  }

  /** The entry gate: a reason to refuse the entry, or undefined (see the file comment). */
  gate(intent: EnterIntent): string | undefined {
    const h = this.entry(intent.symbol);
    const j = this.judge(intent.symbol, h, intent.price, intent.time);
    if (j.standing === 'ok') return undefined;
    if (j.standing === 'deviating') {
      this.counts.refusedDeviation++;
      return `price check: ${j.detail}; entries on ${intent.symbol} refused (execution.priceCheck.maxDeviationPct ${this.opts.maxDeviationPct})`;
    }
    if (this.opts.whenUnavailable === 'allow') {
      this.counts.allowedUnavailable++;
      return undefined;
    }
    this.counts.refusedUnavailable++;
    return `price check: ${j.detail}; entries refused until it is back (execution.priceCheck.whenUnavailable refuse)`;
  }

  /**
   * A stop decision on `symbol` at MEXC's `mexcPrice`: compares with a fresh reference price and
   * reports a stop the reference does not confirm. Alert only: the exit is already under way and is
   * never held back. Never throws.
   */
  async checkStop(symbol: SymbolId, mexcPrice: number): Promise<void> {
    this.counts.stopChecks++;
    await this.refresh(symbol, mexcPrice);
    const h = this.entry(symbol);
    if (h.standing === 'deviating' && h.quote) {
      this.counts.stopsUnconfirmed++;
      this.deps.onEvent({
        kind: 'stop_unconfirmed',
        symbol,
        detail: `a stop on ${symbol} fired at MEXC ${mexcPrice}, ${deviationPct(mexcPrice, h.quote.price)} % from ${this.deps.reference.name} ${h.quote.market} ${h.quote.price} (max ${this.opts.maxDeviationPct} %): the exit went on; check whether MEXC's price was real`,
      });
    }
  }

  private entry(symbol: SymbolId): Held {
    let h = this.held.get(symbol);
    if (!h) this.held.set(symbol, (h = {}));
    return h;
  }

  /** The standing of `price` at market time `at` against what is held; reports a change. */
  private judge(symbol: SymbolId, h: Held, price: number, at: number): { standing: PriceStanding; detail: string } {
    const name = this.deps.reference.name;
    let standing: PriceStanding;
    let detail: string;
    if (h.failure !== undefined || !h.quote || h.quoteAt === undefined) {
      standing = 'unavailable';
      detail = `reference ${name} unavailable for ${symbol} (${h.failure ?? 'no price yet'})`;
    } else if (Math.abs(at - h.quoteAt) > this.opts.maxAgeMs) {
      standing = 'unavailable';
      detail = `reference ${name} price for ${symbol} is stale (${Math.round(Math.abs(at - h.quoteAt) / 1000)} s old, max ${this.opts.maxAgeMs / 1000} s)`;
    } else {
      const dev = deviationPct(price, h.quote.price);
      standing = dev > this.opts.maxDeviationPct ? 'deviating' : 'ok';
      detail = `MEXC ${price} is ${dev} % from ${name} ${h.quote.market} ${h.quote.price}${standing === 'deviating' ? ` (max ${this.opts.maxDeviationPct} %)` : ''}`;
    }
    if (standing !== h.standing) {
      const from = h.standing;
      h.standing = standing;
      this.deps.onEvent({ kind: 'standing', symbol, from, to: standing, detail });
    }
    return { standing, detail };
  }
}
