/**
 * The second price source's rules with a reference the test sets and an injected market clock:
 * the 1 % line (strictly beyond refuses), stale and unavailable references under both policies, a
 * stop that only alerts, and one event per change of a symbol's standing.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../services/config/schema.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import { PriceCheck, PriceReferenceError, deviationPct, type PriceCheckEvent, type PriceReference, type ReferenceQuote } from '../../services/live/priceCheck.js';
import type { EnterIntent } from '../../services/model/intents.js';

const DOGE = symbolId('DOGEUSDT');

class SetReference implements PriceReference {
  readonly name = 'ref';
  price = 0.1;
  time: number | undefined = 0;
  failure: PriceReferenceError | Error | undefined;
  calls = 0;
  quote(): Promise<ReferenceQuote> {
    this.calls++;
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve({ price: this.price, market: 'DOGE/USDT', ...(this.time !== undefined ? { time: this.time } : {}) });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function rig(over: Record<string, unknown> = {}) {
  const ref = new SetReference();
  let now = 1_000_000;
  ref.time = now;
  const events: PriceCheckEvent[] = [];
  const opts = parseConfig({ execution: { priceCheck: over } }).execution.priceCheck;
  const check = new PriceCheck(opts, { reference: ref, now: () => now, onEvent: (e) => events.push(e) });
  const enter = (price: number, symbol: SymbolId = DOGE): EnterIntent => ({
    kind: 'enter',
    id: `E${price}`,
    symbol,
    direction: 'long',
    time: now,
    price,
    stop: price * 0.99,
    targets: [{ label: 'primary', price: price * 1.02, fraction: 1 }],
    level: { price, touches: 2, sources: ['extrema'] },
    oppositeLevel: null,
    reasons: [],
    expiresAt: now + 3_600_000,
  });
  return { ref, check, events, enter, advance: (ms: number) => (now += ms), at: () => now };
}

describe('price check: entries', () => {
  it('deviation is |MEXC - reference| / reference: 1.00 % passes, 1.01 % is refused with the figures', async () => {
    const { check, enter, ref } = rig();
    ref.price = 0.1;
    // 0.101 is exactly 1.00 % above 0.1: not beyond the bound.
    await check.refresh(DOGE, 0.101);
    expect(check.gate(enter(0.101))).toBeUndefined();
    // 0.10101 is 1.01 % above.
    expect(check.gate(enter(0.10101))).toBe('price check: MEXC 0.10101 is 1.01 % from ref DOGE/USDT 0.1 (max 1 %); entries on DOGEUSDT refused (execution.priceCheck.maxDeviationPct 1)');
    // Below the reference counts the same: 0.0989 is 1.1 % under.
    expect(check.gate(enter(0.0989))).toMatch(/MEXC 0.0989 is 1.1 % from ref/);
    expect(check.counts.refusedDeviation).toBe(2);
    expect(deviationPct(0.103, 0.1)).toBe(3);
  });

  it('the bound is the configured one', async () => {
    const { check, enter } = rig({ maxDeviationPct: 3 });
    await check.refresh(DOGE, 0.1029);
    expect(check.gate(enter(0.1029))).toBeUndefined();
    expect(check.gate(enter(0.1031))).toMatch(/3.1 % from ref/);
  });

  it('an unreachable, unlisted or priceless reference refuses entries by default, and lets them through with whenUnavailable allow', async () => {
    for (const kind of ['unreachable', 'not_listed', 'bad_price'] as const) {
      const { check, enter, ref } = rig();
      ref.failure = new PriceReferenceError(kind, 'down');
      await check.refresh(DOGE, 0.1);
      expect(check.gate(enter(0.1))).toBe(`price check: reference ref unavailable for DOGEUSDT (${kind}: down); entries refused until it is back (execution.priceCheck.whenUnavailable refuse)`);
      const allow = rig({ whenUnavailable: 'allow' });
      allow.ref.failure = new PriceReferenceError(kind, 'down');
      await allow.check.refresh(DOGE, 0.1);
      expect(allow.check.gate(allow.enter(0.1))).toBeUndefined();
      expect(allow.check.counts.allowedUnavailable).toBe(1);
    }
  });

  it('no price yet: refused (never asked is not verified)', () => {
    const { check, enter } = rig();
    expect(check.gate(enter(0.1))).toMatch(/unavailable for DOGEUSDT \(no price yet\)/);
  });

  it('a reference price older than maxAgeMs on the market clock is stale: unavailable', async () => {
    const { check, enter, ref, advance } = rig({ maxAgeMs: 60_000 });
    await check.refresh(DOGE, 0.1);
    expect(check.gate(enter(0.1))).toBeUndefined();
    // The venue's own time says the price is 61 s old at the decision.
    advance(61_000);
    expect(check.gate(enter(0.1))).toBe('price check: reference ref price for DOGEUSDT is stale (61 s old, max 60 s); entries refused until it is back (execution.priceCheck.whenUnavailable refuse)');
    // A venue that stamps no time: the price counts from its arrival.
    ref.time = undefined;
    await check.refresh(DOGE, 0.1);
    expect(check.gate(enter(0.1))).toBeUndefined();
  });

  it('a failed refresh after a good one counts: the old price is not used', async () => {
    const { check, enter, ref } = rig();
    await check.refresh(DOGE, 0.1);
    ref.failure = new Error('socket hang up');
    await check.refresh(DOGE, 0.1);
    expect(check.gate(enter(0.1))).toMatch(/unavailable for DOGEUSDT \(Error: socket hang up\)/);
  });
});

describe('price check: stops and standings', () => {
  it('a stop at a price the reference does not show is reported (alert only), one that it shows is not', async () => {
    const { check, events, ref } = rig();
    ref.price = 0.1;
    await check.checkStop(DOGE, 0.0995);
    expect(events.filter((e) => e.kind === 'stop_unconfirmed')).toEqual([]);
    await check.checkStop(DOGE, 0.095);
    expect(events.filter((e) => e.kind === 'stop_unconfirmed').map((e) => e.detail)).toEqual([
      'a stop on DOGEUSDT fired at MEXC 0.095, 5 % from ref DOGE/USDT 0.1 (max 1 %): the exit went on; check whether MEXC\'s price was real',
    ]);
    // An unreachable reference on a stop: nothing to say about the price, nothing thrown.
    ref.failure = new Error('down');
    await expect(check.checkStop(DOGE, 0.05)).resolves.toBeUndefined();
    expect(check.counts).toMatchObject({ stopChecks: 3, stopsUnconfirmed: 1 });
  });

  it('one standing event per change, per symbol', async () => {
    const { check, events, ref, enter } = rig();
    await check.refresh(DOGE, 0.1);
    await check.refresh(DOGE, 0.1);
    check.gate(enter(0.1));
    ref.price = 0.11;
    await check.refresh(DOGE, 0.1);
    check.gate(enter(0.1));
    ref.failure = new Error('x');
    await check.refresh(DOGE, 0.1);
    ref.failure = undefined;
    ref.price = 0.1;
    await check.refresh(DOGE, 0.1);
    const pepe = symbolId('PEPEUSDT');
    await check.refresh(pepe, 0.1);
    expect(events.map((e) => (e.kind === 'standing' ? `${e.symbol} ${e.from ?? '-'}>${e.to}` : e.kind))).toEqual([
      'DOGEUSDT ->ok',
      'DOGEUSDT ok>deviating',
      'DOGEUSDT deviating>unavailable',
      'DOGEUSDT unavailable>ok',
      'PEPEUSDT ->ok',
    ]);
    expect(check.standings()).toEqual({ DOGEUSDT: 'ok', PEPEUSDT: 'ok' });
  });
});
