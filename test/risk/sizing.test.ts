import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import { sizeEntry, sizingParams } from '../../services/risk/index.js';
import { account, engine, long, plain, riskConfig, short } from './fixtures.js';

// Defaults (conservative): risk 1% per trade, maxPositionPct 10, minNotional 5, maxNotional 100000,
// maxTotalExposurePct 50.
const params = sizingParams(riskConfig());
const size = (p: ReturnType<typeof long>, a: ReturnType<typeof account>) => plain(sizeEntry(p, a, params));

describe('sizing: risk / stop distance', () => {
  it('caps the brief example at 10% of equity', () => {
    // equity 10000 x 1% = 100 risk; |100 - 99.2| = 0.8 -> 100 / 0.8 = 125 units = 12500 notional.
    // 10% of 10000 = 1000 notional -> 1000 / 100 = 10 units; risk at that size 10 x 0.8 = 8.
    expect(size(long(100, 99.2), account(10_000))).toEqual({
      kind: 'approved',
      quantity: '10',
      notional: '1000',
      riskAmount: '8',
      adjustments: ['CAPPED_MAX_POSITION_PCT'],
    });
  });

  it('sizes by risk when no cap binds (20% stop distance)', () => {
    // 100 risk / |100 - 80| = 5 units = 500 notional <= 1000 cap; risk 5 x 20 = 100.
    expect(size(long(100, 80), account(10_000))).toEqual({ kind: 'approved', quantity: '5', notional: '500', riskAmount: '100', adjustments: [] });
  });

  it('sizes a short the same way with the stop above', () => {
    // |100 - 100.8| = 0.8 -> 125 units, capped to 10 as for the long.
    expect(size(short(100, 100.8), account(10_000))).toMatchObject({ kind: 'approved', quantity: '10', adjustments: ['CAPPED_MAX_POSITION_PCT'] });
    // |100 - 120| = 20 -> 5 units.
    expect(size(short(100, 120), account(10_000))).toMatchObject({ kind: 'approved', quantity: '5', notional: '500', riskAmount: '100' });
  });

  it('a notional exactly at the position cap is not an adjustment', () => {
    // 100 risk / 10 distance = 10 units x 100 = 1000 = 10% of 10000 exactly.
    expect(size(long(100, 90), account(10_000))).toEqual({ kind: 'approved', quantity: '10', notional: '1000', riskAmount: '100', adjustments: [] });
  });

  it('rounds a capped quantity down at 1e-18 so the notional never exceeds the cap', () => {
    // 100 / 0.1 = 1000 units x 3 = 3000 -> cap 1000 -> 1000 / 3 = 333.333333333333333333 (floored),
    // notional 333.333333333333333333 x 3 = 999.999999999999999999 <= 1000.
    const d = sizeEntry(long(3, 2.9), account(10_000), params);
    expect(plain(d)).toEqual({
      kind: 'approved',
      quantity: '333.333333333333333333',
      notional: '999.999999999999999999',
      // 333.333333333333333333 x 0.1 = 33.3333333333333333333 -> rounds half-even at 18 decimals.
      riskAmount: '33.333333333333333333',
      adjustments: ['CAPPED_MAX_POSITION_PCT'],
    });
    // 1000 / 6 = 166.666666666666666666|67: nearest rounding would give ...667 and a notional of
    // 1000.000000000000000002; rounding down gives ...666 x 6 = 999.999999999999999996.
    const e = sizeEntry(long(6, 5.9), account(10_000), params);
    expect(plain(e)).toMatchObject({ quantity: '166.666666666666666666', notional: '999.999999999999999996' });
  });
});

describe('sizing: caps', () => {
  it('caps at maxNotional', () => {
    // equity 2,000,000: risk 20,000 / 10 = 2000 units = 200,000; 10% cap = 200,000 (not exceeded);
    // maxNotional 100,000 -> 1000 units; risk 1000 x 10 = 10,000. Exposure cap 1,000,000 not binding.
    expect(size(long(100, 90), account(2_000_000))).toEqual({
      kind: 'approved',
      quantity: '1000',
      notional: '100000',
      riskAmount: '10000',
      adjustments: ['CAPPED_MAX_NOTIONAL'],
    });
  });

  it('caps at the room left under the total exposure cap', () => {
    // cap 50% x 10000 = 5000; open 4600 -> room 400; wanted 500 -> 4 units, risk 4 x 20 = 80.
    expect(size(long(100, 80), account(10_000, 10_000, [['ETHUSDT', 4600]]))).toEqual({
      kind: 'approved',
      quantity: '4',
      notional: '400',
      riskAmount: '80',
      adjustments: ['CAPPED_EXPOSURE'],
    });
    // open 4500 -> room 500 = wanted 500: no adjustment.
    expect(size(long(100, 80), account(10_000, 10_000, [['ETHUSDT', 4500]]))).toMatchObject({ quantity: '5', adjustments: [] });
  });

  it('lists every cap that lowered the size, in order', () => {
    // wanted 12500 -> 10% cap 1000 -> exposure room 5000 - 4200 = 800 -> free 700: 7 units, risk 5.6.
    expect(size(long(100, 99.2), account(10_000, 700, [['ETHUSDT', 4200]]))).toEqual({
      kind: 'approved',
      quantity: '7',
      notional: '700',
      riskAmount: '5.6',
      adjustments: ['CAPPED_MAX_POSITION_PCT', 'CAPPED_EXPOSURE', 'CAPPED_FREE_BALANCE'],
    });
  });

  it('caps at the free quote balance', () => {
    // wanted 500, free 300 -> 3 units, risk 60.
    expect(size(long(100, 80), account(10_000, 300))).toEqual({ kind: 'approved', quantity: '3', notional: '300', riskAmount: '60', adjustments: ['CAPPED_FREE_BALANCE'] });
  });
});

describe('sizing: rejections', () => {
  it('EXPOSURE_CAP when the exposure room is below the minimum notional or gone', () => {
    // room 5000 - 4996 = 4 < 5.
    expect(size(long(100, 80), account(10_000, 10_000, [['ETHUSDT', 4996]]))).toEqual({ kind: 'rejected', reason: 'EXPOSURE_CAP' });
    expect(size(long(100, 80), account(10_000, 10_000, [['ETHUSDT', 5000]]))).toEqual({ kind: 'rejected', reason: 'EXPOSURE_CAP' });
    expect(size(long(100, 80), account(10_000, 10_000, [['ETHUSDT', 3000], ['SOLUSDT', 3000]]))).toEqual({ kind: 'rejected', reason: 'EXPOSURE_CAP' });
    // room 5000 - 4995 = 5 = minimum: approved at 0.05 units.
    expect(size(long(100, 80), account(10_000, 10_000, [['ETHUSDT', 4995]]))).toMatchObject({ kind: 'approved', quantity: '0.05', notional: '5' });
  });

  it('INSUFFICIENT_BALANCE when the free balance is below the minimum notional', () => {
    expect(size(long(100, 80), account(10_000, 4.99))).toEqual({ kind: 'rejected', reason: 'INSUFFICIENT_BALANCE' });
    expect(size(long(100, 80), account(10_000, 0))).toEqual({ kind: 'rejected', reason: 'INSUFFICIENT_BALANCE' });
    expect(size(long(100, 80), account(10_000, -3))).toEqual({ kind: 'rejected', reason: 'INSUFFICIENT_BALANCE' });
    // free 5 = minimum: 0.05 units.
    expect(size(long(100, 80), account(10_000, 5))).toMatchObject({ kind: 'approved', quantity: '0.05', notional: '5', adjustments: ['CAPPED_FREE_BALANCE'] });
  });

  it('INSUFFICIENT_BALANCE for non-positive equity', () => {
    expect(size(long(100, 80), account(0, 100))).toEqual({ kind: 'rejected', reason: 'INSUFFICIENT_BALANCE' });
  });

  it('BELOW_MIN_NOTIONAL at the boundary', () => {
    // equity 100: risk 1 / 20 = 0.05 units = 5 notional = minimum -> approved.
    expect(size(long(100, 80), account(100))).toEqual({ kind: 'approved', quantity: '0.05', notional: '5', riskAmount: '1', adjustments: [] });
    // equity 99: risk 0.99 / 20 = 0.0495 units = 4.95 < 5 (10% cap 9.9 does not bind).
    expect(size(long(100, 80), account(99))).toEqual({ kind: 'rejected', reason: 'BELOW_MIN_NOTIONAL' });
    // short with a far stop: 100 risk / |1 - 100| = 1.0101.. units x 1 = 1.01 < 5.
    expect(size(short(1, 100), account(10_000))).toEqual({ kind: 'rejected', reason: 'BELOW_MIN_NOTIONAL' });
  });

  it('BELOW_MIN_NOTIONAL when the position cap pushes it below the minimum', () => {
    // equity 40: risk 0.4 / 1 = 0.4 units = 40; 10% cap = 4 < 5.
    const d = sizeEntry(long(100, 99), account(40), params);
    expect(plain(d)).toEqual({ kind: 'rejected', reason: 'BELOW_MIN_NOTIONAL' });
    expect(d.kind === 'rejected' && d.detail).toContain('CAPPED_MAX_POSITION_PCT');
  });

  it('INVALID_STOP for a stop on the wrong side, equal to entry, or non-positive prices', () => {
    const a = account(10_000);
    for (const p of [long(100, 100), long(100, 101), short(100, 100), short(100, 99), long(0, -1), long(100, 0), long(100, -5), short(-1, 5)]) {
      expect(size(p, a)).toEqual({ kind: 'rejected', reason: 'INVALID_STOP' });
    }
  });

  it('the engine returns the same sizing as sizeEntry', () => {
    expect(plain(engine().evaluate(long(100, 99.2), account(10_000)))).toMatchObject({ kind: 'approved', quantity: '10' });
    expect(plain(engine().evaluate({ ...long(100, 80), entryPrice: dec(100) }, account(10_000)))).toMatchObject({ quantity: '5' });
  });
});

describe("sizing: an entry's own requested notional (external signals)", () => {
  it('caps at the requested notional before the other caps', () => {
    // Risk size: 100 / |100 - 97| = 33.33.. units = 3333.33 notional; the request 25 binds first:
    // 25 / 100 = 0.25 units, risk 0.25 x 3 = 0.75.
    expect(size({ ...long(100, 97), maxNotional: dec(25) }, account(10_000))).toEqual({
      kind: 'approved',
      quantity: '0.25',
      notional: '25',
      riskAmount: '0.75',
      adjustments: ['CAPPED_REQUESTED_NOTIONAL'],
    });
  });

  it('a request above the risk-sized notional changes nothing: the risk budget still binds', () => {
    // 100 / |100 - 80| = 5 units = 500 < 600 requested: sized by risk as without a request.
    expect(size({ ...long(100, 80), maxNotional: dec(600) }, account(10_000))).toEqual({ kind: 'approved', quantity: '5', notional: '500', riskAmount: '100', adjustments: [] });
  });

  it('a request below the minimum notional is refused as BELOW_MIN_NOTIONAL', () => {
    expect(size({ ...long(100, 97), maxNotional: dec(4) }, account(10_000))).toMatchObject({ kind: 'rejected', reason: 'BELOW_MIN_NOTIONAL' });
  });
});
