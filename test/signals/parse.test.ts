/** Parsing signals from what senders post, and the bounded de-duplication of their ids. */
import { describe, expect, it } from 'vitest';
import { SignalDeduper } from '../../services/signals/dedupe.js';
import { MAX_SIGNAL_BYTES, parseSignal } from '../../services/signals/parse.js';

describe('parseSignal', () => {
  it('accepts BTCUSDT and BTC/USDT (and a charting prefix, any case) as the same symbol', () => {
    for (const symbol of ['BTCUSDT', 'BTC/USDT', 'btc/usdt', 'MEXC:BTCUSDT', 'BTC_USDT']) {
      const r = parseSignal({ symbol, side: 'buy', id: 'a1' }, 'webhook');
      expect(r.ok && r.signal.symbol).toBe('BTCUSDT');
    }
  });

  it('reads numbers sent as strings, sides and aliases, and lower-cases the source', () => {
    const r = parseSignal(JSON.stringify({ ticker: 'ETH/USDT', action: 'LONG', confidence: '0.8', notional_usd: '50', tp: '2100.5', sl: 1900, id: 'x-1', source: 'TradingView' }), 'webhook');
    expect(r).toEqual({ ok: true, signal: { id: 'x-1', symbol: 'ETHUSDT', side: 'buy', source: 'tradingview', confidence: 0.8, notional: 50, takeProfit: 2100.5, stopLoss: 1900 } });
  });

  it('takes a time in seconds or milliseconds, and derives the id from source, symbol, side and time', () => {
    const s = parseSignal({ symbol: 'BTCUSDT', side: 'sell', time: 1_700_000_000 }, 'queue');
    const ms = parseSignal({ symbol: 'BTCUSDT', side: 'sell', time: 1_700_000_000_000 }, 'queue');
    expect(s.ok && s.signal.time).toBe(1_700_000_000_000);
    expect(s.ok && s.signal.id).toBe('queue:BTCUSDT:sell:1700000000000');
    expect(ms.ok && ms.signal.id).toBe(s.ok && s.signal.id);
  });

  it('refuses, naming the field, without throwing', () => {
    const cases: [unknown, string][] = [
      ['{not json', 'not JSON'],
      ['[1,2]', 'JSON object'],
      [{ side: 'buy', id: '1' }, 'symbol'],
      [{ symbol: 'BTCUSDT', side: 'hold', id: '1' }, 'side'],
      [{ symbol: 'BTCUSDT', side: 'buy', id: '1', confidence: 1.5 }, 'confidence'],
      [{ symbol: 'BTCUSDT', side: 'buy', id: '1', notional: -5 }, 'notional'],
      [{ symbol: 'BTCUSDT', side: 'buy', id: '1', takeProfit: 'NaN' }, 'takeProfit'],
      [{ symbol: 'BTCUSDT', side: 'buy', id: 'has space' }, 'id'],
      [{ symbol: 'BTCUSDT', side: 'buy' }, 'an id or a time'],
      [{ symbol: '$$$', side: 'buy', id: '1' }, 'symbol'],
      [null, 'JSON object'],
      ['x'.repeat(MAX_SIGNAL_BYTES + 1), 'larger than'],
    ];
    for (const [input, needle] of cases) {
      const r = parseSignal(input, 'webhook');
      expect(r.ok, JSON.stringify(input).slice(0, 60)).toBe(false);
      expect(!r.ok && r.detail).toContain(needle);
    }
  });

  it('keeps the id of a malformed signal for the audit log', () => {
    const r = parseSignal({ symbol: 'BTCUSDT', side: 'hold', id: 'abc' }, 'webhook');
    expect(!r.ok && r.id).toBe('abc');
  });
});

describe('SignalDeduper', () => {
  it('refuses a repeat and forgets the oldest id beyond its capacity', () => {
    const d = new SignalDeduper(3);
    expect(['a', 'b', 'c'].map((id) => d.seen(id))).toEqual([false, false, false]);
    expect(d.seen('a')).toBe(true);
    expect(d.seen('d')).toBe(false); // evicts 'a' (the oldest)
    expect(d.size).toBe(3);
    expect(d.seen('b')).toBe(true);
    expect(d.seen('a')).toBe(false); // forgotten, so new again (and 'b' is evicted now)
    expect(d.seen('b')).toBe(false);
  });
});
