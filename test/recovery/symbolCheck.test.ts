/**
 * checkSymbolAfterLapse: what a process checks on a symbol before taking its lapsed lease again
 * (fargate/runtime.ts). Fakes for the state, the exchange and the executor; each case is one thing
 * another actor could have done while the lease was free.
 */
import { describe, expect, it } from 'vitest';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { checkSymbolAfterLapse, type SymbolCheckDeps } from '../../services/recovery/symbolCheck.js';

const BTC = symbolId('BTCUSDT');
const market = { symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: Dec.from('0.01'), stepSize: Dec.from('0.0001'), minNotional: Dec.from(5) };

function deps(over: { open?: string[]; venueOrders?: string[]; held?: string; position?: boolean; mode?: 'paper' | 'live'; venueDown?: boolean } = {}): SymbolCheckDeps {
  const position = over.position ?? true;
  return {
    mode: over.mode ?? 'live',
    store: { listOpenPositions: () => Promise.resolve((over.open ?? (position ? ['P1'] : [])).map((id) => ({ value: { id, symbol: BTC, extras: { mode: over.mode ?? 'live' } }, version: 1 }) as never)) },
    venue: {
      market: () => market as never,
      fetchOpenOrders: () => (over.venueDown ? Promise.reject(new Error('ECONNRESET')) : Promise.resolve((over.venueOrders ?? ['P1-T1']).map((c) => ({ clientOrderId: c }) as never))),
      fetchBalances: () => Promise.resolve([{ asset: 'BTC', free: Dec.from(over.held ?? '0.00995'), locked: Dec.ZERO }] as never),
    },
    executor: {
      position: () => (position ? ({ id: 'P1' } as never) : undefined),
      snapshot: () => (position ? ({ filledQty: Dec.from('0.01'), exitQty: Dec.ZERO, orders: [{ clientOrderId: 'P1-E' }, { clientOrderId: 'P1-T1' }] } as never) : undefined),
    },
    portfolio: { lastPrice: () => 60_000 },
  };
}

describe('checkSymbolAfterLapse', () => {
  it('passes when the state, the open orders and the holding are as the process left them (fees in base tolerated)', async () => {
    expect(await checkSymbolAfterLapse(BTC, deps())).toEqual({ ok: true, problems: [] });
    expect(await checkSymbolAfterLapse(BTC, deps({ position: false, venueOrders: [], held: '0' }))).toEqual({ ok: true, problems: [] });
  });

  it('refuses when another actor closed the position in the state', async () => {
    const r = await checkSymbolAfterLapse(BTC, deps({ open: [] }));
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['position P1 on BTCUSDT is no longer open in the state: another actor closed or replaced it']);
  });

  it('refuses an open order on the exchange that is not the position\'s', async () => {
    const r = await checkSymbolAfterLapse(BTC, deps({ venueOrders: ['P1-T1', 'ES-P1'] }));
    expect(r.problems).toEqual(['order ES-P1 is open on the exchange for BTCUSDT and is not this process\'s']);
  });

  it('live: refuses a holding the position does not explain (sold by someone else)', async () => {
    const r = await checkSymbolAfterLapse(BTC, deps({ held: '0' }));
    expect(r.problems).toEqual(['the exchange holds 0 BTC, the position accounts for 0.01']);
    // Paper: the paper account is this process's own; the holding is not asked.
    expect((await checkSymbolAfterLapse(BTC, deps({ held: '0', mode: 'paper' }))).ok).toBe(true);
  });

  it('refuses when the exchange cannot be asked (no guess)', async () => {
    const r = await checkSymbolAfterLapse(BTC, deps({ venueDown: true }));
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/open orders on BTCUSDT could not be read: Error: ECONNRESET/);
  });
});
