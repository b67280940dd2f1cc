/**
 * Exchange error classes and the MEXC classifier. Expected classes per code come from the table in
 * /work/shared/mexc/PROTOCOL.md §1.5 (and §1.6 for Retry-After), read by hand.
 */
import { describe, it, expect } from 'vitest';
import { DomainError } from '../../services/core/errors.js';
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
  isUnknownOutcome,
} from '../../services/execution/exchangeErrors.js';

describe('error classes', () => {
  it('have a name, an Error suffix, the cause, a kind and a retryable flag', () => {
    const cause = new Error('ETIMEDOUT');
    const e = new TimeoutError('POST /api/v3/order: no reply in 10 s', { cause });
    expect(e).toBeInstanceOf(ExchangeError);
    expect(e).toBeInstanceOf(DomainError);
    expect(e.name).toBe('TimeoutError');
    expect(e.cause).toBe(cause);
    expect(e.kind).toBe('timeout');
    expect(e.retryable).toBe(true);
  });

  it('set retryable by whether the same request can succeed later', () => {
    const flags = [
      new NetworkError('x'),
      new TimeoutError('x'),
      new RateLimitError('x'),
      new ExchangeServerError('x'),
      new ClockSkewError('x'),
      new AuthenticationError('x'),
      new InsufficientBalanceError('x'),
      new InvalidOrderError('x'),
      new SymbolNotTradableError('x'),
      new OrderNotFoundError('x'),
      new ExchangeRequestError('x'),
    ].map((e) => [e.name, e.kind, e.retryable]);
    expect(flags).toEqual([
      ['NetworkError', 'network', true],
      ['TimeoutError', 'timeout', true],
      ['RateLimitError', 'rate_limit', true],
      ['ExchangeServerError', 'server', true],
      ['ClockSkewError', 'clock_skew', true],
      ['AuthenticationError', 'authentication', false],
      ['InsufficientBalanceError', 'insufficient_balance', false],
      ['InvalidOrderError', 'invalid_order', false],
      ['SymbolNotTradableError', 'symbol_not_tradable', false],
      ['OrderNotFoundError', 'order_not_found', false],
      ['ExchangeRequestError', 'bad_request', false],
    ]);
  });
});

describe('isUnknownOutcome', () => {
  it('is true for a timeout, a 5xx and a connection lost after sending, on a submit only', () => {
    expect(isUnknownOutcome(new TimeoutError('x'), 'submit')).toBe(true);
    expect(isUnknownOutcome(new ExchangeServerError('x'), 'submit')).toBe(true);
    expect(isUnknownOutcome(new NetworkError('reset', { requestSent: true }), 'submit')).toBe(true);
    expect(isUnknownOutcome(new NetworkError('refused'), 'submit')).toBe(false);
    expect(isUnknownOutcome(new RateLimitError('x'), 'submit')).toBe(false);
    expect(isUnknownOutcome(new InvalidOrderError('x'), 'submit')).toBe(false);
    expect(isUnknownOutcome(new TimeoutError('x'), 'cancel')).toBe(false);
    expect(isUnknownOutcome(new ExchangeServerError('x'), 'query')).toBe(false);
    expect(isUnknownOutcome(new Error('x'), 'submit')).toBe(false);
  });
});

describe('classifyMexcError', () => {
  // [code, expected class] — PROTOCOL.md §1.5, one row per code we map
  const codes: [number, new (...a: never[]) => ExchangeError][] = [
    [700001, AuthenticationError],
    [700002, AuthenticationError],
    [602, AuthenticationError],
    [700007, AuthenticationError],
    [700006, AuthenticationError],
    [700003, ClockSkewError],
    [700005, ExchangeRequestError],
    [-2011, OrderNotFoundError],
    [-2013, OrderNotFoundError],
    [10101, InsufficientBalanceError],
    [30004, InsufficientBalanceError],
    [30005, InsufficientBalanceError],
    [10007, SymbolNotTradableError],
    [30016, SymbolNotTradableError],
    [30000, SymbolNotTradableError],
    [30002, InvalidOrderError],
    [30003, InvalidOrderError],
    [10096, InvalidOrderError],
    [30087, InvalidOrderError],
    [30019, ExchangeRequestError],
    [30051, ExchangeRequestError],
  ];
  it.each(codes)('code %i', (code, Cls) => {
    const e = classifyMexcError(400, { code, msg: 'm' });
    expect(e).toBeInstanceOf(Cls);
    expect(e.code).toBe(code);
    expect(e.httpStatus).toBe(400);
    expect(e.message).toBe(`MEXC HTTP 400 code ${code}: m`);
  });

  it('reads a JSON text body and a numeric-string code', () => {
    expect(classifyMexcError(400, '{"code":30002,"msg":"amount below min"}')).toBeInstanceOf(InvalidOrderError);
    expect(classifyMexcError(400, { code: '10101', msg: 'Insufficient balance' })).toBeInstanceOf(InsufficientBalanceError);
  });

  it('treats 5xx as a server error whatever the body says', () => {
    for (const status of [500, 502, 503, 504]) expect(classifyMexcError(status, { code: 30002, msg: 'x' })).toBeInstanceOf(ExchangeServerError);
    expect(classifyMexcError(503, '<html>Service Unavailable</html>').message).toContain('MEXC HTTP 503: <html>');
  });

  it('maps 429 and 418 to RateLimitError with Retry-After in ms', () => {
    // Retry-After: 10 (seconds) -> 10 * 1000 = 10000 ms; header names are case-insensitive
    const e = classifyMexcError(429, { code: 429, msg: 'Too Many Requests' }, { 'Retry-After': '10' });
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).retryAfterMs).toBe(10_000);
    // 418 ban of 2 minutes: 120 s -> 120000 ms
    const ban = classifyMexcError(418, '', { 'retry-after': '120' });
    expect(ban).toBeInstanceOf(RateLimitError);
    expect((ban as RateLimitError).retryAfterMs).toBe(120_000);
    expect(ban.message).toContain('banned');
    // no header, or an HTTP date (which needs a clock): no retryAfterMs
    expect((classifyMexcError(429, {}) as RateLimitError).retryAfterMs).toBeUndefined();
    expect((classifyMexcError(429, {}, { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' }) as RateLimitError).retryAfterMs).toBeUndefined();
  });

  it('falls back to the HTTP status without a known code', () => {
    expect(classifyMexcError(401, {})).toBeInstanceOf(AuthenticationError);
    const waf = classifyMexcError(403, '');
    expect(waf).toBeInstanceOf(ExchangeRequestError);
    expect(waf.message).toContain('firewall');
    expect(classifyMexcError(400, { code: 99999, msg: 'new code' })).toBeInstanceOf(ExchangeRequestError);
    expect(classifyMexcError(400, null)).toBeInstanceOf(ExchangeRequestError);
    expect(classifyMexcError(404, 42)).toBeInstanceOf(ExchangeRequestError);
  });
});
