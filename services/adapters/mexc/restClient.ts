/**
 * ccxt's MEXC clients, wired for this project: REST (`mexc`) and WebSocket (`pro.mexc`) subclasses
 * whose failed HTTP replies become the project's classified errors (exchangeErrors.ts), a mapper for
 * everything else ccxt throws, and the options that point them at MEXC or at a local simulator
 * (PROTOCOL.md §5).
 *
 * Why subclass `handleErrors`: ccxt maps MEXC's replies to its own classes, loses the HTTP status
 * and ignores `Retry-After` (PROTOCOL.md §1.6), and puts the signed URL (with `signature=`) into
 * every message. Classifying the raw status, body and headers here keeps what SafeExchange needs
 * to decide retries and unknown outcomes, and keeps signatures out of logs.
 */
import ccxt from 'ccxt';
import {
  AuthenticationError,
  ClockSkewError,
  ExchangeError,
  ExchangeRequestError,
  ExchangeServerError,
  InsufficientBalanceError,
  InvalidOrderError,
  NetworkError,
  OrderNotFoundError,
  RateLimitError,
  SymbolNotTradableError,
  TimeoutError,
  classifyMexcError,
  type ExchangeOperation,
} from '../../execution/exchangeErrors.js';

/** Options shared by the REST and WebSocket clients. */
export interface MexcClientOptions {
  readonly apiKey?: string;
  readonly secret?: string;
  /** Base URL of a MEXC-compatible REST server (e.g. the simulator at `http://127.0.0.1:P`); MEXC when absent. */
  readonly restUrl?: string;
  /** WebSocket URL of the spot streams; derived from `restUrl` (`ws://host:port/ws`) when only that is given. */
  readonly wsUrl?: string;
  /** Per-request deadline in milliseconds (ccxt `timeout`). Default 10,000. */
  readonly timeoutMs?: number;
  /** MEXC `recvWindow` in milliseconds (at most 60,000, PROTOCOL.md §1.1). Default 5,000. */
  readonly recvWindowMs?: number;
  /**
   * Let ccxt measure the clock offset against the server before loading markets. Off by default:
   * the host clock is NTP-synced, and the offset is one more request that can fail at start.
   */
  readonly adjustForTimeDifference?: boolean;
  /**
   * ccxt's client-side throttle of MEXC's request weights (e.g. exchangeInfo waits 25 x 50 ms
   * before the next call). Default true: MEXC bans IPs that ignore its limits. A simulator does not
   * need it.
   */
  readonly enableRateLimit?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RECV_WINDOW_MS = 5_000;

const SIGNATURE_RE = /((?:^|[?&\s"'])signature=)[^&\s"']*/gi;

/**
 * Removes credentials from a text (an error message or stack): the request signature of a signed
 * URL and, when given, the literal secret and API key. Secrets shorter than 4 characters are not
 * searched for (they would mangle ordinary words and cannot be real MEXC secrets).
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text.replace(SIGNATURE_RE, '$1<redacted>');
  for (const s of secrets) {
    if (s !== undefined && s.length >= 4) out = out.split(s).join('<redacted>');
  }
  return out;
}

/** The URL's path without its query (the query of a signed request carries the signature). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  const noQuery = q >= 0 ? url.slice(0, q) : url;
  try {
    return new URL(noQuery).pathname;
  } catch {
    return noQuery;
  }
}

function stringHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return out;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number') out[k] = String(v);
  }
  return out;
}

/** MEXC's body `code`, as ccxt reads it (number or numeric string); undefined when absent. */
function bodyCode(response: unknown): string | undefined {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) return undefined;
  const o = response as Record<string, unknown>;
  // Contract (v1) replies mark success explicitly; ccxt trusts that flag too.
  if (o['success'] === true) return undefined;
  const c = o['code'];
  if (typeof c === 'number' || typeof c === 'string') return String(c);
  return undefined;
}

/**
 * The classified error for one HTTP reply, or undefined when the reply is a success: HTTP ≥ 400,
 * or a body `code` other than 0/200 (MEXC answers some failures with HTTP 200 and a code).
 */
export function classifyReply(
  httpStatus: number,
  method: string,
  url: string,
  headers: unknown,
  body: string,
  response: unknown,
  secrets: readonly (string | undefined)[] = [],
): ExchangeError | undefined {
  const code = bodyCode(response);
  const failed = httpStatus >= 400 || (code !== undefined && code !== '0' && code !== '200');
  if (!failed) return undefined;
  const err = classifyMexcError(httpStatus, response ?? body, stringHeaders(headers));
  // Say which call failed (method and path, never the signed query), then scrub the venue's text
  // in case it echoes the request.
  err.message = redactSecrets(`${method} ${pathOf(url)}: ${err.message}`, secrets);
  if (err.stack !== undefined) err.stack = redactSecrets(err.stack, secrets);
  return err;
}

/** True when ccxt's message shows the connection was refused or never resolved: the request was not sent. */
function connectionNeverOpened(message: string): boolean {
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ConnectionRefused|DNSError|FailedToOpenSocket|UND_ERR_CONNECT_TIMEOUT/.test(message);
}

/** Scrubs an error's message and stack in place, so a kept `cause` does not leak a signed URL. */
function scrub(err: Error, secrets: readonly (string | undefined)[]): void {
  try {
    err.message = redactSecrets(err.message, secrets);
    if (err.stack !== undefined) err.stack = redactSecrets(err.stack, secrets);
  } catch {
    // A frozen error keeps its text; our own message is still redacted below.
  }
}

/**
 * Maps whatever a ccxt call threw to the project's ExchangeError classes, with the message
 * redacted and the original kept as `cause`:
 * - an ExchangeError (thrown by `handleErrors` for an HTTP reply) passes through unchanged;
 * - ccxt RequestTimeout → TimeoutError;
 * - ccxt RateLimitExceeded/DDoSProtection → RateLimitError; InvalidNonce → ClockSkewError;
 * - any other ccxt NetworkError (connection failed, ExchangeNotAvailable without a reply) →
 *   NetworkError, with `requestSent` true for submits and cancels unless the connection was
 *   refused, since a reset after writing leaves the order in doubt;
 * - ccxt BadResponse (an unparseable reply) → ExchangeServerError: the request reached the venue,
 *   so a submit's outcome is unknown;
 * - ccxt's client-side refusals: AuthenticationError (e.g. missing credentials) →
 *   AuthenticationError, InsufficientFunds, OrderNotFound, BadSymbol (unknown market) and
 *   InvalidOrder (e.g. an amount below ccxt's precision) → ours;
 * - anything else → ExchangeRequestError (not retryable).
 */
export function toExchangeError(err: unknown, operation: ExchangeOperation, secrets: readonly (string | undefined)[] = []): ExchangeError {
  if (err instanceof ExchangeError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  scrub(e, secrets);
  const msg = redactSecrets(e.message, secrets);
  const opts = { cause: e };
  if (e instanceof ccxt.RequestTimeout) return new TimeoutError(msg, opts);
  if (e instanceof ccxt.RateLimitExceeded || e instanceof ccxt.DDoSProtection) return new RateLimitError(msg, opts);
  if (e instanceof ccxt.InvalidNonce) return new ClockSkewError(msg, opts);
  if (e instanceof ccxt.NetworkError) {
    const requestSent = operation !== 'query' && !connectionNeverOpened(msg);
    return new NetworkError(msg, { ...opts, requestSent });
  }
  if (e instanceof ccxt.BadResponse) return new ExchangeServerError(`${msg} (unreadable reply: the request's outcome is unknown)`, opts);
  if (e instanceof ccxt.AuthenticationError) return new AuthenticationError(msg, opts);
  if (e instanceof ccxt.InsufficientFunds) return new InsufficientBalanceError(msg, opts);
  if (e instanceof ccxt.OrderNotFound) return new OrderNotFoundError(msg, opts);
  if (e instanceof ccxt.BadSymbol) return new SymbolNotTradableError(msg, opts);
  if (e instanceof ccxt.InvalidOrder) return new InvalidOrderError(msg, opts);
  return new ExchangeRequestError(msg, opts);
}

/** ccxt constructor config for the options: credentials, deadline, recvWindow and URL overrides. */
export function mexcCcxtConfig(options: MexcClientOptions): Record<string, unknown> {
  const config: Record<string, unknown> = {
    enableRateLimit: options.enableRateLimit ?? true,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    options: {
      recvWindow: options.recvWindowMs ?? DEFAULT_RECV_WINDOW_MS,
      adjustForTimeDifference: options.adjustForTimeDifference ?? false,
    },
  };
  if (options.apiKey !== undefined) config['apiKey'] = options.apiKey;
  if (options.secret !== undefined) config['secret'] = options.secret;
  const api: Record<string, unknown> = {};
  if (options.restUrl !== undefined) {
    const base = options.restUrl.replace(/\/+$/, '');
    // PROTOCOL.md §5: ccxt appends /api/v3/<path> to the spot URLs; the contract URLs are full prefixes.
    api['spot'] = { public: base, private: base };
    api['contract'] = { public: `${base}/api/v1/contract`, private: `${base}/api/v1/private` };
  }
  const ws = options.wsUrl ?? (options.restUrl !== undefined ? wsUrlFor(options.restUrl) : undefined);
  if (ws !== undefined) api['ws'] = { spot: ws };
  // ccxt deep-merges the constructor config, so the other URLs keep their defaults.
  if (Object.keys(api).length > 0) config['urls'] = { api };
  return config;
}

/** `http://127.0.0.1:P` → `ws://127.0.0.1:P/ws` (and https → wss). */
function wsUrlFor(restUrl: string): string {
  const u = new URL(restUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/ws';
  u.search = '';
  return u.toString();
}

/** ccxt's `handleErrors` arguments, as Exchange.handleRestResponse passes them. */
type HandleErrorsArgs = [
  code: number,
  reason: string,
  url: string,
  method: string,
  headers: Record<string, unknown>,
  body: string,
  response: unknown,
  requestHeaders: unknown,
  requestBody: unknown,
];

/** ccxt REST client for MEXC spot whose failed replies throw the project's classified errors. */
export class MexcRestClient extends ccxt.mexc {
  /** Throws the classified ExchangeError for a failed reply; returns undefined for a success. */
  override handleErrors(...[code, _reason, url, method, headers, body, response]: HandleErrorsArgs): undefined {
    const err = classifyReply(code, method, url, headers, body, response, [this.secret, this.apiKey]);
    if (err) throw err;
    return undefined;
  }

  /**
   * The adapter trades spot only. ccxt's loadMarkets also loads the swap markets in parallel; a
   * futures API outage (or a simulator without it) must not stop spot trading, so it is skipped.
   */
  override fetchSwapMarkets(_params: Record<string, unknown> = {}): Promise<never[]> {
    return Promise.resolve([]);
  }
}

/** ccxt pro (WebSocket) client for MEXC spot, with the same error classification for its REST calls (listen keys, snapshots). */
export class MexcProClient extends ccxt.pro.mexc {
  /** Throws the classified ExchangeError for a failed reply; returns undefined for a success. */
  override handleErrors(...[code, _reason, url, method, headers, body, response]: HandleErrorsArgs): undefined {
    const err = classifyReply(code, method, url, headers, body, response, [this.secret, this.apiKey]);
    if (err) throw err;
    return undefined;
  }

  /** Spot only, as in MexcRestClient. */
  override fetchSwapMarkets(_params: Record<string, unknown> = {}): Promise<never[]> {
    return Promise.resolve([]);
  }
}

/** Creates the REST client: MEXC by default, or the server at `restUrl` (PROTOCOL.md §5). */
export function createMexcRestClient(options: MexcClientOptions = {}): MexcRestClient {
  return new MexcRestClient(mexcCcxtConfig(options));
}
