/**
 * Dec: exact decimal money held as a bigint count of 10^-18 units.
 *
 * Every expectation below is written out by hand as the raw bigint (value × 10^18) or as the
 * decimal string a person would write, never taken from the code's own output.
 */
import { describe, expect, it } from 'vitest';
import { Dec, DEC_SCALE, dec } from '../../services/core/money.js';

/** 10^18: the raw value of 1. */
const ONE = 10n ** 18n;

describe('Dec.from: parsing strings', () => {
  it('reads plain decimals as value × 10^18', () => {
    expect(DEC_SCALE).toBe(18);
    // 0.1 = 1 × 10^-1 -> raw 10^17
    expect(Dec.from('0.1').raw).toBe(10n ** 17n);
    // -0.001 = -1 × 10^-3 -> raw -10^15
    expect(Dec.from('-0.001').raw).toBe(-(10n ** 15n));
    // 12.5 -> 125 × 10^17
    expect(Dec.from('12.5').raw).toBe(125n * 10n ** 17n);
    expect(Dec.from('+2').raw).toBe(2n * ONE);
    expect(Dec.from('0').raw).toBe(0n);
    // "-0" is zero, not a negative zero (bigints have none)
    expect(Dec.from('-0').raw).toBe(0n);
    // surrounding whitespace is trimmed
    expect(Dec.from('  7.25 ').raw).toBe(725n * 10n ** 16n);
  });

  it('reads exponents in either case and sign', () => {
    // 1e-7 -> raw 10^(18-7) = 10^11
    expect(Dec.from('1e-7').raw).toBe(10n ** 11n);
    // 1.5E+3 = 1500 -> raw 1500 × 10^18
    expect(Dec.from('1.5E+3').raw).toBe(1500n * ONE);
    // 2.5e2 = 250
    expect(Dec.from('2.5e2').raw).toBe(250n * ONE);
    // 123e-20 = 1.23e-18 -> raw 1.23, rounded half to even at the 18th decimal -> 1
    expect(Dec.from('123e-20').raw).toBe(1n);
  });

  it('accepts a trailing dot ("5.") but not a leading one (".5"): the regex needs a digit before the point', () => {
    expect(Dec.from('5.').raw).toBe(5n * ONE);
    expect(() => Dec.from('.5')).toThrow(RangeError);
    expect(() => Dec.from('-.5')).toThrow(RangeError);
  });

  it('rounds digits beyond the 18th decimal half to even', () => {
    // 19th decimal 5, nothing after it: an exact tie. raw 0.5 -> 0 (even), 1.5 -> 2, 2.5 -> 2 (even), 3.5 -> 4
    expect(Dec.from('0.0000000000000000005').raw).toBe(0n);
    expect(Dec.from('0.0000000000000000015').raw).toBe(2n);
    expect(Dec.from('0.0000000000000000025').raw).toBe(2n);
    expect(Dec.from('0.0000000000000000035').raw).toBe(4n);
    // not a tie: raw 2.51 -> 3, raw 2.49 -> 2
    expect(Dec.from('0.00000000000000000251').raw).toBe(3n);
    expect(Dec.from('0.00000000000000000249').raw).toBe(2n);
    // negative ties are symmetric: -1.5 -> -2, -2.5 -> -2
    expect(Dec.from('-0.0000000000000000015').raw).toBe(-2n);
    expect(Dec.from('-0.0000000000000000025').raw).toBe(-2n);
  });

  it.each(['NaN', 'Infinity', '-Infinity', '', '   ', 'abc', '1.2.3', '1e', 'e5', '0x10', '1,5', '1 000', '--1', '1e+', '12abc'])(
    'rejects %j with a RangeError',
    (s) => {
      expect(() => Dec.from(s)).toThrow(RangeError);
    },
  );

  it('names the bad input in the message', () => {
    expect(() => Dec.from('12abc')).toThrow(/not a decimal number: "12abc"/);
  });

  it('rejects an absurd exponent instead of building a gigantic bigint (would hang on 1e-999999999)', () => {
    expect(() => Dec.from('1e-999999999')).toThrow(RangeError);
    expect(() => Dec.from('1e999999999')).toThrow(/exponent out of range/);
    // a double's own range (down to 5e-324) still parses; it is far below 10^-18, so it is 0
    expect(Dec.from('5e-324').raw).toBe(0n);
    expect(Dec.from('1e308').raw).toBe(10n ** 326n);
  });
});

describe('Dec.from: numbers, bigints and Decs', () => {
  it('takes a number as the shortest decimal that prints it', () => {
    expect(Dec.from(0.1).raw).toBe(10n ** 17n);
    expect(Dec.from(1e-7).raw).toBe(10n ** 11n);
    expect(Dec.from(-26076.01).raw).toBe(-2607601n * 10n ** 16n);
    // 1e21 prints as "1e+21"
    expect(Dec.from(1e21).raw).toBe(10n ** 39n);
    // 0.1 + 0.2 in floats is 0.30000000000000004: Dec keeps that as written, 30000000000000004 × 10^1
    expect(Dec.from(0.1 + 0.2).raw).toBe(300000000000000040n);
  });

  it('rejects NaN and ±Infinity numbers with a RangeError', () => {
    expect(() => Dec.from(NaN)).toThrow(RangeError);
    expect(() => Dec.from(Infinity)).toThrow(RangeError);
    expect(() => Dec.from(-Infinity)).toThrow(/not a finite number/);
  });

  it('takes a bigint as a whole number and returns a Dec unchanged', () => {
    expect(Dec.from(3n).raw).toBe(3n * ONE);
    expect(Dec.from(-7n).raw).toBe(-7n * ONE);
    const d = Dec.from('1.25');
    expect(Dec.from(d)).toBe(d);
    expect(dec('1.25').eq(d)).toBe(true);
    expect(Dec.fromRaw(5n).raw).toBe(5n);
    expect(Dec.ZERO.raw).toBe(0n);
    expect(Dec.ONE.raw).toBe(ONE);
  });
});

describe('exact addition', () => {
  it('0.1 + 0.2 is exactly 0.3', () => {
    const sum = dec('0.1').add(dec('0.2'));
    expect(sum.eq(dec('0.3'))).toBe(true);
    expect(sum.raw).toBe(3n * 10n ** 17n);
    expect(sum.toString()).toBe('0.3');
    // for contrast, floats do not: 0.1 + 0.2 = 0.30000000000000004
    expect(0.1 + 0.2 === 0.3).toBe(false);
  });

  it('adding 0.1 one hundred thousand times gives exactly 10000', () => {
    const tenth = dec('0.1');
    let acc = Dec.ZERO;
    let float = 0;
    for (let i = 0; i < 100_000; i++) {
      acc = acc.add(tenth);
      float += 0.1;
    }
    // 100,000 × 0.1 = 10,000 -> raw 10^4 × 10^18
    expect(acc.raw).toBe(10_000n * ONE);
    expect(acc.toString()).toBe('10000');
    // floats drift (10000.000000018848): that drift is what Dec exists to avoid
    expect(float).not.toBe(10_000);
    expect(Dec.sum(Array.from({ length: 100_000 }, () => tenth)).eq(dec(10_000))).toBe(true);
  });

  it('sub, neg and abs', () => {
    expect(dec('1').sub(dec('0.9')).eq(dec('0.1'))).toBe(true);
    expect(dec('0.1').sub(dec('0.3')).toString()).toBe('-0.2');
    expect(dec('2.5').neg().raw).toBe(-25n * 10n ** 17n);
    expect(dec('-2.5').abs().raw).toBe(25n * 10n ** 17n);
    expect(dec('2.5').abs().raw).toBe(25n * 10n ** 17n);
    expect(Dec.sum([]).isZero()).toBe(true);
  });
});

describe('mul and div: rounding half to even at the 18th decimal', () => {
  it('multiplies exactly when the product fits in 18 decimals', () => {
    // 1.5 × 2.5 = 3.75
    expect(dec('1.5').mul(dec('2.5')).eq(dec('3.75'))).toBe(true);
    // 0.1 × 0.1 = 0.01 (floats give 0.010000000000000002)
    expect(dec('0.1').mul(dec('0.1')).toString()).toBe('0.01');
    // 26076.01 × 0.00123 = 32.0734923
    expect(dec('26076.01').mul(dec('0.00123')).toString()).toBe('32.0734923');
    expect(dec('-3').mul(dec('0.5')).toString()).toBe('-1.5');
    // 10^-9 × 10^-9 = 10^-18, the smallest unit
    expect(dec('0.000000001').mul(dec('0.000000001')).raw).toBe(1n);
  });

  it('rounds an exact tie to the even neighbour, and non-ties to the nearest', () => {
    const unit = Dec.fromRaw(1n); // 10^-18
    // raw products: 1 × 0.5 = 0.5 -> 0; 1 × 1.5 = 1.5 -> 2; 1 × 2.5 = 2.5 -> 2; 1 × 3.5 = 3.5 -> 4
    expect(unit.mul(dec('0.5')).raw).toBe(0n);
    expect(unit.mul(dec('1.5')).raw).toBe(2n);
    expect(unit.mul(dec('2.5')).raw).toBe(2n);
    expect(unit.mul(dec('3.5')).raw).toBe(4n);
    // 2.6 -> 3, 2.4 -> 2
    expect(unit.mul(dec('2.6')).raw).toBe(3n);
    expect(unit.mul(dec('2.4')).raw).toBe(2n);
    // negatives mirror: -1.5 -> -2, -2.5 -> -2, -0.5 -> 0, -2.6 -> -3
    expect(Dec.fromRaw(-1n).mul(dec('1.5')).raw).toBe(-2n);
    expect(Dec.fromRaw(-1n).mul(dec('2.5')).raw).toBe(-2n);
    expect(Dec.fromRaw(-1n).mul(dec('0.5')).raw).toBe(0n);
    expect(unit.mul(dec('-2.6')).raw).toBe(-3n);
    // 0.000000001 × 0.0000000005 = 5 × 10^-19 = raw 0.5 -> 0 (even)
    expect(dec('0.000000001').mul(dec('0.0000000005')).raw).toBe(0n);
    // 0.000000003 × 0.0000000005 = 15 × 10^-19 = raw 1.5 -> 2
    expect(dec('0.000000003').mul(dec('0.0000000005')).raw).toBe(2n);
  });

  it('divides to 18 decimals', () => {
    // 1/3 = 0.333333333333333333|333... -> the 19th digit is 3: round down
    expect(dec(1).div(dec(3)).toString()).toBe('0.333333333333333333');
    // 2/3 = 0.666666666666666666|666... -> round up
    expect(dec(2).div(dec(3)).toString()).toBe('0.666666666666666667');
    expect(dec(-2).div(dec(3)).toString()).toBe('-0.666666666666666667');
    expect(dec(1).div(dec(-3)).toString()).toBe('-0.333333333333333333');
    // 7.5 / 2.5 = 3 exactly
    expect(dec('7.5').div(dec('2.5')).eq(dec(3))).toBe(true);
    // 1 / 8 = 0.125 exactly
    expect(dec(1).div(dec(8)).toString()).toBe('0.125');
  });

  it('rounds division ties half to even, whatever the signs', () => {
    const two = dec(2);
    // raw 1/2 = 0.5 -> 0; 3/2 = 1.5 -> 2; 5/2 = 2.5 -> 2; 7/2 = 3.5 -> 4
    expect(Dec.fromRaw(1n).div(two).raw).toBe(0n);
    expect(Dec.fromRaw(3n).div(two).raw).toBe(2n);
    expect(Dec.fromRaw(5n).div(two).raw).toBe(2n);
    expect(Dec.fromRaw(7n).div(two).raw).toBe(4n);
    // -5/2 = -2.5 -> -2; -3/2 = -1.5 -> -2; 5/-2 = -2.5 -> -2; -5/-2 = 2.5 -> 2
    expect(Dec.fromRaw(-5n).div(two).raw).toBe(-2n);
    expect(Dec.fromRaw(-3n).div(two).raw).toBe(-2n);
    expect(Dec.fromRaw(5n).div(dec(-2)).raw).toBe(-2n);
    expect(Dec.fromRaw(-5n).div(dec(-2)).raw).toBe(2n);
    // non-tie: raw 5/3 = 1.67 -> 2; raw 4/3 = 1.33 -> 1
    expect(Dec.fromRaw(5n).div(dec(3)).raw).toBe(2n);
    expect(Dec.fromRaw(4n).div(dec(3)).raw).toBe(1n);
  });

  it('throws a RangeError on division by zero', () => {
    expect(() => dec(1).div(Dec.ZERO)).toThrow(RangeError);
    expect(() => dec(1).div(dec('0.000'))).toThrow(/division by zero/);
  });
});

describe('rounding to a tick or lot step', () => {
  const milli = dec('0.001');
  const sat = dec('0.00000001');

  it('floorTo rounds towards zero to a multiple of the step', () => {
    expect(dec('1.23456789').floorTo(milli).toString()).toBe('1.234');
    expect(dec('1.2349999').floorTo(milli).toString()).toBe('1.234');
    expect(dec('1.234').floorTo(milli).toString()).toBe('1.234');
    expect(dec('0.123456789').floorTo(sat).toString()).toBe('0.12345678');
    expect(dec('0.000000009').floorTo(sat).isZero()).toBe(true);
    // towards zero for negatives too (as documented): -1.2345 -> -1.234
    expect(dec('-1.2345').floorTo(milli).toString()).toBe('-1.234');
    // a step that is not a power of ten: 7.3 floored to 0.25 -> 7.25
    expect(dec('7.3').floorTo(dec('0.25')).toString()).toBe('7.25');
  });

  it('roundTo rounds to the nearest multiple, halves away from zero', () => {
    expect(dec('1.2345').roundTo(milli).toString()).toBe('1.235');
    expect(dec('1.2344').roundTo(milli).toString()).toBe('1.234');
    expect(dec('1.2355').roundTo(milli).toString()).toBe('1.236');
    expect(dec('-1.2345').roundTo(milli).toString()).toBe('-1.235');
    expect(dec('-1.2344').roundTo(milli).toString()).toBe('-1.234');
    expect(dec('0.000000015').roundTo(sat).toString()).toBe('0.00000002');
    expect(dec('0.0000000149').roundTo(sat).toString()).toBe('0.00000001');
    expect(dec('0.000000004').roundTo(sat).isZero()).toBe(true);
    // 7.375 is halfway between 7.25 and 7.5 -> 7.5
    expect(dec('7.375').roundTo(dec('0.25')).toString()).toBe('7.5');
  });

  it('ceilTo rounds up (towards +infinity) to a multiple of the step', () => {
    expect(dec('1.2341').ceilTo(milli).toString()).toBe('1.235');
    expect(dec('1.234').ceilTo(milli).toString()).toBe('1.234');
    expect(dec('0.000000001').ceilTo(sat).toString()).toBe('0.00000001');
    expect(dec('0.12345678').ceilTo(sat).toString()).toBe('0.12345678');
    // for a negative, up is towards zero: -1.2349 -> -1.234
    expect(dec('-1.2349').ceilTo(milli).toString()).toBe('-1.234');
    expect(dec('7.01').ceilTo(dec('0.25')).toString()).toBe('7.25');
  });

  it('rejects a zero or negative step', () => {
    for (const step of [Dec.ZERO, dec('-0.001')]) {
      expect(() => dec(1).floorTo(step)).toThrow(RangeError);
      expect(() => dec(1).roundTo(step)).toThrow(RangeError);
      expect(() => dec(1).ceilTo(step)).toThrow(RangeError);
    }
  });
});

describe('formatting', () => {
  it('toString prints a plain decimal without trailing zeros or exponent', () => {
    expect(dec('-12.50').toString()).toBe('-12.5');
    expect(dec('1000').toString()).toBe('1000');
    expect(dec('1e3').toString()).toBe('1000');
    expect(Dec.fromRaw(1n).toString()).toBe('0.000000000000000001');
    expect(Dec.fromRaw(-1n).toString()).toBe('-0.000000000000000001');
    expect(dec('-0.001').toString()).toBe('-0.001');
    expect(Dec.ZERO.toString()).toBe('0');
    expect(dec('1e-7').toString()).toBe('0.0000001');
  });

  it('toFixed rounds half to even to the given decimals', () => {
    // 1.005 is exact here (unlike the float 1.005): a tie between 1.00 and 1.01 -> 1.00 (even)
    expect(dec('1.005').toFixed(2)).toBe('1.00');
    // 1.015 -> 1.02 (the even neighbour), 1.025 -> 1.02, 1.0251 -> 1.03
    expect(dec('1.015').toFixed(2)).toBe('1.02');
    expect(dec('1.025').toFixed(2)).toBe('1.02');
    expect(dec('1.0251').toFixed(2)).toBe('1.03');
    expect(dec('2.5').toFixed(0)).toBe('2');
    expect(dec('3.5').toFixed(0)).toBe('4');
    expect(dec('-2.5').toFixed(0)).toBe('-2');
    expect(dec('-2.51').toFixed(1)).toBe('-2.5');
    expect(dec('12').toFixed(3)).toBe('12.000');
    expect(dec('0.05').toFixed(3)).toBe('0.050');
    // no "-0.00" for a negative that rounds to zero
    expect(dec('-0.001').toFixed(2)).toBe('0.00');
    expect(Dec.fromRaw(1n).toFixed(18)).toBe('0.000000000000000001');
  });

  it('toFixed rejects decimals outside 0..18 and non-integers', () => {
    expect(() => dec(1).toFixed(19)).toThrow(RangeError);
    expect(() => dec(1).toFixed(-1)).toThrow(RangeError);
    expect(() => dec(1).toFixed(1.5)).toThrow(RangeError);
  });

  it('toJSON is the plain decimal string, so JSON keeps every digit', () => {
    expect(dec('0.1').toJSON()).toBe('0.1');
    expect(JSON.stringify({ fee: dec('0.000000001'), pnl: dec('-12.5') })).toBe('{"fee":"0.000000001","pnl":"-12.5"}');
  });
});

describe('comparison', () => {
  const a = dec('1.5');
  const b = dec('2');
  const a2 = dec('1.50');

  it('cmp, eq, lt, lte, gt, gte', () => {
    expect(a.cmp(b)).toBe(-1);
    expect(b.cmp(a)).toBe(1);
    expect(a.cmp(a2)).toBe(0);
    expect(a.eq(a2)).toBe(true);
    expect(a.eq(b)).toBe(false);
    expect(a.lt(b) && a.lte(b) && a.lte(a2) && !a.lt(a2)).toBe(true);
    expect(b.gt(a) && b.gte(a) && a.gte(a2) && !a.gt(a2)).toBe(true);
    expect(dec('-3').cmp(dec('-2'))).toBe(-1);
  });

  it('min and max', () => {
    expect(Dec.min(a, b)).toBe(a);
    expect(Dec.max(a, b)).toBe(b);
    expect(Dec.min(dec('-1'), dec('0.5')).toString()).toBe('-1');
    expect(Dec.max(dec('-1'), dec('-0.5')).toString()).toBe('-0.5');
  });

  it('sign predicates', () => {
    expect(Dec.ZERO.isZero() && !Dec.ZERO.isNegative() && !Dec.ZERO.isPositive()).toBe(true);
    expect(dec('-0.000000000000000001').isNegative()).toBe(true);
    expect(dec('0.000000000000000001').isPositive()).toBe(true);
  });
});

describe('toNumber', () => {
  it.each(['0.1', '26076.01', '123456789.123456789', '-0.000001234', '0.000000000000000001', '98765432109876.54321', '-7'])(
    'approximates %s within 1e-15 relative',
    (s) => {
      // Number(s) is the correctly rounded double of the decimal string: the reference.
      const want = Number(s);
      const got = dec(s).toNumber();
      expect(Math.abs(got - want) / Math.abs(want)).toBeLessThanOrEqual(1e-15);
    },
  );

  it('is 0 for zero', () => {
    expect(Dec.ZERO.toNumber()).toBe(0);
  });
});

describe('Dec.toNumber', () => {
  it('gives exactly the float a parser gives for the same decimal', () => {
    for (const text of ['590.33', '0.1', '0.30000000000000004', '-12.5', '0', '123456789.000000000000000001', '0.0000000123', '1e-18', '99999999999.999999999999999999']) {
      expect(dec(text).toNumber()).toBe(Number(dec(text).toString()));
    }
    expect(dec('590.33').toNumber()).toBe(590.33);
  });
});
