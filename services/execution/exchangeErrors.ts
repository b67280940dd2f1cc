/**
 * Errors a venue call can end with, each saying whether a retry can help (`retryable`) and what kind
 * of failure it is (`kind`), and a pure classifier for MEXC's HTTP replies.
 *
 * Retryable is about the request, not the order: a submit that timed out is retryable as a
 * request, but its order may exist, so it must be resolved by a lookup first (`isUnknownOutcome`);
 * sending it again blindly could buy twice.
 */
import type { ExchangeErrorKind, OrderErrorKind } from '../model/orders.js';
export type { ExchangeErrorKind, OrderErrorKind } from '../model/orders.js';
import { DataValidationError, DomainError, InvalidStateError } from '../core/errors.js';



/** A venue operation, for deciding what a failure means (a submit's timeout leaves an order in doubt). */
export type ExchangeOperation = 'submit' | 'cancel' | 'query';

export interface ExchangeErrorOptions {
  readonly cause?: unknown;
  /** HTTP status of the reply, when there was one. */
  readonly httpStatus?: number;
  /** The venue's error code from the body (MEXC `{code,msg}`). */
  readonly code?: number;
}

/** Base of all venue errors. */
export abstract class ExchangeError extends DomainError {
  abstract readonly kind: ExchangeErrorKind;
  /** True when the same request may succeed if sent again later (after a backoff). */
  abstract readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly code: number | undefined;

  constructor(message: string, options: ExchangeErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.httpStatus = options.httpStatus;
    this.code = options.code;
  }
}

/**
 * The connection failed (refused, reset, DNS). `requestSent` says whether the request may have
 * reached the venue (a reset after the request was written): a submit's order is then in doubt.
 */
export class NetworkError extends ExchangeError {
  override readonly name: string = 'NetworkError';
  readonly kind = 'network' as const;
  readonly retryable = true;
  readonly requestSent: boolean;
  constructor(message: string, options: ExchangeErrorOptions & { readonly requestSent?: boolean } = {}) {
    super(message, options);
    this.requestSent = options.requestSent ?? false;
  }
}

/** No reply within the deadline: the request may or may not have been executed. */
export class TimeoutError extends ExchangeError {
  override readonly name: string = 'TimeoutError';
  readonly kind = 'timeout' as const;
  readonly retryable = true;
}

/** HTTP 429 (rate limited) or 418 (IP banned); `retryAfterMs` is the venue's Retry-After, if given. */
export class RateLimitError extends ExchangeError {
  override readonly name: string = 'RateLimitError';
  readonly kind = 'rate_limit' as const;
  readonly retryable = true;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: ExchangeErrorOptions & { readonly retryAfterMs?: number } = {}) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** HTTP 5xx: the venue failed; whatever the request did is unknown (PROTOCOL.md §1.5). */
export class ExchangeServerError extends ExchangeError {
  override readonly name: string = 'ExchangeServerError';
  readonly kind = 'server' as const;
  readonly retryable = true;
}

/** The request's timestamp fell outside recvWindow: resync the clock, then a retry is safe (nothing executed). */
export class ClockSkewError extends ExchangeError {
  override readonly name: string = 'ClockSkewError';
  readonly kind = 'clock_skew' as const;
  readonly retryable = true;
}

/** Bad signature, bad key, missing permission or IP not whitelisted: an operator must fix the keys. */
export class AuthenticationError extends ExchangeError {
  override readonly name: string = 'AuthenticationError';
  readonly kind = 'authentication' as const;
  readonly retryable = false;
}

/** Not enough free balance for the order (or selling more than held). */
export class InsufficientBalanceError extends ExchangeError {
  override readonly name: string = 'InsufficientBalanceError';
  readonly kind = 'insufficient_balance' as const;
  readonly retryable = false;
}

/** The order breaks a market rule: amount below the minimum notional or above the maximum, too many decimals, price out of range. */
export class InvalidOrderError extends ExchangeError {
  override readonly name: string = 'InvalidOrderError';
  readonly kind = 'invalid_order' as const;
  readonly retryable = false;
}

/** The symbol cannot be traded through the API now (unknown, not enabled for API, suspended, disabled). */
export class SymbolNotTradableError extends ExchangeError {
  override readonly name: string = 'SymbolNotTradableError';
  readonly kind = 'symbol_not_tradable' as const;
  readonly retryable = false;
}

/** The venue does not know the order (a cancel or query by id). */
export class OrderNotFoundError extends ExchangeError {
  override readonly name: string = 'OrderNotFoundError';
  readonly kind = 'order_not_found' as const;
  readonly retryable = false;
}

/** Any other refused request (a WAF block, a disabled order type, an unmapped code). */
export class ExchangeRequestError extends ExchangeError {
  override readonly name: string = 'ExchangeRequestError';
  readonly kind = 'bad_request' as const;
  readonly retryable = false;
}

/**
 * A venue endpoint's circuit breaker is open: the call was refused without reaching the venue.
 * Not an ExchangeError (the venue said nothing), and not retried at once: the breaker says when.
 */
export class CircuitOpenError extends DomainError {
  override readonly name: string = 'CircuitOpenError';
  readonly kind = 'circuit_open' as const;
  constructor(
    readonly endpoint: string,
    /** When the breaker lets a probe through (epoch ms). */
    readonly halfOpenAt: number,
  ) {
    super(`circuit breaker for ${endpoint} is open until ${new Date(halfOpenAt).toISOString()} (half-opens then)`);
  }
}

/** The client-side rate limiter's queue is full, or the wait for a token would exceed its bound. */
export class RateLimitQueueFullError extends DomainError {
  override readonly name: string = 'RateLimitQueueFullError';
  readonly kind = 'rate_limit_queue_full' as const;
}



/** The kind of a failure of an order request (see OrderErrorKind). */
export function orderErrorKind(err: unknown): OrderErrorKind {
  if (err instanceof ExchangeError || err instanceof CircuitOpenError || err instanceof RateLimitQueueFullError) return err.kind;
  if (err instanceof DataValidationError) return 'invalid_request';
  if (err instanceof InvalidStateError) return 'invalid_state';
  return 'unexpected';
}

/**
 * True when `err` leaves the outcome of `operation` unknown, i.e. a submit whose order may exist:
 * a timeout, a 5xx, or a connection failure after the request was sent. Such an order is resolved
 * by asking the venue (query by client order id), never by submitting again.
 */
export function isUnknownOutcome(err: unknown, operation: ExchangeOperation): boolean {
  if (operation !== 'submit') return false;
  return err instanceof TimeoutError || err instanceof ExchangeServerError || (err instanceof NetworkError && err.requestSent);
}

type ErrorClass = new (message: string, options?: ExchangeErrorOptions) => ExchangeError;

/**
 * MEXC body codes → error classes, from PROTOCOL.md §1.5 and four more from ccxt's MEXC table
 * (30001, 30010, 30029, 30041). Where ours
 * differs from ccxt: 700006 (IP not whitelisted) is an AuthenticationError, since the fix is the
 * key's configuration; 10007/30016/30000 are one SymbolNotTradableError; -2011/-2013 mean the order
 * is unknown to the venue.
 */
const MEXC_CODES: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [700001, AuthenticationError], // malformed key
  [700002, AuthenticationError], // bad signature
  [602, AuthenticationError], // bad signature
  [700007, AuthenticationError], // no permission for the endpoint
  [700006, AuthenticationError], // IP not whitelisted
  [700003, ClockSkewError], // timestamp outside recvWindow
  [700005, ExchangeRequestError], // recvWindow too large: a configuration error, retrying cannot help
  [-2011, OrderNotFoundError], // unknown order (on cancel)
  [-2013, OrderNotFoundError], // order does not exist (on query)
  [10101, InsufficientBalanceError], // insufficient balance
  [30004, InsufficientBalanceError], // insufficient balance
  [30005, InsufficientBalanceError], // oversold
  [10007, SymbolNotTradableError], // bad symbol / symbol not supported for API trading
  [30016, SymbolNotTradableError], // trading disabled
  [30000, SymbolNotTradableError], // symbol suspended
  [30002, InvalidOrderError], // below the minimum amount (min notional)
  [30003, InvalidOrderError], // above the maximum amount
  [10096, InvalidOrderError], // amount has too many decimal places
  [30087, InvalidOrderError], // price outside the allowed range
  [30001, InvalidOrderError], // the order's direction is not allowed on this pair (ccxt's table)
  [30010, InvalidOrderError], // no valid trade price (ccxt's table)
  [30029, InvalidOrderError], // cannot exceed the maximum number of open orders (ccxt's table)
  [30041, InvalidOrderError], // the order type cannot be placed now (ccxt's table); the simulator's post-only refusal
  [30019, ExchangeRequestError], // API market orders disabled
  [30051, ExchangeRequestError], // "api market order is disabled" (confirmed, hummingbot #6932)
]);

function parseBody(body: unknown): { code?: number; msg?: string } {
  let v: unknown = body;
  if (typeof body === 'string') {
    try {
      v = JSON.parse(body) as unknown;
    } catch {
      return body.length > 0 ? { msg: body.slice(0, 200) } : {};
    }
  }
  if (typeof v !== 'object' || v === null) return {};
  const o = v as Record<string, unknown>;
  const raw = o['code'];
  const code = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : undefined;
  const msg = typeof o['msg'] === 'string' ? o['msg'] : undefined;
  return { ...(code !== undefined && Number.isSafeInteger(code) ? { code } : {}), ...(msg !== undefined ? { msg } : {}) };
}

/** Retry-After in milliseconds, from the header's delay-seconds form (MEXC sends seconds, §1.6). */
function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== 'retry-after') continue;
    const t = v.trim();
    if (!/^\d+(\.\d+)?$/.test(t)) return undefined; // an HTTP date would need a clock; ignored
    return Math.round(Number(t) * 1000);
  }
  return undefined;
}

/**
 * Maps a failed MEXC HTTP reply to an error class (PROTOCOL.md §1.5 and §1.6). Order of the checks:
 * 5xx first (the outcome is unknown whatever the body says), then 429/418 (rate limit or ban, with
 * Retry-After honoured), then the body's `code`, then the HTTP status alone (401 authentication,
 * 403 WAF block, anything else a refused request). `body` may be the parsed JSON or its text.
 */
export function classifyMexcError(httpStatus: number, body: unknown, headers?: Record<string, string>): ExchangeError {
  const { code, msg } = parseBody(body);
  const detail = `MEXC HTTP ${httpStatus}${code !== undefined ? ` code ${code}` : ''}${msg !== undefined ? `: ${msg}` : ''}`;
  const opts = { httpStatus, ...(code !== undefined ? { code } : {}) };
  if (httpStatus >= 500 && httpStatus <= 599) return new ExchangeServerError(`${detail} (server error: the request's outcome is unknown)`, opts);
  if (httpStatus === 429 || httpStatus === 418) {
    const after = retryAfterMs(headers);
    const what = httpStatus === 418 ? 'IP banned for ignoring rate limits' : 'rate limited';
    return new RateLimitError(`${detail} (${what})`, { ...opts, ...(after !== undefined ? { retryAfterMs: after } : {}) });
  }
  if (code !== undefined && code !== 0 && code !== 200) {
    const Cls = MEXC_CODES.get(code);
    if (Cls) return new Cls(detail, opts);
  }
  if (httpStatus === 401) return new AuthenticationError(detail, opts);
  if (httpStatus === 403) return new ExchangeRequestError(`${detail} (blocked by the venue's firewall)`, opts);
  return new ExchangeRequestError(detail, opts);
}
