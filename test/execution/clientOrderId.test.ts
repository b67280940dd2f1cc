/**
 * Client order ids: the executor's natural format, the 32-character / [A-Za-z0-9_-] limits, the
 * hashed fallback (expected hashes computed independently in a shell, see below) and parsing back.
 */
import { describe, it, expect } from 'vitest';
import { DataValidationError } from '../../services/core/errors.js';
import { clientOrderId, parseClientOrderId, type OrderRole } from '../../services/model/clientOrderId.js';

const CHARSET = /^[A-Za-z0-9_-]{1,32}$/;
// A 20-character symbol (the longest symbolId accepts) + 'L' + 8 base36 digits = 29 characters.
const LONG = 'SHIBAINUBABYDOGEUSDTLlr8x3k00';

describe('clientOrderId', () => {
  it('keeps the executor format for short intent ids', () => {
    expect(clientOrderId('BTCUSDTLlr8x3k00', 'entry', 1)).toBe('BTCUSDTLlr8x3k00E');
    expect(clientOrderId('BTCUSDTLlr8x3k00', 'entry', 2)).toBe('BTCUSDTLlr8x3k00E2');
    expect(clientOrderId('BTCUSDTLlr8x3k00', 'target', 3)).toBe('BTCUSDTLlr8x3k00T3');
    expect(clientOrderId('BTCUSDTLlr8x3k00', 'exit', 12)).toBe('BTCUSDTLlr8x3k00X12');
  });

  it('uses the natural id up to exactly 32 characters', () => {
    // 29 + 'X12' = 32
    expect(clientOrderId(LONG, 'exit', 12)).toBe(`${LONG}X12`);
    expect(clientOrderId(LONG, 'exit', 12)).toHaveLength(32);
  });

  it('hashes when the natural id would be 33 characters', () => {
    // 29 + 'X123' = 33 > 32. In a shell:
    //   printf '%s' 'SHIBAINUBABYDOGEUSDTLlr8x3k00' | sha256sum
    //   -> 52900b1653bf336cce8bac9d3355a7ea6754f68fde7d52155ed22fa4c0027fd6
    // first 16 hex: 52900b1653bf336c; prefix room = 32 - 1 ('_') - 16 - 4 ('X123') = 11 -> 'SHIBAINUBAB'
    const id = clientOrderId(LONG, 'exit', 123);
    expect(id).toBe('SHIBAINUBAB_52900b1653bf336cX123');
    expect(id).toHaveLength(32);
  });

  it('hashes intent ids with characters outside [A-Za-z0-9-]', () => {
    // printf '%s' 'BTC/USDT:long' | sha256sum -> 884ce1a4413717daacaec7fbec87150207a8998b7474f36c5866fcdab789ac9a
    // prefix: 'BTC/USDT:long' without '/' and ':' = 'BTCUSDTlong' (11 <= room 32 - 1 - 16 - 1 = 14)
    expect(clientOrderId('BTC/USDT:long', 'entry', 1)).toBe('BTCUSDTlong_884ce1a4413717daE');
    // an underscore forces the hashed form too, so natural and hashed ids can never collide
    expect(clientOrderId('a_b', 'entry', 1)).toMatch(/^ab_[0-9a-f]{16}E$/);
  });

  it('is deterministic, fits the limits and keeps every (intent, role, attempt) apart', () => {
    const intents = ['BTCUSDTLlr8x3k00', LONG, `${LONG}${LONG}`, 'BTC/USDT:long', 'x', 'a-b'];
    const roles: [OrderRole, number][] = [['entry', 1], ['entry', 2], ['target', 1], ['target', 2], ['target', 3], ['exit', 1], ['exit', 2], ['exit', 999999]];
    const seen = new Set<string>();
    for (const intent of intents) {
      for (const [role, n] of roles) {
        const id = clientOrderId(intent, role, n);
        expect(id).toMatch(CHARSET);
        expect(clientOrderId(intent, role, n)).toBe(id);
        seen.add(id);
      }
    }
    expect(seen.size).toBe(intents.length * roles.length);
  });

  it('keeps two long intent ids with the same prefix apart', () => {
    const a = clientOrderId(`${LONG}${LONG}A`, 'entry', 1);
    const b = clientOrderId(`${LONG}${LONG}B`, 'entry', 1);
    expect(a.slice(0, 14)).toBe(b.slice(0, 14));
    expect(a).not.toBe(b);
  });

  it('rejects an empty intent id and attempts out of range', () => {
    expect(() => clientOrderId('', 'entry', 1)).toThrow(DataValidationError);
    expect(() => clientOrderId('a', 'exit', 0)).toThrow(DataValidationError);
    expect(() => clientOrderId('a', 'exit', 1.5)).toThrow(DataValidationError);
    expect(() => clientOrderId('a', 'exit', 1_000_000)).toThrow(DataValidationError);
  });
});

describe('parseClientOrderId', () => {
  it('reads role, attempt and intent id back from natural ids', () => {
    expect(parseClientOrderId('BTCUSDTLlr8x3k00E')).toEqual({ role: 'entry', attempt: 1, intentId: 'BTCUSDTLlr8x3k00' });
    expect(parseClientOrderId('BTCUSDTLlr8x3k00E2')).toEqual({ role: 'entry', attempt: 2, intentId: 'BTCUSDTLlr8x3k00' });
    expect(parseClientOrderId('BTCUSDTLlr8x3k00T3')).toEqual({ role: 'target', attempt: 3, intentId: 'BTCUSDTLlr8x3k00' });
    // an intent id that itself ends in digits and a role letter: only the last letter+digits count
    expect(parseClientOrderId('fooX1T12')).toEqual({ role: 'target', attempt: 12, intentId: 'fooX1' });
  });

  it('reads role and attempt from hashed ids, without the intent id', () => {
    expect(parseClientOrderId('SHIBAINUBAB_52900b1653bf336cX123')).toEqual({ role: 'exit', attempt: 123 });
    expect(parseClientOrderId('BTCUSDTlong_884ce1a4413717daE')).toEqual({ role: 'entry', attempt: 1 });
  });

  it('round-trips every generated id', () => {
    for (const intent of ['BTCUSDTLlr8x3k00', LONG, 'BTC/USDT:long']) {
      for (const [role, n] of [['entry', 1], ['entry', 7], ['target', 2], ['exit', 40]] as [OrderRole, number][]) {
        const p = parseClientOrderId(clientOrderId(intent, role, n));
        expect(p?.role).toBe(role);
        expect(p?.attempt).toBe(n);
      }
    }
  });

  it('returns undefined for ids it did not make', () => {
    for (const id of ['', 'E', 'abcT', 'abcX', 'abcE1', 'abcT01', 'abc', 'abc/E', `${'a'.repeat(32)}E`, 'ab_123E', 'ab_52900b1653bf336cT']) {
      expect(parseClientOrderId(id)).toBeUndefined();
    }
  });
});
